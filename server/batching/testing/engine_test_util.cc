#include "batching/testing/engine_test_util.h"

#include <cmath>
#include <utility>

#include "batching/testing/fake_model.h"

namespace securebert::batching::testing {

std::vector<int32_t> Sequence(int32_t length, int32_t tag) {
  std::vector<int32_t> ids(length);
  for (int32_t t = 0; t < length; ++t) ids[t] = 5 + (tag * 17 + t * 3) % 900;
  ids[0] = 0;
  if (length > 1) ids[1] = tag;
  if (length > 2) ids[length - 1] = 2;
  return ids;
}

Request EmbedRequest(std::vector<std::vector<int32_t>> sequences, Pooling pooling) {
  Request request;
  request.kind = Request::Kind::kEmbed;
  request.sequences = std::move(sequences);
  request.pooling = pooling;
  return request;
}

Request MaskRequest(std::vector<std::vector<int32_t>> sequences, int32_t top_k) {
  Request request;
  request.kind = Request::Kind::kPredictMask;
  request.top_k = top_k;
  for (const auto& sequence : sequences) {
    request.mask_positions.push_back({static_cast<int32_t>(sequence.size()) / 2});
  }
  request.sequences = std::move(sequences);
  return request;
}

DoneCallback Reply::Callback() {
  return [this](absl::StatusOr<Response> result) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    result_ = std::move(result);
  };
}

absl::StatusOr<Response> Reply::Await() {
  absl::MutexLock lock(&mu_);
  auto answered = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return result_.has_value(); };
  mu_.Await(absl::Condition(&answered));
  return *result_;
}

std::optional<absl::StatusOr<Response>> Reply::AwaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto answered = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return result_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&answered), timeout);
  return result_;
}

bool Reply::answered() {
  absl::MutexLock lock(&mu_);
  return result_.has_value();
}

int32_t Reply::calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

void CountingObserver::OnBatch(const BatchStats& stats) {
  absl::MutexLock lock(&mu_);
  batches_.push_back(stats);
}

void CountingObserver::OnQueueDepth(int64_t, int64_t) {
  absl::MutexLock lock(&mu_);
  ++depth_reports_;
}

void CountingObserver::OnRejected(absl::StatusCode code) {
  absl::MutexLock lock(&mu_);
  ++rejected_[code];
}

void CountingObserver::OnDropped(absl::StatusCode code) {
  absl::MutexLock lock(&mu_);
  ++dropped_[code];
}

std::vector<BatchStats> CountingObserver::batches() {
  absl::MutexLock lock(&mu_);
  return batches_;
}

int64_t CountingObserver::rejected(absl::StatusCode code) {
  absl::MutexLock lock(&mu_);
  return rejected_[code];
}

int64_t CountingObserver::dropped(absl::StatusCode code) {
  absl::MutexLock lock(&mu_);
  return dropped_[code];
}

int64_t CountingObserver::depth_reports() {
  absl::MutexLock lock(&mu_);
  return depth_reports_;
}

::testing::AssertionResult MatchesFake(const Request& request, const Response& response,
                                       int32_t hidden_size, int32_t vocab_size,
                                       int32_t num_labels) {
  if (response.outputs.size() != request.sequences.size()) {
    return ::testing::AssertionFailure()
           << response.outputs.size() << " outputs for " << request.sequences.size() << " inputs";
  }
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    const SequenceOutput want =
        FakeModel::Expected(request, i, hidden_size, vocab_size, num_labels);
    const SequenceOutput& got = response.outputs[i];
    if (got.num_tokens != want.num_tokens || got.shape != want.shape ||
        got.values.size() != want.values.size() || got.masks.size() != want.masks.size()) {
      return ::testing::AssertionFailure() << "input " << i << ": wrong shape";
    }
    for (size_t v = 0; v < want.values.size(); ++v) {
      if (std::fabs(got.values[v] - want.values[v]) > 1e-5f) {
        return ::testing::AssertionFailure() << "input " << i << " value " << v << ": "
                                             << got.values[v] << " != " << want.values[v];
      }
    }
    for (size_t m = 0; m < want.masks.size(); ++m) {
      if (got.masks[m].position != want.masks[m].position ||
          got.masks[m].ids != want.masks[m].ids || got.masks[m].scores != want.masks[m].scores) {
        return ::testing::AssertionFailure()
               << "input " << i << " mask " << m << ": wrong candidates";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace securebert::batching::testing
