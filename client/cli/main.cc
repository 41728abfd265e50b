// securebert-client: calls a securebert-serve server once and prints the
// answer. Flags and wiring only; the work is in cli_command.cc.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/cli/cli_command.h"
#include "client/client_flags.h"
#include "client/grpc_status.h"

ABSL_FLAG(bool, json, false, "Print results as JSON (proto3 mapping, .proto field names).");

namespace {

constexpr char kUsage[] =
    "securebert-client SUBCOMMAND [flags] [TEXT...]\n"
    "\n"
    "Subcommands:\n"
    "  embed         embed each text (--pooling, --normalize, --truncation)\n"
    "  predict-mask  fill each <mask> of each text (--top_k, --truncation)\n"
    "  tokenize      the tokens the model sees for each text\n"
    "  info          the loaded model and the server's limits\n"
    "  health        [SERVICE]  grpc.health.v1 status; exit 0 only when SERVING\n"
    "\n"
    "Texts come from the arguments or, when there are none, one per line on stdin.\n"
    "Errors print 'error: CODE: message' to stderr and exit 1; usage errors exit 2.\n"
    "\n"
    "Example:\n"
    "  securebert-client predict-mask 'Adversaries may use <mask> to gain access.'";

int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\nRun with --help for usage.\n";
  return securebert::client::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  namespace sbc = securebert::client;
  absl::SetProgramUsageMessage(kUsage);
  if (absl::Status syntax = sbc::CheckCommandLine(argc, argv); !syntax.ok()) {
    return UsageError(std::string(syntax.message()));
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("missing subcommand");

  absl::StatusOr<sbc::Subcommand> subcommand = sbc::ParseSubcommand(positional[1]);
  if (!subcommand.ok()) return UsageError(std::string(subcommand.status().message()));
  absl::StatusOr<sbc::ClientOptions> options = sbc::ClientOptionsFromFlags();
  if (!options.ok()) return UsageError(std::string(options.status().message()));
  absl::StatusOr<sbc::RequestSettings> settings = sbc::RequestSettingsFromFlags();
  if (!settings.ok()) return UsageError(std::string(settings.status().message()));

  sbc::CliCommand command;
  command.subcommand = *subcommand;
  command.settings = *settings;
  command.format = absl::GetFlag(FLAGS_json) ? sbc::OutputFormat::kJson : sbc::OutputFormat::kText;
  command.args.assign(positional.begin() + 2, positional.end());
  if (command.args.empty() && sbc::TakesTexts(command.subcommand)) {
    command.args = sbc::ReadLines(std::cin);
  }

  absl::StatusOr<std::unique_ptr<sbc::SecureBertClient>> client =
      sbc::SecureBertClient::Create(*options);
  if (!client.ok()) {
    std::cerr << "error: " << sbc::StatusCodeName(client.status().code()) << ": "
              << client.status().message() << "\n";
    return client.status().code() == absl::StatusCode::kInvalidArgument ? sbc::kExitUsage
                                                                        : sbc::kExitFailure;
  }
  return sbc::RunCliCommand(**client, command, std::cout, std::cerr);
}
