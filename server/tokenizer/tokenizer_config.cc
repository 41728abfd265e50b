#include "tokenizer/tokenizer_config.h"

#include <cmath>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tokenizer/json_file.h"

namespace securebert::tokenizer {
namespace {

using nlohmann::json;
using FlagsByContent = absl::flat_hash_map<std::string, AddedTokenSpec>;

// Larger values are transformers' "no limit" sentinels (e.g. 1e30).
constexpr double kMaxModelLength = 1e9;

struct Role {
  const char* key;                        // field name in the JSON files
  AddedTokenSpec TokenizerConfig::*spec;  // where it goes
  bool default_lstrip;                    // flag a plain string gets
};

constexpr Role kRoles[] = {
    {"bos_token", &TokenizerConfig::bos_token, false},
    {"eos_token", &TokenizerConfig::eos_token, false},
    {"cls_token", &TokenizerConfig::cls_token, false},
    {"sep_token", &TokenizerConfig::sep_token, false},
    {"pad_token", &TokenizerConfig::pad_token, false},
    {"unk_token", &TokenizerConfig::unk_token, false},
    {"mask_token", &TokenizerConfig::mask_token, true},
};

// A special token given as a string or an object.
AddedTokenSpec ParseTokenValue(const json& value, bool default_lstrip,
                               const FlagsByContent& declared) {
  if (value.is_object()) return AddedTokenFromJson(value, /*default_special=*/true);
  const std::string content = value.get<std::string>();
  if (const auto it = declared.find(content); it != declared.end()) return it->second;
  AddedTokenSpec spec;
  spec.content = content;
  spec.lstrip = default_lstrip;
  return spec;
}

// Role tokens and additional_special_tokens from either file.
void ApplySpecialTokens(const json& file, const FlagsByContent& declared, TokenizerConfig* config) {
  for (const Role& role : kRoles) {
    const auto it = file.find(role.key);
    if (it == file.end() || it->is_null()) continue;
    config->*role.spec = ParseTokenValue(*it, role.default_lstrip, declared);
  }
  const auto extra = file.find("additional_special_tokens");
  if (extra != file.end() && !extra->is_null()) {
    config->additional_special_tokens.clear();
    for (const json& value : *extra) {
      config->additional_special_tokens.push_back(ParseTokenValue(value, false, declared));
    }
  }
}

size_t ParseModelMaxLength(const json& value) {
  if (!value.is_number()) return 0;
  const double length = value.get<double>();
  if (!(length > 0) || length > kMaxModelLength || std::floor(length) != length) return 0;
  return static_cast<size_t>(length);
}

void ApplyTokenizerConfig(const json& file, FlagsByContent* declared, TokenizerConfig* config) {
  if (const auto it = file.find("add_prefix_space"); it != file.end() && !it->is_null()) {
    config->add_prefix_space = it->get<bool>();
  }
  // transformers still reads the old name max_len when model_max_length is absent.
  for (const char* key : {"max_len", "model_max_length"}) {
    if (const auto it = file.find(key); it != file.end()) {
      config->model_max_length = ParseModelMaxLength(*it);
    }
  }
  if (const auto it = file.find("clean_up_tokenization_spaces"); it != file.end()) {
    config->clean_up_tokenization_spaces = it->get<bool>();
  }
  if (const auto it = file.find("added_tokens_decoder"); it != file.end()) {
    for (const auto& [id, value] : it->items()) {
      AddedTokenSpec spec = AddedTokenFromJson(value, /*default_special=*/true);
      (*declared)[spec.content] = spec;
    }
  }
  ApplySpecialTokens(file, *declared, config);
}

// Runs `apply` on `dir`/`name` when that file exists, turning JSON type
// errors into InvalidArgument.
template <typename Apply>
absl::Status ApplyFileIfPresent(const std::string& dir, const char* name, Apply apply) {
  const std::string path = absl::StrCat(dir, "/", name);
  if (!IsRegularFile(path)) return absl::OkStatus();
  return ParseJsonFile(path, [&](const json& file) {
    if (!file.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not an object"));
    apply(file);
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status ReadTokenizerConfigFiles(const std::string& dir, TokenizerConfig* config) {
  FlagsByContent declared;
  absl::Status status = ApplyFileIfPresent(dir, "tokenizer_config.json", [&](const json& file) {
    ApplyTokenizerConfig(file, &declared, config);
  });
  if (!status.ok()) return status;
  return ApplyFileIfPresent(dir, "special_tokens_map.json",
                            [&](const json& file) { ApplySpecialTokens(file, declared, config); });
}

}  // namespace securebert::tokenizer
