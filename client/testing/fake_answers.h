// The canned answers of FakeSecureBertService: pure functions of the
// request, simple enough for the client's tests to check exactly.
//
//   tokens         <s>, one token per whitespace-separated word, </s>; an
//                  input over kFakeMaxInputTokens with TRUNCATION_NONE is
//                  INVALID_ARGUMENT, as are empty inputs.
//   Embed          vectors kFakeHiddenSize wide; row r holds (r + j) / 10.
//   PredictMask    candidate k of every <mask> is "cand<k>", id 100 + k,
//                  score 1 / (k + 2); an input without <mask> is refused.
//   Classify       (sequence-classification head, kFakeSequenceLabels) every
//                  input scores benign 0.2, malicious 0.5, phishing 0.3,
//                  answered best first, top_k of them (0: all).
//   ExtractEntities (token-classification head, kFakeTokenLabels) a word
//                  starting with an upper-case ASCII letter is B-MAL (I-MAL
//                  right after another such word), scoring 0.9 when it is
//                  all upper-case letters, digits and '-' ("APT29"), 0.6
//                  otherwise; other words are O. AGGREGATION_NONE: one
//                  entity per MAL word; the others merge each B-MAL word and
//                  the I-MAL words after it into one "MAL" entity scoring
//                  their mean (every word is one token, so FIRST, AVERAGE and
//                  MAX agree with SIMPLE). Entities below `threshold` are left
//                  out; a threshold outside [0, 1] is INVALID_ARGUMENT.
//
// Stateless functions; safe from any thread.
#ifndef SECUREBERT_CLIENT_TESTING_FAKE_ANSWERS_H_
#define SECUREBERT_CLIENT_TESTING_FAKE_ANSWERS_H_

#include <cstdint>

#include <grpcpp/support/status.h>

#include "securebert/v1/securebert.pb.h"

namespace securebert::client::testing {

// Width of every fake vector.
inline constexpr int kFakeHiddenSize = 4;
// Longest input in tokens, <s> and </s> included.
inline constexpr uint32_t kFakeMaxInputTokens = 512;

// The task head of the fake model (ModelInfo.head).
enum class FakeHead { kNone, kSequenceClassification, kTokenClassification };
// id2label of each head.
inline constexpr const char* kFakeSequenceLabels[] = {"benign", "malicious", "phishing"};
inline constexpr const char* kFakeTokenLabels[] = {"O", "B-MAL", "I-MAL"};

// OK when a model with `head` has `needed`, else the server's
// FAILED_PRECONDITION naming the missing head.
grpc::Status CheckHead(FakeHead head, FakeHead needed);

grpc::Status AnswerEmbed(const v1::EmbedRequest& request, v1::EmbedResponse* response);
grpc::Status AnswerPredictMask(const v1::PredictMaskRequest& request,
                               v1::PredictMaskResponse* response);
grpc::Status AnswerTokenize(const v1::TokenizeRequest& request, v1::TokenizeResponse* response);
// The fake model with `head` (capabilities, labels and head follow it).
void AnswerModelInfo(FakeHead head, v1::ModelInfo* response);
// Call CheckHead first: these answer as if the model had the head.
grpc::Status AnswerClassify(const v1::ClassifyRequest& request, v1::ClassifyResponse* response);
grpc::Status AnswerExtractEntities(const v1::ExtractEntitiesRequest& request,
                                   v1::ExtractEntitiesResponse* response);

}  // namespace securebert::client::testing

#endif  // SECUREBERT_CLIENT_TESTING_FAKE_ANSWERS_H_
