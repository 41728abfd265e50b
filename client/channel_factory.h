// Builds a gRPC channel from ChannelOptions: plaintext or TLS (root
// certificates, optional client certificate for mutual TLS, an optional
// bearer token on every call), the receive
// size limit, the load-balancing policy over the target's addresses, and a
// private connection per connection_index.
//
// Called by SecureBertClient::Create and by the load generator, once per
// connection. Stateless; safe from any thread.
#ifndef SECUREBERT_CLIENT_CHANNEL_FACTORY_H_
#define SECUREBERT_CLIENT_CHANNEL_FACTORY_H_

#include <memory>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "client/client_options.h"

namespace securebert::client {

// Returns a channel (connected lazily, on first use). Fails with
// INVALID_ARGUMENT for inconsistent options (a certificate without its key,
// TLS files given with use_tls off, an unknown lb_policy) and NOT_FOUND when
// a PEM file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const ChannelOptions& options);

// The gRPC target URI for `target`: a comma-separated list of addresses
// without a scheme becomes "ipv4:a,b"; anything else is kept.
std::string ChannelTarget(const std::string& target);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CHANNEL_FACTORY_H_
