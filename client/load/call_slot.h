// CallSlot: one concurrency slot of securebert-load — a place where one
// request at a time is in flight — and the interface through which slots
// report back to the LoadRunner. The runner decides when a slot starts its
// next request (at once in a closed loop, on the rate schedule in an open
// loop); a slot only knows how to send one request of its kind and read the
// answer.
//
// Slots are created by MakeCallSlot; unary calls (Embed, PredictMask,
// Tokenize) go through gRPC's callback stub (unary_slot.cc), EmbedStream
// keeps one stream per slot open across requests (stream_slot.h).
//
// Thread safety: Start is called by one thread at a time for a slot, only
// when the slot is idle (never started, or its last request was reported
// done). Completion reports come from gRPC threads.
#ifndef SECUREBERT_CLIENT_LOAD_CALL_SLOT_H_
#define SECUREBERT_CLIENT_LOAD_CALL_SLOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/load/workload.h"
#include "client/request_settings.h"
#include "securebert/v1/securebert.grpc.pb.h"

namespace securebert::client {

// Which RPC the load generator calls.
enum class LoadCall { kEmbed, kEmbedStream, kPredictMask, kTokenize };

// "embed" | "embed-stream" | "predict-mask" | "tokenize".
absl::StatusOr<LoadCall> ParseLoadCall(absl::string_view name);
std::string LoadCallName(LoadCall call);

class CallSlot;

// Receives every finished request. Implemented by LoadRunner.
class SlotListener {
 public:
  virtual ~SlotListener() = default;
  // Called once per started request, from a gRPC thread, when it finished;
  // `tokens` is what the answer covered (0 on failure); `model_time` is the
  // server's model forward for it (Timing.inference_us of Embed and
  // PredictMask answers), zero where the answer does not say. The slot is
  // idle again: the listener may Start it from inside this call.
  virtual void OnRequestDone(CallSlot* slot, absl::Time intended_start, const absl::Status& status,
                             int64_t tokens, absl::Duration model_time) = 0;
};

// What every slot of one run shares; all pointers outlive the slots.
struct SlotContext {
  // Stub of this slot's connection; not owned.
  v1::SecureBert::Stub* stub = nullptr;
  // Texts and their token counts; not owned.
  const Workload* workload = nullptr;
  // Pooling, truncation, top_k of every request.
  RequestSettings settings;
  // Texts per request; request i sends texts i*k .. i*k+k-1 (cycled).
  int inputs_per_request = 1;
  // Per-request deadline; zero: none.
  absl::Duration deadline = absl::ZeroDuration();
  // Where finished requests go; not owned.
  SlotListener* listener = nullptr;
};

class CallSlot {
 public:
  virtual ~CallSlot() = default;

  // Sends request number `index`. `intended_start` is when the schedule
  // wanted it sent; latency is measured from there.
  virtual void Start(int64_t index, absl::Time intended_start) = 0;

  // Fails the in-flight request if it was sent more than the deadline
  // before `now`. Unary calls carry a gRPC deadline and ignore this; a
  // stream message has none of its own, so the runner calls this
  // periodically.
  virtual void EnforceDeadline(absl::Time /*now*/) {}

  // Ends the slot's open stream, if any, and blocks until gRPC is done
  // with it. Only when idle; the slot must not be started afterwards.
  virtual void Close() {}
};

// A slot for `call`. Inputs per request and deadline come from `context`.
std::unique_ptr<CallSlot> MakeCallSlot(LoadCall call, const SlotContext& context);

// The texts of request `index`.
std::vector<std::string> RequestTexts(const SlotContext& context, int64_t index);

// Tokens an Embed answer covered: the server's num_tokens, summed.
int64_t EmbedTokens(const v1::EmbedResponse& response);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_CALL_SLOT_H_
