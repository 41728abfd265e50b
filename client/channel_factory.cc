#include "client/channel_factory.h"

#include <fstream>
#include <sstream>
#include <string>

#include <grpc/grpc.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace securebert::client {
namespace {

// Channel argument whose value differs per connection_index: gRPC keys
// subchannels by their arguments, so channels never share a connection.
constexpr char kConnectionIndexArg[] = "securebert.connection_index";
// The health service name the server reports SERVING / NOT_SERVING for.
constexpr char kHealthCheckedService[] = "securebert.v1.SecureBert";

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " '", path, "'"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::Status ValidateTlsOptions(const ChannelOptions& options) {
  const bool any_tls_file =
      !options.tls_root_certs_path.empty() || !options.tls_client_cert_path.empty() ||
      !options.tls_client_key_path.empty() || !options.tls_server_name_override.empty();
  if (!options.use_tls && any_tls_file) {
    return absl::InvalidArgumentError(
        "TLS certificate options were given but TLS is off (plaintext channel)");
  }
  if (!options.use_tls && !options.bearer_token.empty()) {
    return absl::InvalidArgumentError(
        "a bearer token needs TLS: sent in plaintext it can be read by anyone on the path");
  }
  if (options.tls_client_cert_path.empty() != options.tls_client_key_path.empty()) {
    return absl::InvalidArgumentError(
        "a TLS client certificate and its private key must be given together");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(
    const ChannelOptions& options) {
  if (!options.use_tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_root_certs_path.empty()) {
    absl::StatusOr<std::string> roots =
        ReadPemFile(options.tls_root_certs_path, "root certificates");
    if (!roots.ok()) return roots.status();
    ssl.pem_root_certs = *std::move(roots);
  }
  if (!options.tls_client_cert_path.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile(options.tls_client_cert_path, "client certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile(options.tls_client_key_path, "client private key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  std::shared_ptr<grpc::ChannelCredentials> tls = grpc::SslCredentials(ssl);
  if (options.bearer_token.empty()) return tls;
  // gRPC's access-token credentials send exactly "authorization: Bearer <token>".
  return grpc::CompositeChannelCredentials(tls, grpc::AccessTokenCredentials(options.bearer_token));
}

}  // namespace

std::string ChannelTarget(const std::string& target) {
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:"}) {
    if (absl::StartsWith(target, scheme)) return target;
  }
  return target.find(',') != std::string::npos ? "ipv4:" + target : target;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ChannelOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("the channel target is empty");
  }
  if (absl::Status valid = ValidateTlsOptions(options); !valid.ok()) return valid;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MakeCredentials(options);
  if (!credentials.ok()) return credentials.status();

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.tls_server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name_override);
  }
  if (options.lb_policy != "round_robin" && options.lb_policy != "pick_first") {
    return absl::InvalidArgumentError(absl::StrCat("unknown load-balancing policy \"",
                                                   options.lb_policy,
                                                   "\"; use round_robin or pick_first"));
  }
  // Client-side health checking (round_robin only, in gRPC): the channel
  // watches each address's grpc.health.v1 status for the service and sends
  // nothing to one that is NOT_SERVING, so a replica that starts draining
  // gets no new calls within moments instead of refusing them until gRPC
  // shuts down under them.
  const std::string health = options.health_checked
                                 ? absl::StrCat(R"(, "healthCheckConfig": {"serviceName": ")",
                                                kHealthCheckedService, R"("})")
                                 : "";
  args.SetServiceConfigJSON(
      absl::StrCat(R"({"loadBalancingConfig": [{")", options.lb_policy, R"(": {}}])", health, "}"));
  if (options.connection_index >= 0) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(kConnectionIndexArg, options.connection_index);
  }
  return grpc::CreateCustomChannel(ChannelTarget(options.target), *credentials, args);
}

}  // namespace securebert::client
