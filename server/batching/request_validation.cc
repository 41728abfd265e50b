#include "batching/request_validation.h"

#include "absl/strings/str_cat.h"

namespace securebert::batching {
namespace {

absl::Status ValidateIds(const std::vector<int32_t>& ids, size_t input, const ModelSpec& spec,
                         int32_t max_input_tokens) {
  if (ids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("input ", input, " has no tokens"));
  }
  if (ids.size() > static_cast<size_t>(max_input_tokens)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input, " has ", ids.size(),
        " tokens; the limit is max_input_tokens=", max_input_tokens, " (<s> and </s> included)"));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= spec.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", input, " holds token id ", id, " outside the vocabulary of ", spec.vocab_size));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMasks(const Request& request) {
  if (request.top_k < 1) {
    return absl::InvalidArgumentError(absl::StrCat("top_k=", request.top_k, " must be at least 1"));
  }
  if (request.mask_positions.size() != request.sequences.size()) {
    return absl::InvalidArgumentError(absl::StrCat("mask_positions has ",
                                                   request.mask_positions.size(), " lists for ",
                                                   request.sequences.size(), " inputs"));
  }
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    const auto length = static_cast<int32_t>(request.sequences[i].size());
    int32_t previous = -1;
    for (int32_t position : request.mask_positions[i]) {
      if (position <= previous || position >= length) {
        return absl::InvalidArgumentError(absl::StrCat("input ", i, ": mask position ", position,
                                                       " is not ascending or outside its ", length,
                                                       " tokens"));
      }
      previous = position;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const Request& request, const ModelSpec& spec,
                             int32_t max_input_tokens) {
  if (request.sequences.empty()) {
    return absl::InvalidArgumentError("request has no inputs");
  }
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    if (absl::Status status = ValidateIds(request.sequences[i], i, spec, max_input_tokens);
        !status.ok()) {
      return status;
    }
  }
  switch (request.kind) {
    case Request::Kind::kPredictMask:
      if (!spec.has_lm_head) {
        return absl::FailedPreconditionError(
            "this model has no MLM head: it cannot predict <mask> (PredictMask)");
      }
      return ValidateMasks(request);
    case Request::Kind::kClassify:
      if (spec.task_head != TaskHead::kSequenceClassification) {
        return absl::FailedPreconditionError(
            "this model has no sequence-classification head: it cannot Classify");
      }
      break;
    case Request::Kind::kExtractEntities:
      if (spec.task_head != TaskHead::kTokenClassification) {
        return absl::FailedPreconditionError(
            "this model has no token-classification head: it cannot ExtractEntities");
      }
      break;
    case Request::Kind::kEmbed:
      break;
  }
  return absl::OkStatus();
}

absl::Status RequestLiveness(const Request& request, absl::Time now) {
  // The deadline first: gRPC also cancels a call whose deadline passed, and
  // such a drop is a DEADLINE_EXCEEDED, not a client's cancel.
  if (now >= request.deadline) {
    return absl::DeadlineExceededError("the call's deadline passed before its work ran");
  }
  if (request.cancelled != nullptr && request.cancelled->load(std::memory_order_acquire)) {
    return absl::CancelledError("the client cancelled the call before it ran");
  }
  return absl::OkStatus();
}

int64_t CountTokens(const Request& request) {
  int64_t tokens = 0;
  for (const auto& sequence : request.sequences) {
    tokens += static_cast<int64_t>(sequence.size());
  }
  return tokens;
}

}  // namespace securebert::batching
