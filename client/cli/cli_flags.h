// securebert-client's command line: the CLI-only flags (--json,
// --aggregation, --threshold; the shared ones are in client/client_flags.h)
// and the mapping of argv onto a CliCommand and ClientOptions. Kept out of
// main.cc so that tests parse command lines as users type them.
//
// Linking this library defines the flags. Reads and sets global flag state;
// call from one thread.
#ifndef SECUREBERT_CLIENT_CLI_CLI_FLAGS_H_
#define SECUREBERT_CLIENT_CLI_CLI_FLAGS_H_

#include "absl/status/statusor.h"
#include "client/cli/cli_command.h"
#include "client/client_options.h"

namespace securebert::client {

// A parsed securebert-client command line.
struct CliInvocation {
  // Connection, TLS, deadline (--target, --insecure, --deadline_ms, ...).
  ClientOptions client;
  // Subcommand, its arguments, request settings and output format.
  CliCommand command;
};

// Checks argv (CheckCommandLine), parses it (absl::ParseCommandLine, which
// exits for --help) and maps the flags. INVALID_ARGUMENT, a usage error
// (kExitUsage), for a missing or unknown subcommand, an unknown flag, or a
// value that does not parse or is out of range (--aggregation other than
// none|simple|first|average|max, --threshold outside [0, 1], --top_k,
// --pooling, ...). command.args are the arguments after the subcommand; the
// caller reads stdin when a subcommand that takes texts has none.
absl::StatusOr<CliInvocation> ParseCliCommandLine(int argc, char** argv);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLI_CLI_FLAGS_H_
