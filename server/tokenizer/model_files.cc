#include "tokenizer/model_files.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tokenizer/json_file.h"

namespace securebert::tokenizer {
namespace {

using nlohmann::json;

absl::Status Unsupported(const std::string& path, const std::string& what) {
  return absl::UnimplementedError(absl::StrCat(path, ": unsupported ", what));
}

absl::Status ParseVocab(const json& vocab, const std::string& path, ModelFiles* files) {
  if (!vocab.is_object()) return absl::InvalidArgumentError(path + ": vocab is not an object");
  files->vocab.reserve(vocab.size());
  for (const auto& [spelling, id] : vocab.items()) {
    const std::optional<int32_t> number = JsonInteger<int32_t>(id);
    if (!number || *number < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": vocab entry \"", spelling, "\" has a bad id ", id.dump()));
    }
    files->vocab[spelling] = *number;
  }
  return absl::OkStatus();
}

// One "left right" merge, as HF splits it: exactly one space.
absl::Status ParseMergeLine(absl::string_view line, size_t number, const std::string& path,
                            ModelFiles* files) {
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 2) {
    // The line quoted short and escaped: it may be the whole (corrupt) file.
    constexpr size_t kQuoted = 60;
    const absl::string_view quoted = line.substr(0, kQuoted);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": merge ", number, " (\"", absl::CHexEscape(quoted),
        line.size() > kQuoted ? "..." : "", "\") is not two symbols separated by a space"));
  }
  files->merges.emplace_back(std::move(parts[0]), std::move(parts[1]));
  return absl::OkStatus();
}

absl::Status ParseMerges(const json& merges, const std::string& path, ModelFiles* files) {
  if (!merges.is_array()) return absl::InvalidArgumentError(path + ": merges is not an array");
  files->merges.reserve(merges.size());
  size_t number = 0;
  for (const json& merge : merges) {
    ++number;
    if (merge.is_string()) {
      absl::Status status = ParseMergeLine(merge.get<std::string>(), number, path, files);
      if (!status.ok()) return status;
    } else if (merge.is_array() && merge.size() == 2) {  // newer format: ["left", "right"]
      files->merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return absl::InvalidArgumentError(absl::StrCat(path, ": merge ", number, " is malformed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseModel(const json& model, const std::string& path, ModelFiles* files) {
  if (model.value("type", std::string("BPE")) != "BPE") {
    return Unsupported(path, absl::StrCat("model type ", model["type"].dump()));
  }
  const json& dropout = model.value("dropout", json());
  if (!dropout.is_null() && dropout.get<double>() != 0.0) return Unsupported(path, "BPE dropout");
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json& value = model.value(affix, json());
    if (!value.is_null() && !value.get<std::string>().empty()) return Unsupported(path, affix);
  }
  if (model.value("byte_fallback", false)) return Unsupported(path, "byte_fallback");
  files->ignore_merges = model.value("ignore_merges", false);
  absl::Status status = ParseVocab(model.at("vocab"), path, files);
  if (!status.ok()) return status;
  return ParseMerges(model.at("merges"), path, files);
}

absl::Status ParsePreTokenizer(const json& pre, const std::string& path, ModelFiles* files) {
  if (pre.is_null()) {
    return Unsupported(path, "tokenizer without a ByteLevel pre-tokenizer");
  }
  const std::string type = pre.value("type", std::string());
  if (type == "Sequence" && pre.at("pretokenizers").size() == 1) {
    return ParsePreTokenizer(pre.at("pretokenizers")[0], path, files);
  }
  if (type != "ByteLevel") return Unsupported(path, absl::StrCat("pre_tokenizer ", type));
  files->add_prefix_space = pre.value("add_prefix_space", false);
  files->use_regex = pre.value("use_regex", true);
  return absl::OkStatus();
}

// The special token's content in a RobertaProcessing "cls"/"sep": ["<s>", 0].
std::string PairContent(const json& pair) { return pair.at(0).get<std::string>(); }

absl::Status ParseTemplate(const json& processor, const std::string& path, ModelFiles* files) {
  const json& single = processor.at("single");
  const bool shape_ok = single.is_array() && single.size() == 3 &&
                        single[0].contains("SpecialToken") && single[1].contains("Sequence") &&
                        single[2].contains("SpecialToken");
  if (!shape_ok) return Unsupported(path, "TemplateProcessing other than \"<cls> $A <sep>\"");
  files->cls_token = single[0]["SpecialToken"].at("id").get<std::string>();
  files->sep_token = single[2]["SpecialToken"].at("id").get<std::string>();
  files->add_bos_eos = true;
  return absl::OkStatus();
}

absl::Status ParsePostProcessor(const json& processor, const std::string& path, ModelFiles* files) {
  files->add_bos_eos = false;
  if (processor.is_null()) return absl::OkStatus();
  const std::string type = processor.value("type", std::string());
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    files->cls_token = PairContent(processor.at("cls"));
    files->sep_token = PairContent(processor.at("sep"));
    files->add_bos_eos = true;
    return absl::OkStatus();
  }
  if (type == "ByteLevel") return absl::OkStatus();  // offsets trimming only
  if (type == "TemplateProcessing") return ParseTemplate(processor, path, files);
  if (type == "Sequence") {
    for (const json& step : processor.at("processors")) {
      if (step.value("type", std::string()) == "ByteLevel") continue;
      absl::Status status = ParsePostProcessor(step, path, files);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  return Unsupported(path, absl::StrCat("post_processor ", type));
}

absl::Status ParseAddedTokens(const json& added, const std::string& path, ModelFiles* files) {
  if (added.is_null()) return absl::OkStatus();
  for (const json& token : added) {
    const std::optional<int32_t> id = JsonInteger<int32_t>(token.at("id"));
    if (!id || *id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": added token has a bad id ", token.at("id").dump()));
    }
    files->added_tokens.emplace_back(AddedTokenFromJson(token, /*default_special=*/false), *id);
  }
  return absl::OkStatus();
}

absl::Status ParseTokenizerJson(const json& root, const std::string& path, ModelFiles* files) {
  if (!root.is_object()) return absl::InvalidArgumentError(path + ": not an object");
  if (!root.value("normalizer", json()).is_null()) return Unsupported(path, "normalizer");
  absl::Status status = ParseModel(root.at("model"), path, files);
  if (status.ok()) status = ParsePreTokenizer(root.value("pre_tokenizer", json()), path, files);
  if (status.ok()) status = ParsePostProcessor(root.value("post_processor", json()), path, files);
  if (status.ok()) status = ParseAddedTokens(root.value("added_tokens", json()), path, files);
  return status;
}

}  // namespace

absl::Status ReadVocabJson(const std::string& path, ModelFiles* files) {
  return ParseJsonFile(path, [&](const json& vocab) { return ParseVocab(vocab, path, files); });
}

absl::Status ReadMergesTxt(const std::string& path, ModelFiles* files) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  std::vector<absl::string_view> lines = absl::StrSplit(*content, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline
  files->merges.reserve(lines.size());
  size_t number = 0;
  for (absl::string_view line : lines) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StartsWith(line, "#version")) continue;
    absl::Status status = ParseMergeLine(line, ++number, path, files);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadTokenizerJson(const std::string& path, ModelFiles* files) {
  *files = ModelFiles();
  return ParseJsonFile(path,
                       [&](const json& root) { return ParseTokenizerJson(root, path, files); });
}

}  // namespace securebert::tokenizer
