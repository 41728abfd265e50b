// Post-processing: turns what the pipeline produced into the API's response
// messages (proto/securebert/v1/securebert.proto). PredictMask candidates are
// decoded here ("as the model card prints them") and the filled sequence is
// built per candidate.
//
// Called from the callback that finishes a call; stateless and thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_RESPONSES_H_
#define SECUREBERT_SERVER_SERVICE_RESPONSES_H_

#include <vector>

#include "securebert/v1/securebert.pb.h"
#include "service/model_pipeline.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

void FillEmbedResponse(const ModelCallResult& result, v1::EmbedResponse* response);

void FillPredictMaskResponse(const ModelCallResult& result, const tokenizer::Tokenizer& tokenizer,
                             v1::PredictMaskResponse* response);

void FillTokenizeResponse(const std::vector<tokenizer::Encoding>& encodings,
                          const tokenizer::Tokenizer& tokenizer, v1::TokenizeResponse* response);

void FillTiming(const batching::Timing& timing, v1::Timing* out);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_RESPONSES_H_
