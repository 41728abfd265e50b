#include "service/request_mapping.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace securebert::service {
namespace {

std::shared_ptr<const std::vector<std::string>> CopyTexts(
    const google::protobuf::RepeatedPtrField<std::string>& inputs) {
  return std::make_shared<const std::vector<std::string>>(inputs.begin(), inputs.end());
}

absl::StatusOr<batching::Pooling> MapPooling(v1::Pooling pooling) {
  switch (pooling) {
    case v1::POOLING_NONE:
      return batching::Pooling::kNone;
    case v1::POOLING_CLS:
      return batching::Pooling::kCls;
    case v1::POOLING_MEAN:
      return batching::Pooling::kMean;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("pooling: unknown value ", static_cast<int>(pooling),
                       "; use POOLING_NONE, POOLING_CLS or POOLING_MEAN"));
  }
}

}  // namespace

absl::StatusOr<tokenizer::Truncation> MapTruncation(v1::Truncation truncation) {
  switch (truncation) {
    case v1::TRUNCATION_NONE:
      return tokenizer::Truncation::kNone;
    case v1::TRUNCATION_RIGHT:
      return tokenizer::Truncation::kRight;
    case v1::TRUNCATION_LEFT:
      return tokenizer::Truncation::kLeft;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("truncation: unknown value ", static_cast<int>(truncation),
                       "; use TRUNCATION_NONE, TRUNCATION_RIGHT or TRUNCATION_LEFT"));
  }
}

absl::Status ValidateInputCount(int count, const RequestLimits& limits) {
  if (count == 0) return absl::InvalidArgumentError("inputs: empty; send at least one text");
  if (count > limits.max_client_batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inputs: ", count,
                     " texts, more than max_client_batch_size=", limits.max_client_batch_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelCall> MapEmbedRequest(const v1::EmbedRequest& request,
                                          const RequestLimits& limits) {
  if (absl::Status s = ValidateInputCount(request.inputs_size(), limits); !s.ok()) return s;
  absl::StatusOr<tokenizer::Truncation> truncation = MapTruncation(request.truncation());
  if (!truncation.ok()) return truncation.status();
  absl::StatusOr<batching::Pooling> pooling = MapPooling(request.pooling());
  if (!pooling.ok()) return pooling.status();
  ModelCall call;
  call.kind = batching::Request::Kind::kEmbed;
  call.texts = CopyTexts(request.inputs());
  call.truncation = *truncation;
  call.pooling = *pooling;
  call.normalize = request.normalize();
  return call;
}

absl::StatusOr<ModelCall> MapPredictMaskRequest(const v1::PredictMaskRequest& request,
                                                const RequestLimits& limits) {
  if (absl::Status s = ValidateInputCount(request.inputs_size(), limits); !s.ok()) return s;
  absl::StatusOr<tokenizer::Truncation> truncation = MapTruncation(request.truncation());
  if (!truncation.ok()) return truncation.status();
  const uint32_t top_k = request.top_k() == 0 ? limits.default_top_k : request.top_k();
  if (top_k > static_cast<uint32_t>(limits.max_top_k)) {
    return absl::InvalidArgumentError(absl::StrCat("top_k: ", request.top_k(),
                                                   " is out of range; use 1..", limits.max_top_k,
                                                   " (0 means ", limits.default_top_k, ")"));
  }
  ModelCall call;
  call.kind = batching::Request::Kind::kPredictMask;
  call.texts = CopyTexts(request.inputs());
  call.truncation = *truncation;
  call.top_k = static_cast<int32_t>(top_k);
  return call;
}

}  // namespace securebert::service
