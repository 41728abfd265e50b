#include "client/cli/response_printer.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace securebert::client {
namespace {

// Vector values shown in text output before eliding the middle.
constexpr int kPreviewValues = 8;
// Characters of an input shown as its label.
constexpr size_t kLabelChars = 60;

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Serializing a well-formed message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  out << json << "\n";
}

std::string Label(const std::vector<std::string>& texts, int index) {
  if (index >= static_cast<int>(texts.size())) return absl::StrCat("[", index, "]");
  const std::string& text = texts[index];
  const std::string shown =
      text.size() > kLabelChars ? absl::StrCat(text.substr(0, kLabelChars), "...") : text;
  return absl::StrCat("[", index, "] '", shown, "'");
}

std::string Preview(const v1::Embedding& embedding) {
  const int n = embedding.values_size();
  auto format = [](float v) { return absl::StrFormat("%.4f", v); };
  std::vector<std::string> shown;
  if (n <= kPreviewValues) {
    for (float v : embedding.values()) shown.push_back(format(v));
  } else {
    for (int i = 0; i < kPreviewValues / 2; ++i) shown.push_back(format(embedding.values(i)));
    shown.push_back("...");
    for (int i = n - kPreviewValues / 2; i < n; ++i) shown.push_back(format(embedding.values(i)));
  }
  return absl::StrCat("[", absl::StrJoin(shown, ", "), "]");
}

// "a, b, c", or "(none)" for no items.
std::string JoinOrNone(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return items.empty() ? "(none)" : absl::StrJoin(items, ", ");
}

void PrintTiming(const v1::Timing& timing, std::ostream& out) {
  out << absl::StrFormat("timing: tokenize %d us, queue %d us, inference %d us, batch of %d\n",
                         timing.tokenize_us(), timing.queue_us(), timing.inference_us(),
                         timing.batch_size());
}

}  // namespace

void PrintEmbed(const v1::EmbedResponse& response, const std::vector<std::string>& texts,
                OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(response, out);
  for (int i = 0; i < response.embeddings_size(); ++i) {
    const v1::Embedding& embedding = response.embeddings(i);
    out << Label(texts, i) << "  tokens=" << embedding.num_tokens() << "  shape=["
        << absl::StrJoin(embedding.shape(), ", ") << "]"
        << (embedding.truncated() ? "  (truncated)" : "") << "\n";
    out << "    " << Preview(embedding) << "\n";
  }
  PrintTiming(response.timing(), out);
}

void PrintPredictMask(const v1::PredictMaskResponse& response,
                      const std::vector<std::string>& texts, OutputFormat format,
                      std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(response, out);
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::InputPrediction& result = response.results(i);
    out << Label(texts, i) << (result.truncated() ? "  (truncated)" : "") << "\n";
    for (int m = 0; m < result.masks_size(); ++m) {
      const v1::MaskResult& mask = result.masks(m);
      out << " <mask> " << m + 1 << " of " << result.masks_size() << " (token " << mask.position()
          << "):\n";
      for (int k = 0; k < mask.predictions_size(); ++k) {
        const v1::TokenPrediction& p = mask.predictions(k);
        out << absl::StrFormat("  %d. token='%s'  score=%.4f  sequence='%s'\n", k + 1, p.token(),
                               p.score(), p.sequence());
      }
    }
  }
  PrintTiming(response.timing(), out);
}

void PrintTokenize(const v1::TokenizeResponse& response, const std::vector<std::string>& texts,
                   OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(response, out);
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::Tokenization& result = response.results(i);
    out << Label(texts, i) << "  " << result.tokens_size() << " tokens"
        << (result.truncated() ? "  (truncated)" : "") << "\n";
    for (int t = 0; t < result.tokens_size(); ++t) {
      const v1::Token& token = result.tokens(t);
      out << absl::StrFormat("  %4d  id=%-6d [%d, %d)  '%s'\n", t, token.id(), token.start(),
                             token.end(), token.text());
    }
  }
}

void PrintClassify(const v1::ClassifyResponse& response, const std::vector<std::string>& texts,
                   OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(response, out);
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::Classification& result = response.results(i);
    out << Label(texts, i) << "  tokens=" << result.num_tokens()
        << (result.truncated() ? "  (truncated)" : "") << "\n";
    for (int k = 0; k < result.labels_size(); ++k) {
      const v1::LabelScore& label = result.labels(k);
      out << absl::StrFormat("  %d. label='%s'  id=%d  score=%.4f\n", k + 1, label.label(),
                             label.id(), label.score());
    }
  }
  PrintTiming(response.timing(), out);
}

void PrintExtractEntities(const v1::ExtractEntitiesResponse& response,
                          const std::vector<std::string>& texts, v1::Aggregation aggregation,
                          OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(response, out);
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::InputEntities& result = response.results(i);
    out << Label(texts, i) << "  tokens=" << result.num_tokens()
        << (result.truncated() ? "  (truncated)" : "") << "\n";
    if (result.entities_size() == 0) out << "  (no entities)\n";
    for (int e = 0; e < result.entities_size(); ++e) {
      const v1::Entity& entity = result.entities(e);
      out << absl::StrFormat("  %d. label='%s'  score=%.4f  [%d, %d)  '%s'", e + 1, entity.label(),
                             entity.score(), entity.start(), entity.end(), entity.text());
      if (aggregation == v1::AGGREGATION_NONE) out << "  (token " << entity.token_index() << ")";
      out << "\n";
    }
  }
  PrintTiming(response.timing(), out);
}

void PrintModelInfo(const v1::ModelInfo& info, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) return PrintJson(info, out);
  out << "model_id:              " << info.model_id() << "\n"
      << "hidden_size:           " << info.hidden_size() << "\n"
      << "num_layers:            " << info.num_layers() << "\n"
      << "vocab_size:            " << info.vocab_size() << "\n"
      << "max_input_tokens:      " << info.max_input_tokens() << "\n"
      << "device:                " << info.device() << "\n"
      << "dtype:                 " << info.dtype() << "\n"
      << "max_batch_tokens:      " << info.max_batch_tokens() << "\n"
      << "max_batch_size:        " << info.max_batch_size() << "\n"
      << "max_client_batch_size: " << info.max_client_batch_size() << "\n"
      << "mask_token:            " << info.mask_token() << "\n"
      << "capabilities:          " << JoinOrNone(info.capabilities()) << "\n"
      << "head:                  " << (info.head().empty() ? "(none)" : info.head()) << "\n";
  if (info.head() == "sequence_classification") {
    out << "multi_label:           " << (info.multi_label() ? "true" : "false") << "\n";
  }
  out << "labels:                " << JoinOrNone(info.labels()) << "\n";
}

void PrintHealth(const std::string& service, ServingStatus status, OutputFormat format,
                 std::ostream& out) {
  const std::string& name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(status);
  if (format == OutputFormat::kJson) {
    grpc::health::v1::HealthCheckResponse response;
    response.set_status(status);
    return PrintJson(response, out);
  }
  out << (service.empty() ? "server" : service) << ": " << name << "\n";
}

}  // namespace securebert::client
