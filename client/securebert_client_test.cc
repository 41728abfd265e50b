#include "client/securebert_client.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/channel_factory.h"
#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using testing::FakeSecureBertService;
using testing::FakeServer;
using ::testing::HasSubstr;

class SecureBertClientTest : public ::testing::Test {
 protected:
  // Fast retries so that tests do not wait long on backoffs.
  ClientOptions Options() const {
    ClientOptions options;
    options.channel.target = server_.target();
    options.deadline_ms = 10000;
    options.retry.max_attempts = 4;
    options.retry.initial_backoff_ms = 1;
    options.retry.max_backoff_ms = 4;
    return options;
  }

  std::unique_ptr<SecureBertClient> MakeClient(const ClientOptions& options) const {
    absl::StatusOr<std::unique_ptr<SecureBertClient>> client = SecureBertClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  FakeServer server_;
};

v1::EmbedRequest EmbedRequestFor(std::vector<std::string> texts, v1::Pooling pooling) {
  v1::EmbedRequest request;
  for (std::string& text : texts) request.add_inputs(std::move(text));
  request.set_pooling(pooling);
  return request;
}

TEST_F(SecureBertClientTest, EmbedPooledAndFull) {
  auto client = MakeClient(Options());
  absl::StatusOr<v1::EmbedResponse> pooled =
      client->Embed(EmbedRequestFor({"one two three", "four"}, v1::POOLING_MEAN));
  ASSERT_TRUE(pooled.ok()) << pooled.status();
  ASSERT_EQ(pooled->embeddings_size(), 2);
  EXPECT_EQ(pooled->embeddings(0).num_tokens(), 5u);
  EXPECT_THAT(pooled->embeddings(0).shape(), ::testing::ElementsAre(4));
  EXPECT_EQ(server_.service().last_embed_request().pooling(), v1::POOLING_MEAN);

  absl::StatusOr<v1::EmbedResponse> full =
      client->Embed(EmbedRequestFor({"one two three"}, v1::POOLING_NONE));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_THAT(full->embeddings(0).shape(), ::testing::ElementsAre(5, 4));
  EXPECT_EQ(full->embeddings(0).values_size(), 20);
}

TEST_F(SecureBertClientTest, PredictMaskTokenizeAndInfo) {
  auto client = MakeClient(Options());
  v1::PredictMaskRequest predict;
  predict.add_inputs("the <mask> was exploited");
  predict.set_top_k(3);
  absl::StatusOr<v1::PredictMaskResponse> predicted = client->PredictMask(predict);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  const v1::MaskResult& mask = predicted->results(0).masks(0);
  EXPECT_EQ(mask.position(), 2u);
  ASSERT_EQ(mask.predictions_size(), 3);
  EXPECT_EQ(mask.predictions(0).sequence(), "the cand0 was exploited");

  v1::TokenizeRequest tokenize;
  tokenize.add_inputs("hello world");
  absl::StatusOr<v1::TokenizeResponse> tokens = client->Tokenize(tokenize);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->results(0).tokens_size(), 4);
  EXPECT_EQ(tokens->results(0).tokens(2).start(), 6u);

  absl::StatusOr<v1::ModelInfo> info = client->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->mask_token(), "<mask>");
}

TEST_F(SecureBertClientTest, ClassifyAndExtractEntitiesWithTheirHeads) {
  auto client = MakeClient(Options());
  server_.service().SetHead(FakeSecureBertService::Head::kSequenceClassification);
  v1::ClassifyRequest classify;
  classify.add_inputs("click this link");
  classify.set_top_k(2);
  classify.set_truncation(v1::TRUNCATION_RIGHT);
  absl::StatusOr<v1::ClassifyResponse> classified = client->Classify(classify);
  ASSERT_TRUE(classified.ok()) << classified.status();
  ASSERT_EQ(classified->results_size(), 1);
  const v1::Classification& result = classified->results(0);
  ASSERT_EQ(result.labels_size(), 2);
  EXPECT_EQ(result.labels(0).label(), "malicious");
  EXPECT_EQ(result.labels(1).id(), 2u);
  EXPECT_FLOAT_EQ(result.labels(1).score(), 0.3f);
  EXPECT_EQ(result.num_tokens(), 5u);
  EXPECT_EQ(server_.service().last_classify_request().truncation(), v1::TRUNCATION_RIGHT);
  absl::StatusOr<v1::ModelInfo> info = client->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->capabilities(), ::testing::Contains("classify"));
  EXPECT_EQ(info->head(), "sequence_classification");
  EXPECT_THAT(info->labels(), ::testing::ElementsAre("benign", "malicious", "phishing"));

  server_.service().SetHead(FakeSecureBertService::Head::kTokenClassification);
  v1::ExtractEntitiesRequest extract;
  extract.add_inputs("Lazarus Group deployed AppleJeus");
  extract.set_aggregation(v1::AGGREGATION_AVERAGE);
  extract.set_threshold(0.1f);
  absl::StatusOr<v1::ExtractEntitiesResponse> extracted = client->ExtractEntities(extract);
  ASSERT_TRUE(extracted.ok()) << extracted.status();
  const v1::InputEntities& entities = extracted->results(0);
  ASSERT_EQ(entities.entities_size(), 2);
  EXPECT_EQ(entities.entities(0).text(), "Lazarus Group");
  EXPECT_EQ(entities.entities(0).label(), "MAL");
  EXPECT_EQ(entities.entities(1).start(), 23u);
  EXPECT_EQ(entities.entities(1).end(), 32u);
  const v1::ExtractEntitiesRequest sent = server_.service().last_extract_entities_request();
  EXPECT_EQ(sent.aggregation(), v1::AGGREGATION_AVERAGE);
  EXPECT_FLOAT_EQ(sent.threshold(), 0.1f);
}

TEST_F(SecureBertClientTest, MissingHeadIsFailedPreconditionAndNotRetried) {
  auto client = MakeClient(Options());
  v1::ClassifyRequest classify;
  classify.add_inputs("text");
  absl::StatusOr<v1::ClassifyResponse> classified = client->Classify(classify);
  EXPECT_EQ(classified.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(classified.status().message(), HasSubstr("no sequence-classification head"));
  EXPECT_EQ(server_.service().calls(), 1);

  v1::ExtractEntitiesRequest extract;
  extract.add_inputs("text");
  absl::StatusOr<v1::ExtractEntitiesResponse> extracted = client->ExtractEntities(extract);
  EXPECT_EQ(extracted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(extracted.status().message(), HasSubstr("no token-classification head"));
  EXPECT_EQ(server_.service().calls(), 2);
}

TEST_F(SecureBertClientTest, TaskCallsRetryUnavailableAndKeepInvalidArgument) {
  auto client = MakeClient(Options());
  server_.service().SetHead(FakeSecureBertService::Head::kTokenClassification);
  server_.service().FailNextCalls(2, grpc::StatusCode::UNAVAILABLE, "draining");
  v1::ExtractEntitiesRequest extract;
  extract.add_inputs("APT29");
  EXPECT_TRUE(client->ExtractEntities(extract).ok());
  EXPECT_EQ(server_.service().calls(), 3);

  extract.set_threshold(2.0f);
  absl::StatusOr<v1::ExtractEntitiesResponse> refused = client->ExtractEntities(extract);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("threshold"));
  EXPECT_EQ(server_.service().calls(), 4);
}

TEST_F(SecureBertClientTest, HealthOverallPerServiceAndUnknown) {
  auto client = MakeClient(Options());
  EXPECT_EQ(client->Health("").value(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(client->Health(FakeServer::kServiceName).value(),
            grpc::health::v1::HealthCheckResponse::SERVING);
  server_.SetServing(false);
  EXPECT_EQ(client->Health(FakeServer::kServiceName).value(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(client->Health("no.such.Service").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SecureBertClientTest, RetriesUnavailableThenSucceeds) {
  auto client = MakeClient(Options());
  server_.service().FailNextCalls(2, grpc::StatusCode::UNAVAILABLE, "draining");
  absl::StatusOr<v1::EmbedResponse> response =
      client->Embed(EmbedRequestFor({"a"}, v1::POOLING_CLS));
  EXPECT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(server_.service().calls(), 3);
}

TEST_F(SecureBertClientTest, GivesUpAfterMaxAttemptsWithLastStatus) {
  ClientOptions options = Options();
  options.retry.max_attempts = 3;
  auto client = MakeClient(options);
  server_.service().FailNextCalls(10, grpc::StatusCode::UNAVAILABLE, "model not loaded");
  absl::StatusOr<v1::ModelInfo> info = client->GetModelInfo();
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(info.status().message(), "model not loaded");
  EXPECT_EQ(server_.service().calls(), 3);
}

TEST_F(SecureBertClientTest, DoesNotRetryOtherCodesAndKeepsMessage) {
  auto client = MakeClient(Options());
  server_.service().FailNextCalls(1, grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
  absl::StatusOr<v1::EmbedResponse> response =
      client->Embed(EmbedRequestFor({"a"}, v1::POOLING_CLS));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(response.status().message(), "queue full");
  EXPECT_EQ(server_.service().calls(), 1);

  v1::PredictMaskRequest no_mask;
  no_mask.add_inputs("nothing to fill");
  absl::StatusOr<v1::PredictMaskResponse> predicted = client->PredictMask(no_mask);
  EXPECT_EQ(predicted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(predicted.status().message(), HasSubstr("inputs[0]"));
}

TEST_F(SecureBertClientTest, DeadlineExceededWhenServerHangs) {
  ClientOptions options = Options();
  options.deadline_ms = 100;
  auto client = MakeClient(options);
  server_.service().SetBlockCalls(true);
  absl::StatusOr<v1::TokenizeResponse> response = client->Tokenize(v1::TokenizeRequest());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(SecureBertClientTest, NoRetryWhoseBackoffEndsPastTheDeadline) {
  ClientOptions options = Options();
  options.deadline_ms = 200;
  options.retry.max_attempts = 100;
  options.retry.initial_backoff_ms = 1000;  // At least 800 ms with jitter.
  options.retry.max_backoff_ms = 1000;
  auto client = MakeClient(options);
  server_.service().FailNextCalls(100, grpc::StatusCode::UNAVAILABLE, "starting");
  const absl::Time start = absl::Now();
  EXPECT_EQ(client->GetModelInfo().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));
  EXPECT_EQ(server_.service().calls(), 1);
}

TEST_F(SecureBertClientTest, ReceiveLimitApplies) {
  ClientOptions options = Options();
  options.channel.max_receive_message_bytes = 64;
  auto client = MakeClient(options);
  absl::StatusOr<v1::EmbedResponse> response =
      client->Embed(EmbedRequestFor({std::string(200, 'x') + " y z w v u t"}, v1::POOLING_NONE));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(SecureBertClientTest, EmbedStreamAnswersInOrder) {
  auto client = MakeClient(Options());
  std::vector<v1::EmbedRequest> requests;
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += " w";
    requests.push_back(EmbedRequestFor({text}, v1::POOLING_CLS));
  }
  absl::StatusOr<std::vector<v1::EmbedResponse>> responses = client->EmbedStream(requests);
  ASSERT_TRUE(responses.ok()) << responses.status();
  ASSERT_EQ(responses->size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ((*responses)[i].embeddings(0).num_tokens(), static_cast<uint32_t>(i + 3));
  }
}

TEST_F(SecureBertClientTest, EmbedStreamErrorEndsStream) {
  auto client = MakeClient(Options());
  std::vector<v1::EmbedRequest> requests(3, EmbedRequestFor({"a"}, v1::POOLING_CLS));
  requests[1].clear_inputs();
  absl::StatusOr<std::vector<v1::EmbedResponse>> responses = client->EmbedStream(requests);
  EXPECT_EQ(responses.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(responses.status().message(), HasSubstr("inputs"));
}

TEST(SecureBertClientBalancingTest, RoundRobinSpreadsCallsOverEveryAddress) {
  FakeServer a, b;
  for (const std::string& target :
       {a.target() + "," + b.target(), "ipv4:" + a.target() + "," + b.target()}) {
    ClientOptions options;
    options.channel.target = target;
    absl::StatusOr<std::unique_ptr<SecureBertClient>> client = SecureBertClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    // Until both addresses are connected (and reported healthy) round robin
    // uses the ready one: call until each has answered once.
    const int64_t start_a = a.service().calls(), start_b = b.service().calls();
    for (int i = 0; i < 1000 && (a.service().calls() == start_a || b.service().calls() == start_b);
         ++i) {
      ASSERT_TRUE((*client)->Embed(EmbedRequestFor({"x"}, v1::POOLING_CLS)).ok()) << target;
    }
    const int64_t before_a = a.service().calls(), before_b = b.service().calls();
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE((*client)->Embed(EmbedRequestFor({"x"}, v1::POOLING_CLS)).ok()) << target;
    }
    // Then it alternates: each gets about half; pick_first would give one of
    // them all 40.
    EXPECT_EQ(a.service().calls() - before_a + b.service().calls() - before_b, 40) << target;
    EXPECT_GE(a.service().calls() - before_a, 15) << target;
    EXPECT_GE(b.service().calls() - before_b, 15) << target;
  }
}

TEST(SecureBertClientBalancingTest, CallsGoOnlyToAddressesThatAreServing) {
  FakeServer a, b;
  b.SetServing(false);  // e.g. draining
  ClientOptions options;
  options.channel.target = a.target() + "," + b.target();
  absl::StatusOr<std::unique_ptr<SecureBertClient>> client = SecureBertClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*client)->Embed(EmbedRequestFor({"x"}, v1::POOLING_CLS)).ok());
  }
  EXPECT_EQ(a.service().calls(), 20);
  EXPECT_EQ(b.service().calls(), 0);
  // Health() asks directly, so a NOT_SERVING server can say so.
  ClientOptions direct;
  direct.channel.target = b.target();
  absl::StatusOr<std::unique_ptr<SecureBertClient>> probe = SecureBertClient::Create(direct);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ((*probe)->Health(FakeServer::kServiceName).value(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
}

TEST(SecureBertClientBalancingTest, PickFirstSticksToOneAddress) {
  FakeServer a, b;
  ClientOptions options;
  options.channel.target = a.target() + "," + b.target();
  options.channel.lb_policy = "pick_first";
  absl::StatusOr<std::unique_ptr<SecureBertClient>> client = SecureBertClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*client)->Embed(EmbedRequestFor({"x"}, v1::POOLING_CLS)).ok());
  }
  EXPECT_EQ(a.service().calls() + b.service().calls(), 10);
  EXPECT_TRUE(a.service().calls() == 0 || b.service().calls() == 0);
  options.channel.lb_policy = "random";
  EXPECT_EQ(SecureBertClient::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SecureBertClientBalancingTest, ChannelTargetReadsAnAddressListAsIpv4) {
  EXPECT_EQ(ChannelTarget("10.0.0.1:1,10.0.0.2:2"), "ipv4:10.0.0.1:1,10.0.0.2:2");
  EXPECT_EQ(ChannelTarget("ipv4:10.0.0.1:1,10.0.0.2:2"), "ipv4:10.0.0.1:1,10.0.0.2:2");
  EXPECT_EQ(ChannelTarget("dns:///svc.ns.svc.cluster.local:50051"),
            "dns:///svc.ns.svc.cluster.local:50051");
  EXPECT_EQ(ChannelTarget("localhost:50051"), "localhost:50051");
}

TEST(SecureBertClientCreateTest, UnreachableServerIsUnavailable) {
  ClientOptions options;
  options.channel.target = "127.0.0.1:1";
  options.deadline_ms = 5000;
  options.retry.max_attempts = 2;
  options.retry.initial_backoff_ms = 1;
  auto client = SecureBertClient::Create(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->GetModelInfo().status().code(), absl::StatusCode::kUnavailable);
}

TEST(SecureBertClientCreateTest, RejectsInconsistentTlsOptions) {
  ClientOptions options;
  options.channel.tls_root_certs_path = "/some/ca.pem";
  EXPECT_EQ(SecureBertClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // TLS is off.

  options.channel.use_tls = true;
  options.channel.tls_client_cert_path = "/some/cert.pem";
  EXPECT_EQ(SecureBertClient::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // Certificate without key.

  options.channel.tls_client_cert_path.clear();
  options.channel.tls_root_certs_path = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<SecureBertClient>> missing = SecureBertClient::Create(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/ca.pem"));
}

}  // namespace
}  // namespace securebert::client
