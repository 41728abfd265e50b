#include "model/torch_model.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tokenizer/json_file.h"

namespace securebert::model {

struct TorchModel::Modules {
  torch::jit::Module encoder;  // (input_ids, attention_mask) -> [B, T, H]
  torch::jit::Module lm_head;  // [N, H] -> [N, V]; absent without an MLM head
  bool has_lm_head = false;
  // Sequence head: [N, H] (<s> vectors) -> [N, L]; token head: [N, T, H] ->
  // [N, T, L]. Absent without a task head.
  torch::jit::Module task_head;
  bool has_task_head = false;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat;
  bool tied_embedding = false;  // lm_head's decoder uses encoder's embedding
  int64_t weight_bytes = 0;     // distinct parameter storage, both modules
};

namespace {

namespace fs = std::filesystem;

std::string What(const c10::Error& e) { return e.what_without_backtrace(); }

absl::StatusOr<torch::Device> ParseDevice(const std::string& name) {
  if (name != "cpu" && name != "cuda" && name.rfind("cuda:", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown device \"", name, "\"; use cpu, cuda or cuda:N"));
  }
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("unknown device \"", name, "\": ", What(e)));
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          absl::StrCat("device \"", name,
                       "\" requested but CUDA is not available (no GPU, or a "
                       "LibTorch built without CUDA)"));
    }
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (device.has_index() && device.index() >= count) {
      return absl::InvalidArgumentError(
          absl::StrCat("device \"", name, "\" does not exist; ", count, " CUDA device(s) present"));
    }
    if (!device.has_index()) device = torch::Device(torch::kCUDA, 0);
  }
  return device;
}

absl::StatusOr<torch::ScalarType> ParseDtype(const std::string& name, const torch::Device& device) {
  torch::ScalarType type;
  if (name == "float32") {
    type = torch::kFloat;
  } else if (name == "float16") {
    type = torch::kHalf;
  } else if (name == "bfloat16") {
    type = torch::kBFloat16;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dtype \"", name, "\"; use float32, float16 or bfloat16"));
  }
  if (type != torch::kFloat && !device.is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype ", name, " needs a CUDA device; use float32 on cpu"));
  }
  return type;
}

absl::StatusOr<torch::jit::Module> LoadModule(const ModelManifest& m, const std::string& file,
                                              const torch::Device& device,
                                              torch::ScalarType dtype) {
  const std::string path = (fs::path(m.dir) / file).string();
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    if (dtype != torch::kFloat) module.to(dtype);
    return module;
  } catch (const c10::Error& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load TorchScript file ", path, " (corrupt or truncated?): ", What(e)));
  }
}

// Makes `name` (the manifest's engine: "x86", "fbgemm", "onednn", "qnnpack")
// LibTorch's quantized engine for the process. Before the modules load: a
// dynamically quantized Linear packs its weights for the engine set then.
absl::Status UseQuantizedEngine(const std::string& name) {
  std::vector<std::string> supported;
  for (const at::QEngine engine : at::globalContext().supportedQEngines()) {
    if (engine == at::QEngine::NoQEngine) continue;
    const std::string engine_name = absl::AsciiStrToLower(c10::toString(engine));
    if (engine_name == name) {
      at::globalContext().setQEngine(engine);
      return absl::OkStatus();
    }
    supported.push_back(engine_name);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the model was quantized for LibTorch's quantized engine \"", name, "\", which ",
      DescribeTorchRuntime(), " lacks; it has ",
      supported.empty() ? "none" : absl::StrJoin(supported, ", "),
      ": re-export it with tools/export_model.py --quantize int8 --qengine <one of them>"));
}

// The vocabulary file must fit the model's embedding table.
absl::Status CheckVocabulary(const ModelManifest& m) {
  const fs::path path = fs::path(m.dir) / "vocab.json";
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), " is missing"));
  int64_t max_id = -1;
  try {
    const nlohmann::json vocab = nlohmann::json::parse(in);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      const std::optional<int64_t> id = tokenizer::JsonInteger<int64_t>(it.value());
      if (!id) {
        return absl::InvalidArgumentError(absl::StrCat(path.string(), ": the id of \"", it.key(),
                                                       "\" is ", it.value().dump(),
                                                       ", not an integer"));
      }
      max_id = std::max(max_id, *id);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
  if (max_id >= m.vocab_size) {
    return absl::FailedPreconditionError(
        absl::StrCat("vocabulary size mismatch: ", path.string(), " has id ", max_id,
                     " but the model's vocab_size is ", m.vocab_size));
  }
  return absl::OkStatus();
}

// The task head's logits for one probe row of `hidden` ([1, 3, H]).
torch::Tensor ProbeTaskHead(const ModelManifest& m, torch::jit::Module& head,
                            const torch::Tensor& hidden) {
  if (m.task_head.kind == TaskHeadKind::kSequenceClassification) {
    return head.forward({hidden.select(1, 0)}).toTensor();  // [1, L]
  }
  return head.forward({hidden}).toTensor().select(0, 0);  // [3, L]
}

// Runs the modules once on <s> <mask> </s> and checks what they return
// against the manifest. `lm_head` and `task_head` are null when absent.
absl::Status Probe(const ModelManifest& m, torch::jit::Module& encoder, torch::jit::Module* lm_head,
                   torch::jit::Module* task_head, const torch::Device& device) {
  c10::InferenceMode guard;
  try {
    torch::Tensor ids =
        torch::tensor({int64_t{m.bos_id}, int64_t{m.mask_id}, int64_t{m.eos_id}}, torch::kLong)
            .view({1, 3})
            .to(device);
    torch::Tensor mask = torch::ones({1, 3}, torch::kLong).to(device);
    torch::Tensor hidden = encoder.forward({ids, mask}).toTensor();
    if (hidden.dim() != 3 || hidden.size(0) != 1 || hidden.size(1) != 3 ||
        hidden.size(2) != m.hidden_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "manifest/module mismatch: ", m.encoder_file, " returned shape ",
          c10::str(hidden.sizes()), " for 1x3 input; manifest says hidden_size=", m.hidden_size));
    }
    if (lm_head != nullptr) {
      torch::Tensor logits = lm_head->forward({hidden.select(0, 0)}).toTensor();
      if (logits.dim() != 2 || logits.size(1) != m.vocab_size) {
        return absl::FailedPreconditionError(absl::StrCat(
            "vocabulary size mismatch: ", m.lm_head_file, " returns ", c10::str(logits.sizes()),
            " logits; manifest says vocab_size=", m.vocab_size));
      }
    }
    if (task_head != nullptr) {
      const int64_t labels = static_cast<int64_t>(m.task_head.labels.size());
      const int64_t rows = m.task_head.kind == TaskHeadKind::kSequenceClassification ? 1 : 3;
      torch::Tensor logits = ProbeTaskHead(m, *task_head, hidden);
      if (logits.dim() != 2 || logits.size(0) != rows || logits.size(1) != labels) {
        return absl::FailedPreconditionError(
            absl::StrCat("manifest/module mismatch: ", m.task_head.file, " (",
                         TaskHeadKindName(m.task_head.kind), ") returns ", c10::str(logits.sizes()),
                         " logits for ", rows, " row(s); manifest says ", labels, " labels"));
      }
    }
  } catch (const c10::Error& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("manifest/module mismatch: probing ", m.dir, " failed: ", What(e)));
  }
  return absl::OkStatus();
}

// The LM head's decoder weight is the word-embedding matrix (tied, as in
// Hugging Face's RobertaForMaskedLM), but each TorchScript file stores its own
// copy: 50,265 x 768 floats = 154 MB twice. When the two are equal, point the
// LM head at the encoder's tensor and drop its copy. Returns whether it did.
bool ShareTiedEmbedding(torch::jit::Module& encoder, torch::jit::Module& lm_head) {
  constexpr const char* kEmbedding = "embeddings.word_embeddings.weight";
  constexpr const char* kDecoder = "decoder.weight";
  std::optional<torch::Tensor> embedding, decoder;
  for (const auto& p : encoder.named_parameters()) {
    if (p.name == kEmbedding) embedding = p.value;
  }
  for (const auto& p : lm_head.named_parameters()) {
    if (p.name == kDecoder) decoder = p.value;
  }
  if (!embedding || !decoder || !embedding->sizes().equals(decoder->sizes()) ||
      embedding->scalar_type() != decoder->scalar_type() ||
      embedding->device() != decoder->device() || !torch::equal(*embedding, *decoder)) {
    return false;
  }
  lm_head.attr("decoder").toModule().register_parameter("weight", *embedding,
                                                        /*is_buffer=*/false);
  return true;
}

// Bytes of the distinct tensors behind the modules' parameters.
int64_t DistinctWeightBytes(const std::vector<const torch::jit::Module*>& modules) {
  std::set<const void*> seen;
  int64_t bytes = 0;
  for (const torch::jit::Module* module : modules) {
    for (const auto& p : module->named_parameters()) {
      const void* storage = p.value.storage().data();
      if (seen.insert(storage).second) bytes += static_cast<int64_t>(p.value.storage().nbytes());
    }
  }
  return bytes;
}

// Wraps a host vector as a [rows, cols] tensor on `device`. On CUDA the data
// is staged in pinned memory and copied without blocking the host.
torch::Tensor ToDevice(const std::vector<int64_t>& data, int64_t rows, int64_t cols,
                       const torch::Device& device) {
  torch::Tensor host =
      torch::from_blob(const_cast<int64_t*>(data.data()), {rows, cols}, torch::kLong);
  if (device.is_cpu()) return host;
  torch::Tensor pinned =
      torch::empty({rows, cols}, torch::TensorOptions().dtype(torch::kLong).pinned_memory(true));
  std::memcpy(pinned.data_ptr<int64_t>(), data.data(), data.size() * sizeof(int64_t));
  return pinned.to(device, /*non_blocking=*/true);
}

// One engine worker's handle on shared weights.
class TorchModelInstance : public batching::Model {
 public:
  TorchModelInstance(std::shared_ptr<TorchModel> model, int32_t intra_op_threads)
      : model_(std::move(model)), intra_op_threads_(intra_op_threads) {}
  const batching::ModelSpec& spec() const override { return model_->spec(); }
  void BindToCurrentThread() override { UseThreads(intra_op_threads_); }
  absl::StatusOr<batching::ModelOutput> Forward(const batching::ModelInput& input) override {
    // Lent cores (ModelInput::core_slots) widen this forward; the count is
    // per thread, so other instances' forwards keep theirs.
    UseThreads(intra_op_threads_ * std::max(1, input.core_slots));
    return model_->Forward(input);
  }

 private:
  void UseThreads(int32_t threads) {
    if (threads == current_threads_) return;
    SetThreadIntraOpThreads(threads);
    current_threads_ = threads;
  }

  const std::shared_ptr<TorchModel> model_;
  const int32_t intra_op_threads_;
  int32_t current_threads_ = 0;  // used only on the driving thread
};

absl::Status CheckInput(const batching::ModelInput& in, const batching::ModelSpec& spec) {
  const size_t cells = static_cast<size_t>(in.batch_size) * static_cast<size_t>(in.seq_len);
  if (in.batch_size <= 0 || in.seq_len <= 0 || in.seq_len > spec.max_input_tokens ||
      in.input_ids.size() != cells || in.attention_mask.size() != cells ||
      in.row_outputs.size() != static_cast<size_t>(in.batch_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed batch: ", in.batch_size, "x", in.seq_len, " with ",
                     in.input_ids.size(), " ids, ", in.attention_mask.size(), " mask cells and ",
                     in.row_outputs.size(), " row outputs"));
  }
  if (!in.lm_rows.empty() && !spec.has_lm_head) {
    return absl::FailedPreconditionError("this model has no MLM head: it cannot predict <mask>");
  }
  for (const batching::RowOutput output : in.row_outputs) {
    const bool sequence = output == batching::RowOutput::kSequenceLogits;
    const bool token = output == batching::RowOutput::kTokenLogits;
    if ((sequence && spec.task_head != batching::TaskHead::kSequenceClassification) ||
        (token && spec.task_head != batching::TaskHead::kTokenClassification)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "this model has no ", sequence ? "sequence" : "token", "-classification head"));
    }
  }
  for (const batching::LmRow& r : in.lm_rows) {
    if (r.row < 0 || r.row >= in.batch_size || r.position < 0 || r.position >= in.seq_len) {
      return absl::InvalidArgumentError(
          absl::StrCat("LM row (", r.row, ", ", r.position, ") is outside the batch"));
    }
  }
  if (!in.lm_rows.empty() && (in.top_k <= 0 || in.top_k > spec.vocab_size)) {
    return absl::InvalidArgumentError(absl::StrCat("top_k=", in.top_k, " is out of range"));
  }
  return absl::OkStatus();
}

// Row indices (into the batch) of the rows asking for `kind`.
std::vector<int64_t> RowsAsking(const batching::ModelInput& in, batching::RowOutput kind) {
  std::vector<int64_t> rows;
  for (int32_t row = 0; row < in.batch_size; ++row) {
    if (in.row_outputs[row] == kind) rows.push_back(row);
  }
  return rows;
}

// Copies host [rows.size(), width] float rows of `values` into out->embeddings.
void StoreRows(const torch::Tensor& values, const std::vector<int64_t>& rows,
               batching::ModelOutput* out) {
  const torch::Tensor host = values.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t width = host.numel() / std::max<int64_t>(1, host.size(0));
  const float* data = host.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) {
    out->embeddings[rows[i]].assign(data + i * width, data + (i + 1) * width);
  }
}

// Copies the real tokens' rows of `values` ([rows.size(), seq_len, width])
// into out->embeddings: num_tokens x width floats per row. Rows are padded on
// the right, so a row's real tokens are its first ones.
void StoreTokenRows(const batching::ModelInput& in, const torch::Tensor& values,
                    const std::vector<int64_t>& rows, batching::ModelOutput* out) {
  const torch::Tensor host = values.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t width = host.size(2);
  const int64_t block = in.seq_len * width;
  const float* data = host.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto mask_row = in.attention_mask.begin() + rows[i] * in.seq_len;
    const int64_t tokens =
        std::count_if(mask_row, mask_row + in.seq_len, [](int64_t m) { return m != 0; });
    const float* begin = data + static_cast<int64_t>(i) * block;
    out->embeddings[rows[i]].assign(begin, begin + tokens * width);
  }
}

// Pools on the device what each row asks for (ModelInput::row_outputs) and
// copies only that to the host: a CLS or mean row moves one vector, not its
// whole [seq_len, hidden] block; a classification row moves its logits.
// `task_head` is null for a model without one.
void CollectEmbeddings(const batching::ModelInput& in, const torch::Tensor& hidden,
                       const torch::Tensor& mask, const torch::Device& device,
                       torch::jit::Module* task_head, batching::ModelOutput* out) {
  out->embeddings.assign(in.batch_size, {});
  auto index_of = [&device](const std::vector<int64_t>& rows) {
    return ToDevice(rows, static_cast<int64_t>(rows.size()), 1, device).view(-1);
  };
  if (const auto rows = RowsAsking(in, batching::RowOutput::kCls); !rows.empty()) {
    StoreRows(hidden.index_select(0, index_of(rows)).select(1, 0), rows, out);
  }
  if (const auto rows = RowsAsking(in, batching::RowOutput::kMean); !rows.empty()) {
    const torch::Tensor index = index_of(rows);
    const torch::Tensor weights = mask.index_select(0, index).unsqueeze(-1).to(torch::kFloat);
    const torch::Tensor sums = (hidden.index_select(0, index).to(torch::kFloat) * weights).sum(1);
    StoreRows(sums / weights.sum(1), rows, out);
  }
  if (const auto rows = RowsAsking(in, batching::RowOutput::kTokens); !rows.empty()) {
    StoreTokenRows(in, hidden.index_select(0, index_of(rows)), rows, out);
  }
  if (task_head == nullptr) return;
  if (const auto rows = RowsAsking(in, batching::RowOutput::kSequenceLogits); !rows.empty()) {
    const torch::Tensor cls = hidden.index_select(0, index_of(rows)).select(1, 0);
    StoreRows(task_head->forward({cls}).toTensor(), rows, out);
  }
  if (const auto rows = RowsAsking(in, batching::RowOutput::kTokenLogits); !rows.empty()) {
    const torch::Tensor selected = hidden.index_select(0, index_of(rows));
    StoreTokenRows(in, task_head->forward({selected}).toTensor(), rows, out);
  }
}

}  // namespace

absl::Status ValidateTorchModelOptions(const TorchModelOptions& options) {
  if (options.device != "cpu" && options.device != "cuda" &&
      options.device.rfind("cuda:", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown device \"", options.device, "\"; use cpu, cuda or cuda:N"));
  }
  const bool cuda = options.device != "cpu";
  if (options.dtype != "float32" && options.dtype != "float16" && options.dtype != "bfloat16") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dtype \"", options.dtype, "\"; use float32, float16 or bfloat16"));
  }
  if (options.dtype != "float32" && !cuda) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtype ", options.dtype, " needs a CUDA device; use float32 on cpu"));
  }
  return absl::OkStatus();
}

absl::Status CheckModelFitsOptions(const ModelManifest& manifest,
                                   const TorchModelOptions& options) {
  if (manifest.dtype != kInt8Dynamic) return absl::OkStatus();
  if (options.device != "cpu") {
    return absl::InvalidArgumentError(absl::StrCat(
        "model ", manifest.dir, " is ", kInt8Dynamic,
        ", which runs on the CPU only: serve it with --device cpu, or export it without "
        "--quantize for --device ",
        options.device));
  }
  if (options.dtype != "float32") {
    return absl::InvalidArgumentError(absl::StrCat("model ", manifest.dir, " is ", kInt8Dynamic,
                                                   " (float32 activations): --dtype ",
                                                   options.dtype, " does not apply"));
  }
  return absl::OkStatus();
}

std::string DescribeTorchRuntime() {
  std::vector<std::string> libraries;
  if (at::hasMKL()) libraries.push_back("MKL");
  if (at::hasMKLDNN()) libraries.push_back("oneDNN");
  // The CUDA backend is there when libtorch_cuda was loaded (whether or not a
  // GPU is): its hooks replace the CPU-only stub's.
  const at::CUDAHooksInterface& cuda = at::detail::getCUDAHooks();
  if (cuda.hasCUDART()) {
    const long version = cuda.versionCUDART();
    libraries.push_back(absl::StrCat("CUDA runtime ", version / 1000, ".", version % 1000 / 10));
  }
  return absl::StrCat(
      "LibTorch ", TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH, " (",
      libraries.empty() ? "no MKL, no oneDNN" : absl::StrJoin(libraries, ", "), ")");
}

void SetThreadIntraOpThreads(int32_t threads) {
  // LibTorch sets a thread's count from the process-wide one on the thread's
  // first parallel region; do that first so it cannot undo this setting.
  at::internal::lazy_init_num_threads();
  at::set_num_threads(std::max(1, threads));
}

TorchModel::TorchModel(ModelManifest manifest, batching::ModelSpec spec,
                       std::unique_ptr<Modules> modules)
    : manifest_(std::move(manifest)), spec_(std::move(spec)), modules_(std::move(modules)) {}

TorchModel::~TorchModel() = default;

absl::StatusOr<std::shared_ptr<TorchModel>> TorchModel::Load(const std::string& dir,
                                                             const TorchModelOptions& options) {
  if (absl::Status s = ValidateTorchModelOptions(options); !s.ok()) return s;
  absl::StatusOr<ModelManifest> manifest = LoadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  // Before the device is looked for: an int8 model never runs on CUDA, there
  // or not.
  if (absl::Status s = CheckModelFitsOptions(*manifest, options); !s.ok()) return s;
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  absl::StatusOr<torch::ScalarType> dtype = ParseDtype(options.dtype, *device);
  if (!dtype.ok()) return dtype.status();
  if (absl::Status s = CheckVocabulary(*manifest); !s.ok()) return s;
  if (manifest->dtype == kInt8Dynamic) {
    if (absl::Status s = UseQuantizedEngine(manifest->quantized_engine); !s.ok()) return s;
  }

  auto modules = std::make_unique<Modules>();
  modules->device = *device;
  modules->dtype = *dtype;
  absl::StatusOr<torch::jit::Module> encoder =
      LoadModule(*manifest, manifest->encoder_file, *device, *dtype);
  if (!encoder.ok()) return encoder.status();
  modules->encoder = *std::move(encoder);
  std::vector<const torch::jit::Module*> loaded = {&modules->encoder};
  if (!manifest->lm_head_file.empty()) {
    absl::StatusOr<torch::jit::Module> lm_head =
        LoadModule(*manifest, manifest->lm_head_file, *device, *dtype);
    if (!lm_head.ok()) return lm_head.status();
    modules->lm_head = *std::move(lm_head);
    modules->has_lm_head = true;
    modules->tied_embedding = ShareTiedEmbedding(modules->encoder, modules->lm_head);
    loaded.push_back(&modules->lm_head);
  }
  if (manifest->task_head.kind != TaskHeadKind::kNone) {
    absl::StatusOr<torch::jit::Module> head =
        LoadModule(*manifest, manifest->task_head.file, *device, *dtype);
    if (!head.ok()) return head.status();
    modules->task_head = *std::move(head);
    modules->has_task_head = true;
    loaded.push_back(&modules->task_head);
  }
  modules->weight_bytes = DistinctWeightBytes(loaded);
  if (absl::Status s =
          Probe(*manifest, modules->encoder, modules->has_lm_head ? &modules->lm_head : nullptr,
                modules->has_task_head ? &modules->task_head : nullptr, modules->device);
      !s.ok()) {
    return s;
  }

  batching::ModelSpec spec;
  spec.model_id = manifest->model_id;
  spec.hidden_size = manifest->hidden_size;
  spec.num_layers = manifest->num_layers;
  spec.vocab_size = manifest->vocab_size;
  spec.max_input_tokens = manifest->max_input_tokens;
  spec.pad_id = manifest->pad_id;
  spec.device = modules->device.str();
  // An int8 model computes in float32 between its int8 matrix products.
  spec.dtype = manifest->dtype == kInt8Dynamic ? manifest->dtype : options.dtype;
  spec.has_lm_head = modules->has_lm_head;
  switch (manifest->task_head.kind) {
    case TaskHeadKind::kSequenceClassification:
      spec.task_head = batching::TaskHead::kSequenceClassification;
      break;
    case TaskHeadKind::kTokenClassification:
      spec.task_head = batching::TaskHead::kTokenClassification;
      break;
    case TaskHeadKind::kNone:
      break;
  }
  spec.num_labels = static_cast<int32_t>(manifest->task_head.labels.size());
  return std::shared_ptr<TorchModel>(
      new TorchModel(*std::move(manifest), std::move(spec), std::move(modules)));
}

int64_t TorchModel::weight_bytes() const { return modules_->weight_bytes; }

bool TorchModel::shares_tied_embedding() const { return modules_->tied_embedding; }

std::unique_ptr<batching::Model> TorchModel::NewInstance(int32_t intra_op_threads) {
  return std::make_unique<TorchModelInstance>(shared_from_this(), intra_op_threads);
}

absl::StatusOr<batching::ModelOutput> TorchModel::Forward(const batching::ModelInput& in) const {
  if (absl::Status s = CheckInput(in, spec_); !s.ok()) return s;
  const int64_t rows = in.batch_size, cols = in.seq_len, hidden_size = spec_.hidden_size;
  batching::ModelOutput out;
  try {
    c10::InferenceMode guard;
    const torch::Device& device = modules_->device;
    torch::Tensor ids = ToDevice(in.input_ids, rows, cols, device);
    torch::Tensor mask = ToDevice(in.attention_mask, rows, cols, device);
    torch::Tensor hidden = modules_->encoder.forward({ids, mask}).toTensor();
    CollectEmbeddings(in, hidden, mask, device,
                      modules_->has_task_head ? &modules_->task_head : nullptr, &out);
    if (!in.lm_rows.empty()) {
      std::vector<int64_t> flat;
      flat.reserve(in.lm_rows.size());
      for (const batching::LmRow& r : in.lm_rows) flat.push_back(r.row * cols + r.position);
      torch::Tensor index = ToDevice(flat, static_cast<int64_t>(flat.size()), 1, device).view(-1);
      torch::Tensor selected = hidden.reshape({rows * cols, hidden_size}).index_select(0, index);
      torch::Tensor logits = modules_->lm_head.forward({selected}).toTensor().to(torch::kFloat);
      auto [scores, top] = torch::softmax(logits, -1).topk(in.top_k, -1);
      scores = scores.to(torch::kCPU).contiguous();
      top = top.to(torch::kCPU, torch::kInt).contiguous();
      out.topk_scores.assign(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
      out.topk_ids.assign(top.data_ptr<int32_t>(), top.data_ptr<int32_t>() + top.numel());
    }
  } catch (const c10::OutOfMemoryError& e) {
    // The engine splits the batch and retries its halves (batching/batch_worker.h).
    return absl::ResourceExhaustedError(
        absl::StrCat("out of device memory on a ", rows, "x", cols, " batch: ", What(e)));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("model forward failed on a ", rows, "x", cols, " batch: ", What(e)));
  }
  return out;
}

}  // namespace securebert::model
