// Test data shared by the tokenizer's tests: the roberta-base vocabulary and
// merges in tests/data/tokenizer/ and the Hugging Face parity cases.
//
// Thread safety: TestTokenizer() builds one Tokenizer on first use
// (thread-safe static); the rest are stateless.
#ifndef SECUREBERT_SERVER_TOKENIZER_TESTING_TEST_DATA_H_
#define SECUREBERT_SERVER_TOKENIZER_TESTING_TEST_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace securebert::tokenizer::testing {

// One line of parity.jsonl: what Hugging Face's fast tokenizer gives.
struct ParityCase {
  std::string text;                 // input
  std::vector<int32_t> ids;         // expected ids, <s> ... </s>
  std::vector<std::string> tokens;  // expected Encoding.tokens
};

// tests/data/tokenizer/ in the source tree.
std::string TestDataDir();
std::string VocabPath();   // .../vocab.json
std::string MergesPath();  // .../merges.txt

// All cases of parity.jsonl (fails the calling test when unreadable).
std::vector<ParityCase> LoadParityCases();

// A tokenizer over the test vocabulary, built once and shared (it is
// thread-safe); never null.
const Tokenizer& TestTokenizer();

// Writes `content` to a new file under the test's temp dir; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& content);

}  // namespace securebert::tokenizer::testing

#endif  // SECUREBERT_SERVER_TOKENIZER_TESTING_TEST_DATA_H_
