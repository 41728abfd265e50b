// EmbedStreamCall: the reactor of one EmbedStream (bidirectional) call.
//
// Each request read from the stream (raw bytes, parsed as the wire view of
// EmbedRequest: wire_codec.h) goes through the same path as a unary Embed
// (request_mapping -> ModelPipeline), up to `max_in_flight` of them at once
// per stream so a stream also fills batches; responses are written back
// strictly in request order, one write at a time. gRPC has no per-message
// status on a stream, so a bad message ends the stream with that message's
// status once every earlier response has been written.
//
// Ownership: gRPC owns the reactor; it deletes itself once gRPC has called
// OnDone, every pipeline callback it is owed has come back, and every
// operation it decided has been started (so neither a late callback nor a
// thread about to start a read touches freed memory, and no operation starts
// after Finish). Thread safety: reactions run on gRPC
// threads and pipeline callbacks on pool/engine threads; all state is
// guarded by mu_, and gRPC operations are started after mu_ is released.
#ifndef SECUREBERT_SERVER_SERVICE_EMBED_STREAM_H_
#define SECUREBERT_SERVER_SERVICE_EMBED_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "securebert/v1/securebert.grpc.pb.h"
#include "service/metrics.h"
#include "service/model_pipeline.h"
#include "service/request_mapping.h"

namespace securebert::service {

class EmbedStreamCall final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `pipeline` is null when `admission` is not OK; the stream then ends at
  // once with that status.
  EmbedStreamCall(grpc::CallbackServerContext* context, ModelPipeline* pipeline,
                  absl::Status admission, RequestLimits limits, int32_t max_in_flight,
                  ServerMetrics* metrics);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to do once mu_ is released.
  struct Actions {
    bool read = false;                  // StartRead(&incoming_)
    grpc::ByteBuffer* write = nullptr;  // StartWrite(write)
    bool finish = false;                // Finish(finish_status)
    grpc::Status finish_status;
    bool destroy = false;  // delete this
  };

  // Parses, maps and submits message `seq`; its answer comes to OnResult.
  void Submit(uint64_t seq, const grpc::ByteBuffer& request);
  void OnResult(uint64_t seq, absl::StatusOr<grpc::ByteBuffer> response);
  // Decides the next gRPC operations from the state.
  Actions Step() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run(Actions actions);

  // Constant after construction.
  ModelPipeline* const pipeline_;  // not owned
  const RequestLimits limits_;
  const int32_t max_in_flight_;
  ServerMetrics* const metrics_;  // not owned
  const absl::Time start_;
  const absl::Time deadline_;
  const std::shared_ptr<std::atomic<bool>> cancelled_;

  // Written by gRPC between StartRead and OnReadDone (one read at a time).
  grpc::ByteBuffer incoming_;

  absl::Mutex mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;    // sequence number of the next read
  uint64_t next_write_ ABSL_GUARDED_BY(mu_) = 0;  // sequence number to write next
  // Serialized answers not yet written, by sequence number.
  std::map<uint64_t, absl::StatusOr<grpc::ByteBuffer>> ready_ ABSL_GUARDED_BY(mu_);
  int32_t in_pipeline_ ABSL_GUARDED_BY(mu_) = 0;  // submitted, callback not back yet
  int32_t unwritten_ ABSL_GUARDED_BY(mu_) = 0;    // read, response not yet written
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ByteBuffer writing_ ABSL_GUARDED_BY(mu_);  // the response being written
  bool finished_ ABSL_GUARDED_BY(mu_) = false;     // Finish has been decided
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);   // first error; ends the stream
  bool done_ ABSL_GUARDED_BY(mu_) = false;         // gRPC called OnDone
  // Operations (read, write, Finish) decided by a Step whose thread has not
  // started them yet: no Finish is decided and nothing is deleted meanwhile.
  int32_t issuing_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_EMBED_STREAM_H_
