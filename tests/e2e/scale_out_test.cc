// Scale-out on loopback: three replicas behind one client channel with
// round_robin over their addresses, a replica drained mid-run, and
// connections closed by age; no request lost or answered wrongly.
#include <signal.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"

namespace securebert::testing {
namespace {

constexpr float kTolerance = 1e-4f;
constexpr int kTexts = 12;
const std::string kOkEmbeds = "securebert_requests_total{rpc=\"Embed\",code=\"OK\"}";

std::string TextFor(int i) {
  std::string text = "lateral movement " + std::to_string(i);
  for (int w = 0; w < i * 5; ++w) text += " hop" + std::to_string(w);
  return text;
}

// The CLS vector the model gives each of the kTexts texts, computed once.
std::vector<std::vector<float>> ExpectedCls() {
  InProcessModel model;
  std::vector<std::vector<float>> cls;
  for (int i = 0; i < kTexts; ++i) {
    const Reference r = model.Run(TextFor(i));
    cls.emplace_back(r.hidden.begin(), r.hidden.begin() + model.hidden_size());
  }
  return cls;
}

std::unique_ptr<client::SecureBertClient> BalancedClient(const std::string& target,
                                                         int max_attempts) {
  client::ClientOptions options;
  options.channel.target = target;
  options.channel.lb_policy = "round_robin";
  options.deadline_ms = 60000;
  options.retry.max_attempts = max_attempts;
  options.retry.initial_backoff_ms = 20;
  auto client = client::SecureBertClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// Calls Embed(CLS) on the texts in turn (Run, one per thread) until `stop`;
// counts answers and checks each against `expected`.
class Load {
 public:
  void Run(client::SecureBertClient* client, const std::vector<std::vector<float>>& expected,
           int thread, const std::atomic<bool>& stop) {
    for (int i = thread; !stop.load(); ++i) {
      const int t = i % kTexts;
      v1::EmbedRequest r;
      r.add_inputs(TextFor(t));
      r.set_pooling(v1::POOLING_CLS);
      absl::StatusOr<v1::EmbedResponse> resp = client->Embed(r);
      absl::MutexLock lock(&mu_);
      if (!resp.ok()) {
        failures_.push_back(resp.status().ToString());
      } else if (MaxAbsDiff(expected[t], resp->embeddings(0).values()) > kTolerance) {
        ++wrong_;
      } else {
        ++ok_;
      }
    }
  }

  // Blocks until `count` calls have been answered correctly, or one failed.
  void AwaitOk(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return ok_ >= count || !failures_.empty();
    };
    mu_.Await(absl::Condition(&reached));
  }
  int ok() {
    absl::MutexLock lock(&mu_);
    return ok_;
  }
  int wrong() {
    absl::MutexLock lock(&mu_);
    return wrong_;
  }
  std::vector<std::string> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  absl::Mutex mu_;
  int ok_ ABSL_GUARDED_BY(mu_) = 0;     // answered, and equal to the model's answer
  int wrong_ ABSL_GUARDED_BY(mu_) = 0;  // answered with other values
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);  // errors, in order
};

TEST(ScaleOutTest, ThreeReplicasShareTheWorkAndADrainedOneLosesNothing) {
  const std::vector<std::vector<float>> expected = ExpectedCls();
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::string target = "ipv4:";
  for (int r = 0; r < 3; ++r) {
    replicas.push_back(
        std::make_unique<ServerProcess>(BinaryPath("securebert-server"), DefaultServerArgs()));
  }
  for (auto& replica : replicas) {
    ASSERT_TRUE(replica->WaitUntilReady()) << replica->Log();
    target += (target.size() > 5 ? "," : "") + replica->target();
  }
  // One channel; the client library retries what the draining replica
  // refuses (UNAVAILABLE) on the others.
  auto client = BalancedClient(target, /*max_attempts=*/6);
  ASSERT_NE(client, nullptr);
  Load load;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] { load.Run(client.get(), expected, t, stop); });
  }
  load.AwaitOk(150);
  const double drained_share = ScrapeMetrics(replicas[0]->metrics_port())[kOkEmbeds];
  replicas[0]->Signal(SIGTERM);
  ASSERT_TRUE(replicas[0]->WaitForLog("draining: health NOT_SERVING", absl::Seconds(30)));
  load.AwaitOk(load.ok() + 150);
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(replicas[0]->WaitForExit(absl::Seconds(60)), 0) << replicas[0]->Log();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty());
  EXPECT_EQ(load.wrong(), 0);
  EXPECT_GE(load.ok(), 300);
  // Every replica did a share: the drained one before it went, the two
  // others before and after.
  EXPECT_GT(drained_share, 0);
  for (int r = 1; r < 3; ++r) {
    EXPECT_GT(ScrapeMetrics(replicas[r]->metrics_port())[kOkEmbeds], 30) << "replica " << r;
  }
}

TEST(ScaleOutTest, ConnectionsClosedByAgeLoseNoCall) {
  const std::vector<std::vector<float>> expected = ExpectedCls();
  std::vector<std::string> args = DefaultServerArgs();
  args.push_back("--max_connection_age_ms=300");
  args.push_back("--max_connection_age_grace_ms=500");
  ServerProcess server(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  // No retries: a call may only succeed, across every GOAWAY.
  auto client = BalancedClient(server.target(), /*max_attempts=*/1);
  ASSERT_NE(client, nullptr);
  // A stream held open longer than age + grace shows the server really
  // closes aged connections: it is cut.
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto stub = v1::SecureBert::NewStub(channel);
  grpc::ClientContext stream_context;
  auto stream = stub->EmbedStream(&stream_context);
  v1::EmbedRequest first;
  first.add_inputs("held open");
  ASSERT_TRUE(stream->Write(first));
  v1::EmbedResponse response;
  ASSERT_TRUE(stream->Read(&response));

  Load load;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { load.Run(client.get(), expected, t, stop); });
  }
  // The stream ends once its connection is closed (after 300 + 500 ms);
  // unary calls go on, on new connections.
  while (stream->Read(&response)) {
  }
  const grpc::Status cut = stream->Finish();
  load.AwaitOk(load.ok() + 200);
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::UNAVAILABLE) << cut.error_message();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty());
  EXPECT_EQ(load.wrong(), 0);
  EXPECT_GE(load.ok(), 200);
}

}  // namespace
}  // namespace securebert::testing
