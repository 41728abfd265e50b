// The manifest of an exported model directory (manifest.json, written by
// tools/export_model.py): architecture numbers, special-token ids, limits and
// the files the directory must hold.
//
// Used by TorchModel at load time to validate the TorchScript modules, and by
// main.cc to describe the model. No torch here.
//
// Thread safety: a ModelManifest is an immutable value after LoadManifest.
#ifndef SECUREBERT_SERVER_MODEL_MODEL_MANIFEST_H_
#define SECUREBERT_SERVER_MODEL_MODEL_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace securebert::model {

// The dtype of a model whose encoder Linear layers are dynamically quantized
// to int8 (tools/quantize.py): CPU only, float32 activations.
inline constexpr char kInt8Dynamic[] = "int8-dynamic";

// A fine-tuned task head beside the encoder ("task_head" in the manifest).
enum class TaskHeadKind {
  kNone,                    // no task head
  kSequenceClassification,  // <s> vector -> dense -> tanh -> out_proj: [num_labels]
  kTokenClassification,     // every token's vector -> Linear: [num_labels] per token
};

struct TaskHead {
  TaskHeadKind kind = TaskHeadKind::kNone;
  std::string file;                 // TorchScript head, relative to dir
  std::vector<std::string> labels;  // names in id order (the checkpoint's id2label)
  bool multi_label = false;         // problem_type multi_label_classification
  std::string architecture;         // e.g. "RobertaForTokenClassification", for humans
};

// "sequence_classification", "token_classification", or "" for kNone.
const char* TaskHeadKindName(TaskHeadKind kind);

// One file of the model directory, as the manifest records it.
struct ManifestFile {
  std::string sha256;  // hex digest recorded by the exporter
  int64_t bytes = 0;   // size recorded by the exporter
};

struct ModelManifest {
  std::string dir;              // the model directory it was read from
  std::string model_id;         // e.g. "ehsanaghaei/SecureBERT", "random-init/base"
  std::string source;           // where the weights came from, for humans
  bool random_weights = false;  // true for random-init demo/test models
  int32_t num_layers = 0;
  int32_t hidden_size = 0;
  int32_t num_attention_heads = 0;
  int32_t vocab_size = 0;
  int32_t max_position_embeddings = 0;
  int32_t max_input_tokens = 0;               // max_position_embeddings - 2
  int32_t bos_id = 0;                         // <s>
  int32_t pad_id = 1;                         // <pad>
  int32_t eos_id = 2;                         // </s>
  int32_t unk_id = 3;                         // <unk>
  int32_t mask_id = 0;                        // <mask>
  std::string mask_token;                     // "<mask>"
  std::string dtype;                          // "float32" or kInt8Dynamic
  std::string quantized_engine;               // int8: LibTorch's engine, e.g. "x86"
  std::string encoder_file;                   // TorchScript encoder, relative to dir
  std::string lm_head_file;                   // TorchScript LM head, relative to dir;
                                              // empty when the model has none
  TaskHead task_head;                         // kind kNone when the model has none
  std::map<std::string, ManifestFile> files;  // every file but the manifest
};

// Reads and validates DIR/manifest.json: required fields present and sane,
// every listed file present with the recorded size (a truncated copy is
// caught here, before LibTorch reads it). NotFound for a missing directory or
// manifest, InvalidArgument (FailedPrecondition for size mismatches) with the
// file and field named otherwise.
absl::StatusOr<ModelManifest> LoadManifest(const std::string& dir);

}  // namespace securebert::model

#endif  // SECUREBERT_SERVER_MODEL_MODEL_MANIFEST_H_
