#include "client/cli/task_requests.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace securebert::client {

absl::StatusOr<v1::Aggregation> ParseAggregation(absl::string_view name) {
  if (name == "none") return v1::AGGREGATION_NONE;
  if (name == "simple") return v1::AGGREGATION_SIMPLE;
  if (name == "first") return v1::AGGREGATION_FIRST;
  if (name == "average") return v1::AGGREGATION_AVERAGE;
  if (name == "max") return v1::AGGREGATION_MAX;
  return absl::InvalidArgumentError(
      absl::StrCat("aggregation must be none, simple, first, average or max, not '", name, "'"));
}

v1::ClassifyRequest MakeClassifyRequest(const RequestSettings& settings,
                                        absl::Span<const std::string> texts) {
  v1::ClassifyRequest request;
  request.mutable_inputs()->Add(texts.begin(), texts.end());
  request.set_top_k(settings.top_k);
  request.set_truncation(settings.truncation);
  return request;
}

v1::ExtractEntitiesRequest MakeExtractEntitiesRequest(const RequestSettings& settings,
                                                      const EntitySettings& entities,
                                                      absl::Span<const std::string> texts) {
  v1::ExtractEntitiesRequest request;
  request.mutable_inputs()->Add(texts.begin(), texts.end());
  request.set_aggregation(entities.aggregation);
  request.set_threshold(entities.threshold);
  request.set_truncation(settings.truncation);
  return request;
}

}  // namespace securebert::client
