// Classify's and ExtractEntities' post-processing against Hugging Face's
// text- and token-classification pipelines (transformers 5.24), on
// hand-built tokens and logits whose expected answers follow the pipelines'
// rules. Token offsets are written as our tokenizer gives them (untrimmed:
// " beacons" starts at its space; a character split over two tokens is split
// in bytes), so the tests also cover the mapping onto Hugging Face's offsets.
#include "service/task_outputs.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::FloatNear;
using ::testing::IsEmpty;

constexpr float kTolerance = 1e-6f;

const std::vector<std::string> kLabels = {"O", "B-MAL", "I-MAL", "B-DOM", "I-DOM"};
constexpr int kO = 0, kBMal = 1, kIMal = 2, kBDom = 3, kIDom = 4;

TokenSpan Text(uint32_t start, uint32_t end, int32_t id = 100) {
  return {id, start, end, TokenKind::kText};
}
TokenSpan Added(uint32_t start, uint32_t end) { return {50264, start, end, TokenKind::kAdded}; }
TokenSpan Special() { return {0, 0, 0, TokenKind::kSpecial}; }

// One logits row per token: `strength` at `label`, 0 elsewhere.
struct Strong {
  int label;
  float strength = 5.0f;
};

std::vector<float> Logits(const std::vector<Strong>& rows, size_t num_labels = kLabels.size()) {
  std::vector<float> out(rows.size() * num_labels, 0.0f);
  for (size_t t = 0; t < rows.size(); ++t) out[t * num_labels + rows[t].label] = rows[t].strength;
  return out;
}

// Softmax probability of the strong label of such a row, in double.
double P(float strength, size_t num_labels = kLabels.size()) {
  return std::exp(strength) / (std::exp(strength) + static_cast<double>(num_labels - 1));
}
// And of one of its other labels.
double Q(float strength, size_t num_labels = kLabels.size()) {
  return 1.0 / (std::exp(strength) + static_cast<double>(num_labels - 1));
}

std::vector<EntitySpan> Extract(std::string_view text, const std::vector<TokenSpan>& tokens,
                                const std::vector<float>& logits, Aggregation aggregation,
                                float threshold = 0.0f,
                                const std::vector<std::string>& labels = kLabels) {
  EntityOptions options;
  options.aggregation = aggregation;
  options.threshold = threshold;
  options.unk_id = 3;
  return ExtractEntitySpans(text, tokens, logits, labels, options);
}

// label, score, start, end.
auto Entity(const std::string& label, double score, uint32_t start, uint32_t end) {
  return FieldsAre(::testing::_, FloatNear(static_cast<float>(score), kTolerance), start, end,
                   ::testing::_, label);
}

uint32_t Bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

// "Emotet beacons to evil.com" as byte-level BPE tokens: Em|otet| beacons|
// to| evil|.|com, between <s> and </s>.
const std::string kSentence = "Emotet beacons to evil.com";
const std::vector<TokenSpan> kSentenceTokens = {Special(),    Text(0, 2),   Text(2, 6),
                                                Text(6, 14),  Text(14, 17), Text(17, 22),
                                                Text(22, 23), Text(23, 26), Special()};
const std::vector<float> kSentenceLogits =
    Logits({{kO}, {kBMal}, {kIMal}, {kO}, {kO}, {kBDom}, {kIDom}, {kIDom}, {kO}});

TEST(TaskOutputsClassifyTest, SoftmaxBestFirstAndTopK) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f};
  const double sum = std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  const auto all = ClassificationScores(logits, LabelActivation::kSoftmax, 0);
  EXPECT_THAT(all, ElementsAre(FieldsAre(1, FloatNear(std::exp(3.0) / sum, kTolerance)),
                               FieldsAre(2, FloatNear(std::exp(2.0) / sum, kTolerance)),
                               FieldsAre(0, FloatNear(std::exp(1.0) / sum, kTolerance))));
  const auto top1 = ClassificationScores(logits, LabelActivation::kSoftmax, 1);
  ASSERT_EQ(top1.size(), 1u);
  EXPECT_EQ(top1[0].id, 1);
  EXPECT_EQ(ClassificationScores(logits, LabelActivation::kSoftmax, 3).size(), 3u);
  EXPECT_EQ(ClassificationScores(logits, LabelActivation::kSoftmax, 7).size(), 3u);
}

TEST(TaskOutputsClassifyTest, TiesKeepTheLowerIdFirst) {
  const auto scores = ClassificationScores({2.0f, 5.0f, 5.0f, 2.0f}, LabelActivation::kSoftmax, 0);
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(scores[0].id, 1);
  EXPECT_EQ(scores[1].id, 2);
  EXPECT_EQ(scores[2].id, 0);
  EXPECT_EQ(scores[3].id, 3);
  EXPECT_EQ(scores[0].score, scores[1].score);
}

TEST(TaskOutputsClassifyTest, SigmoidScoresEachLabelOnItsOwn) {
  const auto scores = ClassificationScores({0.0f, 2.0f, -2.0f}, LabelActivation::kSigmoid, 0);
  EXPECT_THAT(scores, ElementsAre(FieldsAre(1, FloatNear(1 / (1 + std::exp(-2.0)), kTolerance)),
                                  FieldsAre(0, FloatNear(0.5, kTolerance)),
                                  FieldsAre(2, FloatNear(1 / (1 + std::exp(2.0)), kTolerance))));
  // A huge negative logit saturates instead of overflowing.
  EXPECT_EQ(ClassificationScores({-200.0f}, LabelActivation::kSigmoid, 0)[0].score, 0.0f);
}

TEST(TaskOutputsClassifyTest, DefaultActivationIsThePipelines) {
  EXPECT_EQ(DefaultLabelActivation(false, 3), LabelActivation::kSoftmax);
  EXPECT_EQ(DefaultLabelActivation(true, 3), LabelActivation::kSigmoid);
  // One label: sigmoid whatever the problem type.
  EXPECT_EQ(DefaultLabelActivation(false, 1), LabelActivation::kSigmoid);
}

TEST(TaskOutputsClassifyTest, ScoresAreNumpysToTheBit) {
  // numpy's float32 exp(-1) is one ulp below libm's; the pipeline reports
  // 0.2689414 (0x3E89B2B0) where libm would give 0.26894143.
  EXPECT_EQ(Bits(ClassificationScores({0.0f, -1.0f}, LabelActivation::kSoftmax, 0)[1].score),
            0x3E89B2B0u);
  EXPECT_EQ(Bits(ClassificationScores({-1.0f}, LabelActivation::kSigmoid, 0)[0].score),
            0x3E89B2B0u);
}

TEST(TaskOutputsEntitiesTest, NoneGivesOneEntityPerTokenWithItsOwnLabel) {
  const auto entities = Extract(kSentence, kSentenceTokens, kSentenceLogits, Aggregation::kNone);
  EXPECT_THAT(entities, ElementsAre(Entity("B-MAL", P(5), 0, 2), Entity("I-MAL", P(5), 2, 6),
                                    Entity("B-DOM", P(5), 18, 22), Entity("I-DOM", P(5), 22, 23),
                                    Entity("I-DOM", P(5), 23, 26)));
  EXPECT_EQ(entities[0].token_index, 1);  // <s> is 0
  EXPECT_EQ(entities[2].token_index, 5);
  EXPECT_EQ(entities[2].label_id, kBDom);
}

TEST(TaskOutputsEntitiesTest, SimpleGroupsTagsAtTheStartAndTheEnd) {
  // The leading " " of " evil" is not part of the entity (HF trims it).
  EXPECT_THAT(Extract(kSentence, kSentenceTokens, kSentenceLogits, Aggregation::kSimple),
              ElementsAre(Entity("MAL", P(5), 0, 6), Entity("DOM", P(5), 18, 26)));
}

TEST(TaskOutputsEntitiesTest, BeginStartsAGroupAndOtherTagsOrOBreakIt) {
  // " a b c d e f": B-MAL B-MAL I-DOM I-MAL O I-MAL.
  const std::string text = " a b c d e f";
  std::vector<TokenSpan> tokens = {Special()};
  for (uint32_t i = 0; i < 6; ++i) tokens.push_back(Text(2 * i, 2 * i + 2));
  tokens.push_back(Special());
  const auto logits = Logits({{kO}, {kBMal}, {kBMal, 3}, {kIDom}, {kIMal}, {kO}, {kIMal}, {kO}});
  EXPECT_THAT(
      Extract(text, tokens, logits, Aggregation::kSimple),
      ElementsAre(Entity("MAL", P(5), 1, 2), Entity("MAL", P(3), 3, 4), Entity("DOM", P(5), 5, 6),
                  Entity("MAL", P(5), 7, 8), Entity("MAL", P(5), 11, 12)));
}

TEST(TaskOutputsEntitiesTest, GroupScoreIsTheMeanOfItsTokens) {
  const auto logits =
      Logits({{kO}, {kBMal, 2}, {kIMal, 4}, {kO}, {kO}, {kBDom}, {kIDom}, {kIDom}, {kO}});
  EXPECT_THAT(Extract(kSentence, kSentenceTokens, logits, Aggregation::kSimple),
              ElementsAre(Entity("MAL", (P(2) + P(4)) / 2, 0, 6), Entity("DOM", P(5), 18, 26)));
}

// One word, three tokens: "Em" strongly B-MAL, "ot" and "et" less strongly
// I-DOM. FIRST and MAX take "Em"'s label; AVERAGE the best mean.
const std::string kWord = "Emotet";
const std::vector<TokenSpan> kWordTokens = {Special(), Text(0, 2), Text(2, 4), Text(4, 6),
                                            Special()};
const std::vector<float> kWordLogits =
    Logits({{kO}, {kBMal, 4}, {kIDom, 3.5f}, {kIDom, 3.5f}, {kO}});

TEST(TaskOutputsEntitiesTest, SimpleSplitsAWordWhoseTokensDisagree) {
  EXPECT_THAT(Extract(kWord, kWordTokens, kWordLogits, Aggregation::kSimple),
              ElementsAre(Entity("MAL", P(4), 0, 2), Entity("DOM", P(3.5f), 2, 6)));
}

TEST(TaskOutputsEntitiesTest, FirstTakesTheWordsFirstToken) {
  EXPECT_THAT(Extract(kWord, kWordTokens, kWordLogits, Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(4), 0, 6)));
}

TEST(TaskOutputsEntitiesTest, MaxTakesTheWordsBestToken) {
  EXPECT_THAT(Extract(kWord, kWordTokens, kWordLogits, Aggregation::kMax),
              ElementsAre(Entity("MAL", P(4), 0, 6)));
  // Now "et" scores highest.
  const auto logits = Logits({{kO}, {kBMal, 4}, {kIDom, 3.5f}, {kIDom, 6}, {kO}});
  EXPECT_THAT(Extract(kWord, kWordTokens, logits, Aggregation::kMax),
              ElementsAre(Entity("DOM", P(6), 0, 6)));
}

TEST(TaskOutputsEntitiesTest, AverageTakesTheBestMeanScore) {
  // I-DOM: (Q(4) + 2 P(3.5)) / 3 beats B-MAL: (P(4) + 2 Q(3.5)) / 3.
  EXPECT_THAT(Extract(kWord, kWordTokens, kWordLogits, Aggregation::kAverage),
              ElementsAre(Entity("DOM", (Q(4) + 2 * P(3.5f)) / 3, 0, 6)));
}

TEST(TaskOutputsEntitiesTest, WordsMergeOnlyWhereNoSpaceSeparates) {
  // Words: Emotet | beacons | to | evil.com; FIRST labels each by its first
  // token, so "otet" (O here) joins "Em"'s MAL and "com" (O) joins evil's.
  const auto logits = Logits({{kO}, {kBMal}, {kO}, {kO}, {kO}, {kBDom}, {kIDom}, {kO}, {kO}});
  EXPECT_THAT(Extract(kSentence, kSentenceTokens, logits, Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 0, 6), Entity("DOM", P(5), 18, 26)));
}

TEST(TaskOutputsEntitiesTest, ANewlineDoesNotSeparateWords) {
  // "a\nb": only a space ends a word, so a, "\n" and b are one word.
  const auto logits = Logits({{kO}, {kBMal}, {kO}, {kO}, {kO}});
  EXPECT_THAT(Extract("a\nb", {Special(), Text(0, 1), Text(1, 2), Text(2, 3), Special()}, logits,
                      Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 0, 3)));
}

TEST(TaskOutputsEntitiesTest, ASubwordStartingTheInputStartsAWord) {
  // Left truncation kept "tet" of "Emotet" first: it is a subword (no space
  // before it) yet begins the first word.
  const std::string text = "Emotet evil";
  const std::vector<TokenSpan> tokens = {Special(), Text(3, 6), Text(6, 11), Special()};
  const auto logits = Logits({{kO}, {kIMal}, {kBDom}, {kO}});
  EXPECT_THAT(Extract(text, tokens, logits, Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 3, 6), Entity("DOM", P(5), 7, 11)));
}

TEST(TaskOutputsEntitiesTest, MultiByteCharactersGiveByteOffsets) {
  // " naïve" is one token; the "ï" is 2 bytes.
  const std::string text = "so na\xC3\xAFve";
  const auto logits = Logits({{kO}, {kO}, {kBMal}, {kO}});
  EXPECT_THAT(
      Extract(text, {Special(), Text(0, 2), Text(2, 9), Special()}, logits, Aggregation::kSimple),
      ElementsAre(Entity("MAL", P(5), 3, 9)));
}

TEST(TaskOutputsEntitiesTest, ACharacterSplitOverTokensIsCoveredWhole) {
  // "run 😀x": byte-level BPE splits the emoji (4 bytes at 4..8) into " 😀"'s
  // first 3 bytes [3,7) and its last byte [7,8). HF gives both tokens the
  // whole character, so the second starts at 4 after a space: a new word,
  // and "x" (8, after the emoji) is its subword.
  const std::string text = "run \xF0\x9F\x98\x80x";
  const std::vector<TokenSpan> tokens = {Special(),  Text(0, 3), Text(3, 7),
                                         Text(7, 8), Text(8, 9), Special()};
  const auto logits = Logits({{kO}, {kO}, {kBMal}, {kIMal}, {kIMal}, {kO}});
  EXPECT_THAT(Extract(text, tokens, logits, Aggregation::kNone),
              ElementsAre(Entity("B-MAL", P(5), 4, 8), Entity("I-MAL", P(5), 4, 8),
                          Entity("I-MAL", P(5), 8, 9)));
  const auto first = Logits({{kO}, {kO}, {kBMal}, {kIMal}, {kO}, {kO}});
  // Words: run | [3,7) | [7,8) x; the last word takes [7,8)'s I-MAL.
  EXPECT_THAT(Extract(text, tokens, first, Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 4, 9)));
}

TEST(TaskOutputsEntitiesTest, SpaceTokensAndAddedTokensAreTrimmedAsHuggingFaces) {
  // "a  b": the lone " " token is HF's empty (2,2); " b" is (3,4).
  const auto spaces = Logits({{kO}, {kO}, {kBMal}, {kBDom}, {kO}});
  EXPECT_THAT(Extract("a  b", {Special(), Text(0, 1), Text(1, 2), Text(2, 4), Special()}, spaces,
                      Aggregation::kNone),
              ElementsAre(Entity("B-MAL", P(5), 2, 2), Entity("B-DOM", P(5), 3, 4)));
  // A typed <mask> absorbed the whitespace before it (lstrip); HF's offsets
  // are the <mask> alone, and "x" after it is its subword.
  const auto logits = Logits({{kO}, {kO}, {kBMal}, {kO}, {kO}});
  const std::vector<TokenSpan> after_space = {Special(), Text(0, 1), Added(1, 8), Text(8, 9),
                                              Special()};
  EXPECT_THAT(Extract("a <mask>x", after_space, logits, Aggregation::kNone),
              ElementsAre(Entity("B-MAL", P(5), 2, 8)));
  EXPECT_THAT(Extract("a <mask>x", after_space, logits, Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 2, 9)));
  // Any White_Space is trimmed from an added token, here an ideographic
  // space (3 bytes); but only a space separates words, so with FIRST the
  // <mask> is part of "a"'s word, labelled O.
  const std::string text = "a\xE3\x80\x80<mask>x";
  const std::vector<TokenSpan> after_ideographic = {Special(), Text(0, 1), Added(1, 10),
                                                    Text(10, 11), Special()};
  EXPECT_THAT(Extract(text, after_ideographic, logits, Aggregation::kNone),
              ElementsAre(Entity("B-MAL", P(5), 4, 10)));
  EXPECT_THAT(Extract(text, after_ideographic, logits, Aggregation::kFirst), IsEmpty());
}

TEST(TaskOutputsEntitiesTest, OnlySpecialTokensAreSkipped) {
  // A typed "<s>" is an ordinary token to the pipeline; the real <s>, even
  // with a strong label, never is.
  const std::vector<TokenSpan> tokens = {
      Special(), {0, 0, 3, TokenKind::kAdded}, Text(3, 6), Special()};
  const auto logits = Logits({{kBMal}, {kBDom}, {kO}, {kBMal}});
  EXPECT_THAT(Extract("<s>foo", tokens, logits, Aggregation::kNone),
              ElementsAre(Entity("B-DOM", P(5), 0, 3)));
  EXPECT_THAT(Extract("", {Special(), Special()}, Logits({{kBMal}, {kBMal}}), Aggregation::kMax),
              IsEmpty());
  EXPECT_THAT(Extract("", {}, {}, Aggregation::kSimple), IsEmpty());
}

TEST(TaskOutputsEntitiesTest, UnknownTokensAlwaysStartAWord) {
  // "ab" with "b" unknown: two words, so FIRST keeps b's own label.
  const auto logits = Logits({{kO}, {kBMal}, {kBDom}, {kO}});
  EXPECT_THAT(Extract("ab", {Special(), Text(0, 1), Text(1, 2, /*id=*/3), Special()}, logits,
                      Aggregation::kFirst),
              ElementsAre(Entity("MAL", P(5), 0, 1), Entity("DOM", P(5), 1, 2)));
  EXPECT_THAT(
      Extract("ab", {Special(), Text(0, 1), Text(1, 2), Special()}, logits, Aggregation::kFirst),
      ElementsAre(Entity("MAL", P(5), 0, 2)));
}

TEST(TaskOutputsEntitiesTest, ThresholdDropsEntitiesScoringBelowIt) {
  const auto logits =
      Logits({{kO}, {kBMal, 2}, {kIMal, 2}, {kO}, {kO}, {kBDom}, {kIDom}, {kIDom}, {kO}});
  EXPECT_THAT(
      Extract(kSentence, kSentenceTokens, logits, Aggregation::kSimple, static_cast<float>(P(3))),
      ElementsAre(Entity("DOM", P(5), 18, 26)));
  EXPECT_THAT(Extract(kSentence, kSentenceTokens, logits, Aggregation::kNone, 0.99f), IsEmpty());
  // Entities scoring exactly the threshold stay (a token's score is the
  // softmax of its row, whatever else is in the batch).
  const float exact =
      ClassificationScores(Logits({{kBDom}}), LabelActivation::kSoftmax, 1)[0].score;
  EXPECT_EQ(Extract(kSentence, kSentenceTokens, logits, Aggregation::kNone, exact).size(), 3u);
}

TEST(TaskOutputsEntitiesTest, GroupNamesFollowThePipelinesSplit) {
  // entity_group is the label after its first "-": "E-PER" is PER (a group
  // of its own: only B-/I- prefixes continue one), "X-O" is O and dropped; a
  // label without a prefix continues itself.
  const std::vector<std::string> labels = {"O", "B-PER", "E-PER", "X-O", "MAL"};
  const std::string text = " a b c d e f";
  std::vector<TokenSpan> tokens = {Special()};
  for (uint32_t i = 0; i < 6; ++i) tokens.push_back(Text(2 * i, 2 * i + 2));
  tokens.push_back(Special());
  const auto logits = Logits({{0}, {1}, {2}, {3}, {4}, {4}, {0}, {0}});
  EXPECT_THAT(Extract(text, tokens, logits, Aggregation::kSimple, 0.0f, labels),
              ElementsAre(Entity("PER", P(5), 1, 2), Entity("PER", P(5), 3, 4),
                          Entity("MAL", P(5), 7, 10)));
}

TEST(TaskOutputsEntitiesTest, MaxBreaksScoreTiesAsNumpyDoes) {
  // Logits (1, 1, 2) and (2, 1, 1) give the same top probability in numpy
  // (libm's would be one ulp apart and pick the second token): MAX keeps the
  // word's first token of equal score, so the word is X.
  const std::vector<std::string> labels = {"I-Y", "O", "B-X"};
  const std::vector<float> logits = {0, 0, 0, 1, 1, 2, 2, 1, 1, 0, 0, 0};
  EXPECT_THAT(Extract("ab", {Special(), Text(0, 1), Text(1, 2), Special()}, logits,
                      Aggregation::kMax, 0.0f, labels),
              ElementsAre(Entity("X", std::exp(2.0) / (std::exp(2.0) + 2 * std::exp(1.0)), 0, 2)));
}

}  // namespace
}  // namespace securebert::service
