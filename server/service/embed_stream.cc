#include "service/embed_stream.h"

#include <optional>
#include <utility>

#include "securebert/wire/v1/securebert_wire.pb.h"
#include "service/responses.h"
#include "service/status_mapping.h"
#include "service/wire_codec.h"

namespace securebert::service {

EmbedStreamCall::EmbedStreamCall(grpc::CallbackServerContext* context, ModelPipeline* pipeline,
                                 absl::Status admission, RequestLimits limits,
                                 int32_t max_in_flight, ServerMetrics* metrics)
    : pipeline_(pipeline),
      limits_(limits),
      max_in_flight_(max_in_flight < 1 ? 1 : max_in_flight),
      metrics_(metrics),
      start_(absl::Now()),
      deadline_(absl::FromChrono(context->deadline())),
      cancelled_(std::make_shared<std::atomic<bool>>(false)) {
  metrics_->RpcStarted();
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    end_status_ = admission;
    if (admission.ok()) read_pending_ = true;
    actions = Step();
    if (admission.ok()) {
      actions.read = true;
      ++issuing_;
    }
  }
  Run(std::move(actions));
}

void EmbedStreamCall::OnReadDone(bool ok) {
  std::optional<uint64_t> seq;
  grpc::ByteBuffer request;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    if (!ok) {
      reads_done_ = true;
    } else if (end_status_.ok()) {
      seq = next_seq_++;
      ++unwritten_;
      ++in_pipeline_;
      request = std::move(incoming_);
    }
  }
  // Outside mu_: the pipeline may call back inline (e.g. when it refuses).
  if (seq.has_value()) Submit(*seq, request);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    actions = Step();
  }
  Run(std::move(actions));
}

void EmbedStreamCall::Submit(uint64_t seq, const grpc::ByteBuffer& bytes) {
  wire::v1::EmbedRequest request;
  if (absl::Status s = ParseRequest(bytes, "EmbedRequest", &request); !s.ok()) {
    return OnResult(seq, s);
  }
  absl::StatusOr<ModelRequest> mapped = MapEmbedRequest(request, limits_);
  if (!mapped.ok()) return OnResult(seq, mapped.status());
  mapped->request.deadline = deadline_;
  mapped->request.cancelled = cancelled_;
  pipeline_->Submit(std::move(*mapped), [this, seq](absl::StatusOr<ModelResult> result) {
    if (!result.ok()) return OnResult(seq, result.status());
    v1::EmbedResponse response;
    FillEmbedResponse(*result, &response);
    grpc::ByteBuffer bytes;
    absl::Status serialized = SerializeResponse(response, &bytes);
    if (!serialized.ok()) return OnResult(seq, serialized);
    OnResult(seq, std::move(bytes));
  });
}

void EmbedStreamCall::OnResult(uint64_t seq, absl::StatusOr<grpc::ByteBuffer> response) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --in_pipeline_;
    ready_.emplace(seq, std::move(response));
    actions = Step();
  }
  Run(std::move(actions));
}

void EmbedStreamCall::OnWriteDone(bool ok) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok && end_status_.ok()) end_status_ = absl::CancelledError("stream write failed");
    actions = Step();
  }
  Run(std::move(actions));
}

void EmbedStreamCall::OnCancel() {
  cancelled_->store(true, std::memory_order_relaxed);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    if (end_status_.ok()) end_status_ = absl::CancelledError("client cancelled the stream");
    actions = Step();
  }
  Run(std::move(actions));
}

void EmbedStreamCall::OnDone() {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    actions = Step();
  }
  Run(std::move(actions));
}

EmbedStreamCall::Actions EmbedStreamCall::Step() {
  Actions a;
  // Operations decided but not yet started (on a thread between its Step and
  // its Run) keep the reactor alive, and Finish waits for them: gRPC may
  // complete the call and run OnDone as soon as Finish starts, and nothing may
  // start an operation, or touch the reactor, after that.
  if (issuing_ > 0) return a;
  if (done_) {
    a.destroy = in_pipeline_ == 0;
    return a;
  }
  if (finished_) return a;
  // Write the next response in order, or end the stream at the first error.
  if (!write_pending_) {
    auto it = ready_.find(next_write_);
    if (it != ready_.end() && it->second.ok() && end_status_.ok()) {
      writing_ = std::move(*it->second);
      ready_.erase(it);
      ++next_write_;
      --unwritten_;
      write_pending_ = true;
      a.write = &writing_;
      ++issuing_;
    } else if (it != ready_.end() && end_status_.ok()) {
      end_status_ = it->second.status();
    }
  }
  const bool idle = !write_pending_ && !read_pending_;
  if (a.write != nullptr) {
    // The write starts first; the stream's next step is decided after it.
  } else if (!end_status_.ok() && !write_pending_) {
    // A pending read completes (with ok=false) once the call finishes.
    finished_ = true;
    a.finish = true;
    a.finish_status = ToGrpcStatus(end_status_);
    ++issuing_;
    metrics_->RpcFinished("EmbedStream", a.finish_status.error_code(), absl::Now() - start_);
  } else if (reads_done_ && unwritten_ == 0 && idle) {
    finished_ = true;
    a.finish = true;
    ++issuing_;
    metrics_->RpcFinished("EmbedStream", grpc::StatusCode::OK, absl::Now() - start_);
  } else if (!reads_done_ && !read_pending_ && end_status_.ok() && unwritten_ < max_in_flight_) {
    read_pending_ = true;
    a.read = true;
    ++issuing_;
  }
  return a;
}

void EmbedStreamCall::Run(Actions actions) {
  for (;;) {
    if (actions.destroy) {
      delete this;
      return;
    }
    const int32_t started =
        (actions.write != nullptr ? 1 : 0) + (actions.read ? 1 : 0) + (actions.finish ? 1 : 0);
    if (started == 0) return;
    if (actions.write != nullptr) StartWrite(actions.write);
    if (actions.read) StartRead(&incoming_);
    if (actions.finish) Finish(actions.finish_status);
    // Started: what was held back meanwhile (a Finish, OnDone's delete) can
    // be decided now.
    absl::MutexLock lock(&mu_);
    issuing_ -= started;
    actions = Step();
  }
}

}  // namespace securebert::service
