// Taking the request path down: with the grace over while requests still
// wait for the tokenizer pool, they are answered UNAVAILABLE, nothing calls
// into the engine once it is gone, and work that finished in time is
// answered. A pool task held by the test makes the race deterministic.
#include "service/request_path.h"

#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "batching/testing/fake_model.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

class RequestPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = std::string(SECUREBERT_SOURCE_DIR) + "/tests/data/tokenizer/";
    auto tok = tokenizer::Tokenizer::FromFiles(data + "vocab.json", data + "merges.txt");
    ASSERT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = *std::move(tok);
    batching::testing::FakeModelOptions model_options;
    model_options.vocab_size = 50265;
    model_options.log = &log_;
    std::vector<std::unique_ptr<batching::Model>> instances;
    instances.push_back(std::make_unique<batching::testing::FakeModel>(model_options));
    RequestPathOptions options;
    options.pool = {.threads = 1, .max_queued = 64};
    options.engine.warmup_batch_sizes.clear();
    auto path = RequestPath::Create(options, tokenizer_.get(), std::move(instances), &metrics_);
    ASSERT_TRUE(path.ok()) << path.status();
    path_ = *std::move(path);
  }

  // Submits an Embed of `text`; its answer lands in `results_[index]`.
  void Submit(const std::string& text) {
    ModelRequest request;
    request.request.kind = batching::Request::Kind::kEmbed;
    request.texts = std::make_shared<const std::vector<std::string>>(1, text);
    const size_t index = results_.size();
    results_.emplace_back(absl::UnknownError("unanswered"));
    path_->pipeline()->Submit(std::move(request), [this, index](absl::StatusOr<ModelResult> r) {
      absl::MutexLock lock(&mu_);
      results_[index] = r.status();
      ++answered_;
    });
  }

  // Waits (bounded: a guard against a hang, not a timing assertion) until
  // `count` requests are answered.
  bool AwaitAnswered(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return answered_ >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(30));
  }

  ServerMetrics metrics_;
  batching::testing::BatchLog log_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  absl::Mutex mu_;
  std::vector<absl::Status> results_;  // sized before any callback can run
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<RequestPath> path_;  // last: stopped first
};

TEST_F(RequestPathTest, GraceOverWhileTokenizingAnswersQueuedWorkUnavailable) {
  // The pool's only thread is held, so every request waits to be tokenized
  // when the grace (zero) is over.
  absl::Notification holding, release;
  path_->pool()->Submit(PoolTask{[&] {
                                   holding.Notify();
                                   release.WaitForNotification();
                                 },
                                 [](absl::Status) {}});
  holding.WaitForNotification();
  results_.reserve(20);
  for (int i = 0; i < 20; ++i) Submit("request " + std::to_string(i));
  bool on_time = true;
  std::thread drain([&] { on_time = path_->Drain(absl::Now()); });
  // Drain answers the queued requests before it waits for the held task.
  const bool answered = AwaitAnswered(20);
  release.Notify();
  drain.join();
  ASSERT_TRUE(answered) << "queued requests were left unanswered at the end of the grace";
  EXPECT_FALSE(on_time);
  for (const absl::Status& s : results_) EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(log_.batches().empty());  // none of them reached the (now destroyed) engine
  EXPECT_EQ(path_->engine(), nullptr);
  // Afterwards new work is refused inline, still without touching the engine.
  Submit("late");
  ASSERT_TRUE(AwaitAnswered(21));
  EXPECT_EQ(results_.back().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RequestPathTest, DrainInTimeAnswersEverythingAccepted) {
  results_.reserve(30);
  for (int i = 0; i < 30; ++i) Submit("request " + std::to_string(i));
  EXPECT_TRUE(path_->Drain(absl::InfiniteFuture()));
  ASSERT_TRUE(AwaitAnswered(30));
  for (const absl::Status& s : results_) EXPECT_TRUE(s.ok()) << s;
  // Once drained, new work is refused.
  results_.reserve(31);
  Submit("late");
  ASSERT_TRUE(AwaitAnswered(31));
  EXPECT_EQ(results_.back().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace securebert::service
