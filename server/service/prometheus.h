// A small Prometheus metrics registry: labelled counters, gauges and
// histograms, rendered in the text exposition format (version 0.0.4).
//
// Debian has no maintained Prometheus client library for C++, so this holds
// the little the server needs. ServerMetrics (metrics.h) defines the
// server's metrics on top of it; the HTTP endpoint calls Render().
//
// Thread safety: every method is safe to call from any thread. Families are
// owned by the Registry and live as long as it does.
#ifndef SECUREBERT_SERVER_SERVICE_PROMETHEUS_H_
#define SECUREBERT_SERVER_SERVICE_PROMETHEUS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace securebert::service::prometheus {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class Family {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bucket_bounds);

  // Counter: adds `value` (>= 0). Gauge: adds `value` (may be negative).
  void Add(const LabelValues& labels, double value);
  // Gauge: sets the value.
  void Set(const LabelValues& labels, double value);
  // Histogram: records one observation.
  void Observe(const LabelValues& labels, double value);
  // The current value of a counter or gauge series (0 if never touched).
  double Value(const LabelValues& labels) const;

  void Render(std::string* out) const;

 private:
  struct Series {
    double value = 0;                     // counter / gauge value; histogram sum
    std::vector<uint64_t> bucket_counts;  // histogram: per bound, not cumulative
    uint64_t count = 0;                   // histogram observations
  };
  Series& SeriesFor(const LabelValues& labels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string LabelText(const LabelValues& values, const std::string& extra) const;

  // Constant after construction.
  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histogram upper bounds, ascending

  mutable absl::Mutex mu_;
  std::map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

class Registry {
 public:
  Family* Counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family* Gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family* Histogram(std::string name, std::string help, std::vector<double> bounds,
                    std::vector<std::string> labels = {});
  // All families in registration order, in the text exposition format.
  std::string Render() const;

 private:
  Family* Add(std::unique_ptr<Family> family);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
};

// Exponential bucket bounds: start, start*factor, ... (count of them).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

}  // namespace securebert::service::prometheus

#endif  // SECUREBERT_SERVER_SERVICE_PROMETHEUS_H_
