// The shipped C++ clients against the real server: the securebert-client
// CLI, and a short securebert-load run (n=200) whose JSON summary must parse
// with every request answered OK. (The Python and Go clients run their own
// end-to-end suites: client/python/tests, client/go/e2e.)
#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_fixture.h"

namespace securebert::testing {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class ClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(BinaryPath("securebert-server"), DefaultServerArgs());
    ASSERT_TRUE(server_->WaitUntilReady()) << server_->Log();
  }
  static void TearDownTestSuite() { delete server_; }
  static ServerProcess* server_;
};

ServerProcess* ClientsTest::server_ = nullptr;

TEST_F(ClientsTest, CliPredictMaskReadsLikeTheModelCard) {
  const CommandResult r =
      RunCommand(BinaryPath("securebert-client") + " predict-mask --target " + server_->target() +
                 " --top_k 3 'Adversaries may use <mask> to gain initial access.'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1. token="));
  EXPECT_THAT(r.output, HasSubstr("score="));
  EXPECT_THAT(r.output, HasSubstr("sequence="));
  const CommandResult health =
      RunCommand(BinaryPath("securebert-client") + " health --target " + server_->target());
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("SERVING"));
  const CommandResult bad = RunCommand(BinaryPath("securebert-client") + " predict-mask --target " +
                                       server_->target() + " 'no mask in this text'");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(ClientsTest, LoadGeneratorAnswersEveryRequest) {
  for (const char* call : {"embed", "predict-mask", "embed-stream", "tokenize"}) {
    const CommandResult r =
        RunCommand(BinaryPath("securebert-load") + " --target " + server_->target() + " --call " +
                   call + " -n 200 -c 8 --max_tokens 100 -O json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const size_t brace = r.output.find('{');
    ASSERT_NE(brace, std::string::npos) << r.output;
    const nlohmann::json summary = nlohmann::json::parse(r.output.substr(brace));
    EXPECT_EQ(summary.at("count"), 200) << call;
    EXPECT_EQ(summary.at("ok"), 200) << call << ": " << summary.dump();
    EXPECT_GT(summary.at("tokens_per_s").get<double>(), 0) << call;
    EXPECT_LE(summary.at("latency_ms").at("p50").get<double>(),
              summary.at("latency_ms").at("p99").get<double>());
    const std::string name = call;
    if (name == "embed" || name == "predict-mask") {
      // Every answer carried the server's forward time, and the forward is
      // part of the latency the client saw.
      const nlohmann::json& outside = summary.at("outside_model_ms");
      EXPECT_EQ(outside.at("requests"), 200) << call;
      EXPECT_GE(outside.at("min").get<double>(), 0.0) << call;
      EXPECT_LT(outside.at("p50").get<double>(), summary.at("latency_ms").at("p50").get<double>());
    } else {
      EXPECT_TRUE(summary.at("outside_model_ms").is_null()) << call;
    }
  }
}

}  // namespace
}  // namespace securebert::testing
