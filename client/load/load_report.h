// LoadReport: what securebert-load prints at the end — the run's settings
// and the measured statistics — as ghz-like text or as JSON (-O json).
//
// Plain data and pure functions; safe from any thread.
#ifndef SECUREBERT_CLIENT_LOAD_LOAD_REPORT_H_
#define SECUREBERT_CLIENT_LOAD_LOAD_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "client/load/load_stats.h"

namespace securebert::client {

struct LoadReport {
  // --call, e.g. "embed".
  std::string call;
  // --target.
  std::string target;
  // Slots (-c) and TCP connections (--connections).
  int concurrency = 0;
  int connections = 0;
  // Open-loop rate asked for; 0 for a closed loop.
  double rps_target = 0;
  // Texts per request.
  int inputs_per_request = 1;
  // "generated" or the --data path.
  std::string data;
  // Where token counts come from: "server" (the answers), "tokenize" (a
  // Tokenize call per text before the run) or "estimate".
  std::string token_source;
  // First request sent to last answer.
  absl::Duration total = absl::ZeroDuration();
  // The measured requests.
  StatsSummary stats;
};

// ghz-style multi-line summary.
std::string FormatReportText(const LoadReport& report);

// One JSON object (pretty-printed); durations in milliseconds. Keys:
// call, target, concurrency, connections, rps_target, inputs_per_request,
// data, token_source, count, ok, errors, total_ms, rps, tokens,
// tokens_per_s, latency_ms{min,mean,p50,p90,p95,p99,max},
// histogram[{upper_ms,count}], status_codes{CODE: n},
// error_samples[{code,message,count}].
std::string FormatReportJson(const LoadReport& report);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_LOAD_REPORT_H_
