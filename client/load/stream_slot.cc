#include "client/load/stream_slot.h"

#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include "absl/time/clock.h"
#include "client/grpc_status.h"

namespace securebert::client {

// One EmbedStream call. Its flags are guarded by the slot's mu_.
class StreamSlot::Stream final
    : public grpc::ClientBidiReactor<v1::EmbedRequest, v1::EmbedResponse> {
 public:
  explicit Stream(StreamSlot* slot) : slot_(slot) {}

  void OnReadDone(bool ok) override {
    if (ok) {
      slot_->OnAnswer(this);
    } else {
      slot_->OnReadFailed(this);
    }
  }
  void OnWriteDone(bool /*ok*/) override { slot_->OnWriteDone(this); }
  // Last reaction; the slot destroys this object inside it.
  void OnDone(const grpc::Status& status) override { slot_->OnStreamDone(this, status); }

  // The stream's call; the runner may TryCancel it.
  grpc::ClientContext context;
  // The message being written; gRPC reads it until OnWriteDone.
  v1::EmbedRequest request;
  // The next message, when Start comes before the last write's OnWriteDone.
  v1::EmbedRequest queued_request;
  // Where answers are read into.
  v1::EmbedResponse response;
  // A write is between StartWrite and OnWriteDone.
  bool write_in_flight = false;
  // queued_request waits for the write in flight.
  bool write_queued = false;
  // Close waits for the write in flight before WritesDone.
  bool writes_done_queued = false;
  // RemoveHold was called.
  bool hold_released = false;

 private:
  StreamSlot* const slot_;
};

StreamSlot::StreamSlot(const SlotContext& context) : context_(context) {}

void StreamSlot::Start(int64_t index, absl::Time intended_start) {
  std::shared_ptr<Stream> stream;
  bool open_new = false;
  bool write_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (stream_ == nullptr) {
      stream_ = std::make_shared<Stream>(this);
      ++open_streams_;
      open_new = true;
    }
    stream = stream_;
    pending_ = true;
    intended_start_ = intended_start;
    sent_at_ = absl::Now();
    deadline_cancelled_ = false;
    write_now = !stream->write_in_flight;
    v1::EmbedRequest& message = write_now ? stream->request : stream->queued_request;
    message = MakeEmbedRequest(context_.settings, RequestTexts(context_, index));
    stream->write_in_flight = true;
    stream->write_queued = !write_now;
  }
  // Outside mu_: gRPC may run reactions inline.
  if (open_new) {
    context_.stub->async()->EmbedStream(&stream->context, stream.get());
    stream->AddHold();  // Released by Close or when the stream breaks.
  }
  if (write_now) stream->StartWrite(&stream->request);
  stream->StartRead(&stream->response);
  if (open_new) stream->StartCall();
}

void StreamSlot::EnforceDeadline(absl::Time now) {
  std::shared_ptr<Stream> stream;
  {
    absl::MutexLock lock(&mu_);
    if (!pending_ || deadline_cancelled_ || context_.deadline <= absl::ZeroDuration() ||
        now - sent_at_ < context_.deadline) {
      return;
    }
    deadline_cancelled_ = true;
    stream = stream_;
  }
  // The shared_ptr keeps the context alive even if gRPC finishes the stream now.
  if (stream != nullptr) stream->context.TryCancel();
}

void StreamSlot::Close() {
  std::shared_ptr<Stream> stream;
  bool writes_done_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) {
      stream = stream_;
      writes_done_now = !stream->write_in_flight;
      stream->writes_done_queued = stream->write_in_flight;
    }
  }
  if (writes_done_now) {
    stream->StartWritesDone();
    ReleaseHold(stream.get());
  }
  stream.reset();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* open) { return *open == 0; }, &open_streams_));
}

void StreamSlot::OnAnswer(Stream* stream) {
  const int64_t tokens = EmbedTokens(stream->response);
  absl::Time intended_start;
  bool cancelled = false;
  {
    absl::MutexLock lock(&mu_);
    if (!pending_) return;  // An answer nobody asked for; ignore it.
    cancelled = deadline_cancelled_;
    if (!cancelled) pending_ = false;
    intended_start = intended_start_;
  }
  if (cancelled) {
    // Too late: no read is outstanding to see the cancel, so let gRPC
    // finish the stream; OnStreamDone reports DEADLINE_EXCEEDED.
    ReleaseHold(stream);
    return;
  }
  context_.listener->OnRequestDone(this, intended_start, absl::OkStatus(), tokens,
                                   absl::ZeroDuration());
}

void StreamSlot::OnReadFailed(Stream* stream) {
  // The stream is over (error, cancel, or the server ended it); let gRPC
  // deliver OnDone with the status.
  ReleaseHold(stream);
}

void StreamSlot::OnWriteDone(Stream* stream) {
  bool write_next = false;
  bool writes_done = false;
  {
    absl::MutexLock lock(&mu_);
    stream->write_in_flight = stream->write_queued;
    if (stream->write_queued) {
      stream->request.Swap(&stream->queued_request);
      stream->write_queued = false;
      write_next = true;
    } else if (stream->writes_done_queued) {
      stream->writes_done_queued = false;
      writes_done = true;
    }
  }
  if (write_next) stream->StartWrite(&stream->request);
  if (writes_done) {
    stream->StartWritesDone();
    ReleaseHold(stream);
  }
}

void StreamSlot::ReleaseHold(Stream* stream) {
  {
    absl::MutexLock lock(&mu_);
    if (stream->hold_released) return;
    stream->hold_released = true;
  }
  stream->RemoveHold();
}

void StreamSlot::OnStreamDone(Stream* stream, const grpc::Status& grpc_status) {
  std::shared_ptr<Stream> finished;
  bool had_pending = false;
  bool deadline_cancelled = false;
  absl::Time intended_start;
  {
    absl::MutexLock lock(&mu_);
    if (stream_.get() == stream) finished = std::move(stream_);
    had_pending = pending_;
    pending_ = false;
    deadline_cancelled = deadline_cancelled_;
    intended_start = intended_start_;
  }
  if (had_pending) {
    absl::Status status = ToAbslStatus(grpc_status);
    if (deadline_cancelled) {
      status = absl::DeadlineExceededError("no answer on the stream within the deadline");
    } else if (status.ok()) {
      status = absl::UnknownError("the stream ended before answering");
    }
    // May Start this slot again, on a new stream.
    context_.listener->OnRequestDone(this, intended_start, status, 0, absl::ZeroDuration());
  }
  finished.reset();  // Destroys `stream` unless EnforceDeadline still holds it.
  absl::MutexLock lock(&mu_);
  --open_streams_;
}

}  // namespace securebert::client
