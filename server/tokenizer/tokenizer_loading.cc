// Tokenizer's factories: reading the model files and checking that they
// agree (the encode / decode half of the class is in tokenizer.cc).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tokenizer/added_token_matcher.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/json_file.h"
#include "tokenizer/model_files.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/word_cache.h"

namespace securebert::tokenizer {

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromModelDir(const std::string& dir) {
  TokenizerConfig config;
  absl::Status status = ReadTokenizerConfigFiles(dir, &config);
  if (!status.ok()) return status;
  const std::string tokenizer_json = absl::StrCat(dir, "/tokenizer.json");
  if (IsRegularFile(tokenizer_json)) return FromTokenizerJson(tokenizer_json, config);
  const std::string vocab_json = absl::StrCat(dir, "/vocab.json");
  const std::string merges_txt = absl::StrCat(dir, "/merges.txt");
  if (!IsRegularFile(vocab_json) || !IsRegularFile(merges_txt)) {
    return absl::NotFoundError(
        absl::StrCat(dir, ": no tokenizer.json, and no vocab.json with merges.txt"));
  }
  return FromFiles(vocab_json, merges_txt, config);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFiles(const std::string& vocab_json,
                                                                const std::string& merges_txt,
                                                                const TokenizerConfig& config) {
  ModelFiles files;
  absl::Status status = ReadVocabJson(vocab_json, &files);
  if (status.ok()) status = ReadMergesTxt(merges_txt, &files);
  if (!status.ok()) return status;
  return Build(files, config);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromTokenizerJson(
    const std::string& tokenizer_json, const TokenizerConfig& config) {
  ModelFiles files;
  absl::Status status = ReadTokenizerJson(tokenizer_json, &files);
  if (!status.ok()) return status;
  return Build(files, config);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Build(const ModelFiles& files,
                                                            const TokenizerConfig& config) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  absl::StatusOr<std::unique_ptr<BpeModel>> bpe =
      BpeModel::Create(files.vocab, files.merges, files.ignore_merges);
  if (!bpe.ok()) return bpe.status();
  tokenizer->bpe_ = *std::move(bpe);
  absl::Status status = tokenizer->BuildAddedTokens(files, config);
  if (!status.ok()) return status;
  tokenizer->add_bos_eos_ = files.add_bos_eos;
  tokenizer->add_prefix_space_ =
      config.add_prefix_space.value_or(files.add_prefix_space.value_or(false));
  tokenizer->use_regex_ = files.use_regex;
  tokenizer->clean_up_tokenization_spaces_ = config.clean_up_tokenization_spaces;
  tokenizer->model_max_length_ = config.model_max_length;
  tokenizer->cache_ = std::make_unique<WordCache>(WordCache::Options{});
  for (size_t id = 0; id < tokenizer->vocab_size_; ++id) {
    tokenizer->max_token_bytes_ = std::max(tokenizer->max_token_bytes_,
                                           tokenizer->DecodeBytes(static_cast<int32_t>(id)).size());
  }
  return tokenizer;
}

absl::Status Tokenizer::BuildAddedTokens(const ModelFiles& files, const TokenizerConfig& config) {
  // tokenizer.json lists its added tokens with ids; otherwise the config's
  // special tokens must be in vocab.json.
  std::vector<std::pair<AddedTokenSpec, int32_t>> added = files.added_tokens;
  if (added.empty()) {
    std::vector<const AddedTokenSpec*> specs = {
        &config.bos_token, &config.eos_token, &config.cls_token, &config.sep_token,
        &config.pad_token, &config.unk_token, &config.mask_token};
    for (const AddedTokenSpec& extra : config.additional_special_tokens) specs.push_back(&extra);
    for (const AddedTokenSpec* spec : specs) {
      const int32_t id = bpe_->IdOf(spec->content);
      if (id < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("special token \"", spec->content, "\" is not in the vocabulary"));
      }
      added.emplace_back(*spec, id);
    }
  }
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::Get();
  absl::flat_hash_map<std::string, int32_t> id_of_content;
  std::vector<AddedTokenRule> rules;
  int32_t max_id = static_cast<int32_t>(bpe_->vocab_size()) - 1;
  special_.assign(bpe_->vocab_size(), false);
  for (const auto& [spec, id] : added) {
    if (id < 0) return absl::InvalidArgumentError(absl::StrCat("added token id ", id));
    if (!id_of_content.emplace(spec.content, id).second) continue;  // same token twice
    rules.push_back(AddedTokenRule{spec.content, id, spec.lstrip, spec.rstrip, spec.single_word,
                                   spec.normalized});
    added_content_[id] = spec.content;
    std::string bytes;
    added_bytes_[id] = alphabet.ToBytes(spec.content, &bytes) ? bytes : spec.content;
    max_id = std::max(max_id, id);
    if (special_.size() <= static_cast<size_t>(id)) special_.resize(id + 1, false);
    special_[id] = special_[id] || spec.special;
  }
  vocab_size_ = static_cast<size_t>(max_id) + 1;
  special_.resize(vocab_size_, false);
  matcher_ = std::make_unique<AddedTokenMatcher>(std::move(rules));

  auto resolve = [&](const std::string& content, int32_t* id) -> absl::Status {
    const auto it = id_of_content.find(content);
    *id = it != id_of_content.end() ? it->second : bpe_->IdOf(content);
    if (*id >= 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "special token \"", content, "\" is in neither the vocabulary nor the ", "added tokens"));
  };
  // RoBERTa's post-processor wraps with cls ... sep (the same <s> ... </s>).
  absl::Status status = resolve(files.cls_token.value_or(config.cls_token.content), &cls_id_);
  if (status.ok()) status = resolve(files.sep_token.value_or(config.sep_token.content), &sep_id_);
  if (status.ok()) status = resolve(config.bos_token.content, &bos_id_);
  if (status.ok()) status = resolve(config.eos_token.content, &eos_id_);
  if (status.ok()) status = resolve(config.pad_token.content, &pad_id_);
  if (status.ok()) status = resolve(config.unk_token.content, &unk_id_);
  if (status.ok()) status = resolve(config.mask_token.content, &mask_id_);
  mask_token_ = config.mask_token.content;
  return status;
}

}  // namespace securebert::tokenizer
