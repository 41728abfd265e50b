#include "app/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "app/cpu_budget.h"
#include "batching/engine.h"
#include "service/http_endpoint.h"
#include "service/metrics.h"
#include "service/request_path.h"
#include "tokenizer/tokenizer.h"

namespace securebert::app {

using service::HttpEndpoint;
using service::RequestPath;
using service::SecureBertService;
using service::ServerMetrics;

namespace {
constexpr char kServiceName[] = "securebert.v1.SecureBert";

// A model directory that does not load is a failure to serve (exit 1), not a
// bad flag (exit 2, INVALID_ARGUMENT), whatever code the loader gave it; the
// message is kept.
absl::Status AsLoadFailure(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  return absl::FailedPreconditionError(status.message());
}

// The cores this process may use (its affinity and any cgroup CPU limit).
int32_t Cores() { return AvailableCores(); }
}  // namespace

struct Server::State {
  ServerOptions options;
  // Destroyed bottom-up, once ~Server has stopped the request path (every
  // accepted call answered) and shut gRPC down: nothing below is called by
  // anything above it by then.
  ServerMetrics metrics;                            // reported to by everything below
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // used by the request path
  std::shared_ptr<model::TorchModel> model;         // weights the engine's instances share
  std::unique_ptr<RequestPath> request_path;        // CPU pool, engine, pipeline
  std::unique_ptr<service::BearerTokens> tokens;    // checked by the service; null: none
  std::unique_ptr<SecureBertService> service;       // handlers; use the pipeline
  std::unique_ptr<grpc::Server> grpc_server;        // calls into the service
  std::unique_ptr<HttpEndpoint> http;               // reads metrics and `ready`
  int port = 0;
  std::atomic<bool> ready{false};
};

void ResolveThreading(const std::string& device, int32_t cores, int32_t* instances,
                      int32_t* intra_op_threads) {
  const bool cuda = device.rfind("cuda", 0) == 0;
  // CPU: one instance per core with one thread each measured best here
  // (docs/performance.md): each instance batches, and no two forwards fight
  // over a core. CUDA: one instance; batching is what the GPU needs.
  if (*instances <= 0) {
    *instances = cuda ? 1 : std::max(1, cores / std::max(1, *intra_op_threads));
  }
  if (*intra_op_threads <= 0) *intra_op_threads = std::max(1, cores / *instances);
}

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() {
  // Every accepted call is answered first: gRPC's Shutdown waits for calls
  // still owed an answer.
  if (state_->request_path) state_->request_path->Stop();
  if (state_->grpc_server) state_->grpc_server->Shutdown(std::chrono::system_clock::now());
  if (state_->http) state_->http->Stop();
}

int Server::port() const { return state_->port; }
int Server::metrics_port() const { return state_->http ? state_->http->port() : 0; }
const ServerOptions& Server::options() const { return state_->options; }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  if (!options.auth_tokens_file.empty()) {
    if (options.tls.cert_file.empty()) {
      return absl::InvalidArgumentError(
          "--auth_tokens_file needs --tls_cert and --tls_key: bearer tokens sent in plaintext "
          "can be read by anyone on the path");
    }
    absl::StatusOr<std::unique_ptr<service::BearerTokens>> tokens =
        service::BearerTokens::Load(options.auth_tokens_file);
    if (!tokens.ok()) return tokens.status();
    state->tokens = *std::move(tokens);
  }
  state->service =
      std::make_unique<SecureBertService>(options.service, &state->metrics, state->tokens.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &state->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  if (options.max_connection_age_ms > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(options.max_connection_age_ms));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(options.max_connection_age_grace_ms));
  }
  builder.RegisterService(state->service.get());
  state->grpc_server = builder.BuildAndStart();
  if (!state->grpc_server || state->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options.listen));
  }
  auto* health = state->grpc_server->GetHealthCheckService();
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);

  if (!options.metrics_listen.empty()) {
    State* raw = state.get();
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> http = HttpEndpoint::Start(
        options.metrics_listen, &state->metrics, [raw] { return raw->ready.load(); });
    if (!http.ok()) return http.status();
    state->http = *std::move(http);
  }
  spdlog::info("listening: grpc={} port={} metrics={}", options.listen, state->port,
               options.metrics_listen.empty()
                   ? "disabled"
                   : absl::StrCat(options.metrics_listen, " port=", state->http->port()));
  spdlog::info("security: {}, {}",
               options.tls.cert_file.empty()        ? "plaintext gRPC"
               : options.tls.client_ca_file.empty() ? "TLS"
                                                    : "mutual TLS (client certificates required)",
               state->tokens ? absl::StrCat("bearer tokens required (", state->tokens->size(),
                                            " in force; health and reflection open)")
                             : std::string("no bearer tokens"));
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

absl::Status Server::LoadAndServe() {
  State& s = *state_;
  ServerOptions& o = s.options;
  const absl::Time load_start = absl::Now();
  if (absl::Status s = model::ValidateTorchModelOptions(o.model); !s.ok()) return s;
  // Flags this model cannot run with (--device cuda for an int8 model) are
  // bad flags (exit 2); a manifest that does not read is Load's to report.
  if (absl::StatusOr<model::ModelManifest> m = model::LoadManifest(o.model_dir); m.ok()) {
    if (absl::Status s = model::CheckModelFitsOptions(*m, o.model); !s.ok()) return s;
  }
  absl::StatusOr<std::shared_ptr<model::TorchModel>> model =
      model::TorchModel::Load(o.model_dir, o.model);
  if (!model.ok()) return AsLoadFailure(model.status());
  s.model = *std::move(model);
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok =
      tokenizer::Tokenizer::FromModelDir(o.model_dir);
  if (!tok.ok()) return AsLoadFailure(tok.status());
  s.tokenizer = *std::move(tok);
  const batching::ModelSpec& spec = s.model->spec();
  const model::ModelManifest& manifest = s.model->manifest();
  spdlog::info(
      "model loaded in {:.1f}s: id={} layers={} hidden={} vocab={} device={} dtype={} "
      "weights={:.0f} MB{}",
      absl::ToDoubleSeconds(absl::Now() - load_start), spec.model_id, spec.num_layers,
      spec.hidden_size, spec.vocab_size, spec.device, spec.dtype,
      static_cast<double>(s.model->weight_bytes()) / 1e6,
      s.model->shares_tied_embedding() ? " (tied word embedding held once)" : "");
  if (manifest.random_weights) {
    spdlog::warn(
        "model {} has RANDOM weights ({}): a demo/test model whose embeddings and "
        "predictions are meaningless",
        spec.model_id, manifest.source);
  }

  ResolveThreading(spec.device, Cores(), &o.instances, &o.intra_op_threads);
  std::vector<std::unique_ptr<batching::Model>> instances;
  for (int32_t i = 0; i < o.instances; ++i) {
    instances.push_back(s.model->NewInstance(o.intra_op_threads));
  }
  service::RequestPathOptions path;
  path.pool = {.threads = o.tokenizer_threads > 0 ? o.tokenizer_threads : Cores(),
               .max_queued = std::max(1024, 2 * o.engine.max_concurrent_requests)};
  path.engine = o.engine;
  path.limits = o.service.limits;
  path.limits.max_response_bytes = o.max_message_bytes;
  absl::StatusOr<std::unique_ptr<RequestPath>> request_path =
      RequestPath::Create(path, s.tokenizer.get(), std::move(instances), &s.metrics);
  if (!request_path.ok()) return request_path.status();
  s.request_path = *std::move(request_path);
  o.engine = s.request_path->engine()->options();  // automatic settings resolved
  spdlog::info(
      "engine: instances={} intra_op_threads={} lend_idle_cores={} max_input_tokens={} "
      "max_batch_tokens={} max_batch_size={} max_queue_delay_us={} fairness_bound_tokens={} "
      "max_concurrent_requests={}",
      o.instances, o.intra_op_threads, o.engine.lend_idle_cores, o.engine.max_input_tokens,
      o.engine.max_batch_tokens, o.engine.max_batch_size, o.engine.max_queue_delay_us,
      o.engine.fairness_bound_tokens, o.engine.max_concurrent_requests);
  const absl::Time warm_start = absl::Now();
  if (absl::Status w = s.request_path->Warmup(); !w.ok()) return w;
  spdlog::info("warm-up done in {:.1f}s", absl::ToDoubleSeconds(absl::Now() - warm_start));

  service::ServiceBackend backend;
  backend.pipeline = s.request_path->pipeline();
  backend.info.set_model_id(spec.model_id);
  backend.info.set_hidden_size(spec.hidden_size);
  backend.info.set_num_layers(spec.num_layers);
  backend.info.set_vocab_size(spec.vocab_size);
  backend.info.set_max_input_tokens(o.engine.max_input_tokens);
  backend.info.set_device(spec.device);
  backend.info.set_dtype(spec.dtype);
  backend.info.set_max_batch_tokens(o.engine.max_batch_tokens);
  backend.info.set_max_batch_size(o.engine.max_batch_size);
  backend.info.set_max_client_batch_size(o.service.limits.max_client_batch_size);
  backend.info.set_mask_token(std::string(s.tokenizer->mask_token()));
  backend.info.add_capabilities("embed");
  if (spec.has_lm_head) backend.info.add_capabilities("predict_mask");
  if (spec.task_head == batching::TaskHead::kSequenceClassification) {
    backend.info.add_capabilities("classify");
  } else if (spec.task_head == batching::TaskHead::kTokenClassification) {
    backend.info.add_capabilities("extract_entities");
  }
  for (const std::string& label : manifest.task_head.labels) backend.info.add_labels(label);
  backend.labels = {manifest.task_head.labels, manifest.task_head.multi_label};
  backend.info.set_head(model::TaskHeadKindName(manifest.task_head.kind));
  backend.info.set_multi_label(manifest.task_head.multi_label);
  const service::WindowShape& windows = backend.pipeline->window_shape();
  backend.info.set_window_overlap_tokens(static_cast<uint32_t>(windows.overlap));
  backend.info.set_max_windows_per_input(
      static_cast<uint32_t>(o.service.limits.max_windows_per_input));
  if (windows.overlap != o.service.limits.window_overlap_tokens) {
    spdlog::warn("--window_stride_tokens={} is more than half a window of {} tokens: using {}",
                 o.service.limits.window_overlap_tokens, windows.window, windows.overlap);
  }
  if (manifest.task_head.kind != model::TaskHeadKind::kNone) {
    spdlog::info("task head: {} with {} labels{}{}",
                 model::TaskHeadKindName(manifest.task_head.kind), manifest.task_head.labels.size(),
                 manifest.task_head.multi_label ? " (multi-label)" : "",
                 spec.has_lm_head ? "" : "; no MLM head: PredictMask answers FAILED_PRECONDITION");
  }
  s.service->SetReady(std::move(backend));
  s.metrics.SetModelInfo(spec, o.instances, o.engine.max_input_tokens);
  auto* health = s.grpc_server->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);
  s.ready = true;
  spdlog::info(
      "ready: serving {} on port {}; try: build/bin/securebert-client --target "
      "127.0.0.1:{} {}",
      spec.model_id, s.port, s.port,
      spec.has_lm_head
          ? absl::StrCat("predict-mask \"Attackers used ", std::string(s.tokenizer->mask_token()),
                         " to steal credentials.\"")
          : std::string("embed \"Attackers stole credentials.\""));
  return absl::OkStatus();
}

void Server::ReloadAuthTokens() {
  if (!state_->tokens) {
    spdlog::info("SIGHUP: no --auth_tokens_file to reload");
    return;
  }
  absl::StatusOr<size_t> count = state_->tokens->Reload();
  if (count.ok()) {
    spdlog::info("auth: reloaded {}: {} token(s) in force", state_->options.auth_tokens_file,
                 *count);
  } else {
    spdlog::error("auth: reload failed, keeping the {} token(s) in force: {}",
                  state_->tokens->size(), std::string(count.status().message()));
  }
}

void Server::Drain() {
  State& s = *state_;
  const absl::Time deadline = absl::Now() + absl::Seconds(s.options.shutdown_grace_s);
  s.ready = false;
  auto* health = s.grpc_server->GetHealthCheckService();
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);
  s.service->StartDrain();
  if (s.request_path) s.request_path->StopAccepting();
  // Logged once it is true: from here every new RPC and stream message is
  // refused (the end-to-end tests wait for this line).
  spdlog::info("draining: health NOT_SERVING, refusing new RPCs, grace {}s",
               s.options.shutdown_grace_s);
  // Accepted requests finish their tokenization, run, and are answered;
  // stream messages arriving from now on are refused.
  if (s.request_path && !s.request_path->Drain(deadline)) {
    spdlog::warn("drain: grace period over with work unfinished; answered it UNAVAILABLE");
  }
  // Keep refusing with UNAVAILABLE a little longer: calls that reach gRPC
  // after Shutdown starts are cancelled by gRPC itself, which clients cannot
  // tell from lost work; load balancers also need a moment to move on.
  const absl::Duration linger = std::min(absl::Milliseconds(s.options.shutdown_linger_ms),
                                         std::max(absl::ZeroDuration(), deadline - absl::Now()));
  absl::SleepFor(linger);
  // Waits for RPCs still finishing (e.g. Tokenize), cancelling any left at
  // the deadline.
  s.grpc_server->Shutdown(absl::ToChronoTime(deadline));
  if (s.http) s.http->Stop();
  spdlog::info("drained");
}

}  // namespace securebert::app
