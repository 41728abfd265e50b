#include "service/responses.h"

namespace securebert::service {
namespace {

// The text with the mask at `position` filled by `candidate`: the ids between
// <s> and </s>, decoded; other masks stay "<mask>".
std::string FilledSequence(const std::vector<int32_t>& ids, int32_t position, int32_t candidate,
                           const tokenizer::Tokenizer& tokenizer) {
  std::vector<int32_t> filled(ids.begin(), ids.end());
  filled[position] = candidate;
  size_t begin = 0, end = filled.size();
  if (end > begin && filled[begin] == tokenizer.bos_id()) ++begin;
  if (end > begin && filled[end - 1] == tokenizer.eos_id()) --end;
  return tokenizer.Decode(absl::MakeConstSpan(filled.data() + begin, end - begin),
                          /*skip_special_tokens=*/false);
}

}  // namespace

void FillTiming(const batching::Timing& timing, v1::Timing* out) {
  out->set_tokenize_us(static_cast<uint64_t>(timing.tokenize_us));
  out->set_queue_us(static_cast<uint64_t>(timing.queue_us));
  out->set_inference_us(static_cast<uint64_t>(timing.inference_us));
  out->set_batch_size(static_cast<uint32_t>(timing.batch_size));
}

void FillEmbedResponse(const ModelCallResult& result, v1::EmbedResponse* response) {
  const auto& outputs = result.response.outputs;
  response->mutable_embeddings()->Reserve(static_cast<int>(outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    v1::Embedding* e = response->add_embeddings();
    e->mutable_values()->Add(outputs[i].values.begin(), outputs[i].values.end());
    e->mutable_shape()->Add(outputs[i].shape.begin(), outputs[i].shape.end());
    e->set_num_tokens(static_cast<uint32_t>(result.ids[i].size()));
    e->set_truncated(result.truncated[i]);
  }
  FillTiming(result.response.timing, response->mutable_timing());
}

void FillPredictMaskResponse(const ModelCallResult& result, const tokenizer::Tokenizer& tokenizer,
                             v1::PredictMaskResponse* response) {
  const auto& outputs = result.response.outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    v1::InputPrediction* input = response->add_results();
    input->set_truncated(result.truncated[i]);
    for (const auto& mask : outputs[i].masks) {
      v1::MaskResult* m = input->add_masks();
      m->set_position(static_cast<uint32_t>(mask.position));
      for (size_t k = 0; k < mask.ids.size(); ++k) {
        v1::TokenPrediction* p = m->add_predictions();
        const int32_t id = mask.ids[k];
        p->set_token_id(static_cast<uint32_t>(id));
        p->set_token(tokenizer.DecodeToken(id));
        p->set_score(mask.scores[k]);
        p->set_sequence(FilledSequence(result.ids[i], mask.position, id, tokenizer));
      }
    }
  }
  FillTiming(result.response.timing, response->mutable_timing());
}

void FillTokenizeResponse(const std::vector<tokenizer::Encoding>& encodings,
                          const tokenizer::Tokenizer& tokenizer, v1::TokenizeResponse* response) {
  for (const tokenizer::Encoding& e : encodings) {
    v1::Tokenization* t = response->add_results();
    t->set_truncated(e.truncated);
    for (size_t k = 0; k < e.ids.size(); ++k) {
      v1::Token* token = t->add_tokens();
      token->set_id(static_cast<uint32_t>(e.ids[k]));
      token->set_text(std::string(tokenizer.TokenText(e.ids[k])));
      token->set_start(e.offsets[k].first);
      token->set_end(e.offsets[k].second);
    }
  }
}

}  // namespace securebert::service
