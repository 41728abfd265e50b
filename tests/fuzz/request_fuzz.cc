// libFuzzer target for request handling: bytes as a serialized request of
// one of the text RPCs (the first byte picks which), parsed as the server
// parses it (the wire view, texts as bytes), validated and mapped, tokenized
// and run on the tiny model through the real request path, and the answer
// built and serialized. Whatever the bytes: no crash, no sanitizer report,
// and the answer has the shape the request asked for (one output per input,
// one mask result per <mask>), or an error of the documented codes.
//
// The model: $SECUREBERT_FUZZ_MODEL_DIR (the tiny test model; tests/fuzz/
// run_fuzzers.sh passes it). Run: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "model/torch_model.h"
#include "securebert/wire/v1/securebert_wire.pb.h"
#include "service/metrics.h"
#include "service/request_mapping.h"
#include "service/request_path.h"
#include "service/responses.h"

namespace {

using securebert::service::ModelRequest;
using securebert::service::ModelResult;

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "check failed: %s\n", what);
  std::abort();
}

// The request path over the tiny model, built once: small limits keep each
// execution fast.
struct Harness {
  securebert::service::ServerMetrics metrics;
  std::unique_ptr<securebert::tokenizer::Tokenizer> tokenizer;
  std::shared_ptr<securebert::model::TorchModel> model;
  std::unique_ptr<securebert::service::RequestPath> path;
  securebert::service::RequestLimits limits;
};

Harness& GetHarness() {
  static Harness* const kHarness = [] {
    auto* h = new Harness();
    const char* dir = std::getenv("SECUREBERT_FUZZ_MODEL_DIR");
    if (dir == nullptr) {
      std::fprintf(stderr, "set SECUREBERT_FUZZ_MODEL_DIR to the tiny model\n");
      std::abort();
    }
    auto model = securebert::model::TorchModel::Load(dir, {});
    auto tokenizer = securebert::tokenizer::Tokenizer::FromModelDir(dir);
    Check(model.ok() && tokenizer.ok(), "the tiny model loads");
    h->model = *model;
    h->tokenizer = *std::move(tokenizer);
    h->limits.max_client_batch_size = 4;
    h->limits.max_masks_per_input = 16;
    h->limits.max_mask_predictions = 200;
    h->limits.max_response_bytes = 1 << 20;
    securebert::service::RequestPathOptions options;
    options.pool = {.threads = 1, .max_queued = 16};
    options.engine.max_input_tokens = 64;
    options.engine.max_batch_tokens = 256;
    options.engine.warmup_batch_sizes.clear();
    options.limits = h->limits;
    std::vector<std::unique_ptr<securebert::batching::Model>> instances;
    instances.push_back(h->model->NewInstance(1));
    auto path = securebert::service::RequestPath::Create(options, h->tokenizer.get(),
                                                         std::move(instances), &h->metrics);
    Check(path.ok(), "the request path starts");
    h->path = *std::move(path);
    return h;
  }();
  return *kHarness;
}

absl::StatusOr<ModelResult> Run(Harness& h, ModelRequest request) {
  absl::Notification done;
  absl::StatusOr<ModelResult> result;
  h.path->pipeline()->Submit(std::move(request), [&](absl::StatusOr<ModelResult> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

void CheckError(const absl::Status& status) {
  // Bad input, or too much of it; never a server fault.
  Check(status.code() == absl::StatusCode::kInvalidArgument ||
            status.code() == absl::StatusCode::kResourceExhausted,
        "errors are INVALID_ARGUMENT or RESOURCE_EXHAUSTED");
}

void FuzzEmbed(Harness& h, const std::string& bytes) {
  securebert::wire::v1::EmbedRequest wire;
  if (!wire.ParseFromString(bytes)) return;
  absl::StatusOr<ModelRequest> mapped = securebert::service::MapEmbedRequest(wire, h.limits);
  if (!mapped.ok()) return CheckError(mapped.status());
  const bool pooled = mapped->request.pooling != securebert::batching::Pooling::kNone;
  absl::StatusOr<ModelResult> result = Run(h, *std::move(mapped));
  if (!result.ok()) return CheckError(result.status());
  Check(result->response.outputs.size() == static_cast<size_t>(wire.inputs_size()),
        "one embedding per input");
  for (const auto& out : result->response.outputs) {
    const size_t vectors = pooled ? 1 : out.num_tokens;
    Check(out.values.size() == vectors * h.model->spec().hidden_size, "embedding size");
  }
  securebert::v1::EmbedResponse response;
  securebert::service::FillEmbedResponse(*result, &response);
  Check(!response.SerializeAsString().empty(), "the answer serializes");
}

void FuzzPredictMask(Harness& h, const std::string& bytes) {
  securebert::wire::v1::PredictMaskRequest wire;
  if (!wire.ParseFromString(bytes)) return;
  absl::StatusOr<ModelRequest> mapped = securebert::service::MapPredictMaskRequest(wire, h.limits);
  if (!mapped.ok()) return CheckError(mapped.status());
  const int32_t top_k = mapped->request.top_k;
  absl::StatusOr<ModelResult> result = Run(h, *std::move(mapped));
  if (!result.ok()) return CheckError(result.status());
  Check(result->response.outputs.size() == static_cast<size_t>(wire.inputs_size()),
        "one result per input");
  for (size_t i = 0; i < result->response.outputs.size(); ++i) {
    size_t masks = 0;
    for (int32_t id : result->response.sequences[i]) masks += id == h.tokenizer->mask_id();
    Check(result->response.outputs[i].masks.size() == masks, "one mask result per <mask>");
    for (const auto& mask : result->response.outputs[i].masks) {
      Check(mask.ids.size() == static_cast<size_t>(top_k), "top_k candidates");
    }
  }
  securebert::v1::PredictMaskResponse response;
  securebert::service::FillPredictMaskResponse(*result, *h.tokenizer, &response);
  Check(static_cast<int64_t>(response.ByteSizeLong()) <=
            securebert::service::PredictMaskResponseBytes(*result, *h.tokenizer),
        "the answer is within its bound");
}

void FuzzTokenize(Harness& h, const std::string& bytes) {
  securebert::wire::v1::TokenizeRequest wire;
  if (!wire.ParseFromString(bytes)) return;
  absl::Status count = securebert::service::CheckInputCount(wire.inputs_size(), h.limits);
  absl::StatusOr<securebert::service::InputTruncation> truncation =
      securebert::service::MapTruncation(wire.truncation());
  if (!count.ok() || !truncation.ok()) return CheckError(count.ok() ? truncation.status() : count);
  absl::Notification done;
  absl::StatusOr<std::vector<securebert::tokenizer::Encoding>> encodings;
  h.path->pipeline()->Tokenize(
      std::make_shared<const std::vector<std::string>>(wire.inputs().begin(), wire.inputs().end()),
      *truncation, [&](absl::StatusOr<std::vector<securebert::tokenizer::Encoding>> e) {
        encodings = std::move(e);
        done.Notify();
      });
  done.WaitForNotification();
  if (!encodings.ok()) return CheckError(encodings.status());
  securebert::v1::TokenizeResponse response;
  securebert::service::FillTokenizeResponse(*encodings, *h.tokenizer, &response);
  Check(response.results_size() == wire.inputs_size(), "one tokenization per input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Harness& h = GetHarness();
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzEmbed(h, bytes);
      break;
    case 1:
      FuzzPredictMask(h, bytes);
      break;
    default:
      FuzzTokenize(h, bytes);
      break;
  }
  return 0;
}
