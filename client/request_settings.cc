#include "client/request_settings.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace securebert::client {

absl::StatusOr<v1::Pooling> ParsePooling(absl::string_view name) {
  if (name == "none") return v1::POOLING_NONE;
  if (name == "cls") return v1::POOLING_CLS;
  if (name == "mean") return v1::POOLING_MEAN;
  return absl::InvalidArgumentError(
      absl::StrCat("pooling must be none, cls or mean, not '", name, "'"));
}

absl::StatusOr<v1::Truncation> ParseTruncation(absl::string_view name) {
  if (name == "none") return v1::TRUNCATION_NONE;
  if (name == "right") return v1::TRUNCATION_RIGHT;
  if (name == "left") return v1::TRUNCATION_LEFT;
  return absl::InvalidArgumentError(
      absl::StrCat("truncation must be none, right or left, not '", name, "'"));
}

std::string PoolingName(v1::Pooling pooling) {
  switch (pooling) {
    case v1::POOLING_CLS:
      return "cls";
    case v1::POOLING_MEAN:
      return "mean";
    default:
      return "none";
  }
}

std::string TruncationName(v1::Truncation truncation) {
  switch (truncation) {
    case v1::TRUNCATION_RIGHT:
      return "right";
    case v1::TRUNCATION_LEFT:
      return "left";
    default:
      return "none";
  }
}

v1::EmbedRequest MakeEmbedRequest(const RequestSettings& settings,
                                  absl::Span<const std::string> texts) {
  v1::EmbedRequest request;
  request.mutable_inputs()->Add(texts.begin(), texts.end());
  request.set_pooling(settings.pooling);
  request.set_normalize(settings.normalize);
  request.set_truncation(settings.truncation);
  return request;
}

v1::PredictMaskRequest MakePredictMaskRequest(const RequestSettings& settings,
                                              absl::Span<const std::string> texts) {
  v1::PredictMaskRequest request;
  request.mutable_inputs()->Add(texts.begin(), texts.end());
  request.set_top_k(settings.top_k);
  request.set_truncation(settings.truncation);
  return request;
}

v1::TokenizeRequest MakeTokenizeRequest(const RequestSettings& settings,
                                        absl::Span<const std::string> texts) {
  v1::TokenizeRequest request;
  request.mutable_inputs()->Add(texts.begin(), texts.end());
  request.set_truncation(settings.truncation);
  return request;
}

}  // namespace securebert::client
