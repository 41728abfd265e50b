// securebert-server: flags and wiring only. Every flag can also be set by
// an environment variable SECUREBERT_<FLAG> (upper case); a flag given on
// the command line wins. See docs/configuration.md.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "app/server.h"
#include "model/blas_kernel.h"
#include "model/host_allocator.h"
#include "service/logging.h"

ABSL_FLAG(std::string, model_dir, "",
          "Exported model directory (tools/export_model.py). Required.");
ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC listen address host:port (port 0: any).");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N.");
ABSL_FLAG(std::string, dtype, "float32", "float32; float16 or bfloat16 on CUDA.");
ABSL_FLAG(int32_t, intra_op_threads, 0,
          "LibTorch threads per model instance; 0: cores / instances.");
ABSL_FLAG(int32_t, instances, 0,
          "Model instances (each with its own batch worker); 0: one per core on CPU, 1 on CUDA.");
ABSL_FLAG(int32_t, max_batch_tokens, 0,
          "Token budget of one batch, counted padded (longest x rows); an input longer than it "
          "runs alone. "
          "0: 128 on CPU, 16384 on CUDA.");
ABSL_FLAG(bool, lend_idle_cores, true,
          "A batch cut while nothing else waits also runs on idle instances' cores (a lone "
          "request uses every core); they come back when its forward ends.");
ABSL_FLAG(bool, tune_malloc, true,
          "Keep freed activation memory mapped for reuse (jemalloc: no page purging; glibc: "
          "blocks up to 32 MiB from the heap) instead of faulting it in on every forward.");
ABSL_FLAG(int32_t, max_batch_size, 32, "Most sequences in one batch.");
ABSL_FLAG(int64_t, max_queue_delay_us, 0,
          "How long a free worker waits for a fuller batch, from the oldest entry (us).");
ABSL_FLAG(int32_t, max_concurrent_requests, 512,
          "Admitted, unanswered model requests; past it RESOURCE_EXHAUSTED at once.");
ABSL_FLAG(int64_t, fairness_bound_us, 100000,
          "A waiting input older than this (us) runs in the next batch, ahead of fuller batches "
          "of other lengths.");
ABSL_FLAG(int64_t, fairness_bound_tokens, 1024,
          "The same bound in work: a waiting input runs next once batches cut after it arrived "
          "hold this many padded tokens. 0: the oldest input always runs next.");
ABSL_FLAG(int32_t, max_client_batch_size, 32, "Most inputs in one request.");
ABSL_FLAG(int32_t, max_masks_per_input, 128,
          "Most <mask> tokens in one PredictMask input (INVALID_ARGUMENT past it).");
ABSL_FLAG(int32_t, window_stride_tokens, 128,
          "TRUNCATION_WINDOW: tokens neighbouring windows of a long input share (at most half "
          "a window; a larger value is clamped)");
ABSL_FLAG(int32_t, max_windows_per_input, 64,
          "TRUNCATION_WINDOW: most windows one input may take (64 windows of 512 tokens "
          "overlapping by 128 hold about 25,000 tokens); INVALID_ARGUMENT past it");
ABSL_FLAG(int64_t, max_mask_predictions, 20000,
          "Most candidates in one PredictMask answer: masks over all inputs x top_k "
          "(INVALID_ARGUMENT past it, before compute).");
ABSL_FLAG(int32_t, max_input_tokens, 0,
          "Longest input in tokens incl. <s> </s>; 0: the model's (512). May only lower it.");
ABSL_FLAG(int64_t, max_message_bytes, 64 << 20,
          "gRPC send/receive limit per message (a 512-token POOLING_NONE answer is ~1.5 MB).");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9090",
          "HTTP address for /metrics, /healthz, /readyz; empty disables.");
ABSL_FLAG(int64_t, max_connection_age_ms, 0,
          "Close a client connection older than this (ms; GOAWAY) so clients reconnect and "
          "spread over replicas added since (gRPC pins a connection to one server). 0: never.");
ABSL_FLAG(int64_t, max_connection_age_grace_ms, 30000,
          "Calls still running on an aged connection get this long (ms) before it is closed.");
ABSL_FLAG(int64_t, shutdown_grace_s, 30,
          "Seconds a drain (SIGTERM/SIGINT) waits for accepted work before stopping.");
ABSL_FLAG(int64_t, shutdown_linger_ms, 2000,
          "After accepted work is done, a drain keeps answering UNAVAILABLE this long (within "
          "the grace) before closing, so clients and load balancers move on.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve gRPC over TLS only (with --tls_key). The metrics port "
          "stays plaintext.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: also require a client certificate signed by them (mutual TLS).");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "File of bearer tokens, one per line (# comments): every SecureBert RPC needs "
          "'authorization: Bearer <token>' (health and reflection stay open). Re-read on SIGHUP. "
          "Needs --tls_cert.");
ABSL_FLAG(int32_t, tokenizer_threads, 0, "Tokenizer pool threads; 0: one per core.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error, critical or off.");
ABSL_FLAG(std::string, log_format, "text", "text or json.");

namespace {

using securebert::app::Server;
using securebert::app::ServerOptions;

// Exit codes: 0 drained, 1 failed to start or serve, 2 invalid configuration.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// SECUREBERT_<FLAG> sets a flag's value before the command line is parsed,
// so the command line wins.
bool ApplyEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->Filename().find("server/main.cc") == std::string::npos) continue;
    const std::string env = absl::StrCat("SECUREBERT_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(env.c_str());
    std::string error;
    if (value != nullptr && !flag->ParseFrom(value, &error)) {
      std::cerr << "securebert-server: " << env << "=" << value << ": " << error << "\n";
      return false;
    }
  }
  return true;
}

absl::Status Validate(const ServerOptions& o) {
  if (o.model_dir.empty()) return absl::InvalidArgumentError("--model_dir is required");
  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v > 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=", v, " must be positive"));
  };
  for (const auto& [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"max_batch_size", o.engine.max_batch_size},
           {"max_concurrent_requests", o.engine.max_concurrent_requests},
           {"max_client_batch_size", o.service.limits.max_client_batch_size},
           {"max_masks_per_input", o.service.limits.max_masks_per_input},
           {"max_mask_predictions", o.service.limits.max_mask_predictions},
           {"max_windows_per_input", o.service.limits.max_windows_per_input},
           {"max_message_bytes", o.max_message_bytes}}) {
    if (absl::Status s = positive(name, v); !s.ok()) return s;
  }
  if (o.engine.max_batch_tokens < 0 || o.instances < 0 || o.intra_op_threads < 0 ||
      o.tokenizer_threads < 0 || o.engine.max_input_tokens < 0 || o.engine.max_queue_delay_us < 0 ||
      o.engine.fairness_bound_us < 0 || o.engine.fairness_bound_tokens < 0 ||
      o.shutdown_grace_s < 0 || o.shutdown_linger_ms < 0 ||
      o.service.limits.window_overlap_tokens < 0) {
    return absl::InvalidArgumentError(
        "--max_batch_tokens, --instances, --intra_op_threads, --tokenizer_threads, "
        "--max_input_tokens, --max_queue_delay_us, --fairness_bound_us, --fairness_bound_tokens, "
        "--shutdown_grace_s, --shutdown_linger_ms and --window_stride_tokens must not be "
        "negative");
  }
  if (o.max_message_bytes > INT32_MAX) {
    return absl::InvalidArgumentError("--max_message_bytes must be below 2 GiB");
  }
  if (o.max_connection_age_ms < 0 || o.max_connection_age_ms > INT32_MAX ||
      o.max_connection_age_grace_ms < 0 || o.max_connection_age_grace_ms > INT32_MAX) {
    return absl::InvalidArgumentError(
        "--max_connection_age_ms and --max_connection_age_grace_ms must be in 0..2147483647");
  }
  return absl::OkStatus();
}

ServerOptions OptionsFromFlags() {
  ServerOptions o;
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  o.listen = absl::GetFlag(FLAGS_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  o.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.max_connection_age_ms = absl::GetFlag(FLAGS_max_connection_age_ms);
  o.max_connection_age_grace_ms = absl::GetFlag(FLAGS_max_connection_age_grace_ms);
  o.shutdown_grace_s = absl::GetFlag(FLAGS_shutdown_grace_s);
  o.shutdown_linger_ms = absl::GetFlag(FLAGS_shutdown_linger_ms);
  o.model.device = absl::GetFlag(FLAGS_device);
  o.model.dtype = absl::GetFlag(FLAGS_dtype);
  o.instances = absl::GetFlag(FLAGS_instances);
  o.intra_op_threads = absl::GetFlag(FLAGS_intra_op_threads);
  o.engine.max_input_tokens = absl::GetFlag(FLAGS_max_input_tokens);
  o.tokenizer_threads = absl::GetFlag(FLAGS_tokenizer_threads);
  o.engine.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  o.engine.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  o.engine.lend_idle_cores = absl::GetFlag(FLAGS_lend_idle_cores);
  o.engine.max_queue_delay_us = absl::GetFlag(FLAGS_max_queue_delay_us);
  o.engine.fairness_bound_us = absl::GetFlag(FLAGS_fairness_bound_us);
  o.engine.fairness_bound_tokens = absl::GetFlag(FLAGS_fairness_bound_tokens);
  o.engine.max_concurrent_requests = absl::GetFlag(FLAGS_max_concurrent_requests);
  o.service.limits.max_client_batch_size = absl::GetFlag(FLAGS_max_client_batch_size);
  o.service.limits.max_masks_per_input = absl::GetFlag(FLAGS_max_masks_per_input);
  o.service.limits.max_mask_predictions = absl::GetFlag(FLAGS_max_mask_predictions);
  o.service.limits.window_overlap_tokens = absl::GetFlag(FLAGS_window_stride_tokens);
  o.service.limits.max_windows_per_input = absl::GetFlag(FLAGS_max_windows_per_input);
  return o;
}

// SIGTERM/SIGINT handling. Libraries may start threads before main (so
// blocking the signals there is not enough); instead the handler, on
// whichever thread the signal lands, writes the signal number into a pipe
// (async-signal-safe) and a watcher thread reads it: the first signal starts
// a drain, a second exits at once.
int signal_pipe[2] = {-1, -1};

extern "C" void OnSignal(int signal) {
  const unsigned char byte = static_cast<unsigned char>(signal);
  [[maybe_unused]] const ssize_t n = write(signal_pipe[1], &byte, 1);
}

// What SIGHUP does once the server runs (re-read the bearer tokens); set by
// main, read by the watcher thread.
absl::Mutex reload_mu;
std::function<void()> on_reload ABSL_GUARDED_BY(reload_mu);

// SIGTERM/SIGINT: the first starts a drain (`stop`), a second exits at once.
// SIGHUP: on_reload.
bool WatchSignals(absl::Notification* stop) {
  if (pipe(signal_pipe) != 0) return false;
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) {
    if (sigaction(signal, &action, nullptr) != 0) return false;
  }
  std::thread([stop] {
    bool draining = false;
    for (;;) {
      unsigned char received = 0;
      if (read(signal_pipe[0], &received, 1) != 1) continue;
      if (received == SIGHUP) {
        absl::MutexLock lock(&reload_mu);
        if (on_reload) on_reload();
        continue;
      }
      if (draining) {
        spdlog::warn("second signal {}: exiting now", received);
        std::_Exit(kExitFailure);
      }
      spdlog::info("signal {}: draining (send again to exit at once)", received);
      draining = true;
      stop->Notify();
    }
  }).detach();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "SecureBERT gRPC inference server.\n"
      "  securebert-server --model_dir DIR [--listen 0.0.0.0:50051] [--device cpu] ...\n"
      "Every flag may also be set as SECUREBERT_<FLAG> in the environment.");
#ifdef NDEBUG
  // Debian's abseil checks every lock for deadlock cycles, in release builds
  // too (measured: 175 ns vs 47 ns per nested lock pair, and a process-wide
  // spin lock). Debug builds keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  if (!ApplyEnvironment()) return kExitUsage;
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = securebert::service::ConfigureLogging(absl::GetFlag(FLAGS_log_level),
                                                             absl::GetFlag(FLAGS_log_format));
      !s.ok()) {
    std::cerr << "securebert-server: " << s.message() << "\n";
    return kExitUsage;
  }
  const ServerOptions options = OptionsFromFlags();
  if (absl::Status s = Validate(options); !s.ok()) {
    spdlog::error("invalid configuration: {}", std::string(s.message()));
    return kExitUsage;
  }

  bool malloc_tuned = false;
  if (absl::GetFlag(FLAGS_tune_malloc)) {
    absl::Status s = securebert::model::TuneHostAllocator();
    malloc_tuned = s.ok();
    if (!s.ok()) spdlog::warn("malloc left at its defaults: {}", std::string(s.message()));
  }
  spdlog::info("cpu: torch={} blas={} malloc={} {}", securebert::model::DescribeTorchRuntime(),
               securebert::model::DescribeBlasKernel(), securebert::model::HostAllocatorName(),
               malloc_tuned ? "tuned (freed activations kept for reuse)" : "at its defaults");
  if (const std::string warning = securebert::model::SlowBlasKernelWarning(); !warning.empty()) {
    spdlog::warn("{}", warning);
  }

  absl::Notification stop;
  if (!WatchSignals(&stop)) {
    spdlog::error("cannot install signal handlers");
    return kExitFailure;
  }

  spdlog::info("starting: model_dir={} listen={} device={} dtype={}", options.model_dir,
               options.listen, options.model.device, options.model.dtype);
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", std::string(server.status().message()));
    return server.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  {
    absl::MutexLock lock(&reload_mu);
    on_reload = [raw = server->get()] { raw->ReloadAuthTokens(); };
  }
  if (absl::Status s = (*server)->LoadAndServe(); !s.ok()) {
    spdlog::error("cannot serve: {}", s.ToString());
    return s.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  stop.WaitForNotification();
  (*server)->Drain();
  {
    absl::MutexLock lock(&reload_mu);
    on_reload = nullptr;
  }
  server->reset();
  spdlog::info("exit");
  return 0;
}
