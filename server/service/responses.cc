#include "service/responses.h"

#include <algorithm>

namespace securebert::service {
namespace {

// Upper bounds of protobuf framing: a tag and a length prefix of a
// length-delimited field, and a candidate's id, score and their tags.
constexpr int64_t kFieldFraming = 1 + 5;
constexpr int64_t kPredictionFixedBytes = 3 * kFieldFraming + (1 + 5) + (1 + 4);
// Decode replaces a byte of a broken UTF-8 sequence with U+FFFD (3 bytes).
constexpr int64_t kReplacementGrowth = 3;

// TRUNCATION_WINDOW: the windows input `i` took; 0 for other truncations.
uint32_t WindowsOf(const ModelResult& result, size_t i) {
  return i < result.window_counts.size() ? result.window_counts[i] : 0;
}

}  // namespace

void FillTiming(const batching::Timing& timing, v1::Timing* out) {
  out->set_tokenize_us(static_cast<uint64_t>(timing.tokenize_us));
  out->set_queue_us(static_cast<uint64_t>(timing.queue_us));
  out->set_inference_us(static_cast<uint64_t>(timing.inference_us));
  out->set_batch_size(static_cast<uint32_t>(timing.batch_size));
}

void FillEmbedResponse(const ModelResult& result, v1::EmbedResponse* response) {
  const auto& outputs = result.response.outputs;
  response->mutable_embeddings()->Reserve(static_cast<int>(outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    v1::Embedding* e = response->add_embeddings();
    e->mutable_values()->Add(outputs[i].values.begin(), outputs[i].values.end());
    e->mutable_shape()->Add(outputs[i].shape.begin(), outputs[i].shape.end());
    e->set_num_tokens(outputs[i].num_tokens);
    e->set_truncated(result.truncated[i]);
    e->set_windows(WindowsOf(result, i));
  }
  FillTiming(result.response.timing, response->mutable_timing());
}

void FillPredictMaskResponse(const ModelResult& result, const tokenizer::Tokenizer& tokenizer,
                             v1::PredictMaskResponse* response) {
  const auto& outputs = result.response.outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::vector<int32_t>& ids = result.response.sequences[i];
    v1::InputPrediction* input = response->add_results();
    input->set_truncated(result.truncated[i]);
    input->set_windows(WindowsOf(result, i));
    for (const auto& mask : outputs[i].masks) {
      v1::MaskResult* m = input->add_masks();
      m->set_position(static_cast<uint32_t>(mask.position));
      for (size_t k = 0; k < mask.ids.size(); ++k) {
        v1::TokenPrediction* p = m->add_predictions();
        const int32_t id = mask.ids[k];
        p->set_token_id(static_cast<uint32_t>(id));
        p->set_token(tokenizer.DecodeToken(id));
        p->set_score(mask.scores[k]);
        if (!result.omit_sequence) {
          p->set_sequence(tokenizer.DecodeFilled(ids, static_cast<size_t>(mask.position), id,
                                                 outputs[i].masks.size()));
        }
      }
    }
  }
  FillTiming(result.response.timing, response->mutable_timing());
}

void FillClassifyResponse(const ModelResult& result, const HeadLabels& labels,
                          v1::ClassifyResponse* response) {
  const auto& outputs = result.response.outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    v1::Classification* c = response->add_results();
    c->set_num_tokens(outputs[i].num_tokens);
    c->set_truncated(result.truncated[i]);
    c->set_windows(WindowsOf(result, i));
    const LabelActivation activation =
        DefaultLabelActivation(labels.multi_label, labels.names.size());
    for (const LabelScore& score :
         ClassificationScores(outputs[i].values, activation, result.task.top_k)) {
      v1::LabelScore* out = c->add_labels();
      out->set_label(labels.names[static_cast<size_t>(score.id)]);
      out->set_id(static_cast<uint32_t>(score.id));
      out->set_score(score.score);
    }
  }
  FillTiming(result.response.timing, response->mutable_timing());
}

void FillExtractEntitiesResponse(const ModelResult& result, const tokenizer::Tokenizer& tokenizer,
                                 const HeadLabels& labels, v1::ExtractEntitiesResponse* response) {
  const auto& outputs = result.response.outputs;
  std::vector<TokenSpan> tokens;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string& text = (*result.texts)[i];
    const std::vector<int32_t>& ids = result.response.sequences[i];
    const auto& offsets = result.offsets[i];
    tokens.clear();
    for (size_t t = 0; t < ids.size(); ++t) {
      // The tokenizer puts <s> first and </s> last; a special token anywhere
      // else was typed in the text.
      const bool added_around = t == 0 || t + 1 == ids.size();
      const TokenKind kind = added_around                  ? TokenKind::kSpecial
                             : tokenizer.IsSpecial(ids[t]) ? TokenKind::kAdded
                                                           : TokenKind::kText;
      tokens.push_back(TokenSpan{ids[t], offsets[t].first, offsets[t].second, kind});
    }
    EntityOptions options;
    options.aggregation = result.task.aggregation;
    options.threshold = result.task.threshold;
    options.unk_id = tokenizer.unk_id();
    v1::InputEntities* input = response->add_results();
    input->set_num_tokens(outputs[i].num_tokens);
    input->set_truncated(result.truncated[i]);
    input->set_windows(WindowsOf(result, i));
    for (const EntitySpan& span :
         ExtractEntitySpans(text, tokens, outputs[i].values, labels.names, options)) {
      v1::Entity* e = input->add_entities();
      e->set_label(span.label);
      e->set_score(span.score);
      e->set_start(span.start);
      e->set_end(span.end);
      e->set_text(text.substr(span.start, span.end - span.start));
      if (result.task.aggregation == Aggregation::kNone) {
        e->set_token_index(static_cast<uint32_t>(span.token_index));
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

int64_t EstimateEmbedResponseBytes(const batching::Request& request, int32_t hidden_size) {
  int64_t bytes = 4 * kFieldFraming;  // timing
  for (const std::vector<int32_t>& ids : request.sequences) {
    const int64_t vectors =
        request.pooling == batching::Pooling::kNone ? static_cast<int64_t>(ids.size()) : 1;
    bytes += 4 * kFieldFraming + vectors * hidden_size * int64_t{sizeof(float)};
  }
  return bytes;
}

int64_t MinPredictMaskResponseBytes(const batching::Request& request, bool omit_sequence,
                                    const tokenizer::Tokenizer& tokenizer) {
  const auto mask_bytes = static_cast<int64_t>(tokenizer.mask_token().size());
  int64_t bytes = 0;
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    // A candidate's id, score and token field take at least 6 bytes.
    int64_t per_candidate = 6;
    if (!omit_sequence) {
      // Its filled-in text is the input with one <mask> replaced.
      const auto text = static_cast<int64_t>(tokenizer.Decode(request.sequences[i], false).size());
      per_candidate += std::max<int64_t>(0, text - mask_bytes);
    }
    bytes += static_cast<int64_t>(request.mask_positions[i].size()) * request.top_k * per_candidate;
  }
  return bytes;
}

int64_t PredictMaskResponseBytes(const ModelResult& result, const tokenizer::Tokenizer& tokenizer) {
  int64_t bytes = 4 * kFieldFraming;  // timing
  const auto& outputs = result.response.outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    // The filled-in text: the input as decoded, the candidate's bytes added
    // (each may decode to a 3-byte U+FFFD), <s> and </s> kept with several
    // masks; never longer than this.
    const int64_t text =
        result.omit_sequence
            ? 0
            : static_cast<int64_t>(tokenizer.Decode(result.response.sequences[i], false).size());
    bytes += 2 * kFieldFraming;
    for (const auto& mask : outputs[i].masks) {
      bytes += 2 * kFieldFraming;
      for (const int32_t id : mask.ids) {
        bytes += kPredictionFixedBytes + static_cast<int64_t>(tokenizer.DecodeToken(id).size());
        if (!result.omit_sequence) {
          const int32_t ids[] = {id};
          bytes +=
              text + kReplacementGrowth * static_cast<int64_t>(tokenizer.Decode(ids, false).size());
        }
      }
    }
  }
  return bytes;
}

}  // namespace securebert::service
