// Server: the running service, from bound ports to drained exit.
//
//   Start        binds gRPC (health NOT_SERVING, reflection on) and HTTP
//                (/metrics, /healthz, /readyz); RPCs answer UNAVAILABLE.
//   LoadAndServe loads the model and tokenizer, starts the engine's
//                instances, warms every batch shape, then flips health to
//                SERVING and starts answering.
//   Drain        health NOT_SERVING, new RPCs UNAVAILABLE, queued and running
//                work finishes within shutdown_grace_s, new RPCs keep getting
//                UNAVAILABLE for shutdown_linger_ms (within the grace), then
//                everything stops.
//
// main.cc only maps flags onto ServerOptions and calls these.
//
// Ownership: the Server owns every component (metrics, service, gRPC server,
// HTTP endpoint, model, engine, pools). Thread safety: call Start,
// LoadAndServe and Drain from one thread, in that order.
#ifndef SECUREBERT_SERVER_SERVICE_SERVER_H_
#define SECUREBERT_SERVER_SERVICE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "batching/engine_options.h"
#include "model/torch_model.h"
#include "service/securebert_service.h"

namespace securebert::service {

struct ServerOptions {
  std::string model_dir;                        // exported model directory
  std::string listen = "0.0.0.0:50051";         // gRPC address
  std::string metrics_listen = "0.0.0.0:9090";  // HTTP address; empty disables
  int64_t max_message_bytes = 64 << 20;         // gRPC send/receive limit per message
  int64_t shutdown_grace_s = 30;                // how long Drain waits for accepted work
  int64_t shutdown_linger_ms = 2000;            // Drain keeps refusing this long before closing
  model::TorchModelOptions model;               // device and dtype
  int32_t instances = 0;                        // model workers; 0: one per core on CPU, 1 on CUDA
  int32_t intra_op_threads = 0;                 // LibTorch threads per worker; 0: cores / instances
  int32_t max_input_tokens = 0;   // 0: the model's (512 for SecureBERT); may only lower it
  int32_t tokenizer_threads = 0;  // tokenizer pool threads; 0: one per core
  batching::EngineOptions engine;
  ServiceOptions service;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  absl::Status LoadAndServe();
  void Drain();

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

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_SERVER_H_
