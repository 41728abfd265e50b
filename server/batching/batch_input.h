// Turns a cut batch into the padded ModelInput a Model runs, and remembers
// where each row's LM-head results will land.
//
// Called by BatchWorker on its own thread; also builds the synthetic inputs
// of warm-up. Pure functions over their arguments.
#ifndef SECUREBERT_SERVER_BATCHING_BATCH_INPUT_H_
#define SECUREBERT_SERVER_BATCHING_BATCH_INPUT_H_

#include <cstdint>
#include <vector>

#include "batching/engine_options.h"
#include "batching/model.h"
#include "batching/queue_entry.h"

namespace securebert::batching {

struct BatchInput {
  ModelInput model_input;  // what the model runs
  // Per row: index of its first LmRow in model_input.lm_rows (its masks
  // follow in order); -1 for Embed rows.
  std::vector<int32_t> first_lm_row;
  int64_t real_tokens = 0;  // tokens of the rows, padding excluded
};

// What an Embed row with `pooling` asks of the model.
RowOutput EmbeddingOutput(Pooling pooling);

// Pads `batch`'s rows to its longest with spec.pad_id; asks each Embed row's
// pooled (or per-token) vectors, and LM-head top-k (the largest any
// PredictMask row wants, at most the vocabulary) at every <mask> position.
BatchInput BuildBatchInput(const Batch& batch, const ModelSpec& spec);

// A full batch of the given shape for warm-up: every row seq_len long, the
// rows asking for each RowOutput in turn, and one LM-head row per batch row.
ModelInput BuildWarmupInput(const WarmupShape& shape, const ModelSpec& spec);

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_BATCH_INPUT_H_
