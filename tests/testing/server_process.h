// ServerProcess: runs the real build/bin/securebert-server as a child process
// on ephemeral loopback ports, for end-to-end tests.
//
// The child's stderr (its log) is read by a thread that records every line,
// so tests wait on log events ("ready:") instead of sleeping. Ports are read
// from the "listening:" line.
//
// Ownership: owns the child; the destructor kills it if it still runs.
// Thread safety: methods may be called from the test thread while the reader
// thread records lines.
#ifndef SECUREBERT_TESTS_TESTING_SERVER_PROCESS_H_
#define SECUREBERT_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace securebert::testing {

class ServerProcess {
 public:
  // Starts `binary` with `args` plus --listen/--metrics_listen on 127.0.0.1:0.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ServerProcess();

  // Waits until a log line contains `text`; false after `timeout` or if the
  // process exits first.
  bool WaitForLog(const std::string& text, absl::Duration timeout);
  // Waits for "ready:"; then port() and metrics_port() are known.
  bool WaitUntilReady(absl::Duration timeout = absl::Seconds(120));
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The child's peak resident set (VmHWM) in bytes, from /proc; 0 if gone.
  int64_t PeakRssBytes() const;
  int metrics_port() const { return metrics_port_; }
  std::string target() const;

  void Signal(int signal);
  // Waits for the process to exit; its exit code (or 128+signal), or nullopt
  // after `timeout`.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // Every log line so far.
  std::string Log() const;

 private:
  void ReadLog(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  std::thread reader_;
  std::optional<int> exit_code_;

  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

// Path of a binary built into build/bin.
std::string BinaryPath(const std::string& name);

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_TESTING_SERVER_PROCESS_H_
