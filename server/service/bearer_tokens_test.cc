// Bearer tokens: the file format, the check, and reloads that fail safe.
#include "service/bearer_tokens.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(BearerTokens, ReadsOneTokenPerLineSkippingCommentsAndBlanks) {
  auto tokens = BearerTokens::Load(
      WriteFile("tokens", "# the ingest pipeline\n  s3cr3t-one  \n\n#s3cr3t-off\ntwo\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ((*tokens)->size(), 2u);
  EXPECT_TRUE((*tokens)->Check("Bearer s3cr3t-one").ok());
  EXPECT_TRUE((*tokens)->Check("Bearer two").ok());
  EXPECT_EQ((*tokens)->Check("Bearer s3cr3t-off").code(), absl::StatusCode::kUnauthenticated);
}

TEST(BearerTokens, EveryWrongFormIsTheSameRefusal) {
  auto tokens = BearerTokens::Load(WriteFile("tokens2", "s3cr3t-token\n"));
  ASSERT_TRUE(tokens.ok());
  for (const std::string header :
       {"", "s3cr3t-token", "Bearer", "Bearer ", "Bearer s3cr3t", "Bearer s3cr3t-token2",
        "bearer s3cr3t-token", "Basic s3cr3t-token", "Bearer  s3cr3t-token"}) {
    const absl::Status s = (*tokens)->Check(header);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_EQ(s.message(), "missing or invalid bearer token") << header;
    EXPECT_THAT(std::string(s.message()), ::testing::Not(::testing::HasSubstr("s3cr3t")));
  }
}

TEST(BearerTokens, BadFilesAreRefusedNamingThePath) {
  const absl::Status missing = BearerTokens::Load("/nonexistent/tokens").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(), ::testing::HasSubstr("/nonexistent/tokens"));
  const absl::Status empty = BearerTokens::Load(WriteFile("empty", "# nothing\n\n")).status();
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), ::testing::HasSubstr("holds no token"));
}

TEST(BearerTokens, ReloadReplacesTheSetAndABadFileKeepsTheOld) {
  const std::string path = WriteFile("rotating", "old-token\n");
  auto tokens = BearerTokens::Load(path);
  ASSERT_TRUE(tokens.ok());
  WriteFile("rotating", "new-token\nsecond\n");
  EXPECT_EQ(*(*tokens)->Reload(), 2u);
  EXPECT_FALSE((*tokens)->Check("Bearer old-token").ok());
  EXPECT_TRUE((*tokens)->Check("Bearer new-token").ok());
  WriteFile("rotating", "# emptied by mistake\n");
  EXPECT_EQ((*tokens)->Reload().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*tokens)->Check("Bearer new-token").ok());
  std::remove(path.c_str());
  EXPECT_FALSE((*tokens)->Reload().ok());
  EXPECT_TRUE((*tokens)->Check("Bearer second").ok());
}

}  // namespace
}  // namespace securebert::service
