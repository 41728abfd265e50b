// The server's life cycle, run as a real process: health transitions,
// reflection, HTTP probes and metrics, configuration errors, environment
// variables, and a graceful drain under load.
#include <signal.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc_reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"

namespace securebert::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

TEST(LifecycleTest, HealthGoesServingThenNotServingOnDrainAndExitsZero) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitForLog("listening:", absl::Seconds(60))) << server.Log();
  // The port is in the "listening:" line, printed before the model loads.
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("securebert.v1.SecureBert");
  auto reader = health->Watch(&context, request);
  HealthCheckResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(HttpGet(server.metrics_port(), "/readyz").first, 200);

  server.Signal(SIGTERM);
  HealthCheckResponse next;
  ASSERT_TRUE(reader->Read(&next));
  EXPECT_EQ(next.status(), HealthCheckResponse::NOT_SERVING);
  context.TryCancel();
  EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 0) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("draining"));
}

TEST(LifecycleTest, SecondSignalExitsAtOnce) {
  std::vector<std::string> args = DefaultServerArgs();
  args.push_back("--shutdown_linger_ms=60000");  // the drain would take a minute
  ServerProcess server(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitForLog("draining: health NOT_SERVING", absl::Seconds(30))) << server.Log();
  server.Signal(SIGINT);
  EXPECT_EQ(server.WaitForExit(absl::Seconds(30)), 1) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("second signal"));
}

TEST(LifecycleTest, ReflectionListsTheService) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("*");
  ASSERT_TRUE(stream->Write(list));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names,
              ::testing::IsSupersetOf({"securebert.v1.SecureBert", "grpc.health.v1.Health"}));
  grpc::reflection::v1alpha::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("securebert.v1.SecureBert");
  ASSERT_TRUE(stream->Write(symbol));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  context.TryCancel();
}

TEST(LifecycleTest, HttpProbesAndMetricsMove) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  EXPECT_EQ(HttpGet(server.metrics_port(), "/healthz"), std::make_pair(200, std::string("ok\n")));
  EXPECT_EQ(HttpGet(server.metrics_port(), "/readyz").first, 200);
  const std::string ok_embed = "securebert_requests_total{rpc=\"Embed\",code=\"OK\"}";
  const std::string bad_embed =
      "securebert_requests_total{rpc=\"Embed\",code=\"INVALID_ARGUMENT\"}";
  auto before = ScrapeMetrics(server.metrics_port());
  EXPECT_EQ(before.count(ok_embed), 0u);
  EXPECT_EQ(before.at("securebert_model_info{model_id=\"random-init/tiny\",device=\"cpu\","
                      "dtype=\"float32\",hidden_size=\"64\",max_input_tokens=\"128\","
                      "instances=\"" +
                      std::to_string(std::max(1u, std::thread::hardware_concurrency())) + "\"}"),
            1);
  auto client = MakeClient(server.target());
  v1::EmbedRequest r;
  r.add_inputs("metrics should move");
  ASSERT_TRUE(client->Embed(r).ok());
  ASSERT_TRUE(client->Embed(r).ok());
  EXPECT_FALSE(client->Embed(v1::EmbedRequest()).ok());
  auto after = ScrapeMetrics(server.metrics_port());
  EXPECT_EQ(after.at(ok_embed), 2);
  EXPECT_EQ(after.at(bad_embed), 1);
  EXPECT_GE(after.at("securebert_batch_size_count"), 2);
  EXPECT_GT(after.at("securebert_batch_real_tokens_total"), 0);
  EXPECT_EQ(after.at("securebert_in_flight_requests"), 0);
  EXPECT_GT(after.at("securebert_request_duration_seconds_count{rpc=\"Embed\"}"), 2);
}

TEST(LifecycleTest, InvalidConfigurationExitsTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--model_dir=" + TinyModelDir(), "--max_batch_tokens=-100"},
      {"--model_dir=" + TinyModelDir(), "--log_format=xml"},
      {"--model_dir=" + TinyModelDir(), "--max_batch_size=0"},
      {"--model_dir=" + TinyModelDir(), "--device=cpu", "--dtype=float16"},
      {},
  };
  for (const auto& args : bad) {
    ServerProcess server(BinaryPath("securebert-server"), args);
    EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 2) << ::testing::PrintToString(args) << "\n"
                                                        << server.Log();
  }
  ServerProcess missing(BinaryPath("securebert-server"), {"--model_dir=/nonexistent/model"});
  EXPECT_EQ(missing.WaitForExit(absl::Seconds(60)), 1) << missing.Log();
  EXPECT_THAT(missing.Log(), HasSubstr("/nonexistent/model"));
}

TEST(LifecycleTest, EnvironmentSetsFlagsAndCommandLineWins) {
  setenv("SECUREBERT_MAX_CLIENT_BATCH_SIZE", "3", 1);
  setenv("SECUREBERT_MAX_BATCH_SIZE", "5", 1);
  std::vector<std::string> args = DefaultServerArgs();  // sets --max_client_batch_size=8
  args.erase(std::remove_if(
                 args.begin(), args.end(),
                 [](const std::string& a) { return a.rfind("--max_client_batch_size", 0) == 0; }),
             args.end());
  args.push_back("--max_batch_size=6");
  ServerProcess server(BinaryPath("securebert-server"), args);
  unsetenv("SECUREBERT_MAX_CLIENT_BATCH_SIZE");
  unsetenv("SECUREBERT_MAX_BATCH_SIZE");
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  auto info = MakeClient(server.target())->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->max_client_batch_size(), 3u);
  EXPECT_EQ(info->max_batch_size(), 6u);
}

// UNAVAILABLE for a request the server never accepted: refused while
// draining, or no server left to connect to. An accepted request cut off
// mid-way ("Socket closed", "Connection reset") is not a refusal.
bool IsRefusal(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kUnavailable) return false;
  for (const char* text : {"draining", "connect", "refused", "GOAWAY", "hutdown"}) {
    if (s.message().find(text) != absl::string_view::npos) return true;
  }
  return false;
}

TEST(LifecycleTest, SigtermUnderLoadAnswersEveryAcceptedRequest) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  constexpr int kThreads = 16;
  std::atomic<int> ok{0}, refused{0}, other{0}, total{0};
  absl::Notification warmed_up;
  std::vector<std::string> unexpected[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = MakeClient(server.target());
      for (int i = 0;; ++i) {
        v1::EmbedRequest r;
        r.add_inputs("drain test " + std::to_string(t) + " " + std::to_string(i) +
                     std::string(i % 50, 'z'));
        r.set_pooling(v1::POOLING_CLS);
        absl::StatusOr<v1::EmbedResponse> resp = client->Embed(r);
        if (++total == 200) warmed_up.Notify();
        if (resp.ok()) {
          ++ok;
        } else if (IsRefusal(resp.status())) {
          ++refused;  // refused by the draining server, or it has exited
          return;
        } else {
          ++other;
          unexpected[t].push_back(resp.status().ToString());
          return;
        }
      }
    });
  }
  warmed_up.WaitForNotification();
  server.Signal(SIGTERM);
  for (auto& th : threads) th.join();
  EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 0) << server.Log();
  EXPECT_EQ(other.load(), 0) << ::testing::PrintToString(unexpected[0]);
  EXPECT_EQ(refused.load(), kThreads);
  EXPECT_GE(ok.load(), 200 - kThreads);
  EXPECT_THAT(server.Log(), HasSubstr("drained"));
}

#ifdef SECUREBERT_HAS_CUDA_SERVER
// securebert-server-cuda links the torch wheel's CUDA backend: it says so at
// start, and it serves on CUDA where a GPU is, or refuses --device cuda with
// one clear line where none is (every CI machine here).
TEST(LifecycleTest, CudaServerLinksTheCudaBackend) {
  std::vector<std::string> args = DefaultServerArgs();
  args.push_back("--device=cuda");
  ServerProcess server(BinaryPath("securebert-server-cuda"), args);
  ASSERT_TRUE(server.WaitForLog("cpu: torch=", absl::Seconds(60))) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("CUDA runtime "));
  if (!server.WaitUntilReady()) {  // exited: no GPU here
    EXPECT_THAT(server.Log(), HasSubstr("CUDA is not available"));
    EXPECT_EQ(server.WaitForExit(absl::Seconds(30)), 1) << server.Log();
    return;
  }
  auto info = MakeClient(server.target())->GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->device(), "cuda:0");
}
#endif

// With no grace at all, work still queued when the drain starts is answered
// UNAVAILABLE by the server itself, the batch running is answered, and the
// server exits 0: nothing calls into the engine once it is gone (run under
// ASan in the suite, where that was a heap-use-after-free).
TEST(LifecycleTest, SigtermWithNoGraceAnswersQueuedWorkUnavailableAndExitsZero) {
  std::vector<std::string> args = DefaultServerArgs();
  args.push_back("--shutdown_grace_s=0");
  args.push_back("--tokenizer_threads=1");  // a queue in front of the tokenizer
  ServerProcess server(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  constexpr int kThreads = 32;
  std::atomic<int> ok{0}, unavailable{0}, total{0};
  absl::Mutex mu;
  std::vector<std::string> other;  // guarded by mu
  absl::Notification loaded;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = MakeClient(server.target());
      for (int i = 0;; ++i) {
        v1::EmbedRequest r;
        for (int k = 0; k < 8; ++k) r.add_inputs("no grace " + std::to_string(t * 1000 + i + k));
        r.set_pooling(v1::POOLING_MEAN);
        absl::StatusOr<v1::EmbedResponse> resp = client->Embed(r);
        if (++total == 100) loaded.Notify();
        if (resp.ok()) {
          ++ok;
          continue;
        }
        if (resp.status().code() == absl::StatusCode::kUnavailable) {
          ++unavailable;
        } else {
          absl::MutexLock lock(&mu);
          other.push_back(resp.status().ToString());
        }
        return;
      }
    });
  }
  loaded.WaitForNotification();
  server.Signal(SIGTERM);
  for (auto& th : threads) th.join();
  EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 0) << server.Log();
  EXPECT_GE(ok.load(), 100 - kThreads);
  EXPECT_EQ(unavailable.load() + static_cast<int>(other.size()), kThreads);
  EXPECT_TRUE(other.empty()) << ::testing::PrintToString(other);
  EXPECT_THAT(server.Log(), HasSubstr("drained"));
}

// A stream open across a drain: the messages it sent before are answered in
// order, later ones are refused, and the server still exits 0.
TEST(LifecycleTest, DrainWithAStreamOpenAnswersWhatItAcceptedThenRefuses) {
  ServerProcess server(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(server.WaitUntilReady()) << server.Log();
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto stub = v1::SecureBert::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->EmbedStream(&context);
  v1::EmbedRequest r;
  r.add_inputs("open across the drain");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Write(r));
  v1::EmbedResponse response;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Read(&response)) << i;
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.WaitForLog("draining: health NOT_SERVING", absl::Seconds(30))) << server.Log();
  // The drain refuses what the stream sends from now on.
  stream->Write(r);
  stream->WritesDone();
  while (stream->Read(&response)) {
  }
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message() << "\n"
                                                           << server.Log();
  EXPECT_THAT(s.error_message(), HasSubstr("draining"));
  EXPECT_EQ(server.WaitForExit(absl::Seconds(60)), 0) << server.Log();
}

}  // namespace
}  // namespace securebert::testing
