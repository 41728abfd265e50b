// HttpEndpoint: the plain-HTTP side of the server, for Prometheus and
// Kubernetes probes (cpp-httplib, from Debian):
//   GET /metrics  Prometheus text format (ServerMetrics::Render)
//   GET /healthz  200 while the process runs (liveness)
//   GET /readyz   200 while the model is ready and the server not draining,
//                 503 otherwise (readiness)
//
// Ownership: owns its listening thread; Stop (or the destructor) joins it.
// The metrics and the readiness function must outlive the endpoint.
// Thread safety: the handlers run on httplib's threads; Stop may be called
// from any thread.
#ifndef SECUREBERT_SERVER_SERVICE_HTTP_ENDPOINT_H_
#define SECUREBERT_SERVER_SERVICE_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "service/metrics.h"

namespace httplib {
class Server;
}

namespace securebert::service {

class HttpEndpoint {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen,
                                                             const ServerMetrics* metrics,
                                                             std::function<bool()> ready);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  int port() const { return port_; }
  void Stop();

 private:
  HttpEndpoint(std::unique_ptr<httplib::Server> server, int port);

  const std::unique_ptr<httplib::Server> server_;
  const int port_;      // the bound port
  std::thread thread_;  // runs server_->listen_after_bind(); joined by Stop
};

// Splits "host:port" ("[::1]:9090" too); InvalidArgument when malformed.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_HTTP_ENDPOINT_H_
