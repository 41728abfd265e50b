#include "client/client_flags.h"

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "Server address host:port, a gRPC target URI (dns:///name:port, "
          "ipv4:a:port,b:port) or a comma-separated list of IPv4 address:port.");
ABSL_FLAG(std::string, lb_policy, "round_robin",
          "How calls spread over the target's addresses: round_robin or pick_first.");
ABSL_FLAG(int64_t, deadline_ms, 20000,
          "Deadline of each call in milliseconds (retries included); 0: none.");
ABSL_FLAG(bool, insecure, true,
          "Plaintext connection (the server's default). --insecure=false uses TLS "
          "with the system roots or --cacert.");
ABSL_FLAG(std::string, cacert, "",
          "TLS: PEM file of root certificates to trust (env SECUREBERT_CA_FILE).");
ABSL_FLAG(std::string, cert, "",
          "TLS: PEM client certificate (mutual TLS); needs --key (env SECUREBERT_CERT_FILE).");
ABSL_FLAG(std::string, key, "", "TLS: PEM private key of --cert (env SECUREBERT_KEY_FILE).");
ABSL_FLAG(std::string, cname, "", "TLS: server name to verify instead of the target's host.");
ABSL_FLAG(std::string, token, "",
          "TLS: bearer token sent as 'authorization: Bearer <token>' (the server's "
          "--auth_tokens_file; env SECUREBERT_TOKEN).");
ABSL_FLAG(int32_t, max_recv_message_bytes, securebert::client::kDefaultMaxReceiveMessageBytes,
          "Largest response accepted in bytes. Full hidden states (--pooling=none) are "
          "about 1.5 MB per 512-token input.");
ABSL_FLAG(std::string, pooling, "mean", "Embed pooling: none (all token vectors), cls or mean.");
ABSL_FLAG(bool, normalize, false, "Embed: L2-normalize pooled vectors.");
ABSL_FLAG(std::string, truncation, "none",
          "Inputs over the model's limit: none (refused), right (keep the start) or left "
          "(keep the end).");
ABSL_FLAG(uint32_t, top_k, 5, "PredictMask: candidates per <mask>, 1 to 1000.");

namespace securebert::client {
namespace {

// Flags that absl::ParseCommandLine handles itself.
bool IsAbslBuiltinFlag(absl::string_view name) {
  for (absl::string_view builtin :
       {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch", "version",
        "only_check_args", "flagfile", "fromenv", "tryfromenv", "undefok"}) {
    if (name == builtin) return true;
  }
  return false;
}

// The flag's value, or with TLS on and the flag unset, the environment
// variable's (the rule of the Go and Python clients: plaintext reads none).
std::string FlagOrEnv(const absl::Flag<std::string>& flag, const char* env, bool tls) {
  std::string value = absl::GetFlag(flag);
  if (value.empty() && tls) {
    const char* from_env = std::getenv(env);
    if (from_env != nullptr) value = from_env;
  }
  return value;
}

// Said once on stderr: a variable set for TLS that plaintext leaves unused
// (the usual cause of an unexpected UNAUTHENTICATED).
void WarnUnusedEnvironment() {
  for (const char* env :
       {"SECUREBERT_CA_FILE", "SECUREBERT_CERT_FILE", "SECUREBERT_KEY_FILE", "SECUREBERT_TOKEN"}) {
    const char* value = std::getenv(env);
    if (value != nullptr && *value != '\0') {
      std::cerr << "warning: " << env << " is set but --insecure (plaintext) ignores it; add "
                << "--insecure=false for TLS\n";
    }
  }
}

}  // namespace

absl::Status CheckCommandLine(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;  // A positional argument.
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    if (IsAbslBuiltinFlag(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>() && equals == absl::string_view::npos) {
        continue;  // --nofoo for a bool --foo.
      }
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    absl::string_view value;
    if (equals != absl::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
    // Parsing sets the flag; ParseCommandLine sets it again to the same value.
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, "=", value, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ClientOptions> ClientOptionsFromFlags() {
  ClientOptions options;
  options.channel.target = absl::GetFlag(FLAGS_target);
  options.channel.lb_policy = absl::GetFlag(FLAGS_lb_policy);
  const bool tls = !absl::GetFlag(FLAGS_insecure);
  options.channel.use_tls = tls;
  options.channel.tls_root_certs_path = FlagOrEnv(FLAGS_cacert, "SECUREBERT_CA_FILE", tls);
  options.channel.tls_client_cert_path = FlagOrEnv(FLAGS_cert, "SECUREBERT_CERT_FILE", tls);
  options.channel.tls_client_key_path = FlagOrEnv(FLAGS_key, "SECUREBERT_KEY_FILE", tls);
  options.channel.tls_server_name_override = absl::GetFlag(FLAGS_cname);
  options.channel.bearer_token = FlagOrEnv(FLAGS_token, "SECUREBERT_TOKEN", tls);
  if (!tls) WarnUnusedEnvironment();
  options.channel.max_receive_message_bytes = absl::GetFlag(FLAGS_max_recv_message_bytes);
  options.deadline_ms = absl::GetFlag(FLAGS_deadline_ms);
  const ChannelOptions& channel = options.channel;
  if (!channel.use_tls &&
      !(channel.tls_root_certs_path.empty() && channel.tls_client_cert_path.empty() &&
        channel.tls_client_key_path.empty() && channel.tls_server_name_override.empty() &&
        channel.bearer_token.empty())) {
    return absl::InvalidArgumentError(
        "--cacert, --cert, --key, --cname and --token need TLS: add --insecure=false");
  }
  if (options.deadline_ms < 0) {
    return absl::InvalidArgumentError("--deadline_ms must be >= 0");
  }
  if (channel.max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError("--max_recv_message_bytes must be > 0");
  }
  return options;
}

absl::StatusOr<RequestSettings> RequestSettingsFromFlags() {
  RequestSettings settings;
  absl::StatusOr<v1::Pooling> pooling = ParsePooling(absl::GetFlag(FLAGS_pooling));
  if (!pooling.ok()) return pooling.status();
  absl::StatusOr<v1::Truncation> truncation = ParseTruncation(absl::GetFlag(FLAGS_truncation));
  if (!truncation.ok()) return truncation.status();
  settings.pooling = *pooling;
  settings.truncation = *truncation;
  settings.normalize = absl::GetFlag(FLAGS_normalize);
  settings.top_k = absl::GetFlag(FLAGS_top_k);
  if (settings.top_k < 1 || settings.top_k > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--top_k must be in 1..1000, not ", settings.top_k));
  }
  return settings;
}

}  // namespace securebert::client
