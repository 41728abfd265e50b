#include "tests/testing/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace securebert::testing {

int64_t ServerProcess::PeakRssBytes() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // kB
  }
  return 0;
}

std::string BinaryPath(const std::string& name) {
  return absl::StrCat(SECUREBERT_BINARY_DIR, "/bin/", name);
}

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return;
  std::vector<std::string> argv_strings = {binary, "--listen=127.0.0.1:0",
                                           "--metrics_listen=127.0.0.1:0"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror("execv");
    _exit(127);
  }
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { ReadLog(fd); });
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_code_.has_value()) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::ReadLog(int fd) {
  FILE* in = fdopen(fd, "r");
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t n;
  while ((n = getline(&line, &capacity, in)) > 0) {
    std::string text(line, static_cast<size_t>(n));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    absl::MutexLock lock(&mu_);
    lines_.push_back(std::move(text));
  }
  free(line);
  fclose(in);
  absl::MutexLock lock(&mu_);
  eof_ = true;
}

bool ServerProcess::WaitForLog(const std::string& text, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto seen = [this, &text]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (eof_) return true;
    for (const std::string& l : lines_) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  };
  mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  for (const std::string& l : lines_) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

bool ServerProcess::WaitUntilReady(absl::Duration timeout) {
  if (!WaitForLog("listening:", timeout)) return false;
  {
    absl::MutexLock lock(&mu_);
    static const std::regex re(R"(listening: grpc=\S+ port=(\d+) metrics=\S+ port=(\d+))");
    for (const std::string& l : lines_) {
      std::smatch m;
      if (std::regex_search(l, m, re)) {
        port_ = std::stoi(m[1]);
        metrics_port_ = std::stoi(m[2]);
      }
    }
  }
  return port_ > 0 && WaitForLog("ready:", timeout);
}

std::string ServerProcess::target() const { return absl::StrCat("127.0.0.1:", port_); }

void ServerProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::optional<int> ServerProcess::WaitForExit(absl::Duration timeout) {
  if (exit_code_.has_value()) return exit_code_;
  // The log pipe closes when the process exits: wait on that event.
  {
    absl::MutexLock lock(&mu_);
    auto closed = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return eof_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&closed), timeout)) return std::nullopt;
  }
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

std::string ServerProcess::Log() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(lines_, "\n");
}

}  // namespace securebert::testing
