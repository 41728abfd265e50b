#include "client/load/load_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/channel_factory.h"
#include "client/load/load_report.h"
#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class LoadRunnerTest : public ::testing::Test {
 protected:
  LoadRunnerTest() : workload_(Workload::Generated(Generator(), 64)) {}

  static CyberTextGenerator::Options Generator() {
    CyberTextGenerator::Options options;
    options.max_tokens = 64;
    options.insert_mask = true;  // Valid for every call.
    return options;
  }

  absl::StatusOr<LoadRunner::Result> Run(const LoadRunner::Options& options, int connections = 1) {
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int i = 0; i < connections; ++i) {
      ChannelOptions channel;
      channel.target = server_.target();
      channel.connection_index = i;
      channels.push_back(*CreateChannel(channel));
    }
    LoadRunner runner(options, RequestSettings(), &workload_, channels);
    return runner.Run();
  }

  static LoadRunner::Options Options(LoadCall call, int concurrency, int64_t requests) {
    LoadRunner::Options options;
    options.call = call;
    options.concurrency = concurrency;
    options.total_requests = requests;
    return options;
  }

  testing::FakeServer server_;
  Workload workload_;
};

TEST_F(LoadRunnerTest, ClosedLoopAnswersExactlyN) {
  LoadRunner::Options options = Options(LoadCall::kEmbed, 8, 200);
  options.warmup_requests = 10;
  absl::StatusOr<LoadRunner::Result> result = Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.count, 200);
  EXPECT_EQ(result->stats.ok, 200);
  EXPECT_THAT(result->stats.codes, ElementsAre(Pair("OK", 200)));
  EXPECT_GT(result->stats.tokens, 200 * 3);
  EXPECT_GT(result->total, absl::ZeroDuration());
  EXPECT_EQ(server_.service().calls(), 210);  // Warm-up included, not counted.

  LoadReport report;
  report.stats = result->stats;
  report.total = result->total;
  const nlohmann::json json = nlohmann::json::parse(FormatReportJson(report));
  EXPECT_EQ(json["ok"], 200);
}

TEST_F(LoadRunnerTest, SixtyFourConcurrentOnTwoConnections) {
  absl::StatusOr<LoadRunner::Result> result = Run(Options(LoadCall::kTokenize, 64, 640), 2);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.ok, 640);
}

TEST_F(LoadRunnerTest, PredictMaskCountsWorkloadTokens) {
  absl::StatusOr<LoadRunner::Result> result = Run(Options(LoadCall::kPredictMask, 4, 64));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.ok, 64);
  int64_t expected = 0;
  for (int i = 0; i < 64; ++i) expected += workload_.tokens(i);
  EXPECT_EQ(result->stats.tokens, expected);
}

TEST_F(LoadRunnerTest, EmbedStreamKeepsStreamsAcrossRequests) {
  LoadRunner::Options options = Options(LoadCall::kEmbedStream, 4, 100);
  options.inputs_per_request = 2;
  absl::StatusOr<LoadRunner::Result> result = Run(options, 2);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.ok, 100);
  EXPECT_EQ(server_.service().last_embed_request().inputs_size(), 2);
}

TEST_F(LoadRunnerTest, EmbedStreamReopensAfterAnError) {
  server_.service().FailNextCalls(2, grpc::StatusCode::INVALID_ARGUMENT, "inputs: bad");
  absl::StatusOr<LoadRunner::Result> result = Run(Options(LoadCall::kEmbedStream, 2, 20));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.count, 20);
  EXPECT_EQ(result->stats.ok, 18);
  EXPECT_EQ(result->stats.codes.at("INVALID_ARGUMENT"), 2);
}

TEST_F(LoadRunnerTest, ErrorsAreCountedAndSampled) {
  server_.service().FailNextCalls(5, grpc::StatusCode::UNAVAILABLE, "draining");
  absl::StatusOr<LoadRunner::Result> result = Run(Options(LoadCall::kEmbed, 1, 50));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.count, 50);
  EXPECT_EQ(result->stats.ok, 45);
  EXPECT_THAT(result->stats.codes, ElementsAre(Pair("OK", 45), Pair("UNAVAILABLE", 5)));
  ASSERT_EQ(result->stats.errors.size(), 1u);
  EXPECT_EQ(result->stats.errors[0].message, "draining");
  EXPECT_EQ(result->stats.errors[0].count, 5);
}

TEST_F(LoadRunnerTest, OpenLoopSendsN) {
  LoadRunner::Options options = Options(LoadCall::kEmbed, 4, 100);
  options.rps = 2000;
  absl::StatusOr<LoadRunner::Result> result = Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.ok, 100);
  // 100 requests scheduled 0.5 ms apart take at least 49.5 ms.
  EXPECT_GE(result->total, absl::Microseconds(49500));
}

TEST_F(LoadRunnerTest, DurationModeStopsByItself) {
  LoadRunner::Options options = Options(LoadCall::kTokenize, 2, 1);
  options.duration = absl::Milliseconds(100);
  absl::StatusOr<LoadRunner::Result> result = Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->stats.ok, 1);
  EXPECT_GE(result->total, absl::Milliseconds(100));
}

TEST_F(LoadRunnerTest, DeadlinesFailUnaryAndStreamRequests) {
  server_.service().SetBlockCalls(true);
  for (LoadCall call : {LoadCall::kEmbed, LoadCall::kEmbedStream}) {
    LoadRunner::Options options = Options(call, 1, 2);
    options.deadline = absl::Milliseconds(50);
    options.monitor_interval = absl::Milliseconds(10);
    absl::StatusOr<LoadRunner::Result> result = Run(options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_THAT(result->stats.codes, ElementsAre(Pair("DEADLINE_EXCEEDED", 2)))
        << LoadCallName(call);
  }
}

TEST(LoadRunnerConnectTest, UnreachableTargetFailsFast) {
  const Workload workload({"text"});
  ChannelOptions channel;
  channel.target = "127.0.0.1:1";
  LoadRunner::Options options;
  options.connect_timeout = absl::Milliseconds(200);
  LoadRunner runner(options, RequestSettings(), &workload, {*CreateChannel(channel)});
  EXPECT_EQ(runner.Run().status().code(), absl::StatusCode::kUnavailable);
}

TEST(LoadCallTest, Names) {
  for (LoadCall call :
       {LoadCall::kEmbed, LoadCall::kEmbedStream, LoadCall::kPredictMask, LoadCall::kTokenize}) {
    EXPECT_EQ(ParseLoadCall(LoadCallName(call)).value(), call);
  }
  EXPECT_FALSE(ParseLoadCall("embedstream").ok());
}

}  // namespace
}  // namespace securebert::client
