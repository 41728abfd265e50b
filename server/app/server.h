// Server: the running service, from bound ports to drained exit, and the
// composition root that wires the model, the tokenizer, the request path and
// the gRPC and HTTP servers together.
//
//   Start        reads the TLS files and bearer tokens (INVALID_ARGUMENT, exit
//                2, naming the file when one is wrong), binds gRPC (health
//                NOT_SERVING, reflection on) and HTTP (/metrics, /healthz,
//                /readyz; plaintext, on its own port); RPCs answer
//                UNAVAILABLE.
//   LoadAndServe loads the model and tokenizer, starts the request path (the
//                engine's instances and the CPU pool), warms every batch
//                shape, then flips health to SERVING and starts answering.
//   Drain        health NOT_SERVING, new RPCs UNAVAILABLE, queued and running
//                work finishes within shutdown_grace_s (what is left then is
//                answered UNAVAILABLE), new RPCs keep getting UNAVAILABLE for
//                shutdown_linger_ms (within the grace), then everything stops.
//
// main.cc only maps flags onto ServerOptions and calls these.
//
// Ownership: the Server owns every component (metrics, service, gRPC server,
// HTTP endpoint, model, tokenizer, request path). Thread safety: call Start,
// LoadAndServe and Drain from one thread, in that order.
#ifndef SECUREBERT_SERVER_APP_SERVER_H_
#define SECUREBERT_SERVER_APP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "app/tls_credentials.h"
#include "batching/engine_options.h"
#include "model/torch_model.h"
#include "service/securebert_service.h"

namespace securebert::app {

struct ServerOptions {
  std::string model_dir;                        // exported model directory
  std::string listen = "0.0.0.0:50051";         // gRPC address
  std::string metrics_listen = "0.0.0.0:9090";  // HTTP address; empty disables
  TlsOptions tls;                               // gRPC over TLS or mutual TLS; default plaintext
  // Bearer tokens every SecureBert RPC must present (service/bearer_tokens.h);
  // empty: none. Needs TLS: a token sent in plaintext is anyone's.
  std::string auth_tokens_file;
  // gRPC send/receive limit per message; also the largest answer the server
  // builds (service::RequestLimits::max_response_bytes).
  int64_t max_message_bytes = 64 << 20;
  // A client connection older than this is closed (GOAWAY) so that clients
  // reconnect and re-resolve, and spread over replicas added since: gRPC
  // pins a connection to one server. 0: connections live as long as clients
  // keep them.
  int64_t max_connection_age_ms = 0;
  // Calls still running on an aged connection get this long to finish
  // before it is closed under them.
  int64_t max_connection_age_grace_ms = 30000;
  int64_t shutdown_grace_s = 30;      // how long Drain waits for accepted work
  int64_t shutdown_linger_ms = 2000;  // Drain keeps refusing this long before closing
  model::TorchModelOptions model;     // device and dtype
  int32_t instances = 0;              // model workers; 0: one per core on CPU, 1 on CUDA
  int32_t intra_op_threads = 0;       // LibTorch threads per worker; 0: cores / instances
  int32_t tokenizer_threads = 0;      // CPU pool threads; 0: one per core
  batching::EngineOptions engine;     // incl. max_input_tokens (0: the model's)
  service::ServiceOptions service;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // INVALID_ARGUMENT for settings the loaded model cannot serve, or that no
  // model can (an unknown device: the server exits 2); other codes for a
  // model or tokenizer that does not load (exit 1).
  absl::Status LoadAndServe();
  void Drain();
  // Re-reads --auth_tokens_file (SIGHUP); logs the outcome. A file that
  // cannot be read or holds no token keeps the tokens in force.
  void ReloadAuthTokens();

  int port() const;          // the bound gRPC port
  int metrics_port() const;  // the bound HTTP port, 0 when disabled
  const ServerOptions& options() const;

 private:
  struct State;  // the components, defined in the .cc
  explicit Server(std::unique_ptr<State> state);
  const std::unique_ptr<State> state_;
};

// The instance / intra-op split for `cores` cores on `device`, filling in
// the zeros of `instances` and `intra_op_threads`.
void ResolveThreading(const std::string& device, int32_t cores, int32_t* instances,
                      int32_t* intra_op_threads);

}  // namespace securebert::app

#endif  // SECUREBERT_SERVER_APP_SERVER_H_
