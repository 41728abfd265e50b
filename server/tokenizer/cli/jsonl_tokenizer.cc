#include "tokenizer/cli/jsonl_tokenizer.h"

#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace securebert::tokenizer {
namespace {

using nlohmann::ordered_json;

std::string ErrorLine(const std::string& message) {
  ordered_json line = {{"error", message}};
  return line.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace

std::string JsonlTokenizer::ProcessLine(std::string_view line) const {
  ordered_json input = ordered_json::parse(line.begin(), line.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (input.is_discarded()) return ErrorLine("line is not valid JSON (or not valid UTF-8)");
  if (!input.is_object() || !input.contains("text") || !input["text"].is_string()) {
    return ErrorLine("line has no string field \"text\"");
  }
  const std::string& text = input["text"].get_ref<const std::string&>();
  absl::StatusOr<Encoding> encoding = tokenizer_->Encode(text, options_);
  if (!encoding.ok()) return ErrorLine(std::string(encoding.status().message()));
  std::vector<std::string_view> tokens;
  tokens.reserve(encoding->ids.size());
  for (size_t i = 0; i < encoding->ids.size(); ++i) {
    tokens.push_back(tokenizer_->TokenString(text, *encoding, i));
  }
  ordered_json output;
  output["text"] = text;
  output["ids"] = encoding->ids;
  output["tokens"] = tokens;
  output["offsets"] = encoding->offsets;
  if (encoding->truncated) output["truncated"] = true;
  return output.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace securebert::tokenizer
