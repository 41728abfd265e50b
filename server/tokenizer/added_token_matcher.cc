#include "tokenizer/added_token_matcher.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "tokenizer/char_classifier.h"
#include "tokenizer/utf8.h"

namespace securebert::tokenizer {
namespace {

// Start of the White_Space run that ends at text[pos], not before `floor`.
size_t WhitespaceStartBefore(std::string_view text, size_t floor, size_t pos) {
  const CharClassifier& classifier = CharClassifier::Get();
  while (pos > floor) {
    const size_t previous = PreviousCharStart(text, pos);
    size_t length = 0;
    if (!classifier.IsWhitespace(DecodeUtf8At(text, previous, &length))) break;
    pos = previous;
  }
  return pos;
}

// End of the White_Space run that starts at text[pos], not after `limit`.
size_t WhitespaceEndAfter(std::string_view text, size_t pos, size_t limit) {
  const CharClassifier& classifier = CharClassifier::Get();
  while (pos < limit) {
    size_t length = 0;
    if (!classifier.IsWhitespace(DecodeUtf8At(text, pos, &length))) break;
    pos += length;
  }
  return pos;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedTokenRule> rules) : rules_(std::move(rules)) {
  // An empty content never matches (HF ignores such tokens).
  rules_.erase(std::remove_if(rules_.begin(), rules_.end(),
                              [](const AddedTokenRule& r) { return r.content.empty(); }),
               rules_.end());
  for (const AddedTokenRule& rule : rules_) {
    Pass& pass = rule.normalized ? normalized_pass_ : raw_pass_;
    pass.rules.push_back(&rule);
    pass.first_byte[static_cast<unsigned char>(rule.content[0])] = true;
  }
  for (Pass* pass : {&raw_pass_, &normalized_pass_}) {
    std::stable_sort(pass->rules.begin(), pass->rules.end(),
                     [](const AddedTokenRule* a, const AddedTokenRule* b) {
                       return a->content.size() > b->content.size();
                     });
  }
}

void AddedTokenMatcher::Split(std::string_view text, std::vector<TextSplit>* splits) const {
  splits->clear();
  if (text.empty()) return;
  const auto size = static_cast<uint32_t>(text.size());
  SplitRange(text, 0, size, raw_pass_, splits);
  if (normalized_pass_.rules.empty()) return;
  std::vector<TextSplit> first_pass;
  first_pass.swap(*splits);
  for (const TextSplit& split : first_pass) {
    if (split.id >= 0) {
      splits->push_back(split);
    } else {
      SplitRange(text, split.start, split.end, normalized_pass_, splits);
    }
  }
}

const AddedTokenRule* AddedTokenMatcher::MatchAt(std::string_view text, size_t pos, size_t end,
                                                 const Pass& pass) {
  for (const AddedTokenRule* rule : pass.rules) {
    const size_t length = rule->content.size();
    if (length <= end - pos && std::memcmp(text.data() + pos, rule->content.data(), length) == 0) {
      return rule;
    }
  }
  return nullptr;
}

bool AddedTokenMatcher::SingleWordOk(std::string_view text, size_t start, size_t stop) {
  const CharClassifier& classifier = CharClassifier::Get();
  size_t length = 0;
  if (start > 0 &&
      classifier.IsWordChar(DecodeUtf8At(text, PreviousCharStart(text, start), &length))) {
    return false;
  }
  return stop >= text.size() || !classifier.IsWordChar(DecodeUtf8At(text, stop, &length));
}

void AddedTokenMatcher::SplitRange(std::string_view text, uint32_t begin, uint32_t end,
                                   const Pass& pass, std::vector<TextSplit>* out) const {
  uint32_t start_offset = begin;  // end of the previous match
  size_t pos = begin;             // where the search resumes
  while (!pass.rules.empty() && pos < end) {
    while (pos < end && !pass.first_byte[static_cast<unsigned char>(text[pos])]) ++pos;
    if (pos >= end) break;
    const AddedTokenRule* rule = MatchAt(text, pos, end, pass);
    if (rule == nullptr) {
      ++pos;
      continue;
    }
    const size_t match_start = pos;
    const size_t match_stop = pos + rule->content.size();
    pos = match_stop;  // matches never overlap, even the ones dropped below
    const std::string_view sentence = text.substr(begin, end - begin);
    if (rule->single_word && !SingleWordOk(sentence, match_start - begin, match_stop - begin)) {
      continue;
    }
    size_t start = match_start;
    size_t stop = match_stop;
    if (rule->lstrip) start = WhitespaceStartBefore(text, start_offset, start);
    if (rule->rstrip) stop = WhitespaceEndAfter(text, stop, end);
    if (start_offset < start) out->push_back({start_offset, static_cast<uint32_t>(start), -1});
    out->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(stop), rule->id});
    start_offset = static_cast<uint32_t>(stop);
    pos = std::max(pos, stop);
  }
  if (start_offset < end) out->push_back({start_offset, end, -1});
}

}  // namespace securebert::tokenizer
