// Raw gRPC calls for end-to-end tests: request bytes that no typed stub
// would send (invalid UTF-8 in a string, garbage), written as protobuf wire
// format by hand and sent through grpc::GenericStub. Header-only; tests only.
//
// Thread safety: each call owns its context; calls may run on any thread.
#ifndef SECUREBERT_TESTS_TESTING_RAW_GRPC_H_
#define SECUREBERT_TESTS_TESTING_RAW_GRPC_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace securebert::testing {

// The base-128 varint of `value`, as protobuf writes integers.
inline std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

// Field `number` of wire type 2 (string, bytes) holding `bytes`.
inline std::string LengthDelimitedField(int number, const std::string& bytes) {
  return Varint(static_cast<uint64_t>(number) << 3 | 2) + Varint(bytes.size()) + bytes;
}

// Field `number` of wire type 0 (int, enum) holding `value`.
inline std::string VarintField(int number, uint64_t value) {
  return Varint(static_cast<uint64_t>(number) << 3) + Varint(value);
}

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// "/securebert.v1.SecureBert/<method>".
inline std::string SecureBertMethod(const std::string& method) {
  return "/securebert.v1.SecureBert/" + method;
}

// Calls unary `method` of securebert.v1.SecureBert with `request` as it is;
// the status it answers.
inline grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& method, const std::string& request,
                                 absl::Duration timeout = absl::Seconds(60)) {
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer in = ToByteBuffer(request), out;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, SecureBertMethod(method), grpc::StubOptions(), &in, &out,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

// What a raw bidirectional stream ended with.
struct RawStreamResult {
  grpc::Status status;  // the server's final status
  int responses = 0;    // messages the server wrote before it
};

// Opens stream `method` of securebert.v1.SecureBert, writes `messages` as
// they are, one after the other, half-closes, reads every response and
// waits for the final status.
class RawBidiStream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  static RawStreamResult Run(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& method, std::vector<std::string> messages,
                             absl::Duration timeout = absl::Seconds(60)) {
    RawBidiStream call(std::move(messages));
    call.context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    grpc::GenericStub stub(channel);
    stub.PrepareBidiStreamingCall(&call.context_, SecureBertMethod(method), grpc::StubOptions(),
                                  &call);
    call.StartRead(&call.incoming_);
    call.WriteNext();
    call.StartCall();
    call.done_.WaitForNotification();
    return call.result_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    ++result_.responses;
    StartRead(&incoming_);
  }
  void OnWriteDone(bool ok) override {
    if (ok) WriteNext();  // else the stream is over; OnDone follows
  }
  void OnDone(const grpc::Status& status) override {
    result_.status = status;
    done_.Notify();
  }

 private:
  explicit RawBidiStream(std::vector<std::string> messages) : messages_(std::move(messages)) {}

  // Writes the next message, or half-closes after the last. Only one write
  // is outstanding at a time: each starts from the previous one's
  // OnWriteDone, so next_ needs no lock.
  void WriteNext() {
    if (next_ == messages_.size()) {
      StartWritesDone();
      return;
    }
    outgoing_ = ToByteBuffer(messages_[next_++]);
    StartWrite(&outgoing_);
  }

  const std::vector<std::string> messages_;  // what to write, in order
  size_t next_ = 0;                          // index of the next message to write
  grpc::ClientContext context_;
  grpc::ByteBuffer outgoing_;  // the message being written
  grpc::ByteBuffer incoming_;  // the response being read
  RawStreamResult result_;     // filled by the reactions, read after done_
  absl::Notification done_;    // OnDone ran
};

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_TESTING_RAW_GRPC_H_
