#include "client/load/load_report.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "client/grpc_status.h"

namespace securebert::client {
namespace {

// Width of the longest histogram bar, in characters.
constexpr int kBarWidth = 40;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double PerSecond(int64_t n, absl::Duration total) {
  const double seconds = absl::ToDoubleSeconds(total);
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

void AppendHistogram(const StatsSummary& stats, std::string* out) {
  int64_t most = 1;
  for (const HistogramBucket& bucket : stats.histogram) most = std::max(most, bucket.count);
  absl::StrAppend(out, "\nResponse time histogram:\n");
  for (const HistogramBucket& bucket : stats.histogram) {
    const int bar = static_cast<int>(bucket.count * kBarWidth / most);
    absl::StrAppendFormat(out, "  %10.3f ms [%d]\t|%s\n", Ms(bucket.upper), bucket.count,
                          std::string(bar, '#'));
  }
}

}  // namespace

std::string FormatReportText(const LoadReport& report) {
  const StatsSummary& s = report.stats;
  const LatencySummary& l = s.latency;
  std::string out;
  absl::StrAppendFormat(&out, "\nSummary:\n");
  absl::StrAppendFormat(&out, "  Call:          %s (%d input%s per request, %s texts)\n",
                        report.call, report.inputs_per_request,
                        report.inputs_per_request == 1 ? "" : "s", report.data);
  absl::StrAppendFormat(&out, "  Target:        %s\n", report.target);
  absl::StrAppendFormat(&out, "  Load:          %d concurrent on %d connection%s, %s\n",
                        report.concurrency, report.connections, report.connections == 1 ? "" : "s",
                        report.rps_target > 0
                            ? absl::StrFormat("open loop at %.1f req/s", report.rps_target)
                            : std::string("closed loop"));
  absl::StrAppendFormat(&out, "  Count:         %d\n", s.count);
  absl::StrAppendFormat(&out, "  Total:         %.2f s\n", absl::ToDoubleSeconds(report.total));
  absl::StrAppendFormat(&out, "  Slowest:       %.2f ms\n", Ms(l.max));
  absl::StrAppendFormat(&out, "  Fastest:       %.2f ms\n", Ms(l.min));
  absl::StrAppendFormat(&out, "  Average:       %.2f ms\n", Ms(l.mean));
  absl::StrAppendFormat(&out, "  Requests/sec:  %.2f\n", PerSecond(s.count, report.total));
  absl::StrAppendFormat(&out, "  Tokens/sec:    %.1f (%d tokens, counted by %s)\n",
                        PerSecond(s.tokens, report.total), s.tokens, report.token_source);
  if (!s.histogram.empty()) AppendHistogram(s, &out);
  absl::StrAppendFormat(&out, "\nLatency distribution:\n");
  for (const auto& [label, value] : {std::pair<const char*, absl::Duration>{"50", l.p50},
                                     {"90", l.p90},
                                     {"95", l.p95},
                                     {"99", l.p99}}) {
    absl::StrAppendFormat(&out, "  %s %% in %.2f ms\n", label, Ms(value));
  }
  if (s.with_model_time > 0) {
    const LatencySummary& o = s.outside_model;
    absl::StrAppendFormat(&out,
                          "\nOutside the model forward (latency minus the server's forward, "
                          "%d requests):\n  mean %.2f ms, p50 %.2f ms, p99 %.2f ms\n",
                          s.with_model_time, Ms(o.mean), Ms(o.p50), Ms(o.p99));
  }
  absl::StrAppendFormat(&out, "\nStatus code distribution:\n");
  for (const auto& [code, count] : s.codes) {
    absl::StrAppendFormat(&out, "  [%s]\t%d responses\n", code, count);
  }
  if (!s.errors.empty()) {
    absl::StrAppendFormat(&out, "\nError distribution:\n");
    for (const ErrorSample& error : s.errors) {
      absl::StrAppendFormat(&out, "  [%d]\t%s: %s\n", error.count, StatusCodeName(error.code),
                            error.message);
    }
  }
  return out;
}

std::string FormatReportJson(const LoadReport& report) {
  const StatsSummary& s = report.stats;
  const LatencySummary& l = s.latency;
  nlohmann::json json = {
      {"call", report.call},
      {"target", report.target},
      {"concurrency", report.concurrency},
      {"connections", report.connections},
      {"rps_target", report.rps_target},
      {"inputs_per_request", report.inputs_per_request},
      {"data", report.data},
      {"token_source", report.token_source},
      {"count", s.count},
      {"ok", s.ok},
      {"errors", s.count - s.ok},
      {"total_ms", Ms(report.total)},
      {"rps", PerSecond(s.count, report.total)},
      {"tokens", s.tokens},
      {"tokens_per_s", PerSecond(s.tokens, report.total)},
      {"latency_ms",
       {{"min", Ms(l.min)},
        {"mean", Ms(l.mean)},
        {"p50", Ms(l.p50)},
        {"p90", Ms(l.p90)},
        {"p95", Ms(l.p95)},
        {"p99", Ms(l.p99)},
        {"max", Ms(l.max)}}},
  };
  // Latency minus the server's model forward (Timing.inference_us), over the
  // OK answers that carry it; null for calls whose answers do not.
  json["outside_model_ms"] = nullptr;
  if (s.with_model_time > 0) {
    const LatencySummary& o = s.outside_model;
    json["outside_model_ms"] = {{"requests", s.with_model_time},
                                {"min", Ms(o.min)},
                                {"mean", Ms(o.mean)},
                                {"p50", Ms(o.p50)},
                                {"p90", Ms(o.p90)},
                                {"p99", Ms(o.p99)},
                                {"max", Ms(o.max)}};
  }
  json["histogram"] = nlohmann::json::array();
  for (const HistogramBucket& bucket : s.histogram) {
    json["histogram"].push_back({{"upper_ms", Ms(bucket.upper)}, {"count", bucket.count}});
  }
  json["status_codes"] = nlohmann::json::object();
  for (const auto& [code, count] : s.codes) json["status_codes"][code] = count;
  json["error_samples"] = nlohmann::json::array();
  for (const ErrorSample& error : s.errors) {
    json["error_samples"].push_back(
        {{"code", StatusCodeName(error.code)}, {"message", error.message}, {"count", error.count}});
  }
  // Replace, not throw, should a server message hold invalid UTF-8.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace securebert::client
