// securebert-client: calls a securebert-serve server once and prints the
// answer. Wiring only: the flags are in cli_flags.cc, the work in
// cli_command.cc.
#include <iostream>
#include <string>

#include "absl/flags/usage.h"
#include "client/cli/cli_command.h"
#include "client/cli/cli_flags.h"
#include "client/grpc_status.h"

namespace {

constexpr char kUsage[] =
    "securebert-client SUBCOMMAND [flags] [TEXT...]\n"
    "\n"
    "Subcommands:\n"
    "  embed             embed each text (--pooling, --normalize, --truncation)\n"
    "  predict-mask      fill each <mask> of each text (--top_k, --truncation)\n"
    "  tokenize          the tokens the model sees for each text\n"
    "  classify          the --top_k best labels of each text (--truncation); needs a\n"
    "                    sequence-classification head\n"
    "  extract-entities  the entities of each text (--aggregation, --threshold,\n"
    "                    --truncation); needs a token-classification head\n"
    "  info              the loaded model (capabilities, head, labels) and the limits\n"
    "  health            [SERVICE]  grpc.health.v1 status; exit 0 only when SERVING\n"
    "\n"
    "Texts come from the arguments or, when there are none, one per line on stdin.\n"
    "Errors print 'error: CODE: message' to stderr and exit 1; usage errors exit 2.\n"
    "\n"
    "Examples:\n"
    "  securebert-client predict-mask 'Adversaries may use <mask> to gain access.'\n"
    "  securebert-client extract-entities --aggregation simple 'APT29 used Cobalt Strike.'";

int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\nRun with --help for usage.\n";
  return securebert::client::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  namespace sbc = securebert::client;
  absl::SetProgramUsageMessage(kUsage);
  absl::StatusOr<sbc::CliInvocation> invocation = sbc::ParseCliCommandLine(argc, argv);
  if (!invocation.ok()) return UsageError(std::string(invocation.status().message()));
  sbc::CliCommand& command = invocation->command;
  if (command.args.empty() && sbc::TakesTexts(command.subcommand)) {
    command.args = sbc::ReadLines(std::cin);
  }

  absl::StatusOr<std::unique_ptr<sbc::SecureBertClient>> client =
      sbc::SecureBertClient::Create(invocation->client);
  if (!client.ok()) {
    std::cerr << "error: " << sbc::StatusCodeName(client.status().code()) << ": "
              << client.status().message() << "\n";
    return client.status().code() == absl::StatusCode::kInvalidArgument ? sbc::kExitUsage
                                                                        : sbc::kExitFailure;
  }
  return sbc::RunCliCommand(**client, command, std::cout, std::cerr);
}
