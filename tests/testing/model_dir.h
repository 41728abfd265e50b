// Test helpers for exported model directories: where the tiny test model is,
// and editable copies of it for error-path tests. Header-only; tests only.
#ifndef SECUREBERT_TESTS_TESTING_MODEL_DIR_H_
#define SECUREBERT_TESTS_TESTING_MODEL_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace securebert::testing {

// The tiny random-weight model exported by the ctest fixture `tiny_model`.
inline std::string TinyModelDir() {
  const char* dir = std::getenv("SECUREBERT_TEST_MODEL_DIR");
  return dir != nullptr ? dir : "";
}

// Its int8 twin, exported beside it by the same fixture: the same weights,
// the encoder's Linear layers dynamically quantized.
inline std::string TinyInt8ModelDir() {
  return TinyModelDir().empty() ? "" : TinyModelDir() + "-int8";
}

// Fine-tuned twins exported beside it by the same fixture (random weights,
// seed 0), with a task head and no MLM head: a token
// classifier of 40 BIO labels ("O", "B-ENT1", "I-ENT1", ...; SecureBERT-NER's
// shape) and a sequence classifier of 4 labels ("LABEL_0".."LABEL_3").
inline std::string TinyTokenModelDir() {
  return TinyModelDir().empty() ? "" : TinyModelDir() + "-token";
}
inline std::string TinySequenceModelDir() {
  return TinyModelDir().empty() ? "" : TinyModelDir() + "-sequence";
}

inline nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline void WriteJson(const std::string& path, const nlohmann::json& value) {
  std::ofstream(path) << value.dump(1);
}

// A fresh copy of the tiny model (or of the model directory `from`) in the
// test's temporary directory, named `name`; `edit_manifest` may change the
// copy's manifest.
inline std::string CopyTinyModel(
    const std::string& name, const std::function<void(nlohmann::json&)>& edit_manifest = nullptr,
    const std::string& from = TinyModelDir()) {
  namespace fs = std::filesystem;
  const fs::path dst = fs::path(::testing::TempDir()) / ("securebert_" + name);
  fs::remove_all(dst);
  fs::copy(from, dst, fs::copy_options::recursive);
  if (edit_manifest) {
    const std::string manifest = (dst / "manifest.json").string();
    nlohmann::json m = ReadJson(manifest);
    edit_manifest(m);
    WriteJson(manifest, m);
  }
  return dst.string();
}

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_TESTING_MODEL_DIR_H_
