// What a handler hands the ModelPipeline, and what comes back.
//
// A ModelRequest is the engine's batching::Request, with its settings filled
// in by the handler (kind, pooling, top_k, deadline, cancel flag) and its
// sequences left to the tokenizer stage, plus what only the service needs:
// the texts, the truncation to tokenize them with, and how to build the
// answer. Plain data.
#ifndef SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_
#define SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "batching/request.h"
#include "service/task_outputs.h"
#include "service/windows.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

// How a task head's logits become the answer (Classify, ExtractEntities).
struct TaskSettings {
  int32_t top_k = 0;                             // Classify: labels per input; 0: all
  Aggregation aggregation = Aggregation::kNone;  // ExtractEntities
  float threshold = 0.0f;                        // ExtractEntities: lowest score kept
};

// What happens to an input longer than the model's limit (the API's
// Truncation): refused, cut, or run as windows (service/windows.h).
enum class InputTruncation { kNone, kRight, kLeft, kWindow };

// A windowed input as the engine ran it: its windows are request sequences
// first .. first + windows.size() - 1.
struct InputWindows {
  int32_t first = 0;
  std::vector<Window> windows;  // how its content tokens were cut
};

struct ModelRequest {
  // The request's texts; shared so they outlive the handler's proto.
  std::shared_ptr<const std::vector<std::string>> texts;
  InputTruncation truncation = InputTruncation::kNone;  // for the texts
  bool omit_sequence = false;  // PredictMask: candidates without filled-in texts
  TaskSettings task;           // Classify, ExtractEntities
  batching::Request request;   // sequences and mask_positions filled by tokenizing
};

// What the model produced for a ModelRequest.
struct ModelResult {
  // Outputs and timing, and the token ids the model saw (response.sequences).
  batching::Response response;
  std::vector<bool> truncated;  // whether each text was truncated
  bool omit_sequence = false;   // as the request asked
  TaskSettings task;            // as the request asked
  batching::Request::Kind kind = batching::Request::Kind::kEmbed;  // what was computed
  // ExtractEntities: the texts, and each token's byte range in its text
  // (tokenizer::Encoding::offsets); empty for other requests.
  std::shared_ptr<const std::vector<std::string>> texts;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> offsets;
  // TRUNCATION_WINDOW: per input, the windows it took (empty otherwise).
  std::vector<uint32_t> window_counts;
  // Windowed runs, until their outputs are merged back into one per input
  // (ModelPipeline): how each input was cut, its whole token ids, and what
  // an Embed request asked for (the engine ran its windows unpooled or
  // CLS-pooled, unnormalized).
  std::vector<InputWindows> windows;
  std::vector<std::vector<int32_t>> documents;
  batching::Pooling pooling = batching::Pooling::kNone;
  bool normalize = false;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_MODEL_REQUEST_H_
