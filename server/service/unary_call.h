// UnaryCall: the reactor of one unary RPC. The handler creates it, hands the
// work off and returns it to gRPC; whoever finishes the work calls Reply,
// exactly once, which maps the status (status_mapping) and records metrics.
//
// It carries the call's deadline and a cancelled flag that gRPC's OnCancel
// sets, so queued work for a departed client is dropped before compute.
//
// Ownership: gRPC owns the reactor from the handler's return; it deletes
// itself in OnDone, which gRPC runs only after Reply. Thread safety: Reply may
// be called from any thread; OnCancel runs on a gRPC thread.
#ifndef SECUREBERT_SERVER_SERVICE_UNARY_CALL_H_
#define SECUREBERT_SERVER_SERVICE_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/metrics.h"
#include "service/status_mapping.h"

namespace securebert::service {

class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(grpc::CallbackServerContext* context, std::string rpc, ServerMetrics* metrics)
      : rpc_(std::move(rpc)),
        metrics_(metrics),
        start_(absl::Now()),
        deadline_(absl::FromChrono(context->deadline())),
        cancelled_(std::make_shared<std::atomic<bool>>(false)) {
    metrics_->RpcStarted();
  }

  // Finishes the RPC with `status`; call exactly once.
  void Reply(const absl::Status& status) {
    const grpc::Status mapped = ToGrpcStatus(status);
    metrics_->RpcFinished(rpc_, mapped.error_code(), absl::Now() - start_);
    Finish(mapped);
  }

  absl::Time deadline() const { return deadline_; }
  std::shared_ptr<const std::atomic<bool>> cancelled() const { return cancelled_; }

  void OnCancel() override { cancelled_->store(true, std::memory_order_relaxed); }
  void OnDone() override { delete this; }

 private:
  // Constant after construction.
  const std::string rpc_;         // method name for metrics, e.g. "Embed"
  ServerMetrics* const metrics_;  // not owned
  const absl::Time start_;        // when the handler created the call
  const absl::Time deadline_;     // the client's deadline (far future if none)
  const std::shared_ptr<std::atomic<bool>> cancelled_;  // set by OnCancel
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_UNARY_CALL_H_
