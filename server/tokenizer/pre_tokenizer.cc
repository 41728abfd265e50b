#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/char_classifier.h"
#include "tokenizer/utf8.h"

namespace securebert::tokenizer {
namespace {

// Class and byte length of the character at s[pos].
CharClass ClassAt(const CharClassifier& classifier, std::string_view s, size_t pos,
                  size_t* length) {
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    *length = 1;
    return classifier.ascii_classes()[c];
  }
  return classifier.Classify(DecodeUtf8At(s, pos, length));
}

// End of the run of characters of class `cls` that starts at `pos`.
size_t RunEnd(const CharClassifier& classifier, std::string_view s, size_t pos, CharClass cls) {
  const auto& ascii = classifier.ascii_classes();
  const size_t n = s.size();
  while (pos < n) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (ascii[c] != cls) break;
      ++pos;
      continue;
    }
    size_t length = 0;
    if (classifier.Classify(DecodeUtf8At(s, pos, &length)) != cls) break;
    pos += length;
  }
  return pos;
}

// Length of the contraction ('s 't 're 've 'm 'll 'd) at s[pos] == '\'', or 0.
size_t ContractionLength(std::string_view s, size_t pos) {
  if (pos + 1 >= s.size()) return 0;
  const char c1 = s[pos + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= s.size()) return 0;
  const char c2 = s[pos + 2];
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

}  // namespace

size_t PreTokenizer::PieceEnd(std::string_view s, size_t pos) {
  const CharClassifier& classifier = CharClassifier::Get();
  const size_t n = s.size();
  const char c = s[pos];
  if (c == '\'') {
    const size_t contraction = ContractionLength(s, pos);
    if (contraction > 0) return pos + contraction;
  }
  size_t length = 0;
  const CharClass cls = ClassAt(classifier, s, pos, &length);
  if (c == ' ' && pos + 1 < n) {
    // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": the space leads the run.
    size_t next_length = 0;
    const CharClass next = ClassAt(classifier, s, pos + 1, &next_length);
    if (next != CharClass::kWhitespace) return RunEnd(classifier, s, pos + 1, next);
  }
  if (cls != CharClass::kWhitespace) return RunEnd(classifier, s, pos, cls);

  // "\s+(?!\S)|\s+": find the whitespace run and where its last char starts.
  size_t last_start = pos;
  size_t end = pos + length;
  while (end < n) {
    size_t next_length = 0;
    if (ClassAt(classifier, s, end, &next_length) != CharClass::kWhitespace) break;
    last_start = end;
    end += next_length;
  }
  if (end == n) return n;                   // nothing follows: the whole run
  if (last_start > pos) return last_start;  // \s+(?!\S) backs off one char
  return end;                               // a lone char before a non-space: \s+
}

}  // namespace securebert::tokenizer
