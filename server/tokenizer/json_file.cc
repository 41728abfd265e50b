#include "tokenizer/json_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace securebert::tokenizer {

bool IsRegularFile(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return std::move(content).str();
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  try {
    return nlohmann::json::parse(*content);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed JSON: ", e.what()));
  }
}

AddedTokenSpec AddedTokenFromJson(const nlohmann::json& value, bool default_special) {
  AddedTokenSpec spec;
  spec.content = value.at("content").get<std::string>();
  spec.lstrip = value.value("lstrip", false);
  spec.rstrip = value.value("rstrip", false);
  spec.single_word = value.value("single_word", false);
  spec.normalized = value.value("normalized", false);
  spec.special = value.value("special", default_special);
  return spec;
}

}  // namespace securebert::tokenizer
