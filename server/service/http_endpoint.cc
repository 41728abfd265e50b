#include "service/http_endpoint.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace securebert::service {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535 || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\" is not host:port (port 0..65535)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                                  const ServerMetrics* metrics,
                                                                  std::function<bool()> ready) {
  absl::StatusOr<std::pair<std::string, int>> address = SplitHostPort(listen);
  if (!address.ok()) return address.status();
  auto server = std::make_unique<httplib::Server>();
  server->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server->Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    const bool is_ready = ready();
    res.status = is_ready ? 200 : 503;
    res.set_content(is_ready ? "ready\n" : "not ready\n", "text/plain");
  });
  const auto& [host, port] = *address;
  const int bound = port == 0                          ? server->bind_to_any_port(host)
                    : server->bind_to_port(host, port) ? port
                                                       : -1;
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", listen));
  }
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint(std::move(server), bound));
  httplib::Server* raw = endpoint->server_.get();
  endpoint->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // httplib's stop() is a no-op until the loop runs; wait for it so that a
  // quick Stop() cannot leave the thread listening forever.
  while (!raw->is_running()) std::this_thread::yield();
  return endpoint;
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace securebert::service
