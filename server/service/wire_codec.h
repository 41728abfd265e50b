// The raw gRPC handlers' codec: request bytes into the server's wire messages
// (securebert.wire.v1, whose texts are `bytes`), and response messages into
// bytes. The server registers its text-carrying methods raw
// (WithRawCallbackMethod_*) so that a text that is not UTF-8 reaches the
// tokenizer, which refuses it naming the input, instead of failing inside
// gRPC's own deserialization with a code that says the method does not
// exist.
//
// Stateless and thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_WIRE_CODEC_H_
#define SECUREBERT_SERVER_SERVICE_WIRE_CODEC_H_

#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"

namespace securebert::service {

// Parses `in` into `*out`; INVALID_ARGUMENT naming `message` (the contract's
// name, e.g. "EmbedRequest") when the bytes are not such a message.
absl::Status ParseRequest(const grpc::ByteBuffer& in, absl::string_view message,
                          google::protobuf::MessageLite* out);

// Serializes `message` into `*out`; INTERNAL if protobuf cannot (e.g. over
// 2 GiB, which the response-size limits keep from happening).
absl::Status SerializeResponse(const google::protobuf::MessageLite& message, grpc::ByteBuffer* out);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_WIRE_CODEC_H_
