#include "client/load/call_slot.h"

#include "absl/strings/str_cat.h"
#include "client/load/stream_slot.h"
#include "client/load/unary_slot.h"

namespace securebert::client {

absl::StatusOr<LoadCall> ParseLoadCall(absl::string_view name) {
  if (name == "embed") return LoadCall::kEmbed;
  if (name == "embed-stream") return LoadCall::kEmbedStream;
  if (name == "predict-mask") return LoadCall::kPredictMask;
  if (name == "tokenize") return LoadCall::kTokenize;
  return absl::InvalidArgumentError(absl::StrCat(
      "--call must be embed, embed-stream, predict-mask or tokenize, not '", name, "'"));
}

std::string LoadCallName(LoadCall call) {
  switch (call) {
    case LoadCall::kEmbed:
      return "embed";
    case LoadCall::kEmbedStream:
      return "embed-stream";
    case LoadCall::kPredictMask:
      return "predict-mask";
    case LoadCall::kTokenize:
      return "tokenize";
  }
  return "unknown";
}

std::unique_ptr<CallSlot> MakeCallSlot(LoadCall call, const SlotContext& context) {
  if (call == LoadCall::kEmbedStream) return std::make_unique<StreamSlot>(context);
  return MakeUnarySlot(call, context);
}

std::vector<std::string> RequestTexts(const SlotContext& context, int64_t index) {
  std::vector<std::string> texts;
  texts.reserve(context.inputs_per_request);
  for (int j = 0; j < context.inputs_per_request; ++j) {
    texts.push_back(context.workload->text(index * context.inputs_per_request + j));
  }
  return texts;
}

int64_t EmbedTokens(const v1::EmbedResponse& response) {
  int64_t tokens = 0;
  for (const v1::Embedding& embedding : response.embeddings()) tokens += embedding.num_tokens();
  return tokens;
}

}  // namespace securebert::client
