// Faults of the process and of its start-up, on the real binary: SIGKILL
// under load then a restart on the same ports, and every start-up fault of
// docs/errors.md (a missing model directory, corrupt TorchScript, truncated
// weights, a manifest that does not match the files, unreadable tokenizer
// files, a port in use). Each start-up fault ends in one clear error line
// and the documented exit code (docs/configuration.md: 1 for a model that
// cannot be loaded), never a crash dump. Bad TLS files: security_test.cc;
// SIGTERM under load: lifecycle_test.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/testing/answer_probe.h"

namespace securebert::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kExitModelCannotLoad = 1;  // docs/configuration.md
// An error line longer than this is not "one clear line" (a corrupt
// TorchScript file's, with LibTorch's explanation, is about 450 bytes).
constexpr size_t kMaxErrorLineBytes = 1024;
// What a crash, an uncaught exception or a LibTorch backtrace leaves.
const char* const kCrashMarkers[] = {
    "terminate called", "what():",     "Aborted", "Segmentation",          "core dumped",
    "Stack trace",      "stack trace", "frame #", "Exception raised from", "*** "};

std::vector<std::string> Lines(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The log's lines at level `level` ("error", "warning").
std::vector<std::string> LinesAt(const std::string& log, const std::string& level) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(log)) {
    if (line.find(" " + level + " ") != std::string::npos) out.push_back(line);
  }
  return out;
}

void ExpectNoCrashDump(const std::string& log) {
  for (const char* marker : kCrashMarkers) {
    EXPECT_EQ(log.find(marker), std::string::npos)
        << "\"" << marker << "\" in " << log.substr(0, 2000);
  }
}

// Starts the server with `args`; it must exit `exit_code` after exactly one
// error line, short and containing `names`, and leave no crash dump.
void ExpectStartFailsCleanly(const std::vector<std::string>& args, int exit_code,
                             const std::string& names) {
  ServerProcess server(BinaryPath("securebert-server"), args);
  const std::optional<int> code = server.WaitForExit(absl::Seconds(120));
  const std::string log = server.Log();
  EXPECT_EQ(code, exit_code) << log.substr(0, 4000);
  const std::vector<std::string> errors = LinesAt(log, "error");
  ASSERT_EQ(errors.size(), 1u) << log.substr(0, 4000);
  std::printf("  exit %d: %s\n", code.value_or(-1), errors[0].substr(0, 600).c_str());
  EXPECT_THAT(errors[0], HasSubstr(names));
  EXPECT_LE(errors[0].size(), kMaxErrorLineBytes) << errors[0].substr(0, 600) << "...";
  ExpectNoCrashDump(log);
}

// The copies of the tiny model the tests break are removed once checked.
void ExpectModelFails(const std::string& dir, const std::string& names) {
  ExpectStartFailsCleanly({"--model_dir=" + dir}, kExitModelCannotLoad, names);
  if (dir.rfind(::testing::TempDir(), 0) == 0) fs::remove_all(dir);
}

// Overwrites `path` with copies of `byte`, keeping its size (the manifest
// records every file's size, so only a same-size change gets past that check).
void Overwrite(const std::string& path, char byte) {
  const auto size = fs::file_size(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(size, byte);
}

TEST(FaultsTest, MissingModelDirectory) {
  ExpectModelFails("/nonexistent/securebert-model",
                   "model directory /nonexistent/securebert-model does not exist");
}

TEST(FaultsTest, CorruptTorchScript) {
  const std::string dir = CopyTinyModel("corrupt_torchscript");
  Overwrite(dir + "/encoder.pt", 'Z');
  ExpectModelFails(dir, "cannot load TorchScript file " + dir + "/encoder.pt");
}

TEST(FaultsTest, TruncatedWeights) {
  // The manifest still records the full size.
  const std::string dir = CopyTinyModel("truncated_weights");
  const auto full = fs::file_size(dir + "/lm_head.pt");
  fs::resize_file(dir + "/lm_head.pt", full / 2);
  ExpectModelFails(dir, "model file " + dir + "/lm_head.pt has " + std::to_string(full / 2) +
                            " bytes but manifest.json records " + std::to_string(full));
  // A manifest rewritten to the truncated size: the archive itself is cut.
  const std::string agreed = CopyTinyModel("truncated_agreed", [](nlohmann::json& m) {
    m["files"]["lm_head.pt"]["bytes"] = m["files"]["lm_head.pt"]["bytes"].get<int64_t>() / 2;
  });
  fs::resize_file(agreed + "/lm_head.pt", full / 2);
  ExpectModelFails(agreed, "cannot load TorchScript file " + agreed + "/lm_head.pt");
}

TEST(FaultsTest, ManifestThatDoesNotMatchTheFiles) {
  ExpectModelFails(CopyTinyModel("wrong_hidden",
                                 [](nlohmann::json& m) { m["architecture"]["hidden_size"] = 128; }),
                   "manifest says hidden_size=128");
  ExpectModelFails(
      CopyTinyModel("wrong_vocab",
                    [](nlohmann::json& m) { m["architecture"]["vocab_size"] = 50266; }),
      "manifest says vocab_size=50266");
  const std::string sizes = CopyTinyModel("wrong_size", [](nlohmann::json& m) {
    m["files"]["vocab.json"]["bytes"] = m["files"]["vocab.json"]["bytes"].get<int64_t>() + 1;
  });
  ExpectModelFails(sizes, "model file " + sizes + "/vocab.json has ");
  // A manifest that is not JSON at all cannot describe the files either.
  const std::string broken = CopyTinyModel("manifest_not_json");
  std::ofstream(broken + "/manifest.json", std::ios::trunc) << "{\"format\": ";
  ExpectModelFails(broken, broken + "/manifest.json");
}

TEST(FaultsTest, UnreadableTokenizer) {
  const std::string directory = CopyTinyModel("vocab_is_a_directory");
  fs::remove(directory + "/vocab.json");
  fs::create_directory(directory + "/vocab.json");
  ExpectModelFails(directory, directory + "/vocab.json");
  const std::string vocab = CopyTinyModel("vocab_not_json");
  Overwrite(vocab + "/vocab.json", '\0');
  ExpectModelFails(vocab, vocab + "/vocab.json");
  const std::string merges = CopyTinyModel("merges_not_merges");
  Overwrite(merges + "/merges.txt", '\xff');
  ExpectModelFails(merges, merges + "/merges.txt");
}

// A listening socket on 127.0.0.1 holding a port; closed on destruction.
class HeldPort {
 public:
  HeldPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~HeldPort() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  const int fd_;
  int port_ = 0;
};

TEST(FaultsTest, PortInUse) {
  // Not a model that cannot load, nor an invalid setting: exit 1, the code
  // of every other start-up failure (docs/errors.md).
  HeldPort grpc_port;
  ExpectStartFailsCleanly({"--model_dir=" + TinyModelDir(), "--listen=" + grpc_port.address()}, 1,
                          "cannot listen for gRPC on " + grpc_port.address());
  HeldPort metrics_port;
  ExpectStartFailsCleanly(
      {"--model_dir=" + TinyModelDir(), "--metrics_listen=" + metrics_port.address()}, 1,
      "cannot listen for HTTP on " + metrics_port.address());
}

TEST(FaultsTest, SigkillUnderLoadThenTheNextStartOnTheSamePortsIsClean) {
  ServerProcess first(BinaryPath("securebert-server"), DefaultServerArgs());
  ASSERT_TRUE(first.WaitUntilReady()) << first.Log();
  const std::string listen = "--listen=" + first.target();
  const std::string metrics = "--metrics_listen=127.0.0.1:" + std::to_string(first.metrics_port());
  AnswerProbe probe(first.target());
  // Killed with calls in flight, and every caller unblocked by it.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  absl::Notification loaded;
  std::vector<std::thread> load;
  for (int t = 0; t < 8; ++t) {
    load.emplace_back([&, t] {
      auto client = MakeClient(first.target());
      v1::EmbedRequest r;
      for (int i = 0; i < 8; ++i) r.add_inputs("killed mid-flight " + std::to_string(t * 8 + i));
      while (!stop.load() && client->Embed(r).ok()) {
        if (++answered == 50) loaded.Notify();
      }
    });
  }
  loaded.WaitForNotification();
  first.Signal(SIGKILL);
  EXPECT_EQ(first.WaitForExit(absl::Seconds(30)), 128 + SIGKILL);
  stop = true;
  for (auto& th : load) th.join();

  std::vector<std::string> args = DefaultServerArgs();
  args.push_back(listen);
  args.push_back(metrics);
  ServerProcess second(BinaryPath("securebert-server"), args);
  ASSERT_TRUE(second.WaitUntilReady()) << second.Log();
  EXPECT_EQ(second.target(), first.target());
  EXPECT_THAT(LinesAt(second.Log(), "error"), ::testing::IsEmpty());
  EXPECT_EQ(LinesAt(second.Log(), "warning").size(), LinesAt(first.Log(), "warning").size())
      << second.Log();
  ExpectNoCrashDump(second.Log());
  // The probe's channel reconnects to the new process on the same port.
  ASSERT_TRUE(probe.client().channel()->WaitForConnected(
      absl::ToChronoTime(absl::Now() + absl::Seconds(30))));
  probe.ExpectHealthyAndUnchanged("SIGKILL and restart");
}

}  // namespace
}  // namespace securebert::testing
