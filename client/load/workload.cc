#include "client/load/workload.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace securebert::client {
namespace {

constexpr char kMask[] = "<mask>";

std::string WithMask(const std::string& text) {
  if (text.find(kMask) != std::string::npos) return text;
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (words.empty()) return kMask;
  words[words.size() / 2] = kMask;
  return absl::StrJoin(words, " ");
}

absl::StatusOr<std::string> ParseLine(const std::string& line, const std::string& where) {
  const nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(where, ": not JSON"));
  if (!json.is_object() || !json.contains("text") || !json["text"].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an object with a string \"text\""));
  }
  std::string text = json["text"].get<std::string>();
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty \"text\""));
  return text;
}

}  // namespace

Workload::Workload(std::vector<std::string> texts) : texts_(std::move(texts)) {
  tokens_.reserve(texts_.size());
  for (const std::string& text : texts_) {
    tokens_.push_back(CyberTextGenerator::EstimateTokens(text));
  }
}

absl::StatusOr<Workload> Workload::FromJsonl(const std::string& path, bool ensure_mask) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --data file '", path, "'"));
  std::vector<std::string> texts;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    absl::StatusOr<std::string> text = ParseLine(line, absl::StrCat(path, ":", number));
    if (!text.ok()) return text.status();
    texts.push_back(ensure_mask ? WithMask(*text) : *std::move(text));
  }
  if (texts.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no texts"));
  return Workload(std::move(texts));
}

Workload Workload::Generated(const CyberTextGenerator::Options& options, int count) {
  CyberTextGenerator generator(options);
  std::vector<std::string> texts;
  texts.reserve(std::max(count, 1));
  for (int i = 0; i < std::max(count, 1); ++i) texts.push_back(generator.Next());
  return Workload(std::move(texts));
}

absl::Status Workload::CountTokens(const SecureBertClient& client, const RequestSettings& settings,
                                   int batch) {
  std::vector<int64_t> counted;
  counted.reserve(texts_.size());
  const size_t step = static_cast<size_t>(std::max(batch, 1));
  for (size_t begin = 0; begin < texts_.size(); begin += step) {
    const size_t end = std::min(begin + step, texts_.size());
    absl::StatusOr<v1::TokenizeResponse> response = client.Tokenize(
        MakeTokenizeRequest(settings, absl::MakeConstSpan(texts_).subspan(begin, end - begin)));
    if (!response.ok()) return response.status();
    for (const v1::Tokenization& result : response->results()) {
      counted.push_back(result.tokens_size());
    }
  }
  if (counted.size() != texts_.size()) {
    return absl::InternalError("Tokenize answered a different number of results");
  }
  tokens_ = std::move(counted);
  token_source_ = TokenSource::kTokenize;
  return absl::OkStatus();
}

}  // namespace securebert::client
