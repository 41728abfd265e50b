// TorchModel: a SecureBERT model directory loaded with LibTorch.
//
// Loads the TorchScript encoder (input_ids, attention_mask -> last_hidden_state)
// and LM head (hidden rows -> vocabulary logits) exported by
// tools/export_model.py, validates them against manifest.json, and runs
// padded batches for the batching engine. The LM head runs only on the rows
// the batch asks for (the <mask> positions), never on every position.
//
// Torch stays behind this header: it declares no torch types, so the rest of
// the server compiles without LibTorch's headers. Every c10::Error is caught
// inside model/ and returned as an absl::Status with context.
//
// Ownership and thread safety: TorchModel holds the weights, once. Each
// engine worker drives its own instance (NewInstance), and instances share
// the weights; Forward is safe to call from several threads at once (the
// TorchScript modules are only read).
#ifndef SECUREBERT_SERVER_MODEL_TORCH_MODEL_H_
#define SECUREBERT_SERVER_MODEL_TORCH_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "batching/model.h"
#include "model/model_manifest.h"

namespace securebert::model {

struct TorchModelOptions {
  // "cpu", "cuda" or "cuda:N".
  std::string device = "cpu";
  // "float32"; "float16" or "bfloat16" on CUDA only.
  std::string dtype = "float32";
};

class TorchModel : public std::enable_shared_from_this<TorchModel> {
 public:
  // Loads DIR. Errors (with the path and the reason): NotFound for a missing
  // directory or file; InvalidArgument for a bad manifest, an unknown device
  // or dtype; FailedPrecondition for CUDA requested where absent, a
  // corrupt/truncated TorchScript file, or a module or vocabulary that does
  // not match the manifest.
  static absl::StatusOr<std::shared_ptr<TorchModel>> Load(const std::string& dir,
                                                          const TorchModelOptions& options);
  ~TorchModel();
  TorchModel(const TorchModel&) = delete;
  TorchModel& operator=(const TorchModel&) = delete;

  const ModelManifest& manifest() const { return manifest_; }
  const batching::ModelSpec& spec() const { return spec_; }

  // Bytes of the weights held, each tensor counted once (the tied word
  // embedding is held once when shared).
  int64_t weight_bytes() const;
  // Whether the LM head's decoder weight was found equal to the encoder's
  // word embedding and now shares it instead of holding a copy.
  bool shares_tied_embedding() const;

  // A model instance for one engine worker, sharing these weights; its
  // worker runs with `intra_op_threads` LibTorch threads (>= 1).
  std::unique_ptr<batching::Model> NewInstance(int32_t intra_op_threads);

  // Runs one padded batch (see batching::Model::Forward). Thread-safe.
  absl::StatusOr<batching::ModelOutput> Forward(const batching::ModelInput& input) const;

 private:
  struct Modules;  // the TorchScript modules and device, defined in the .cc
  TorchModel(ModelManifest manifest, batching::ModelSpec spec, std::unique_ptr<Modules> modules);

  // Constant after construction.
  const ModelManifest manifest_;
  const batching::ModelSpec spec_;
  const std::unique_ptr<Modules> modules_;
};

// INVALID_ARGUMENT for options no model can run with: an unknown device or
// dtype, or a half-precision dtype on the CPU. (Whether the device exists is
// Load's to say.)
absl::Status ValidateTorchModelOptions(const TorchModelOptions& options);

// INVALID_ARGUMENT when `options` cannot run the model `manifest` describes:
// an int8-dynamic model on a CUDA device or in another dtype than float32
// (LibTorch's dynamically quantized kernels are CPU ones). Load checks it;
// the server checks it first to exit 2, as for a bad flag.
absl::Status CheckModelFitsOptions(const ModelManifest& manifest, const TorchModelOptions& options);

// Sets the calling thread's LibTorch intra-op thread count (OpenMP and BLAS
// follow it). Used by engine workers and benchmarks.
void SetThreadIntraOpThreads(int32_t threads);

// The LibTorch this process runs and its CPU math libraries, for the
// start-up log: e.g. "LibTorch 2.15.0 (MKL, oneDNN)".
std::string DescribeTorchRuntime();

}  // namespace securebert::model

#endif  // SECUREBERT_SERVER_MODEL_TORCH_MODEL_H_
