#include "client/load/load_stats.h"

#include <algorithm>
#include <cmath>

#include "client/grpc_status.h"

namespace securebert::client {
namespace {

std::vector<HistogramBucket> MakeHistogram(const std::vector<absl::Duration>& sorted, int buckets) {
  std::vector<HistogramBucket> histogram;
  const absl::Duration min = sorted.front();
  const absl::Duration width = (sorted.back() - min) / std::max(buckets, 1);
  if (width == absl::ZeroDuration()) {
    histogram.push_back({sorted.back(), static_cast<int64_t>(sorted.size())});
    return histogram;
  }
  for (int b = 0; b < buckets; ++b) histogram.push_back({min + width * (b + 1), 0});
  histogram.back().upper = sorted.back();  // Rounding must not drop the maximum.
  size_t bucket = 0;
  for (absl::Duration latency : sorted) {
    while (latency > histogram[bucket].upper) ++bucket;
    ++histogram[bucket].count;
  }
  return histogram;
}

}  // namespace

LoadStats::LoadStats(const Options& options) : options_(options) {}

void LoadStats::Record(absl::Duration latency, const absl::Status& status, int64_t tokens,
                       absl::Duration model_time) {
  absl::MutexLock lock(&mu_);
  latencies_.push_back(latency);
  ++codes_[StatusCodeName(status.code())];
  if (status.ok()) {
    ++ok_;
    tokens_ += tokens;
    if (model_time > absl::ZeroDuration()) outside_model_.push_back(latency - model_time);
    return;
  }
  for (ErrorSample& sample : error_samples_) {
    if (sample.code == status.code() && sample.message == status.message()) {
      ++sample.count;
      return;
    }
  }
  if (static_cast<int>(error_samples_.size()) < options_.max_error_samples) {
    error_samples_.push_back({status.code(), std::string(status.message()), 1});
  }
}

int64_t LoadStats::count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(latencies_.size());
}

int64_t LoadStats::errors() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(latencies_.size()) - ok_;
}

absl::Duration LoadStats::Percentile(const std::vector<absl::Duration>& sorted, double percent) {
  const double rank = std::ceil(percent / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, double(sorted.size()))) - 1;
  return sorted[index];
}

LatencySummary LoadStats::SummarizeLatencies(std::vector<absl::Duration> values) {
  LatencySummary out;
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  absl::Duration total;
  for (absl::Duration value : values) total += value;
  out.min = values.front();
  out.max = values.back();
  out.mean = total / static_cast<int64_t>(values.size());
  out.p50 = Percentile(values, 50);
  out.p90 = Percentile(values, 90);
  out.p95 = Percentile(values, 95);
  out.p99 = Percentile(values, 99);
  return out;
}

StatsSummary LoadStats::Summarize() const {
  StatsSummary summary;
  std::vector<absl::Duration> sorted;
  std::vector<absl::Duration> outside;
  {
    absl::MutexLock lock(&mu_);
    sorted = latencies_;
    outside = outside_model_;
    summary.ok = ok_;
    summary.tokens = tokens_;
    summary.codes = codes_;
    summary.errors = error_samples_;
  }
  summary.count = static_cast<int64_t>(sorted.size());
  summary.with_model_time = static_cast<int64_t>(outside.size());
  if (!outside.empty()) summary.outside_model = SummarizeLatencies(std::move(outside));
  if (sorted.empty()) return summary;
  std::sort(sorted.begin(), sorted.end());
  summary.latency = SummarizeLatencies(sorted);
  summary.histogram = MakeHistogram(sorted, options_.histogram_buckets);
  return summary;
}

}  // namespace securebert::client
