#include "service/request_limits.h"

#include "absl/strings/str_cat.h"

namespace securebert::service {

absl::Status CheckInputCount(int64_t count, const RequestLimits& limits) {
  if (count == 0) return absl::InvalidArgumentError("inputs: empty; send at least one text");
  if (count > limits.max_client_batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inputs: ", count,
                     " texts, more than max_client_batch_size=", limits.max_client_batch_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> ResolveTopK(uint32_t requested, const RequestLimits& limits) {
  const uint32_t top_k = requested == 0 ? limits.default_top_k : requested;
  if (top_k > static_cast<uint32_t>(limits.max_top_k)) {
    return absl::InvalidArgumentError(absl::StrCat("top_k: ", requested,
                                                   " is out of range; use 1..", limits.max_top_k,
                                                   " (0 means ", limits.default_top_k, ")"));
  }
  return static_cast<int32_t>(top_k);
}

absl::Status CheckMasks(const std::vector<std::vector<int32_t>>& mask_positions,
                        const std::vector<bool>& truncated, int32_t top_k,
                        absl::string_view mask_token, const RequestLimits& limits) {
  int64_t masks = 0;
  for (size_t i = 0; i < mask_positions.size(); ++i) {
    const size_t count = mask_positions[i].size();
    if (count == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs[", i, "]: no ", mask_token, " token",
                       i < truncated.size() && truncated[i] ? " left after truncation" : "",
                       "; PredictMask needs at least one per input"));
    }
    if (count > static_cast<size_t>(limits.max_masks_per_input)) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs[", i, "]: ", count, " ", mask_token,
                       " tokens, more than max_masks_per_input=", limits.max_masks_per_input));
    }
    masks += static_cast<int64_t>(count);
  }
  if (masks * top_k > limits.max_mask_predictions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inputs: ", masks, " ", mask_token, " tokens x top_k=", top_k, " = ", masks * top_k,
        " candidates, more than max_mask_predictions=", limits.max_mask_predictions,
        "; send fewer masks per request or a lower top_k"));
  }
  return absl::OkStatus();
}

absl::Status CheckResponseBytes(int64_t estimated_bytes, absl::string_view advice,
                                const RequestLimits& limits) {
  if (estimated_bytes <= limits.max_response_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the answer would be about ", estimated_bytes / (1 << 20), " MiB (", estimated_bytes,
      " bytes), more than the server's max_message_bytes=", limits.max_response_bytes, "; ",
      advice));
}

}  // namespace securebert::service
