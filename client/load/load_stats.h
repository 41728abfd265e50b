// LoadStats: what securebert-load measured — every request's latency and
// status code, the tokens answered, and a few error samples — and the
// summary statistics over them (min, mean, exact percentiles, max, a
// histogram, the code distribution).
//
// Percentiles use the nearest-rank definition: the p-th percentile of n
// sorted latencies is the value at 1-based rank ceil(p / 100 * n), so p50 of
// 1..100 ms is 50 ms and p99 is 99 ms. All latencies are kept (8 bytes
// each), so percentiles are exact, not estimated.
//
// Thread safety: Record may be called from many threads at once (the gRPC
// completion threads); Summarize and the counters may be called meanwhile.
#ifndef SECUREBERT_CLIENT_LOAD_LOAD_STATS_H_
#define SECUREBERT_CLIENT_LOAD_LOAD_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace securebert::client {

// Latency statistics of a set of requests, send to answer.
struct LatencySummary {
  // Fastest answer.
  absl::Duration min;
  // Arithmetic mean.
  absl::Duration mean;
  // Nearest-rank percentiles.
  absl::Duration p50;
  absl::Duration p90;
  absl::Duration p95;
  absl::Duration p99;
  // Slowest answer.
  absl::Duration max;
};

// One bar of the latency histogram.
struct HistogramBucket {
  // Latencies in (previous bucket's upper, upper]; the first bucket also
  // holds the minimum.
  absl::Duration upper;
  // Requests that fell in it.
  int64_t count = 0;
};

// Requests that failed with one code and message.
struct ErrorSample {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  int64_t count = 0;
};

struct StatsSummary {
  // Requests answered, in all and with OK.
  int64_t count = 0;
  int64_t ok = 0;
  // Tokens of the OK answers.
  int64_t tokens = 0;
  // Over every request, failed ones included (as ghz does); all zero when
  // count is 0.
  LatencySummary latency;
  // Equal-width buckets from min to max; empty when count is 0.
  std::vector<HistogramBucket> histogram;
  // OK requests whose answer carried the server's model forward time, and
  // their latency minus that time: what serving added around the model
  // (network, gRPC, tokenization, queueing, the client). All zero when none.
  int64_t with_model_time = 0;
  LatencySummary outside_model;
  // Requests per status code name ("OK", "UNAVAILABLE", ...).
  std::map<std::string, int64_t> codes;
  // The first distinct (code, message) pairs of failures, in first-seen
  // order, with how often each occurred.
  std::vector<ErrorSample> errors;
};

class LoadStats {
 public:
  struct Options {
    // Distinct error messages kept as samples; later new ones only count.
    int max_error_samples = 10;
    // Bars of the latency histogram.
    int histogram_buckets = 10;
  };

  LoadStats() : LoadStats(Options()) {}
  explicit LoadStats(const Options& options);

  // Adds one answered request. `tokens` counts only when `status` is OK;
  // `model_time` (the server's forward for it; zero: unknown) only then too.
  void Record(absl::Duration latency, const absl::Status& status, int64_t tokens,
              absl::Duration model_time = absl::ZeroDuration()) ABSL_LOCKS_EXCLUDED(mu_);

  // Requests recorded so far, and those that failed.
  int64_t count() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t errors() const ABSL_LOCKS_EXCLUDED(mu_);

  StatsSummary Summarize() const ABSL_LOCKS_EXCLUDED(mu_);

  // The nearest-rank `percent` percentile (0 < percent <= 100) of
  // `sorted`, which must be sorted ascending and non-empty.
  static absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double percent);

  // Min, mean, nearest-rank percentiles and max of `values` (any order);
  // all zero when empty.
  static LatencySummary SummarizeLatencies(std::vector<absl::Duration> values);

 private:
  // Constant after construction.
  const Options options_;

  mutable absl::Mutex mu_;
  std::vector<absl::Duration> latencies_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> outside_model_ ABSL_GUARDED_BY(mu_);
  int64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t tokens_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> codes_ ABSL_GUARDED_BY(mu_);
  std::vector<ErrorSample> error_samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_LOAD_STATS_H_
