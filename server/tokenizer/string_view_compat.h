// Debian's Abseil (20220623) is built with its own absl::string_view rather
// than an alias of std::string_view, so Abseil's string functions and hash
// maps do not take std::string_view directly. The tokenizer's API uses
// std::string_view; ToAbsl converts at the calls into Abseil.
//
// Thread safety: stateless.
#ifndef SECUREBERT_SERVER_TOKENIZER_STRING_VIEW_COMPAT_H_
#define SECUREBERT_SERVER_TOKENIZER_STRING_VIEW_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace securebert::tokenizer {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace securebert::tokenizer

#endif  // SECUREBERT_SERVER_TOKENIZER_STRING_VIEW_COMPAT_H_
