// RequestSettings: the request fields a user picks once for a whole session
// (pooling, normalize, truncation, top_k), their names on the command line,
// and builders that turn texts into requests with them. Shared by the
// securebert-client CLI and the securebert-load generator.
//
// Plain values and pure functions; safe from any thread.
#ifndef SECUREBERT_CLIENT_REQUEST_SETTINGS_H_
#define SECUREBERT_CLIENT_REQUEST_SETTINGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "securebert/v1/securebert.pb.h"

namespace securebert::client {

struct RequestSettings {
  // Embed / EmbedStream pooling; mean: one vector per input, small answers.
  v1::Pooling pooling = v1::POOLING_MEAN;
  // L2-normalize pooled vectors.
  bool normalize = false;
  // Inputs over the model's limit: refused (none), or cut (right / left).
  v1::Truncation truncation = v1::TRUNCATION_NONE;
  // PredictMask candidates per mask, 1 to 1000 (5, as the fill-mask pipeline).
  uint32_t top_k = 5;
};

// "none" | "cls" | "mean"; INVALID_ARGUMENT naming the choices otherwise.
absl::StatusOr<v1::Pooling> ParsePooling(absl::string_view name);
// "none" | "right" | "left"; INVALID_ARGUMENT naming the choices otherwise.
absl::StatusOr<v1::Truncation> ParseTruncation(absl::string_view name);
// The names ParsePooling / ParseTruncation accept.
std::string PoolingName(v1::Pooling pooling);
std::string TruncationName(v1::Truncation truncation);

v1::EmbedRequest MakeEmbedRequest(const RequestSettings& settings,
                                  absl::Span<const std::string> texts);
v1::PredictMaskRequest MakePredictMaskRequest(const RequestSettings& settings,
                                              absl::Span<const std::string> texts);
v1::TokenizeRequest MakeTokenizeRequest(const RequestSettings& settings,
                                        absl::Span<const std::string> texts);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_REQUEST_SETTINGS_H_
