// The bad-input table of docs/errors.md, part two: calls that misbehave
// (deadlines, cancels, garbage on a stream) and calls in volume (a stream of
// 10,000 messages, 10,000 texts over concurrent requests). After each row
// the server is healthy and answers a fixed good request as it did first.
//
// The queued-deadline and cancel rows run on a server with one instance, one
// thread and one 512-token row per batch, its queue strictly first in first
// out: a request of 32 such inputs keeps it busy for 32 forwards, so a call
// behind it is still waiting when its deadline passes, and a cancel lands
// while the request's later rows wait. What the server did is read from
// /metrics (tokens computed, requests dropped), not from timings.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/testing/answer_probe.h"
#include "tests/testing/raw_grpc.h"

namespace securebert::testing {
namespace {

using ::testing::HasSubstr;

constexpr float kModelTolerance = 1e-4f;  // server (batched) vs in-process model
const std::string kComputed = "securebert_batch_padded_tokens_total";

// Scrapes /metrics until `reached` holds for them; false after `timeout`.
template <typename Predicate>
bool AwaitMetrics(int port, Predicate reached, absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (reached(ScrapeMetrics(port))) return true;
  }
  return false;
}

std::unique_ptr<client::SecureBertClient> ClientWithDeadline(const std::string& target,
                                                             int64_t deadline_ms) {
  client::ClientOptions options;
  options.channel.target = target;
  options.deadline_ms = deadline_ms;
  options.retry.max_attempts = 1;
  auto c = client::SecureBertClient::Create(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

// The CLS vector of reference `r`.
std::vector<float> Cls(const Reference& r, int32_t hidden) {
  return std::vector<float>(r.hidden.begin(), r.hidden.begin() + hidden);
}

class BadCallsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(BinaryPath("securebert-server"), DefaultServerArgs());
    ASSERT_TRUE(server_->WaitUntilReady()) << server_->Log();
    probe_ = new AnswerProbe(server_->target());
  }
  static void TearDownTestSuite() {
    delete probe_;
    delete server_;
  }
  void SetUp() override {
    channel_ = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    probe_->ExpectHealthyAndUnchanged(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  static inline ServerProcess* server_ = nullptr;
  static inline AnswerProbe* probe_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(BadCallsTest, DeadlineAlreadyExpiredIsDeadlineExceeded) {
  auto stub = v1::SecureBert::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  v1::EmbedRequest r;
  r.add_inputs("too late");
  v1::EmbedResponse response;
  const grpc::Status s = stub->Embed(&context, r, &response);
  std::printf("  -> code %d: %s\n", s.error_code(), s.error_message().c_str());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
}

TEST_F(BadCallsTest, GarbageOnAStreamThenHalfCloseIsInvalidArgument) {
  v1::EmbedRequest good;
  good.add_inputs("a good message first");
  const std::string garbage("\x0a\x7fshort", 7);  // a length past the end
  const std::string kMessage = "the request does not parse as a securebert.v1.EmbedRequest";
  RawStreamResult only = RawBidiStream::Run(channel_, "EmbedStream", {garbage});
  std::printf("  -> code %d: %s\n", only.status.error_code(), only.status.error_message().c_str());
  EXPECT_EQ(only.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(only.status.error_message(), HasSubstr(kMessage));
  EXPECT_EQ(only.responses, 0);
  // The answers before the garbage come first.
  RawStreamResult after =
      RawBidiStream::Run(channel_, "EmbedStream", {good.SerializeAsString(), garbage});
  EXPECT_EQ(after.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(after.status.error_message(), HasSubstr(kMessage));
  EXPECT_EQ(after.responses, 1);
}

TEST_F(BadCallsTest, EmbedStreamOfTenThousandMessagesIsAnsweredInOrder) {
  constexpr int kMessages = 10000;
  constexpr int kDistinct = 50;
  InProcessModel model;
  std::vector<v1::EmbedRequest> requests(kDistinct);
  std::vector<Reference> want;
  for (int i = 0; i < kDistinct; ++i) {
    requests[i].add_inputs("stream message " + std::to_string(i) + std::string(i * 3, 'x'));
    requests[i].set_pooling(v1::POOLING_CLS);
    want.push_back(model.Run(requests[i].inputs(0)));
  }
  auto stub = v1::SecureBert::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = stub->EmbedStream(&context);
  std::thread writer([&] {
    for (int i = 0; i < kMessages && stream->Write(requests[i % kDistinct]); ++i) {
    }
    stream->WritesDone();
  });
  int read = 0, wrong = 0;
  v1::EmbedResponse response;
  for (; stream->Read(&response); ++read) {
    const Reference& w = want[read % kDistinct];
    if (response.embeddings(0).num_tokens() != w.ids.size() ||
        MaxAbsDiff(Cls(w, model.hidden_size()), response.embeddings(0).values()) >
            kModelTolerance) {
      ++wrong;
    }
  }
  writer.join();
  const grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(read, kMessages);
  EXPECT_EQ(wrong, 0);
}

TEST_F(BadCallsTest, TenThousandTextsOverConcurrentRequestsAreAllAnsweredCorrectly) {
  constexpr int kTexts = 10000;
  constexpr int kPerRequest = 8;  // DefaultServerArgs' max_client_batch_size
  constexpr int kThreads = 32;
  constexpr int kDistinct = 500;
  InProcessModel model;
  auto text = [](int i) {
    std::string t = "indicator " + std::to_string(i % kDistinct);
    for (int w = 0; w < i % kDistinct % 40; ++w) t += " hop" + std::to_string(w);
    return t;
  };
  std::vector<std::vector<float>> want;
  std::vector<size_t> want_tokens;
  for (int i = 0; i < kDistinct; ++i) {
    const Reference r = model.Run(text(i));
    want.push_back(Cls(r, model.hidden_size()));
    want_tokens.push_back(r.ids.size());
  }
  absl::Mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  std::atomic<int> answered{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = MakeClient(server_->target());
      for (int first = t * kPerRequest; first < kTexts; first += kThreads * kPerRequest) {
        v1::EmbedRequest r;
        for (int i = first; i < first + kPerRequest; ++i) r.add_inputs(text(i));
        r.set_pooling(v1::POOLING_CLS);
        absl::StatusOr<v1::EmbedResponse> resp = client->Embed(r);
        if (!resp.ok()) {
          absl::MutexLock lock(&mu);
          failures.push_back(resp.status().ToString());
          continue;
        }
        for (int k = 0; k < kPerRequest; ++k) {
          const int d = (first + k) % kDistinct;
          const auto& e = resp->embeddings(k);
          if (e.num_tokens() != want_tokens[d] ||
              MaxAbsDiff(want[d], e.values()) > kModelTolerance) {
            ++wrong;
          }
          ++answered;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_EQ(answered.load(), kTexts);
  EXPECT_EQ(wrong.load(), 0);
}

// One instance, one thread, one 512-token row per batch, first in first out.
class BusyServerTest : public ::testing::Test {
 protected:
  static constexpr int kRows = 32;        // inputs of one long request
  static constexpr int kRowTokens = 512;  // each truncated to max_input_tokens
  static constexpr int64_t kQueuedDeadlineMs = 100;

  static void SetUpTestSuite() {
    server_ =
        new ServerProcess(BinaryPath("securebert-server"),
                          {"--model_dir=" + TinyModelDir(), "--instances=1", "--intra_op_threads=1",
                           "--max_batch_tokens=512", "--fairness_bound_tokens=0",
                           "--max_client_batch_size=32", "--log_level=info"});
    ASSERT_TRUE(server_->WaitUntilReady()) << server_->Log();
    probe_ = new AnswerProbe(server_->target());
  }
  static void TearDownTestSuite() {
    delete probe_;
    delete server_;
  }
  void TearDown() override {
    probe_->ExpectHealthyAndUnchanged(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // kRows inputs of kRowTokens tokens each (truncated): kRows forwards.
  static v1::EmbedRequest LongRequest(int tag) {
    v1::EmbedRequest r;
    for (int i = 0; i < kRows; ++i) {
      std::string text = "busy " + std::to_string(tag) + " row " + std::to_string(i);
      for (int w = 0; w < 300; ++w) text += " lateral movement";
      r.add_inputs(text);
    }
    r.set_pooling(v1::POOLING_CLS);
    r.set_truncation(v1::TRUNCATION_RIGHT);
    return r;
  }
  double Metric(const std::string& name) { return ScrapeMetrics(server_->metrics_port())[name]; }

  static inline ServerProcess* server_ = nullptr;
  static inline AnswerProbe* probe_ = nullptr;
};

TEST_F(BusyServerTest, DeadlineThatExpiresWhileQueuedIsDroppedBeforeCompute) {
  auto client = MakeClient(server_->target());
  // How long one long request takes alone, to queue ten deadlines' worth.
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client->Embed(LongRequest(-1)).ok());
  const absl::Duration one = absl::Now() - start;
  const int requests = 2 + static_cast<int>(10 * absl::Milliseconds(kQueuedDeadlineMs) / one);
  const std::string dropped = "securebert_engine_dropped_total{code=\"DEADLINE_EXCEEDED\"}";
  const std::string ok = "securebert_requests_total{rpc=\"Embed\",code=\"OK\"}";
  const std::string cancelled = "securebert_engine_dropped_total{code=\"CANCELLED\"}";
  const double dropped_before = Metric(dropped), ok_before = Metric(ok);
  const double cancelled_before = Metric(cancelled);
  const double computed_before = Metric(kComputed);
  std::atomic<int> busy_ok{0};
  std::vector<std::thread> busy;
  for (int i = 0; i < requests; ++i) {
    busy.emplace_back([&, i] {
      if (MakeClient(server_->target())->Embed(LongRequest(i)).ok()) ++busy_ok;
    });
  }
  // Every long request admitted (waiting, running or already answered).
  ASSERT_TRUE(AwaitMetrics(server_->metrics_port(), [&](std::map<std::string, double> m) {
    return m[ok] - ok_before + m["securebert_queue_requests"] >= requests;
  }));
  v1::EmbedRequest late;
  late.add_inputs("queued behind the busy ones");
  const absl::Status s =
      ClientWithDeadline(server_->target(), kQueuedDeadlineMs)->Embed(late).status();
  std::printf("  -> %s (%d long requests of %.0f ms queued ahead)\n", s.ToString().c_str(),
              requests, absl::ToDoubleMilliseconds(one));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  for (auto& th : busy) th.join();
  EXPECT_EQ(busy_ok.load(), requests);
  // The worker computed only the long requests' rows: it dropped the
  // expired call unrun, once. It counts it DEADLINE_EXCEEDED when the
  // server's deadline has passed when it looks, and CANCELLED when the
  // client's own deadline timer cancelled the call first: the server's
  // deadline starts when the call's headers arrive, later than the client's
  // by the time they took (seconds on a loaded machine), so which of the two
  // it sees is a race the server cannot settle.
  EXPECT_EQ(Metric(kComputed) - computed_before,
            static_cast<double>(requests) * kRows * kRowTokens);
  EXPECT_EQ(Metric(dropped) + Metric(cancelled) - dropped_before - cancelled_before, 1)
      << "dropped: " << Metric(dropped) - dropped_before << " DEADLINE_EXCEEDED, "
      << Metric(cancelled) - cancelled_before << " CANCELLED";
}

TEST_F(BusyServerTest, ClientThatCancelsMidBatchLeavesTheRestUncomputed) {
  const std::string dropped = "securebert_engine_dropped_total{code=\"CANCELLED\"}";
  const double dropped_before = Metric(dropped), computed_before = Metric(kComputed);
  auto channel = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::SecureBert::NewStub(channel);
  grpc::ClientContext context;
  const v1::EmbedRequest request = LongRequest(1000);
  v1::EmbedResponse response;
  grpc::Status status;
  absl::Notification done;
  stub->async()->Embed(&context, &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  // Its first row has been computed: the request is mid-way.
  ASSERT_TRUE(AwaitMetrics(server_->metrics_port(), [&](std::map<std::string, double> m) {
    return m[kComputed] - computed_before >= kRowTokens;
  }));
  context.TryCancel();
  done.WaitForNotification();
  std::printf("  -> code %d: %s\n", status.error_code(), status.error_message().c_str());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  // The probe's request queues behind the cancelled rows, so once it is
  // answered the worker has dropped them.
  probe_->ExpectHealthyAndUnchanged("the cancel");
  EXPECT_EQ(Metric(dropped) - dropped_before, 1);
  const double rows = (Metric(kComputed) - computed_before) / kRowTokens;
  std::printf("  rows computed of the cancelled request (and the probe's): %.2f of %d\n", rows,
              kRows);
  EXPECT_LT(rows, kRows);
}

}  // namespace
}  // namespace securebert::testing
