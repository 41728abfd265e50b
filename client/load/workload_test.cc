#include "client/load/workload.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/channel_factory.h"
#include "client/testing/fake_server.h"

namespace securebert::client {
namespace {

using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(WorkloadTest, ReadsJsonlAndCycles) {
  const std::string path = WriteFile(
      "texts.jsonl", "{\"text\": \"first text\"}\n\n{\"text\": \"second\", \"label\": 1}\n");
  absl::StatusOr<Workload> workload = Workload::FromJsonl(path, /*ensure_mask=*/false);
  ASSERT_TRUE(workload.ok()) << workload.status();
  ASSERT_EQ(workload->size(), 2u);
  EXPECT_EQ(workload->text(0), "first text");
  EXPECT_EQ(workload->text(3), "second");
  EXPECT_EQ(workload->tokens(0), 4);  // Estimated: 2 words + <s> + </s>.
  EXPECT_EQ(workload->token_source(), TokenSource::kEstimate);
}

TEST(WorkloadTest, MasksTheMiddleWordWhenAsked) {
  const std::string path =
      WriteFile("mask.jsonl", "{\"text\": \"one two three\"}\n{\"text\": \"keep <mask> here\"}\n");
  absl::StatusOr<Workload> workload = Workload::FromJsonl(path, /*ensure_mask=*/true);
  ASSERT_TRUE(workload.ok()) << workload.status();
  EXPECT_EQ(workload->text(0), "one <mask> three");
  EXPECT_EQ(workload->text(1), "keep <mask> here");
}

TEST(WorkloadTest, ReportsBadLines) {
  const std::string bad_json = WriteFile("bad.jsonl", "{\"text\": \"ok\"}\nnot json\n");
  EXPECT_THAT(Workload::FromJsonl(bad_json, false).status().message(),
              HasSubstr("bad.jsonl:2: not JSON"));
  const std::string no_text = WriteFile("notext.jsonl", "{\"body\": \"x\"}\n");
  EXPECT_THAT(Workload::FromJsonl(no_text, false).status().message(), HasSubstr("string \"text\""));
  const std::string empty = WriteFile("empty.jsonl", "\n\n");
  EXPECT_EQ(Workload::FromJsonl(empty, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Workload::FromJsonl("/nonexistent.jsonl", false).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(WorkloadTest, GeneratedIsDeterministic) {
  CyberTextGenerator::Options options;
  const Workload a = Workload::Generated(options, 10);
  const Workload b = Workload::Generated(options, 10);
  ASSERT_EQ(a.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.text(i), b.text(i));
}

TEST(WorkloadTest, CountsTokensWithTheServer) {
  testing::FakeServer server;
  ClientOptions options;
  options.channel.target = server.target();
  options.retry.max_attempts = 1;
  const SecureBertClient client(*CreateChannel(options.channel), options);
  Workload workload({"a b c", "d", "e f", "g h i j"});
  ASSERT_TRUE(workload.CountTokens(client, RequestSettings(), /*batch=*/3).ok());
  EXPECT_EQ(workload.token_source(), TokenSource::kTokenize);
  EXPECT_EQ(workload.tokens(0), 5);
  EXPECT_EQ(workload.tokens(3), 6);
  EXPECT_EQ(server.service().calls(), 2);  // Batches of 3 and 1.

  Workload failing({"x y"});
  server.service().FailNextCalls(1, grpc::StatusCode::UNIMPLEMENTED, "no tokenizer");
  EXPECT_EQ(failing.CountTokens(client, RequestSettings(), 3).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(failing.token_source(), TokenSource::kEstimate);
  EXPECT_EQ(failing.tokens(0), 4);
}

}  // namespace
}  // namespace securebert::client
