// Transport security and bearer tokens against the real server, with
// certificates made at test time (TestPki): TLS, mutual TLS, tokens and their
// rotation on SIGHUP, and every bad security setting refused at start with
// one line and exit code 2.
#include <signal.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/testing/test_pki.h"

namespace securebert::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "s3cr3t-ingest-token-0f9e";
constexpr char kRotatedToken[] = "r0tated-token-77aa";

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki();
    ASSERT_TRUE(pki_->ok()) << pki_->error();
  }
  static void TearDownTestSuite() { delete pki_; }

  static std::vector<std::string> TlsArgs() {
    std::vector<std::string> args = DefaultServerArgs();
    args.push_back("--tls_cert=" + pki_->Path("server.pem"));
    args.push_back("--tls_key=" + pki_->Path("server.key"));
    return args;
  }

  static std::string WriteTokens(const std::string& name, const std::string& contents) {
    const std::string path = pki_->Path(name);
    std::ofstream(path) << contents;
    return path;
  }

  // A client of `server`: TLS trusting `ca` ("" for plaintext), with an
  // optional client certificate `client` ("client1") and bearer `token`.
  static std::unique_ptr<client::SecureBertClient> Client(const ServerProcess& server,
                                                          const std::string& ca,
                                                          const std::string& client = "",
                                                          const std::string& token = "") {
    client::ClientOptions options;
    options.channel.target = server.target();
    options.channel.use_tls = !ca.empty();
    if (!ca.empty()) options.channel.tls_root_certs_path = pki_->Path(ca + ".pem");
    if (!client.empty()) {
      options.channel.tls_client_cert_path = pki_->Path(client + ".pem");
      options.channel.tls_client_key_path = pki_->Path(client + ".key");
    }
    options.channel.bearer_token = token;
    options.deadline_ms = 20000;
    options.retry.max_attempts = 1;
    auto c = client::SecureBertClient::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  static absl::Status Tokenize(const client::SecureBertClient& client) {
    v1::TokenizeRequest r;
    r.add_inputs("Cobalt Strike beacon over HTTPS");
    return client.Tokenize(r).status();
  }

  static inline TestPki* pki_ = nullptr;
};

TEST_F(SecurityTest, TlsServesTheRightCaAndRefusesPlaintextAndStrangers) {
  ServerProcess server(BinaryPath("securebert-server"), TlsArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("security: TLS, no bearer tokens"));
  EXPECT_TRUE(Tokenize(*Client(server, "ca1")).ok());
  EXPECT_EQ(Tokenize(*Client(server, "")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Tokenize(*Client(server, "ca2")).code(), absl::StatusCode::kUnavailable);
  // Health over TLS too.
  EXPECT_EQ(Client(server, "ca1")->Health("securebert.v1.SecureBert").value(),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(SecurityTest, MutualTlsNeedsACertificateFromTheClientCa) {
  std::vector<std::string> args = TlsArgs();
  args.push_back("--tls_client_ca=" + pki_->Path("ca1.pem"));
  ServerProcess server(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("mutual TLS (client certificates required)"));
  EXPECT_TRUE(Tokenize(*Client(server, "ca1", "client1")).ok());
  EXPECT_EQ(Tokenize(*Client(server, "ca1")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Tokenize(*Client(server, "ca1", "client2")).code(), absl::StatusCode::kUnavailable);
}

TEST_F(SecurityTest, BearerTokensGateTheServiceButNotHealthAndRotateOnSighup) {
  const std::string tokens = WriteTokens("tokens", std::string("# ingest\n") + kToken + "\n");
  std::vector<std::string> args = TlsArgs();
  args.push_back("--auth_tokens_file=" + tokens);
  ServerProcess server(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("bearer tokens required (1 in force"));
  const std::string prefix(kToken, sizeof(kToken) / 2);
  for (const std::string& wrong : {std::string(), std::string("not-the-token"), prefix}) {
    const absl::Status s = Tokenize(*Client(server, "ca1", "", wrong));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << "token '" << wrong << "'";
    EXPECT_EQ(s.message(), "missing or invalid bearer token");
  }
  EXPECT_TRUE(Tokenize(*Client(server, "ca1", "", kToken)).ok());
  EXPECT_EQ(Client(server, "ca1")->Health("securebert.v1.SecureBert").value(),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(ScrapeMetrics(server.metrics_port())
                ["securebert_requests_total{rpc=\"Tokenize\",code=\"UNAUTHENTICATED\"}"],
            3);

  WriteTokens("tokens", std::string(kRotatedToken) + "\n");
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForLog("auth: reloaded", absl::Seconds(30))) << server.Log();
  EXPECT_EQ(Tokenize(*Client(server, "ca1", "", kToken)).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Tokenize(*Client(server, "ca1", "", kRotatedToken)).ok());
  // A bad file on the next SIGHUP keeps the tokens in force.
  WriteTokens("tokens", "# emptied by mistake\n");
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForLog("auth: reload failed", absl::Seconds(30))) << server.Log();
  EXPECT_TRUE(Tokenize(*Client(server, "ca1", "", kRotatedToken)).ok());
  // No token ever reaches the log.
  EXPECT_THAT(server.Log(), Not(HasSubstr(kToken)));
  EXPECT_THAT(server.Log(), Not(HasSubstr(kRotatedToken)));
  EXPECT_THAT(server.Log(), Not(HasSubstr(prefix)));
}

TEST_F(SecurityTest, BadSecuritySettingsAreOneLineAndExitTwo) {
  const std::string not_pem = WriteTokens("not.pem", "just text\n");
  const std::string tokens = WriteTokens("ok-tokens", "a-token\n");
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--tls_cert=" + pki_->Path("server.pem")}, "--tls_cert and --tls_key must be given"},
      {{"--tls_cert=/nonexistent/server.pem", "--tls_key=" + pki_->Path("server.key")},
       "--tls_cert /nonexistent/server.pem: cannot read"},
      {{"--tls_cert=" + not_pem, "--tls_key=" + pki_->Path("server.key")}, "not a PEM file"},
      {{"--tls_cert=" + pki_->Path("server.pem"), "--tls_key=" + pki_->Path("stray.key")},
       "does not match --tls_cert"},
      {{"--tls_client_ca=" + pki_->Path("ca1.pem")}, "--tls_client_ca needs --tls_cert"},
      {{"--auth_tokens_file=" + tokens}, "--auth_tokens_file needs --tls_cert"},
      {{"--tls_cert=" + pki_->Path("server.pem"), "--tls_key=" + pki_->Path("server.key"),
        "--auth_tokens_file=/nonexistent/tokens"},
       "--auth_tokens_file /nonexistent/tokens: cannot read"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = DefaultServerArgs();
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    ServerProcess server(BinaryPath("securebert-server"), args);
    EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 2) << server.Log();
    const std::string log = server.Log();
    EXPECT_THAT(log, HasSubstr(c.message)) << log;
    EXPECT_THAT(log, Not(HasSubstr("terminate called"))) << log;
    EXPECT_THAT(log, Not(HasSubstr("Aborted"))) << log;
  }
}

}  // namespace
}  // namespace securebert::testing
