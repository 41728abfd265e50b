#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "tokenizer/added_token_matcher.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/char_classifier.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/word_cache.h"

namespace securebert::tokenizer {
namespace {

// transformers' clean_up_tokenization, in its order.
constexpr std::pair<absl::string_view, absl::string_view> kCleanUps[] = {
    {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
};

// Python's str.strip(): drops leading and trailing whitespace characters.
std::string_view StripPythonSpace(std::string_view s) {
  const CharClassifier& classifier = CharClassifier::Get();
  size_t begin = 0;
  while (begin < s.size()) {
    size_t length = 0;
    if (!classifier.IsPythonSpace(DecodeUtf8At(s, begin, &length))) break;
    begin += length;
  }
  size_t end = s.size();
  while (end > begin) {
    const size_t previous = PreviousCharStart(s, end);
    size_t length = 0;
    if (!classifier.IsPythonSpace(DecodeUtf8At(s, previous, &length))) break;
    end = previous;
  }
  return s.substr(begin, end - begin);
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

absl::StatusOr<Encoding> Tokenizer::Encode(std::string_view text,
                                           const EncodeOptions& options) const {
  if (text.size() >= UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrFormat("input of %d bytes is too long", text.size()));
  }
  const size_t bad = FindInvalidUtf8(text);
  if (bad != text.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("input is not valid UTF-8: byte 0x%02X at byte offset %d",
                        static_cast<unsigned char>(text[bad]), bad));
  }
  const bool wrap = options.add_special_tokens && add_bos_eos_;
  const size_t wrap_count = wrap ? 2 : 0;
  // Right truncation can stop encoding once the content tokens (after <s>)
  // outnumber what it keeps: the rest would be cut anyway.
  size_t id_limit = SIZE_MAX;
  if (options.max_tokens > 0 && options.truncation == Truncation::kRight &&
      options.max_tokens >= wrap_count) {
    id_limit = options.max_tokens - wrap_count + (wrap ? 1 : 0);
  }
  Encoding encoding;
  const size_t estimate = std::min<size_t>(text.size() / 3, id_limit) + 2;
  encoding.ids.reserve(estimate);
  encoding.offsets.reserve(estimate);
  if (wrap) {
    encoding.ids.push_back(cls_id_);
    encoding.offsets.emplace_back(0, 0);
  }
  thread_local std::vector<TextSplit> splits;
  matcher_->Split(text, &splits);
  for (const TextSplit& split : splits) {
    if (encoding.ids.size() > id_limit) break;
    if (split.id >= 0) {
      encoding.ids.push_back(split.id);
      encoding.offsets.emplace_back(split.start, split.end);
    } else {
      EncodeSegment(text, split.start, split.end, id_limit, &encoding);
    }
  }
  if (splits.capacity() > 4096) std::vector<TextSplit>().swap(splits);
  if (wrap) {
    encoding.ids.push_back(sep_id_);
    encoding.offsets.emplace_back(0, 0);
  }
  absl::Status status = Truncate(options, &encoding);
  if (!status.ok()) return status;
  return encoding;
}

void Tokenizer::EncodeSegment(std::string_view text, uint32_t begin, uint32_t end, size_t id_limit,
                              Encoding* out) const {
  std::string_view segment = text.substr(begin, end - begin);
  int64_t shift = begin;  // text offset of segment[0]
  std::string prefixed;
  if (add_prefix_space_ && segment.front() != ' ') {
    // The added space has no bytes of its own in the text: its offsets clamp
    // to the segment start.
    prefixed.reserve(segment.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(segment);
    segment = prefixed;
    shift = static_cast<int64_t>(begin) - 1;
  }
  if (!use_regex_) {
    EncodeWord(segment, shift, begin, out);
    return;
  }
  for (size_t pos = 0; pos < segment.size() && out->ids.size() <= id_limit;) {
    const size_t next = PreTokenizer::PieceEnd(segment, pos);
    EncodeWord(segment.substr(pos, next - pos), shift + static_cast<int64_t>(pos), begin, out);
    pos = next;
  }
}

void Tokenizer::EncodeWord(std::string_view word, int64_t word_start, uint32_t min_offset,
                           Encoding* out) const {
  const size_t first = out->ids.size();
  const int32_t whole = bpe_->WholeWordId(word);
  if (whole >= 0) {
    out->ids.push_back(whole);
  } else if (!cache_->Lookup(word, &out->ids)) {
    bpe_->Tokenize(word, &out->ids);
    cache_->Insert(word, absl::MakeConstSpan(out->ids).subspan(first));
  }
  int64_t pos = word_start;
  for (size_t i = first; i < out->ids.size(); ++i) {
    const int64_t end = pos + bpe_->ByteLength(out->ids[i]);
    out->offsets.emplace_back(static_cast<uint32_t>(std::max<int64_t>(pos, min_offset)),
                              static_cast<uint32_t>(std::max<int64_t>(end, min_offset)));
    pos = end;
  }
}

absl::Status Tokenizer::Truncate(const EncodeOptions& options, Encoding* encoding) const {
  const size_t count = encoding->ids.size();
  if (options.max_tokens == 0 || count <= options.max_tokens) return absl::OkStatus();
  if (options.truncation == Truncation::kNone) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "input has %d tokens, more than max_input_tokens=%d", count, options.max_tokens));
  }
  const bool wrapped = options.add_special_tokens && add_bos_eos_;
  const size_t wrap_count = wrapped ? 2 : 0;
  if (options.max_tokens < wrap_count) {
    return absl::InvalidArgumentError(
        absl::StrFormat("max_input_tokens=%d leaves no room for <s> and </s>", options.max_tokens));
  }
  // The content tokens sit in [content_begin, content_end).
  const size_t content_begin = wrapped ? 1 : 0;
  const size_t content_end = count - (wrapped ? 1 : 0);
  const size_t keep = options.max_tokens - wrap_count;
  size_t drop_begin = content_begin + keep;  // kRight: drop the tail
  size_t drop_end = content_end;
  if (options.truncation == Truncation::kLeft) {
    drop_begin = content_begin;
    drop_end = content_end - keep;
  }
  const auto ids_begin = encoding->ids.begin();
  const auto offsets_begin = encoding->offsets.begin();
  encoding->ids.erase(ids_begin + static_cast<std::ptrdiff_t>(drop_begin),
                      ids_begin + static_cast<std::ptrdiff_t>(drop_end));
  encoding->offsets.erase(offsets_begin + static_cast<std::ptrdiff_t>(drop_begin),
                          offsets_begin + static_cast<std::ptrdiff_t>(drop_end));
  encoding->truncated = true;
  return absl::OkStatus();
}

std::string_view Tokenizer::TokenText(int32_t id) const {
  const auto it = added_content_.find(id);
  if (it != added_content_.end()) return it->second;
  return bpe_->Spelling(id);
}

std::string_view Tokenizer::TokenString(std::string_view text, const Encoding& encoding,
                                        size_t index) const {
  const int32_t id = encoding.ids[index];
  const auto [start, end] = encoding.offsets[index];
  if (added_content_.contains(id) && end > start && end <= text.size()) {
    return text.substr(start, end - start);
  }
  return TokenText(id);
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

std::string_view Tokenizer::DecodeBytes(int32_t id) const {
  const auto it = added_bytes_.find(id);
  if (it != added_bytes_.end()) return it->second;
  const std::string_view bytes = bpe_->Bytes(id);
  // A spelling outside the byte alphabet decodes to itself, as in HF.
  return bytes.empty() ? bpe_->Spelling(id) : bytes;
}

std::string Tokenizer::Decode(absl::Span<const int32_t> ids, const DecodeOptions& options) const {
  std::string bytes;
  for (const int32_t id : ids) {
    if (options.skip_special_tokens && IsSpecial(id)) continue;
    bytes.append(DecodeBytes(id));
  }
  std::string text;
  AppendUtf8Lossy(bytes, &text);
  if (clean_up_tokenization_spaces_) {
    for (const auto& [from, to] : kCleanUps) text = absl::StrReplaceAll(text, {{from, to}});
  }
  return text;
}

std::string Tokenizer::DecodeToken(int32_t id) const {
  const int32_t ids[] = {id};
  return std::string(StripPythonSpace(Decode(ids, DecodeOptions{})));
}

std::string Tokenizer::DecodeFilled(absl::Span<const int32_t> ids, size_t position,
                                    int32_t candidate, size_t masks) const {
  std::vector<int32_t> filled;
  filled.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = i == position ? candidate : ids[i];
    if (id != pad_id_) filled.push_back(id);
  }
  return Decode(filled, DecodeOptions{/*skip_special_tokens=*/masks == 1});
}

}  // namespace securebert::tokenizer
