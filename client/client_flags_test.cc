#include "client/client_flags.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"

ABSL_DECLARE_FLAG(std::string, cacert);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(bool, insecure);
ABSL_DECLARE_FLAG(std::string, pooling);
ABSL_DECLARE_FLAG(uint32_t, top_k);

namespace securebert::client {
namespace {

using ::testing::HasSubstr;

absl::Status Check(std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return CheckCommandLine(static_cast<int>(argv.size()), argv.data());
}

class ClientFlagsTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;  // Every test leaves the flags as it found them.
};

TEST_F(ClientFlagsTest, CheckCommandLineAcceptsGoodFlags) {
  EXPECT_TRUE(Check({"embed", "--top_k", "3", "--pooling=cls", "-normalize", "text"}).ok());
  EXPECT_TRUE(Check({"--nonormalize", "--insecure=false", "--help"}).ok());
  EXPECT_TRUE(Check({"--", "--not-a-flag"}).ok());
}

TEST_F(ClientFlagsTest, CheckCommandLineNamesTheProblem) {
  EXPECT_THAT(Check({"--nosuch=1"}).message(), HasSubstr("unknown flag --nosuch"));
  EXPECT_THAT(Check({"--top_k=abc"}).message(), HasSubstr("--top_k=abc"));
  EXPECT_THAT(Check({"--deadline_ms"}).message(), HasSubstr("needs a value"));
  EXPECT_THAT(Check({"--nodeadline_ms"}).message(), HasSubstr("unknown flag"));
}

TEST_F(ClientFlagsTest, Defaults) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->channel.target, "127.0.0.1:50051");
  EXPECT_FALSE(options->channel.use_tls);
  EXPECT_EQ(options->channel.max_receive_message_bytes, 64 << 20);
  EXPECT_EQ(options->deadline_ms, 20000);
  absl::StatusOr<RequestSettings> settings = RequestSettingsFromFlags();
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->pooling, v1::POOLING_MEAN);
  EXPECT_EQ(settings->truncation, v1::TRUNCATION_NONE);
  EXPECT_EQ(settings->top_k, 5u);
}

TEST_F(ClientFlagsTest, TlsFilesNeedTls) {
  absl::SetFlag(&FLAGS_cacert, "/etc/ca.pem");
  EXPECT_THAT(ClientOptionsFromFlags().status().message(), HasSubstr("--insecure=false"));
  absl::SetFlag(&FLAGS_insecure, false);
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->channel.use_tls);
  EXPECT_EQ(options->channel.tls_root_certs_path, "/etc/ca.pem");
}

TEST_F(ClientFlagsTest, TlsSettingsComeFromTheEnvironmentWithTlsOnly) {
  setenv("SECUREBERT_CA_FILE", "/env/ca.pem", 1);
  setenv("SECUREBERT_CERT_FILE", "/env/client.pem", 1);
  setenv("SECUREBERT_KEY_FILE", "/env/client.key", 1);
  setenv("SECUREBERT_TOKEN", "env-token", 1);
  // Plaintext reads none of them (and says so on stderr).
  absl::StatusOr<ClientOptions> plain = ClientOptionsFromFlags();
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->channel.tls_root_certs_path.empty());
  EXPECT_TRUE(plain->channel.bearer_token.empty());
  absl::SetFlag(&FLAGS_insecure, false);
  absl::StatusOr<ClientOptions> tls = ClientOptionsFromFlags();
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->channel.tls_root_certs_path, "/env/ca.pem");
  EXPECT_EQ(tls->channel.tls_client_cert_path, "/env/client.pem");
  EXPECT_EQ(tls->channel.tls_client_key_path, "/env/client.key");
  EXPECT_EQ(tls->channel.bearer_token, "env-token");
  // A flag wins over its variable.
  absl::SetFlag(&FLAGS_token, "flag-token");
  EXPECT_EQ(ClientOptionsFromFlags()->channel.bearer_token, "flag-token");
  for (const char* env :
       {"SECUREBERT_CA_FILE", "SECUREBERT_CERT_FILE", "SECUREBERT_KEY_FILE", "SECUREBERT_TOKEN"}) {
    unsetenv(env);
  }
}

TEST_F(ClientFlagsTest, ATokenNeedsTls) {
  absl::SetFlag(&FLAGS_token, "t0ken");
  EXPECT_THAT(ClientOptionsFromFlags().status().message(), HasSubstr("--insecure=false"));
}

TEST_F(ClientFlagsTest, RequestSettingsAreValidated) {
  absl::SetFlag(&FLAGS_pooling, "max");
  EXPECT_THAT(RequestSettingsFromFlags().status().message(), HasSubstr("none, cls or mean"));
  absl::SetFlag(&FLAGS_pooling, "none");
  absl::SetFlag(&FLAGS_top_k, 0u);
  EXPECT_THAT(RequestSettingsFromFlags().status().message(), HasSubstr("1..1000"));
}

TEST(RequestSettingsTest, NamesRoundTrip) {
  for (v1::Pooling pooling : {v1::POOLING_NONE, v1::POOLING_CLS, v1::POOLING_MEAN}) {
    EXPECT_EQ(ParsePooling(PoolingName(pooling)).value(), pooling);
  }
  for (v1::Truncation t : {v1::TRUNCATION_NONE, v1::TRUNCATION_RIGHT, v1::TRUNCATION_LEFT}) {
    EXPECT_EQ(ParseTruncation(TruncationName(t)).value(), t);
  }
  EXPECT_FALSE(ParseTruncation("middle").ok());
}

TEST(RequestSettingsTest, BuildersCopySettings) {
  RequestSettings settings;
  settings.pooling = v1::POOLING_CLS;
  settings.normalize = true;
  settings.truncation = v1::TRUNCATION_LEFT;
  settings.top_k = 7;
  const std::vector<std::string> texts = {"a", "b <mask>"};
  const v1::EmbedRequest embed = MakeEmbedRequest(settings, texts);
  EXPECT_EQ(embed.inputs_size(), 2);
  EXPECT_EQ(embed.pooling(), v1::POOLING_CLS);
  EXPECT_TRUE(embed.normalize());
  EXPECT_EQ(embed.truncation(), v1::TRUNCATION_LEFT);
  const v1::PredictMaskRequest predict = MakePredictMaskRequest(settings, texts);
  EXPECT_EQ(predict.top_k(), 7u);
  EXPECT_EQ(predict.inputs(1), "b <mask>");
  EXPECT_EQ(MakeTokenizeRequest(settings, texts).truncation(), v1::TRUNCATION_LEFT);
}

}  // namespace
}  // namespace securebert::client
