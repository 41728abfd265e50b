// What a handler hands the ModelPipeline, and what comes back.
//
// A ModelRequest is the engine's batching::Request, with its settings filled
// in by the handler (kind, pooling, top_k, deadline, cancel flag) and its
// sequences left to the tokenizer stage, plus what only the service needs:
// the texts, the truncation to tokenize them with, and how to build the
// answer. Plain data.
#ifndef SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_
#define SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_

#include <memory>
#include <string>
#include <vector>

#include "batching/request.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

struct ModelRequest {
  // The request's texts; shared so they outlive the handler's proto.
  std::shared_ptr<const std::vector<std::string>> texts;
  tokenizer::Truncation truncation = tokenizer::Truncation::kNone;  // for the texts
  bool omit_sequence = false;  // PredictMask: candidates without filled-in texts
  batching::Request request;   // sequences and mask_positions filled by tokenizing
};

// What the model produced for a ModelRequest.
struct ModelResult {
  // Outputs and timing, and the token ids the model saw (response.sequences).
  batching::Response response;
  std::vector<bool> truncated;  // whether each text was truncated
  bool omit_sequence = false;   // as the request asked
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_
