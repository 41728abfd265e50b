// FakeServer: runs a FakeSecureBertService and gRPC's built-in health service
// on 127.0.0.1 at a port the kernel picks, for the client's tests.
//
// Thread safety: construct and destroy on one thread; service() and target()
// may be used from any thread while the server runs. Owns the service and
// the grpc::Server; the destructor releases blocked calls and shuts down.
#ifndef SECUREBERT_CLIENT_TESTING_FAKE_SERVER_H_
#define SECUREBERT_CLIENT_TESTING_FAKE_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "client/testing/fake_secure_bert_service.h"

namespace securebert::client::testing {

class FakeServer {
 public:
  // The service name the health service reports on, besides "".
  static constexpr char kServiceName[] = "securebert.v1.SecureBert";

  // Starts serving; CHECK-fails if the port cannot be bound (a test bug).
  FakeServer();
  ~FakeServer();

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // "127.0.0.1:<port>".
  const std::string& target() const { return target_; }
  FakeSecureBertService& service() { return service_; }
  // Sets the health of "" and kServiceName (SERVING after construction).
  void SetServing(bool serving);

 private:
  FakeSecureBertService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
};

}  // namespace securebert::client::testing

#endif  // SECUREBERT_CLIENT_TESTING_FAKE_SERVER_H_
