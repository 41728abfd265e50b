// Settings of the C++ client library: how to reach the server (ChannelOptions),
// when to try a call again (RetryOptions) and the per-call deadline
// (ClientOptions). Plain structs: every field carries its default and unit.
// The CLI and the load generator fill them from flags (connection_flags.h).
#ifndef SECUREBERT_CLIENT_CLIENT_OPTIONS_H_
#define SECUREBERT_CLIENT_CLIENT_OPTIONS_H_

#include <cstdint>
#include <string>

namespace securebert::client {

// A full last_hidden_state is num_tokens x 768 floats, about 1.5 MB for one
// 512-token input, so a batch of them needs far more than gRPC's 4 MiB.
inline constexpr int kDefaultMaxReceiveMessageBytes = 64 << 20;

// How the channel reaches the server.
struct ChannelOptions {
  // gRPC target: "host:port"; a URI such as "dns:///svc.ns.svc.cluster.local:50051"
  // (every address the name resolves to) or "ipv4:10.0.0.1:50051,10.0.0.2:50051";
  // or a comma-separated list of IPv4 "address:port", read as the latter.
  std::string target = "127.0.0.1:50051";
  // How calls spread over the target's addresses: "round_robin" (each call
  // to the next ready address) or "pick_first" (one address until it fails).
  std::string lb_policy = "round_robin";
  // With round_robin, send calls only to addresses whose grpc.health.v1
  // status for securebert.v1.SecureBert is SERVING (client-side health
  // checking): a replica that starts draining, or is still loading, gets no
  // new calls. Health() itself always asks the server directly.
  bool health_checked = true;
  // TLS instead of plaintext. The server speaks plaintext by default.
  bool use_tls = false;
  // PEM file of root certificates to trust; empty: gRPC's default roots.
  std::string tls_root_certs_path;
  // PEM client certificate chain for mutual TLS; empty: none. Needs the key.
  std::string tls_client_cert_path;
  // PEM private key of tls_client_cert_path.
  std::string tls_client_key_path;
  // Name checked against the server certificate; empty: the target's host.
  std::string tls_server_name_override;
  // Bearer token sent with every call as `authorization: Bearer <token>`
  // (the server's --auth_tokens_file); empty: none. Needs TLS.
  std::string bearer_token;
  // Largest response accepted, in bytes (gRPC's default is 4 MiB).
  int max_receive_message_bytes = kDefaultMaxReceiveMessageBytes;
  // >= 0: this channel gets its own TCP connection, distinct from channels
  // with other indexes (the load generator's --connections). -1: gRPC may
  // share one connection among all channels to the same target.
  int connection_index = -1;
};

// Retries of calls that failed with UNAVAILABLE (server starting, draining,
// or unreachable). Other codes are returned at once.
struct RetryOptions {
  // Attempts per call in all, the first one included; 1 disables retries.
  int max_attempts = 4;
  // Wait before the second attempt, in milliseconds.
  int64_t initial_backoff_ms = 50;
  // Each further wait is this many times the previous one.
  double backoff_multiplier = 2.0;
  // Upper bound of one wait (before jitter), in milliseconds.
  int64_t max_backoff_ms = 2000;
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so
  // that many clients do not retry in step. 0 disables jitter.
  double jitter = 0.2;
};

// Everything a SecureBertClient needs.
struct ClientOptions {
  // Where and how to connect.
  ChannelOptions channel;
  // Deadline of one call, retries and waits between them included, in
  // milliseconds; 0: no deadline. A retry that cannot start before the
  // deadline is not made.
  int64_t deadline_ms = 30000;
  // When and how often to try again.
  RetryOptions retry;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLIENT_OPTIONS_H_
