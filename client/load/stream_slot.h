// StreamSlot: a load-generator slot for EmbedStream. It keeps one
// bidirectional stream open across its requests (one message out, one
// answer back, then the next), as a streaming client would, and opens a new
// stream when the server ends one with an error.
//
// A stream message has no deadline of its own, so EnforceDeadline cancels
// the stream when the answer is late; that request counts as
// DEADLINE_EXCEEDED. The stream holds a gRPC "hold" from its start until
// the slot is done writing (or the stream broke), so gRPC cannot finish it
// between two requests while the slot might still write.
//
// Thread safety: see CallSlot. Start/Close/EnforceDeadline run on runner
// threads, reactions on gRPC threads; shared state is guarded by mu_, which
// is never held while calling into gRPC (its reactions may run inline).
#ifndef SECUREBERT_CLIENT_LOAD_STREAM_SLOT_H_
#define SECUREBERT_CLIENT_LOAD_STREAM_SLOT_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/load/call_slot.h"

namespace securebert::client {

class StreamSlot final : public CallSlot {
 public:
  explicit StreamSlot(const SlotContext& context);
  // The slot must be closed (Close) or never started.
  ~StreamSlot() override = default;

  void Start(int64_t index, absl::Time intended_start) override ABSL_LOCKS_EXCLUDED(mu_);
  void EnforceDeadline(absl::Time now) override ABSL_LOCKS_EXCLUDED(mu_);
  void Close() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class Stream;

  // Reactions of the current stream.
  void OnAnswer(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  void OnReadFailed(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  void OnStreamDone(Stream* stream, const grpc::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // Lets gRPC finish `stream` (once; later calls do nothing).
  void ReleaseHold(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const SlotContext context_;

  absl::Mutex mu_;
  // The open stream, or null between streams. Shared so that a runner
  // thread can still cancel it while gRPC finishes it.
  std::shared_ptr<Stream> stream_ ABSL_GUARDED_BY(mu_);
  // The request in flight: whether there is one, when the schedule wanted
  // it sent, and when it was actually sent.
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time intended_start_ ABSL_GUARDED_BY(mu_);
  absl::Time sent_at_ ABSL_GUARDED_BY(mu_);
  // EnforceDeadline cancelled the stream for the pending request, which
  // then fails as DEADLINE_EXCEEDED even if its answer races in.
  bool deadline_cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Streams opened and not yet through OnStreamDone; Close waits for 0.
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_STREAM_SLOT_H_
