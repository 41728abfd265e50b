// securebert-load: a ghz-style load generator for securebert-serve. Flags
// and wiring only; the loop is LoadRunner, the statistics LoadStats.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "client/channel_factory.h"
#include "client/client_flags.h"
#include "client/grpc_status.h"
#include "client/load/load_report.h"
#include "client/load/load_runner.h"
#include "client/load/workload.h"
#include "client/securebert_client.h"

ABSL_FLAG(std::string, call, "embed", "RPC to load: embed, embed-stream, predict-mask, tokenize.");
ABSL_FLAG(int32_t, c, 50, "Concurrency: requests in flight at once.");
ABSL_FLAG(int64_t, n, 200, "Requests to measure (ignored with -z).");
ABSL_FLAG(absl::Duration, z, absl::ZeroDuration(),
          "Measure for this long instead of -n, e.g. 30s or 2m.");
ABSL_FLAG(double, rps, 0,
          "Open loop: start this many requests per second whatever the answers (at most -c in "
          "flight; latency counts from the scheduled time). 0: closed loop.");
ABSL_FLAG(int32_t, connections, 1,
          "TCP connections; the -c slots are spread over them evenly. At most -c.");
ABSL_FLAG(std::string, data, "",
          "JSONL file of {\"text\": ...} lines, sent in order and cycled. Empty: generated "
          "cybersecurity texts (--min_tokens, --max_tokens, --seed). For predict-mask, a text "
          "without <mask> gets its middle word masked.");
ABSL_FLAG(int32_t, min_tokens, 8, "Generated texts: shortest, in estimated tokens.");
ABSL_FLAG(int32_t, max_tokens, 256, "Generated texts: longest, in estimated tokens (<= 512).");
ABSL_FLAG(uint64_t, seed, 1, "Generated texts: seed; the same seed gives the same texts.");
ABSL_FLAG(int32_t, generated_texts, 1024, "Generated texts: how many distinct ones to cycle.");
ABSL_FLAG(int64_t, warmup, 0, "Requests sent before measuring, left out of the summary.");
ABSL_FLAG(int32_t, inputs_per_request, 1, "Texts in each request.");
ABSL_FLAG(std::string, O, "summary", "Output: summary (text) or json (one object on stdout).");

namespace {

namespace sbc = securebert::client;

constexpr char kUsage[] =
    "securebert-load [flags]\n"
    "\n"
    "Loads a securebert-serve server and prints a ghz-style summary: count, total\n"
    "time, requests/s, tokens/s, latency min/mean/p50/p90/p95/p99/max, histogram,\n"
    "status codes and error samples. Stops by itself after -n answers or -z time.\n"
    "\n"
    "Example:\n"
    "  securebert-load --call embed -c 16 -n 2000 --warmup 50 -O json";

// Texts per Tokenize call when counting predict-mask tokens up front.
constexpr int kTokenizeBatch = 16;

int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\nRun with --help for usage.\n";
  return 2;
}

absl::StatusOr<sbc::LoadRunner::Options> RunnerOptionsFromFlags(int64_t deadline_ms) {
  sbc::LoadRunner::Options options;
  absl::StatusOr<sbc::LoadCall> call = sbc::ParseLoadCall(absl::GetFlag(FLAGS_call));
  if (!call.ok()) return call.status();
  options.call = *call;
  options.concurrency = absl::GetFlag(FLAGS_c);
  options.total_requests = absl::GetFlag(FLAGS_n);
  options.duration = absl::GetFlag(FLAGS_z);
  options.rps = absl::GetFlag(FLAGS_rps);
  options.warmup_requests = absl::GetFlag(FLAGS_warmup);
  options.inputs_per_request = absl::GetFlag(FLAGS_inputs_per_request);
  options.deadline = absl::Milliseconds(deadline_ms);
  options.show_progress = isatty(STDERR_FILENO) == 1;
  const int connections = absl::GetFlag(FLAGS_connections);
  if (options.concurrency < 1) return absl::InvalidArgumentError("-c must be >= 1");
  if (options.total_requests < 1) return absl::InvalidArgumentError("-n must be >= 1");
  if (options.duration < absl::ZeroDuration()) return absl::InvalidArgumentError("-z must be >= 0");
  if (options.rps < 0) return absl::InvalidArgumentError("--rps must be >= 0");
  if (options.warmup_requests < 0) return absl::InvalidArgumentError("--warmup must be >= 0");
  if (options.inputs_per_request < 1) {
    return absl::InvalidArgumentError("--inputs_per_request must be >= 1");
  }
  if (connections < 1 || connections > options.concurrency) {
    return absl::InvalidArgumentError("--connections must be in 1..-c");
  }
  return options;
}

absl::StatusOr<sbc::Workload> WorkloadFromFlags(sbc::LoadCall call) {
  const bool masked = call == sbc::LoadCall::kPredictMask;
  const std::string data = absl::GetFlag(FLAGS_data);
  if (!data.empty()) return sbc::Workload::FromJsonl(data, masked);
  sbc::CyberTextGenerator::Options options;
  options.min_tokens = absl::GetFlag(FLAGS_min_tokens);
  options.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.insert_mask = masked;
  if (options.min_tokens < 3 || options.max_tokens < options.min_tokens ||
      options.max_tokens > 512) {
    return absl::InvalidArgumentError("need 3 <= --min_tokens <= --max_tokens <= 512");
  }
  const int count = absl::GetFlag(FLAGS_generated_texts);
  if (count < 1) return absl::InvalidArgumentError("--generated_texts must be >= 1");
  return sbc::Workload::Generated(options, count);
}

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(
    const sbc::ChannelOptions& base, int connections) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < connections; ++i) {
    sbc::ChannelOptions options = base;
    options.connection_index = i;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = sbc::CreateChannel(options);
    if (!channel.ok()) return channel.status();
    channels.push_back(*std::move(channel));
  }
  return channels;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (absl::Status syntax = sbc::CheckCommandLine(argc, argv); !syntax.ok()) {
    return UsageError(std::string(syntax.message()));
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) return UsageError(absl::StrCat("unexpected argument ", positional[1]));
  const std::string output = absl::GetFlag(FLAGS_O);
  if (output != "summary" && output != "json") return UsageError("-O must be summary or json");
  absl::StatusOr<sbc::ClientOptions> client_options = sbc::ClientOptionsFromFlags();
  if (!client_options.ok()) return UsageError(std::string(client_options.status().message()));
  absl::StatusOr<sbc::RequestSettings> settings = sbc::RequestSettingsFromFlags();
  if (!settings.ok()) return UsageError(std::string(settings.status().message()));
  absl::StatusOr<sbc::LoadRunner::Options> options =
      RunnerOptionsFromFlags(client_options->deadline_ms);
  if (!options.ok()) return UsageError(std::string(options.status().message()));
  absl::StatusOr<sbc::Workload> workload = WorkloadFromFlags(options->call);
  if (!workload.ok()) return UsageError(std::string(workload.status().message()));
  const int connections = absl::GetFlag(FLAGS_connections);
  auto channels = MakeChannels(client_options->channel, connections);
  if (!channels.ok()) return UsageError(std::string(channels.status().message()));

  std::string token_source = "server";
  if (options->call == sbc::LoadCall::kPredictMask) {
    const sbc::SecureBertClient counter((*channels)[0], *client_options);
    absl::Status counted = workload->CountTokens(counter, *settings, kTokenizeBatch);
    if (!counted.ok())
      std::cerr << "warning: Tokenize failed, tokens are estimated: " << counted << "\n";
    token_source = counted.ok() ? "tokenize" : "estimate";
  }

  sbc::LoadRunner runner(*options, *settings, &*workload, *channels);
  absl::StatusOr<sbc::LoadRunner::Result> result = runner.Run();
  if (!result.ok()) {
    std::cerr << "error: " << sbc::StatusCodeName(result.status().code()) << ": "
              << result.status().message() << " (" << client_options->channel.target << ")\n";
    return 1;
  }
  sbc::LoadReport report;
  report.call = absl::GetFlag(FLAGS_call);
  report.target = client_options->channel.target;
  report.concurrency = options->concurrency;
  report.connections = connections;
  report.rps_target = options->rps;
  report.inputs_per_request = options->inputs_per_request;
  report.data = absl::GetFlag(FLAGS_data).empty() ? "generated" : absl::GetFlag(FLAGS_data);
  report.token_source = token_source;
  report.total = result->total;
  report.stats = std::move(result->stats);
  std::cout << (output == "json" ? sbc::FormatReportJson(report) : sbc::FormatReportText(report));
  return 0;
}
