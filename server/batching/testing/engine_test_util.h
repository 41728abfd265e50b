// Shared helpers of the engine tests: request builders, a reply slot that
// records DoneCallback calls, an observer that counts, and a comparison of
// a response with the fake model's expected answer.
//
// Thread safety: Reply and CountingObserver are thread-safe; the rest are
// pure functions.
#ifndef SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_TEST_UTIL_H_
#define SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "batching/observer.h"
#include "batching/request.h"
#include "gtest/gtest.h"

namespace securebert::batching::testing {

// Token ids of length `length` (>= 2): <s>=0, then `tag` (so the fake model
// log shows whose row it was), filler derived from tag, </s>=2 last.
std::vector<int32_t> Sequence(int32_t length, int32_t tag);

Request EmbedRequest(std::vector<std::vector<int32_t>> sequences, Pooling pooling);
// A PredictMask request with one <mask> at position length/2 per input.
Request MaskRequest(std::vector<std::vector<int32_t>> sequences, int32_t top_k);

// Records the answer of one request.
class Reply {
 public:
  // A DoneCallback that stores its argument here; the Reply must outlive it.
  DoneCallback Callback();
  // Blocks until answered; returns the answer.
  absl::StatusOr<Response> Await() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits at most `timeout` for the answer: a guard against a test hanging
  // where the behaviour under test is broken, not a timing assertion.
  std::optional<absl::StatusOr<Response>> AwaitFor(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  bool answered() ABSL_LOCKS_EXCLUDED(mu_);
  int32_t calls() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::optional<absl::StatusOr<Response>> result_ ABSL_GUARDED_BY(mu_);
  int32_t calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Counts what an EngineObserver is told.
class CountingObserver : public EngineObserver {
 public:
  void OnBatch(const BatchStats& stats) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnQueueDepth(int64_t requests, int64_t sequences) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnRejected(absl::StatusCode code) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDropped(absl::StatusCode code) override ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<BatchStats> batches() ABSL_LOCKS_EXCLUDED(mu_);
  int64_t rejected(absl::StatusCode code) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t dropped(absl::StatusCode code) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t depth_reports() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::vector<BatchStats> batches_ ABSL_GUARDED_BY(mu_);
  std::map<absl::StatusCode, int64_t> rejected_ ABSL_GUARDED_BY(mu_);
  std::map<absl::StatusCode, int64_t> dropped_ ABSL_GUARDED_BY(mu_);
  int64_t depth_reports_ ABSL_GUARDED_BY(mu_) = 0;
};

// Whether `response` is the fake model's answer to `request`, in order.
::testing::AssertionResult MatchesFake(const Request& request, const Response& response,
                                       int32_t hidden_size, int32_t vocab_size,
                                       int32_t num_labels = 0);

}  // namespace securebert::batching::testing

#endif  // SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_TEST_UTIL_H_
