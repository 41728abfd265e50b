// One securebert-client invocation: which subcommand, on which texts, with
// which request settings, and running it against a SecureBertClient. Kept
// apart from main.cc (flag parsing only) so that tests drive it in-process.
//
// Stateless functions; RunCliCommand blocks for the RPC.
#ifndef SECUREBERT_CLIENT_CLI_CLI_COMMAND_H_
#define SECUREBERT_CLIENT_CLI_CLI_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/response_printer.h"
#include "client/cli/task_requests.h"
#include "client/request_settings.h"
#include "client/securebert_client.h"

namespace securebert::client {

// Exit codes of securebert-client.
inline constexpr int kExitOk = 0;
// The RPC failed, or health is not SERVING.
inline constexpr int kExitFailure = 1;
// Bad subcommand, flag value or missing input.
inline constexpr int kExitUsage = 2;

enum class Subcommand {
  kEmbed,
  kPredictMask,
  kTokenize,
  kClassify,
  kExtractEntities,
  kInfo,
  kHealth
};

// "embed" | "predict-mask" | "tokenize" | "classify" | "extract-entities" |
// "info" | "health".
absl::StatusOr<Subcommand> ParseSubcommand(absl::string_view name);

// True for subcommands that send texts (and so read stdin without args).
bool TakesTexts(Subcommand subcommand);

// Non-empty lines of `in`, without their line ends.
std::vector<std::string> ReadLines(std::istream& in);

struct CliCommand {
  // What to call.
  Subcommand subcommand = Subcommand::kInfo;
  // Inputs of the subcommands that send texts; for health, at most one
  // service name (none: the whole server).
  std::vector<std::string> args;
  // Pooling, truncation, top_k, ...
  RequestSettings settings;
  // extract-entities: aggregation and threshold.
  EntitySettings entities;
  // Text or JSON on stdout.
  OutputFormat format = OutputFormat::kText;
};

// Runs `command`, writing results to `out` and errors to `err` as
// "error: CODE: message". Returns kExitOk, kExitFailure or kExitUsage.
int RunCliCommand(const SecureBertClient& client, const CliCommand& command, std::ostream& out,
                  std::ostream& err);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLI_CLI_COMMAND_H_
