#include "model/model_manifest.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tokenizer/json_file.h"

namespace securebert::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Reads a required field; a missing key, a wrong type or an integer field
// that is not an integer T holds (a float, 1e300, 2^40 for int32) throws,
// which LoadManifest turns into a status naming the field.
template <typename T>
T Field(const json& object, const char* key) {
  if (!object.contains(key)) {
    throw std::invalid_argument(absl::StrCat("missing field \"", key, "\""));
  }
  const json& value = object.at(key);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const std::optional<T> number = tokenizer::JsonInteger<T>(value);
    if (!number) {
      throw std::invalid_argument(absl::StrCat("field \"", key, "\" is ", value.dump(),
                                               ", not an integer in ", sizeof(T) * 8,
                                               "-bit range"));
    }
    return *number;
  } else {
    return value.get<T>();
  }
}

void ReadSpecialToken(const json& specials, const char* name, int32_t* id, std::string* token) {
  const json& entry = specials.at(name);
  *id = Field<int32_t>(entry, "id");
  if (token != nullptr) *token = Field<std::string>(entry, "token");
}

void ParseTaskHead(const json& head, TaskHead* out) {
  const auto kind = Field<std::string>(head, "kind");
  if (kind == TaskHeadKindName(TaskHeadKind::kSequenceClassification)) {
    out->kind = TaskHeadKind::kSequenceClassification;
  } else if (kind == TaskHeadKindName(TaskHeadKind::kTokenClassification)) {
    out->kind = TaskHeadKind::kTokenClassification;
  } else {
    throw std::invalid_argument(absl::StrCat("\"task_head\": \"kind\" \"", kind,
                                             "\" is not sequence_classification or "
                                             "token_classification"));
  }
  out->file = Field<std::string>(head, "file");
  out->labels = Field<std::vector<std::string>>(head, "labels");
  const auto num_labels = Field<int64_t>(head, "num_labels");
  if (out->labels.empty() || num_labels != static_cast<int64_t>(out->labels.size())) {
    throw std::invalid_argument(absl::StrCat("\"task_head\": \"num_labels\" ", num_labels,
                                             " must be positive and match the ", out->labels.size(),
                                             " \"labels\""));
  }
  const std::string problem = head.value("problem_type", "single_label_classification");
  if (problem == "multi_label_classification") {
    out->multi_label = true;
  } else if (problem != "single_label_classification") {
    throw std::invalid_argument(absl::StrCat("\"task_head\": \"problem_type\" \"", problem,
                                             "\" is not single_label_classification or "
                                             "multi_label_classification"));
  }
  out->architecture = head.value("architecture", "");
}

void Parse(const json& root, ModelManifest* m) {
  if (Field<std::string>(root, "format") != "securebert-model") {
    throw std::invalid_argument("\"format\" is not \"securebert-model\"");
  }
  if (Field<int>(root, "format_version") != 1) {
    throw std::invalid_argument("unsupported \"format_version\" (this server reads 1)");
  }
  m->model_id = Field<std::string>(root, "model_id");
  m->source = root.value("source", "");
  m->random_weights = root.value("random_weights", false);
  const json& arch = root.at("architecture");
  m->num_layers = Field<int32_t>(arch, "num_layers");
  m->hidden_size = Field<int32_t>(arch, "hidden_size");
  m->num_attention_heads = Field<int32_t>(arch, "num_attention_heads");
  m->vocab_size = Field<int32_t>(arch, "vocab_size");
  m->max_position_embeddings = Field<int32_t>(arch, "max_position_embeddings");
  m->max_input_tokens = Field<int32_t>(root, "max_input_tokens");
  const json& specials = root.at("special_tokens");
  ReadSpecialToken(specials, "bos", &m->bos_id, nullptr);
  ReadSpecialToken(specials, "pad", &m->pad_id, nullptr);
  ReadSpecialToken(specials, "eos", &m->eos_id, nullptr);
  ReadSpecialToken(specials, "unk", &m->unk_id, nullptr);
  ReadSpecialToken(specials, "mask", &m->mask_id, &m->mask_token);
  m->dtype = Field<std::string>(root, "dtype");
  if (m->dtype == kInt8Dynamic) {
    if (!root.contains("quantization")) {
      throw std::invalid_argument(
          absl::StrCat("\"dtype\" ", kInt8Dynamic, " needs a \"quantization\" object"));
    }
    m->quantized_engine = Field<std::string>(root.at("quantization"), "engine");
  } else if (m->dtype != "float32") {
    throw std::invalid_argument(
        absl::StrCat("\"dtype\" \"", m->dtype, "\" is not float32 or ", kInt8Dynamic));
  }
  m->encoder_file = Field<std::string>(root, "encoder");
  // A fine-tuned checkpoint (a task head) may come without the MLM head.
  m->lm_head_file = root.value("lm_head", "");
  if (root.contains("task_head")) ParseTaskHead(root.at("task_head"), &m->task_head);
  if (m->lm_head_file.empty() && m->task_head.kind == TaskHeadKind::kNone) {
    throw std::invalid_argument("the model has neither \"lm_head\" nor \"task_head\"");
  }
  const json& files = root.at("files");
  for (auto it = files.begin(); it != files.end(); ++it) {
    m->files[it.key()] =
        ManifestFile{Field<std::string>(it.value(), "sha256"), Field<int64_t>(it.value(), "bytes")};
  }
}

absl::Status CheckNumbers(const ModelManifest& m) {
  if (m.num_layers <= 0 || m.hidden_size <= 0 || m.vocab_size <= 0 || m.num_attention_heads <= 0 ||
      m.hidden_size % m.num_attention_heads != 0) {
    return absl::InvalidArgumentError(
        "manifest.json: architecture numbers must be positive and hidden_size "
        "divisible by num_attention_heads");
  }
  if (m.max_input_tokens <= 2 || m.max_input_tokens > m.max_position_embeddings - 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest.json: max_input_tokens=", m.max_input_tokens,
                     " must be in 3..max_position_embeddings-2=", m.max_position_embeddings - 2));
  }
  for (int32_t id : {m.bos_id, m.pad_id, m.eos_id, m.unk_id, m.mask_id}) {
    if (id < 0 || id >= m.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("manifest.json: special token id ", id,
                                                     " is outside vocab_size=", m.vocab_size));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFiles(const ModelManifest& m) {
  for (const std::string& name : {m.encoder_file, m.lm_head_file, m.task_head.file}) {
    if (!name.empty() && m.files.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest.json: \"", name, "\" is not listed under \"files\""));
    }
  }
  for (const auto& [name, file] : m.files) {
    const fs::path path = fs::path(m.dir) / name;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("model file ", path.string(), " is missing: ", ec.message()));
    }
    if (static_cast<int64_t>(size) != file.bytes) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model file ", path.string(), " has ", size, " bytes but manifest.json records ",
          file.bytes, " (truncated or replaced copy?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* TaskHeadKindName(TaskHeadKind kind) {
  switch (kind) {
    case TaskHeadKind::kSequenceClassification:
      return "sequence_classification";
    case TaskHeadKind::kTokenClassification:
      return "token_classification";
    case TaskHeadKind::kNone:
      break;
  }
  return "";
}

absl::StatusOr<ModelManifest> LoadManifest(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("model directory ", dir, " does not exist"));
  }
  const fs::path path = fs::path(dir) / "manifest.json";
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path.string(), " is missing; export a model with tools/export_model.py"));
  }
  ModelManifest manifest;
  manifest.dir = dir;
  try {
    Parse(json::parse(in), &manifest);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
  if (absl::Status s = CheckNumbers(manifest); !s.ok()) return s;
  if (absl::Status s = CheckFiles(manifest); !s.ok()) return s;
  return manifest;
}

}  // namespace securebert::model
