#include "tokenizer/char_classifier.h"

#include <utf8proc.h>

namespace securebert::tokenizer {
namespace {

// U+0085 NEXT LINE is a control character (Cc) that \s and White_Space both
// include; U+0009..U+000D (ASCII) are the others.
constexpr uint32_t kNextLine = 0x85;

int CategoryOf(uint32_t code_point) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(code_point))->category;
}

}  // namespace

const CharClassifier& CharClassifier::Get() {
  static const CharClassifier* const kInstance = new CharClassifier();
  return *kInstance;
}

CharClassifier::CharClassifier() {
  category_class_.fill(CharClass::kOther);
  for (int category : {UTF8PROC_CATEGORY_LU, UTF8PROC_CATEGORY_LL, UTF8PROC_CATEGORY_LT,
                       UTF8PROC_CATEGORY_LM, UTF8PROC_CATEGORY_LO}) {
    category_class_[category] = CharClass::kLetter;
  }
  for (int category : {UTF8PROC_CATEGORY_ND, UTF8PROC_CATEGORY_NL, UTF8PROC_CATEGORY_NO}) {
    category_class_[category] = CharClass::kNumber;
  }
  for (int category : {UTF8PROC_CATEGORY_ZS, UTF8PROC_CATEGORY_ZL, UTF8PROC_CATEGORY_ZP}) {
    category_class_[category] = CharClass::kWhitespace;
  }
  for (uint32_t c = 0; c < 128; ++c) {
    const bool control_space = c >= 0x09 && c <= 0x0D;  // \t \n \v \f \r
    ascii_class_[c] = control_space ? CharClass::kWhitespace : category_class_[CategoryOf(c)];
  }
}

CharClass CharClassifier::ClassifyNonAscii(uint32_t code_point) const {
  if (code_point == kNextLine) return CharClass::kWhitespace;
  return category_class_[CategoryOf(code_point)];
}

bool CharClassifier::IsPythonSpace(uint32_t code_point) const {
  const utf8proc_property_t* property =
      utf8proc_get_property(static_cast<utf8proc_int32_t>(code_point));
  return property->category == UTF8PROC_CATEGORY_ZS ||
         property->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
         property->bidi_class == UTF8PROC_BIDI_CLASS_B ||
         property->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

bool CharClassifier::IsWordChar(uint32_t code_point) const {
  if (code_point == 0x200C || code_point == 0x200D) return true;  // Join_Control
  switch (CategoryOf(code_point)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace securebert::tokenizer
