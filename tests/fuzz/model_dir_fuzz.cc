// libFuzzer target for loading a model directory: the bytes become the text
// files of a model directory (manifest.json, tokenizer_config.json,
// special_tokens_map.json, vocab.json, merges.txt, and sometimes
// tokenizer.json) beside the tiny model's real TorchScript files, and the
// server's loaders read it: the manifest (LoadManifest, then TorchModel::Load
// when it passes) and the tokenizer (Tokenizer::FromModelDir, then one
// encode and decode when it loads). Whatever the files: an error status or a
// working loader, never a crash or a sanitizer report.
//
// The TorchScript files: $SECUREBERT_FUZZ_MODEL_DIR (the tiny model).
// Run: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "model/model_manifest.h"
#include "model/torch_model.h"
#include "tokenizer/tokenizer.h"

namespace {

// A scratch model directory whose .pt files link to the tiny model's.
const std::string& ScratchDir() {
  static const std::string* const kDir = [] {
    const char* model = std::getenv("SECUREBERT_FUZZ_MODEL_DIR");
    if (model == nullptr) {
      std::fprintf(stderr, "set SECUREBERT_FUZZ_MODEL_DIR to the tiny model\n");
      std::abort();
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/model-dir-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    for (const char* file : {"encoder.pt", "lm_head.pt"}) {
      const std::string target = std::string(model) + "/" + file;
      if (symlink(target.c_str(), (pattern + "/" + file).c_str()) != 0) std::abort();
    }
    return new std::string(pattern);
  }();
  return *kDir;
}

void Write(const std::string& name, const std::string& contents) {
  std::ofstream(ScratchDir() + "/" + name, std::ios::binary | std::ios::trunc) << contents;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const bool tokenizer_json = input.ConsumeBool();
  for (const char* name : {"manifest.json", "tokenizer_config.json", "special_tokens_map.json",
                           "vocab.json", "merges.txt"}) {
    Write(name, input.ConsumeRandomLengthString(1 << 16));
  }
  const std::string tokenizer_path = ScratchDir() + "/tokenizer.json";
  if (tokenizer_json) {
    Write("tokenizer.json", input.ConsumeRemainingBytesAsString());
  } else {
    unlink(tokenizer_path.c_str());
  }
  if (securebert::model::LoadManifest(ScratchDir()).ok()) {
    // Rare: a manifest that matches the files; the whole load then runs.
    (void)securebert::model::TorchModel::Load(ScratchDir(), {});
  }
  auto tokenizer = securebert::tokenizer::Tokenizer::FromModelDir(ScratchDir());
  if (tokenizer.ok()) {
    securebert::tokenizer::EncodeOptions options;
    options.truncation = securebert::tokenizer::Truncation::kRight;
    options.max_tokens = 64;
    auto encoding =
        (*tokenizer)->Encode("Emotet dropper <mask> via macro-enabled documents.", options);
    if (encoding.ok()) (void)(*tokenizer)->Decode(encoding->ids, false);
  }
  return 0;
}
