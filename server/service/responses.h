// Post-processing: turns what the pipeline produced into the API's response
// messages (proto/securebert/v1/securebert.proto), and estimates how large
// an answer will be before any compute, so that one cheap request cannot
// make the server build gigabytes (request_limits.h: CheckResponseBytes).
// PredictMask candidates are decoded here ("as the model card prints them")
// and each filled sequence is decoded as Hugging Face's fill-mask pipeline
// does (tokenizer::Tokenizer::DecodeFilled, the one decoder of it).
//
// Called on CpuPool threads (ModelPipeline); stateless and thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_RESPONSES_H_
#define SECUREBERT_SERVER_SERVICE_RESPONSES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "securebert/v1/securebert.pb.h"
#include "service/model_request.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

void FillEmbedResponse(const ModelResult& result, v1::EmbedResponse* response);

void FillPredictMaskResponse(const ModelResult& result, const tokenizer::Tokenizer& tokenizer,
                             v1::PredictMaskResponse* response);

// The head's labels, in id order, and whether they are independent
// (sigmoid) rather than exclusive (softmax): what Classify and
// ExtractEntities answers need of the model.
struct HeadLabels {
  std::vector<std::string> names;
  bool multi_label = false;
};

// Per input: the labels best first, result.task.top_k of them (0: all).
void FillClassifyResponse(const ModelResult& result, const HeadLabels& labels,
                          v1::ClassifyResponse* response);

// Per input: the entities in text order, aggregated as result.task asks,
// with byte offsets into the input (result.texts, result.offsets).
void FillExtractEntitiesResponse(const ModelResult& result, const tokenizer::Tokenizer& tokenizer,
                                 const HeadLabels& labels, v1::ExtractEntitiesResponse* response);

void FillTokenizeResponse(const std::vector<tokenizer::Encoding>& encodings,
                          const tokenizer::Tokenizer& tokenizer, v1::TokenizeResponse* response);

void FillTiming(const batching::Timing& timing, v1::Timing* out);

// Serialized bytes of the EmbedResponse for tokenized `request` with vectors
// of `hidden_size`: exact for the values, a small upper bound for the rest.
int64_t EstimateEmbedResponseBytes(const batching::Request& request, int32_t hidden_size);

// Before compute: a lower bound of the serialized PredictMaskResponse for
// tokenized `request` (sequences and mask_positions filled), so that a
// request whose answer is sure to be too large is refused before it runs:
// per candidate its framing and, unless `omit_sequence`, a filled-in copy of
// its input. O(input tokens): each input is decoded once.
int64_t MinPredictMaskResponseBytes(const batching::Request& request, bool omit_sequence,
                                    const tokenizer::Tokenizer& tokenizer);

// After compute, before building: an upper bound of the serialized answer
// for `result`, within a few bytes per candidate of what FillPredictMaskResponse
// builds (within 64 bytes per candidate). O(input tokens + candidates): no
// filled sequence is decoded.
int64_t PredictMaskResponseBytes(const ModelResult& result, const tokenizer::Tokenizer& tokenizer);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_RESPONSES_H_
