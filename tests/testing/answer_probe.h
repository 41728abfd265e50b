// AnswerProbe: the check end-to-end tests make after each fault they
// inflict on a running server: its health is SERVING and one fixed good
// request gets the same answer as the first time it was asked (every token
// vector within 1e-6). Header-only; tests only.
//
// Thread safety: construct on one thread; ExpectHealthyAndUnchanged may then
// be called from any thread (the first answer is constant).
#ifndef SECUREBERT_TESTS_TESTING_ANSWER_PROBE_H_
#define SECUREBERT_TESTS_TESTING_ANSWER_PROBE_H_

#include <memory>
#include <string>

#include "client/securebert_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::testing {

class AnswerProbe {
 public:
  // Largest difference allowed between two answers to the same request.
  static constexpr float kTolerance = 1e-6f;

  // Connects to `target` (host:port) and records the answer to the fixed
  // request; the test fails if there is none.
  explicit AnswerProbe(const std::string& target) {
    client::ClientOptions options;
    options.channel.target = target;
    options.deadline_ms = 60000;
    options.retry.max_attempts = 1;  // a refusal is a failure, not a retry
    auto c = client::SecureBertClient::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return;
    client_ = *std::move(c);
    absl::StatusOr<v1::EmbedResponse> first = client_->Embed(FixedRequest());
    EXPECT_TRUE(first.ok()) << first.status();
    if (first.ok()) first_ = *std::move(first);
  }

  // Two inputs of different lengths (so a padded batch), every token vector.
  static v1::EmbedRequest FixedRequest() {
    v1::EmbedRequest r;
    r.add_inputs("Adversaries may use stolen credentials to move laterally.");
    r.add_inputs("APT29 exfiltrated data over DNS tunnelling to its command-and-control server.");
    r.set_pooling(v1::POOLING_NONE);
    return r;
  }

  // Health SERVING and the fixed request answered as the first time; `after`
  // names what the server went through, for the failure message.
  void ExpectHealthyAndUnchanged(const std::string& after) const {
    SCOPED_TRACE("after " + after);
    ASSERT_NE(client_, nullptr);
    ASSERT_EQ(first_.embeddings_size(), 2);
    absl::StatusOr<client::ServingStatus> health = client_->Health("securebert.v1.SecureBert");
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(*health, grpc::health::v1::HealthCheckResponse::SERVING);
    absl::StatusOr<v1::EmbedResponse> again = client_->Embed(FixedRequest());
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_EQ(again->embeddings_size(), 2);
    for (int i = 0; i < 2; ++i) {
      EXPECT_THAT(again->embeddings(i).shape(),
                  ::testing::ElementsAreArray(first_.embeddings(i).shape()));
      EXPECT_THAT(
          again->embeddings(i).values(),
          ::testing::Pointwise(::testing::FloatNear(kTolerance), first_.embeddings(i).values()))
          << "input " << i;
    }
  }

  const client::SecureBertClient& client() const { return *client_; }

 private:
  std::unique_ptr<client::SecureBertClient> client_;  // no retries, 60 s deadline
  v1::EmbedResponse first_;                           // the first answer, constant
};

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_TESTING_ANSWER_PROBE_H_
