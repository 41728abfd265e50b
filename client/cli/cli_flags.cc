#include "client/cli/cli_flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/client_flags.h"

ABSL_FLAG(bool, json, false, "Print results as JSON (proto3 mapping, .proto field names).");
ABSL_FLAG(std::string, aggregation, "none",
          "extract-entities: how token predictions become entities, as Hugging Face's "
          "aggregation_strategy: none (one per token), simple, first, average or max.");
ABSL_FLAG(double, threshold, 0.0,
          "extract-entities: leave out entities scoring below this, in [0, 1]; 0 keeps all.");

namespace securebert::client {
namespace {

absl::StatusOr<EntitySettings> EntitySettingsFromFlags() {
  EntitySettings entities;
  absl::StatusOr<v1::Aggregation> aggregation = ParseAggregation(absl::GetFlag(FLAGS_aggregation));
  if (!aggregation.ok()) return aggregation.status();
  entities.aggregation = *aggregation;
  const double threshold = absl::GetFlag(FLAGS_threshold);
  if (!(threshold >= 0.0 && threshold <= 1.0)) {  // NaN fails both.
    return absl::InvalidArgumentError(
        absl::StrCat("--threshold must be in [0, 1], not ", threshold));
  }
  entities.threshold = static_cast<float>(threshold);
  return entities;
}

}  // namespace

absl::StatusOr<CliInvocation> ParseCliCommandLine(int argc, char** argv) {
  if (absl::Status syntax = CheckCommandLine(argc, argv); !syntax.ok()) return syntax;
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return absl::InvalidArgumentError("missing subcommand");

  CliInvocation invocation;
  CliCommand& command = invocation.command;
  absl::StatusOr<Subcommand> subcommand = ParseSubcommand(positional[1]);
  if (!subcommand.ok()) return subcommand.status();
  command.subcommand = *subcommand;
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  if (!options.ok()) return options.status();
  invocation.client = *std::move(options);
  absl::StatusOr<RequestSettings> settings = RequestSettingsFromFlags();
  if (!settings.ok()) return settings.status();
  command.settings = *settings;
  absl::StatusOr<EntitySettings> entities = EntitySettingsFromFlags();
  if (!entities.ok()) return entities.status();
  command.entities = *entities;
  command.format = absl::GetFlag(FLAGS_json) ? OutputFormat::kJson : OutputFormat::kText;
  command.args.assign(positional.begin() + 2, positional.end());
  return invocation;
}

}  // namespace securebert::client
