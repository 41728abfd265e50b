#include "client/cli/cli_command.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/grpc_status.h"

namespace securebert::client {
namespace {

int ReportError(const absl::Status& status, std::ostream& err) {
  err << "error: " << StatusCodeName(status.code()) << ": " << status.message() << "\n";
  return kExitFailure;
}

// Runs `call` and prints its value with `print`, or reports its error.
template <typename Call, typename Print>
int CallAndPrint(Call call, Print print, std::ostream& err) {
  auto result = call();
  if (!result.ok()) return ReportError(result.status(), err);
  print(*result);
  return kExitOk;
}

}  // namespace

absl::StatusOr<Subcommand> ParseSubcommand(absl::string_view name) {
  if (name == "embed") return Subcommand::kEmbed;
  if (name == "predict-mask") return Subcommand::kPredictMask;
  if (name == "tokenize") return Subcommand::kTokenize;
  if (name == "classify") return Subcommand::kClassify;
  if (name == "extract-entities") return Subcommand::kExtractEntities;
  if (name == "info") return Subcommand::kInfo;
  if (name == "health") return Subcommand::kHealth;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown subcommand '", name,
                   "' (embed, predict-mask, tokenize, classify, extract-entities, info, health)"));
}

bool TakesTexts(Subcommand subcommand) {
  return subcommand != Subcommand::kInfo && subcommand != Subcommand::kHealth;
}

std::vector<std::string> ReadLines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int RunCliCommand(const SecureBertClient& client, const CliCommand& command, std::ostream& out,
                  std::ostream& err) {
  const std::vector<std::string>& args = command.args;
  if (TakesTexts(command.subcommand) && args.empty()) {
    err << "error: no input texts (give them as arguments or one per line on stdin)\n";
    return kExitUsage;
  }
  const OutputFormat format = command.format;
  switch (command.subcommand) {
    case Subcommand::kEmbed:
      return CallAndPrint([&] { return client.Embed(MakeEmbedRequest(command.settings, args)); },
                          [&](const auto& r) { PrintEmbed(r, args, format, out); }, err);
    case Subcommand::kPredictMask:
      return CallAndPrint(
          [&] { return client.PredictMask(MakePredictMaskRequest(command.settings, args)); },
          [&](const auto& r) { PrintPredictMask(r, args, format, out); }, err);
    case Subcommand::kTokenize:
      return CallAndPrint(
          [&] { return client.Tokenize(MakeTokenizeRequest(command.settings, args)); },
          [&](const auto& r) { PrintTokenize(r, args, format, out); }, err);
    case Subcommand::kClassify:
      return CallAndPrint(
          [&] { return client.Classify(MakeClassifyRequest(command.settings, args)); },
          [&](const auto& r) { PrintClassify(r, args, format, out); }, err);
    case Subcommand::kExtractEntities:
      return CallAndPrint(
          [&] {
            return client.ExtractEntities(
                MakeExtractEntitiesRequest(command.settings, command.entities, args));
          },
          [&](const auto& r) {
            PrintExtractEntities(r, args, command.entities.aggregation, format, out);
          },
          err);
    case Subcommand::kInfo:
      return CallAndPrint([&] { return client.GetModelInfo(); },
                          [&](const auto& r) { PrintModelInfo(r, format, out); }, err);
    case Subcommand::kHealth:
      break;
  }
  if (args.size() > 1) {
    err << "error: health takes at most one service name\n";
    return kExitUsage;
  }
  const std::string service = args.empty() ? "" : args[0];
  absl::StatusOr<ServingStatus> status = client.Health(service);
  if (!status.ok()) return ReportError(status.status(), err);
  PrintHealth(service, *status, format, out);
  return *status == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk : kExitFailure;
}

}  // namespace securebert::client
