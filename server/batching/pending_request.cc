#include "batching/pending_request.h"

#include <algorithm>

#include "absl/base/internal/raw_logging.h"
#include "batching/request_validation.h"

namespace securebert::batching {
PendingRequest::PendingRequest(Request request, absl::Time admitted, DoneCallback done)
    : request_(std::move(request)),
      admitted_(admitted),
      num_tokens_(CountTokens(request_)),
      done_(std::move(done)),
      outputs_(request_.sequences.size()),
      delivered_(request_.sequences.size(), false),
      remaining_(static_cast<int32_t>(request_.sequences.size())) {
  timing_.tokenize_us = request_.tokenize_us;
}

absl::Status PendingRequest::Liveness(absl::Time now) const {
  if (answered()) {
    return absl::FailedPreconditionError("request already answered");
  }
  return RequestLiveness(request_, now);
}

void PendingRequest::Deliver(std::vector<std::pair<int32_t, SequenceOutput>> outputs,
                             const BatchRun& run) {
  DoneCallback done;
  Response response;
  {
    absl::MutexLock lock(&mu_);
    if (answered()) return;
    for (auto& [index, output] : outputs) {
      ABSL_RAW_CHECK(
          index >= 0 && index < static_cast<int32_t>(outputs_.size()) && !delivered_[index],
          "a sequence was delivered twice or is out of range");
      delivered_[index] = true;
      outputs_[index] = std::move(output);
      --remaining_;
    }
    timing_.queue_us =
        std::max(timing_.queue_us, absl::ToInt64Microseconds(run.started - admitted_));
    timing_.inference_us += run.compute_us;
    timing_.batch_size = std::max(timing_.batch_size, run.batch_size);
    if (remaining_ > 0) return;
    done = std::move(done_);
    answered_.store(true, std::memory_order_release);
    response.outputs = std::move(outputs_);
    response.timing = timing_;
    response.sequences = std::move(request_.sequences);
  }
  done(std::move(response));
}

void PendingRequest::Fail(absl::Status status) {
  ABSL_RAW_CHECK(!status.ok(), "Fail needs an error status");
  DoneCallback done;
  {
    absl::MutexLock lock(&mu_);
    if (answered()) return;
    done = std::move(done_);
    answered_.store(true, std::memory_order_release);
  }
  done(std::move(status));
}

}  // namespace securebert::batching
