// Slots for the unary RPCs (Embed, PredictMask, Tokenize) over gRPC's
// callback stub: no thread per slot; the completion callback reports to the
// SlotListener, which may start the next request from inside it.
// See call_slot.h for the slot contract.
#ifndef SECUREBERT_CLIENT_LOAD_UNARY_SLOT_H_
#define SECUREBERT_CLIENT_LOAD_UNARY_SLOT_H_

#include <memory>

#include "client/load/call_slot.h"

namespace securebert::client {

// `call` must not be kEmbedStream.
std::unique_ptr<CallSlot> MakeUnarySlot(LoadCall call, const SlotContext& context);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_UNARY_SLOT_H_
