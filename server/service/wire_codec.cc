#include "service/wire_codec.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"

namespace securebert::service {

absl::Status ParseRequest(const grpc::ByteBuffer& in, absl::string_view message,
                          google::protobuf::MessageLite* out) {
  // The reader consumes the buffer; a copy shares its slices.
  grpc::ByteBuffer copy(in);
  grpc::ProtoBufferReader reader(&copy);
  if (reader.status().ok() && out->ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the request does not parse as a securebert.v1.", message, " message"));
}

absl::Status SerializeResponse(const google::protobuf::MessageLite& message,
                               grpc::ByteBuffer* out) {
  const size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT32_MAX)) {
    return absl::InternalError(absl::StrCat("the response is ", size, " bytes, over 2 GiB"));
  }
  grpc::ProtoBufferWriter writer(out, grpc::kProtoBufferWriterMaxBufferLength,
                                 static_cast<int>(size));
  if (!message.SerializeToZeroCopyStream(&writer)) {
    return absl::InternalError("the response could not be serialized");
  }
  return absl::OkStatus();
}

}  // namespace securebert::service
