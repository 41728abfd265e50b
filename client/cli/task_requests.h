// The requests of the task-head RPCs (Classify, ExtractEntities) as
// securebert-client builds them: the ExtractEntities settings that the
// shared RequestSettings do not carry, their command-line names, and the
// request builders. Classify takes RequestSettings::top_k and truncation;
// ExtractEntities takes truncation. CLI-only for now; they belong in
// client/request_settings.h once the load generator sends these RPCs.
//
// Plain values and pure functions; safe from any thread.
#ifndef SECUREBERT_CLIENT_CLI_TASK_REQUESTS_H_
#define SECUREBERT_CLIENT_CLI_TASK_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/request_settings.h"
#include "securebert/v1/securebert.pb.h"

namespace securebert::client {

struct EntitySettings {
  // How token predictions become entities (Hugging Face's
  // aggregation_strategy; none, its default, reports every token).
  v1::Aggregation aggregation = v1::AGGREGATION_NONE;
  // Entities scoring below this are left out, in [0, 1]; 0 keeps them all.
  float threshold = 0.0f;
};

// "none" | "simple" | "first" | "average" | "max"; INVALID_ARGUMENT naming
// the choices otherwise.
absl::StatusOr<v1::Aggregation> ParseAggregation(absl::string_view name);

v1::ClassifyRequest MakeClassifyRequest(const RequestSettings& settings,
                                        absl::Span<const std::string> texts);
v1::ExtractEntitiesRequest MakeExtractEntitiesRequest(const RequestSettings& settings,
                                                      const EntitySettings& entities,
                                                      absl::Span<const std::string> texts);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLI_TASK_REQUESTS_H_
