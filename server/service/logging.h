// Process-wide logging set-up (spdlog): one line per event, as text or as
// JSON objects {"ts","level","msg"} for log collectors. Called once by
// main.cc before anything logs.
#ifndef SECUREBERT_SERVER_SERVICE_LOGGING_H_
#define SECUREBERT_SERVER_SERVICE_LOGGING_H_

#include <string>

#include "absl/status/status.h"

namespace securebert::service {

// `level`: trace, debug, info, warn, error, critical or off.
// `format`: "text" or "json". InvalidArgument for anything else.
absl::Status ConfigureLogging(const std::string& level, const std::string& format);

// JSON-escapes `text` (without surrounding quotes).
std::string JsonEscape(const std::string& text);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_LOGGING_H_
