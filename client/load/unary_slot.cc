#include "client/load/unary_slot.h"

#include <functional>
#include <utility>

#include <grpcpp/client_context.h>

#include "absl/time/clock.h"
#include "client/grpc_status.h"

namespace securebert::client {
namespace {

using DoneCallback = std::function<void(grpc::Status)>;

// The server's model forward for a request, from the answer's Timing.
absl::Duration ModelTime(const v1::EmbedResponse& r) {
  return absl::Microseconds(r.timing().inference_us());
}
absl::Duration ModelTime(const v1::PredictMaskResponse& r) {
  return absl::Microseconds(r.timing().inference_us());
}
absl::Duration ModelTime(const v1::TokenizeResponse&) { return absl::ZeroDuration(); }

// One unary RPC, given by what differs between them: how a request is built,
// which callback-stub method sends it, and the tokens its answer covered.
//
// Thread safety: the fields below are touched by Start and by the
// completion callback, which never overlap (a slot runs one request at a
// time, and Start is called only after the previous request was reported).
template <typename Request, typename Response>
class UnarySlot final : public CallSlot {
 public:
  using Build = Request (*)(const RequestSettings&, absl::Span<const std::string>);
  using Send = void (*)(v1::SecureBert::Stub*, grpc::ClientContext*, const Request*, Response*,
                        DoneCallback);
  using Tokens = int64_t (*)(const SlotContext&, int64_t index, const Response&);

  UnarySlot(const SlotContext& context, Build build, Send send, Tokens tokens)
      : context_(context), build_(build), send_(send), tokens_(tokens) {}

  void Start(int64_t index, absl::Time intended_start) override {
    index_ = index;
    intended_start_ = intended_start;
    // The context of the call whose callback may still be unwinding is kept
    // one more round; only the one before it is destroyed.
    previous_call_context_ = std::move(call_context_);
    call_context_ = std::make_unique<grpc::ClientContext>();
    if (context_.deadline > absl::ZeroDuration()) {
      call_context_->set_deadline(absl::ToChronoTime(absl::Now() + context_.deadline));
    }
    request_ = build_(context_.settings, RequestTexts(context_, index));
    response_.Clear();
    send_(context_.stub, call_context_.get(), &request_, &response_,
          [this](grpc::Status status) { Done(status); });
  }

 private:
  void Done(const grpc::Status& grpc_status) {
    const absl::Status status = ToAbslStatus(grpc_status);
    const int64_t tokens = status.ok() ? tokens_(context_, index_, response_) : 0;
    const absl::Duration model_time = status.ok() ? ModelTime(response_) : absl::ZeroDuration();
    // Last statement: the listener may Start this slot again.
    context_.listener->OnRequestDone(this, intended_start_, status, tokens, model_time);
  }

  // Constant after construction.
  const SlotContext context_;
  const Build build_;
  const Send send_;
  const Tokens tokens_;
  // The request in flight.
  int64_t index_ = 0;
  absl::Time intended_start_;
  std::unique_ptr<grpc::ClientContext> call_context_;
  std::unique_ptr<grpc::ClientContext> previous_call_context_;
  Request request_;
  Response response_;
};

// PredictMask answers do not say how many tokens they covered; the workload
// knows them from Tokenize, or estimates.
int64_t WorkloadTokens(const SlotContext& context, int64_t index) {
  int64_t tokens = 0;
  for (int j = 0; j < context.inputs_per_request; ++j) {
    tokens += context.workload->tokens(index * context.inputs_per_request + j);
  }
  return tokens;
}

}  // namespace

std::unique_ptr<CallSlot> MakeUnarySlot(LoadCall call, const SlotContext& context) {
  using EmbedSlot = UnarySlot<v1::EmbedRequest, v1::EmbedResponse>;
  using PredictMaskSlot = UnarySlot<v1::PredictMaskRequest, v1::PredictMaskResponse>;
  using TokenizeSlot = UnarySlot<v1::TokenizeRequest, v1::TokenizeResponse>;
  switch (call) {
    case LoadCall::kPredictMask:
      return std::make_unique<PredictMaskSlot>(
          context, &MakePredictMaskRequest,
          [](v1::SecureBert::Stub* stub, grpc::ClientContext* c, const v1::PredictMaskRequest* q,
             v1::PredictMaskResponse* r,
             DoneCallback done) { stub->async()->PredictMask(c, q, r, std::move(done)); },
          [](const SlotContext& c, int64_t index, const v1::PredictMaskResponse&) {
            return WorkloadTokens(c, index);
          });
    case LoadCall::kTokenize:
      return std::make_unique<TokenizeSlot>(
          context, &MakeTokenizeRequest,
          [](v1::SecureBert::Stub* stub, grpc::ClientContext* c, const v1::TokenizeRequest* q,
             v1::TokenizeResponse* r,
             DoneCallback done) { stub->async()->Tokenize(c, q, r, std::move(done)); },
          [](const SlotContext&, int64_t, const v1::TokenizeResponse& r) {
            int64_t tokens = 0;
            for (const v1::Tokenization& result : r.results()) tokens += result.tokens_size();
            return tokens;
          });
    default:
      return std::make_unique<EmbedSlot>(
          context, &MakeEmbedRequest,
          [](v1::SecureBert::Stub* stub, grpc::ClientContext* c, const v1::EmbedRequest* q,
             v1::EmbedResponse* r,
             DoneCallback done) { stub->async()->Embed(c, q, r, std::move(done)); },
          [](const SlotContext&, int64_t, const v1::EmbedResponse& r) { return EmbedTokens(r); });
  }
}

}  // namespace securebert::client
