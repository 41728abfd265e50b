// JSON helpers for the tokenizer's loaders: reading a file and turning
// nlohmann's exceptions into statuses at this boundary (no exception leaves
// the tokenizer), and the AddedToken object every Hugging Face file uses.
//
// Thread safety: stateless functions.
#ifndef SECUREBERT_SERVER_TOKENIZER_JSON_FILE_H_
#define SECUREBERT_SERVER_TOKENIZER_JSON_FILE_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tokenizer/tokenizer_config.h"

namespace securebert::tokenizer {

// True when `path` names an existing regular file.
bool IsRegularFile(const std::string& path);

// The whole content of `path`; NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Parses `path` as JSON; NotFound when missing, InvalidArgument (with the
// parser's message and byte position) when malformed.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// Reads `path` as JSON and returns parse(json) (an absl::Status); a JSON
// type error thrown inside `parse` becomes InvalidArgument naming the file.
template <typename Parse>
absl::Status ParseJsonFile(const std::string& path, Parse parse) {
  absl::StatusOr<nlohmann::json> json = ReadJsonFile(path);
  if (!json.ok()) return json.status();
  try {
    return parse(*json);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

// `value` as a T when it is a JSON integer that T holds exactly; nullopt for
// anything else: a float (even 1.0 or 1e300), a string, an integer out of
// T's range. nlohmann's own get<int>() converts floats and wide integers
// unchecked, which for an out-of-range float is undefined behaviour; every
// integer a loader reads from a file goes through here instead.
template <typename T>
std::optional<T> JsonInteger(const nlohmann::json& value) {
  static_assert(std::is_integral_v<T> && std::is_signed_v<T>);
  if (value.is_number_unsigned()) {
    const auto n = value.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(n);
  }
  if (!value.is_number_integer()) return std::nullopt;
  const auto n = value.get<int64_t>();
  if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) return std::nullopt;
  return static_cast<T>(n);
}

// An AddedToken object {"content", "lstrip", "rstrip", "single_word",
// "normalized", "special"}; absent flags are false, "special" is
// `default_special`. Throws nlohmann::json::exception on wrong types.
AddedTokenSpec AddedTokenFromJson(const nlohmann::json& value, bool default_special);

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_JSON_FILE_H_
