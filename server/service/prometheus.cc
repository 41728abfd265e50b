#include "service/prometheus.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace securebert::service::prometheus {
namespace {

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return absl::StrCat(v);
}

std::string EscapeLabel(const std::string& v) {
  return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

const char* TypeName(Family::Type type) {
  switch (type) {
    case Family::Type::kCounter:
      return "counter";
    case Family::Type::kGauge:
      return "gauge";
    case Family::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
               std::vector<double> bucket_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bucket_bounds)) {}

Family::Series& Family::SeriesFor(const LabelValues& labels) {
  Series& s = series_[labels];
  if (type_ == Type::kHistogram && s.bucket_counts.empty()) {
    s.bucket_counts.assign(bounds_.size(), 0);
  }
  return s;
}

void Family::Add(const LabelValues& labels, double value) {
  absl::MutexLock lock(&mu_);
  SeriesFor(labels).value += value;
}

void Family::Set(const LabelValues& labels, double value) {
  absl::MutexLock lock(&mu_);
  SeriesFor(labels).value = value;
}

void Family::Observe(const LabelValues& labels, double value) {
  absl::MutexLock lock(&mu_);
  Series& s = SeriesFor(labels);
  s.value += value;
  ++s.count;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++s.bucket_counts[i];
      break;
    }
  }
}

double Family::Value(const LabelValues& labels) const {
  absl::MutexLock lock(&mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.value;
}

std::string Family::LabelText(const LabelValues& values, const std::string& extra) const {
  std::string text;
  for (size_t i = 0; i < label_names_.size() && i < values.size(); ++i) {
    absl::StrAppend(&text, text.empty() ? "" : ",", label_names_[i], "=\"", EscapeLabel(values[i]),
                    "\"");
  }
  if (!extra.empty()) absl::StrAppend(&text, text.empty() ? "" : ",", extra);
  return text.empty() ? "" : absl::StrCat("{", text, "}");
}

void Family::Render(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", help_, "\n# TYPE ", name_, " ", TypeName(type_),
                  "\n");
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, s] : series_) {
    if (type_ != Type::kHistogram) {
      absl::StrAppend(out, name_, LabelText(labels, ""), " ", FormatValue(s.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.bucket_counts[i];
      absl::StrAppend(out, name_, "_bucket",
                      LabelText(labels, absl::StrCat("le=\"", FormatValue(bounds_[i]), "\"")), " ",
                      cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_bucket", LabelText(labels, "le=\"+Inf\""), " ", s.count, "\n");
    absl::StrAppend(out, name_, "_sum", LabelText(labels, ""), " ", FormatValue(s.value), "\n");
    absl::StrAppend(out, name_, "_count", LabelText(labels, ""), " ", s.count, "\n");
  }
}

Family* Registry::Add(std::unique_ptr<Family> family) {
  absl::MutexLock lock(&mu_);
  families_.push_back(std::move(family));
  return families_.back().get();
}

Family* Registry::Counter(std::string name, std::string help, std::vector<std::string> labels) {
  return Add(std::make_unique<Family>(std::move(name), std::move(help), Family::Type::kCounter,
                                      std::move(labels), std::vector<double>{}));
}

Family* Registry::Gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return Add(std::make_unique<Family>(std::move(name), std::move(help), Family::Type::kGauge,
                                      std::move(labels), std::vector<double>{}));
}

Family* Registry::Histogram(std::string name, std::string help, std::vector<double> bounds,
                            std::vector<std::string> labels) {
  return Add(std::make_unique<Family>(std::move(name), std::move(help), Family::Type::kHistogram,
                                      std::move(labels), std::move(bounds)));
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& family : families_) family->Render(&out);
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i, start *= factor) bounds.push_back(start);
  return bounds;
}

}  // namespace securebert::service::prometheus
