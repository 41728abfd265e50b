// LoadRunner: drives securebert-load. It spreads `concurrency` slots over
// the given channels (one TCP connection each), runs an optional warm-up
// phase and then the measured phase, and returns the measured statistics.
//
// Closed loop (rps == 0): every slot sends its next request as soon as the
// last one is answered, from the gRPC completion callback — no thread per
// slot, so c=64 costs a few threads, not 64. Open loop (rps > 0): this
// thread sends on a fixed schedule (start + i / rps) to whichever slot is
// idle; latency counts from the scheduled time, so time spent waiting for a
// free slot is not hidden (no coordinated omission).
//
// The measured phase ends after total_requests answers, or, with a
// duration, once the duration has passed and every request in flight is
// answered. A monitor thread (owned, joined by Run) enforces stream
// deadlines and prints the progress line.
//
// Thread safety: Run is called once, from one thread. OnRequestDone comes
// from gRPC threads; runner state is guarded by mu_.
#ifndef SECUREBERT_CLIENT_LOAD_LOAD_RUNNER_H_
#define SECUREBERT_CLIENT_LOAD_LOAD_RUNNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/load/call_slot.h"
#include "client/load/load_stats.h"
#include "client/load/workload.h"

namespace securebert::client {

class LoadRunner final : public SlotListener {
 public:
  struct Options {
    // The RPC to load.
    LoadCall call = LoadCall::kEmbed;
    // Requests in flight at once (slots); >= 1.
    int concurrency = 50;
    // Requests measured when duration is zero; >= 1.
    int64_t total_requests = 200;
    // > 0: measure for this long instead (total_requests is ignored).
    absl::Duration duration = absl::ZeroDuration();
    // > 0: open loop at this many requests per second (still at most
    // `concurrency` in flight); 0: closed loop.
    double rps = 0;
    // Requests sent first and left out of the statistics.
    int64_t warmup_requests = 0;
    // Texts per request.
    int inputs_per_request = 1;
    // Per-request deadline; zero: none.
    absl::Duration deadline = absl::Seconds(20);
    // How long Run waits for every connection before giving up.
    absl::Duration connect_timeout = absl::Seconds(10);
    // Print a progress line to stderr (for terminals).
    bool show_progress = false;
    // How often the monitor enforces stream deadlines and prints progress.
    absl::Duration monitor_interval = absl::Milliseconds(250);
  };

  // What the measured phase saw.
  struct Result {
    StatsSummary stats;
    // From the first request sent to the last answer.
    absl::Duration total = absl::ZeroDuration();
  };

  // `workload` is not owned and must outlive the runner. Slot i uses
  // channels[i % channels.size()]; channels must not be empty.
  LoadRunner(const Options& options, const RequestSettings& settings, const Workload* workload,
             std::vector<std::shared_ptr<grpc::Channel>> channels);
  ~LoadRunner() override;

  // Connects, warms up, measures. UNAVAILABLE when a connection cannot be
  // made within connect_timeout. Blocks until every request is answered.
  absl::StatusOr<Result> Run() ABSL_LOCKS_EXCLUDED(mu_);

  void OnRequestDone(CallSlot* slot, absl::Time intended_start, const absl::Status& status,
                     int64_t tokens, absl::Duration model_time) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Sends `limit` requests (or, with limit < 0, until `end`) and waits for
  // every answer; answers go to `stats`. Returns the last answer's time.
  absl::Time RunPhase(const char* name, LoadStats* stats, int64_t limit, absl::Time end)
      ABSL_LOCKS_EXCLUDED(mu_);
  void StartClosedLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void PaceOpenLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the next request of the phase, if the phase is not over.
  bool ClaimLocked(absl::Time now, int64_t* index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The monitor thread's loop.
  void Monitor() ABSL_LOCKS_EXCLUDED(mu_);
  void PrintProgress() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const Options options_;
  const std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::SecureBert::Stub>> stubs_;
  std::vector<std::unique_ptr<CallSlot>> slots_;

  absl::Mutex mu_;
  // The phase running: its name, statistics, request limit (< 0: until
  // phase_end_), start, and how many requests it has sent.
  const char* phase_name_ ABSL_GUARDED_BY(mu_) = "";
  LoadStats* stats_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t phase_limit_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time phase_end_ ABSL_GUARDED_BY(mu_);
  absl::Time phase_start_ ABSL_GUARDED_BY(mu_);
  int64_t phase_sent_ ABSL_GUARDED_BY(mu_) = 0;
  // Workload position of the next request; runs on across phases.
  int64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  // Requests sent and not yet answered.
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // When the latest answer came.
  absl::Time last_answer_ ABSL_GUARDED_BY(mu_);
  // Open loop: slots with nothing in flight.
  std::vector<CallSlot*> idle_slots_ ABSL_GUARDED_BY(mu_);
  // Tells the monitor thread to return.
  bool stop_monitor_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_LOAD_RUNNER_H_
