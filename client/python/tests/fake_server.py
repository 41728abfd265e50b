"""An in-process fake of securebert-serve for the unit tests.

FakeServer runs a grpc.server on 127.0.0.1:0 (plaintext or TLS) with
FakeSecureBert, which answers canned results, counts calls and records
their metadata, and grpcio-health-checking's HealthServicer, whose Watch
feeds the client's health-checked round robin (set_serving flips it).

Thread safety: FakeSecureBert's counters are guarded by its lock; gRPC
calls the servicer from its worker threads.
"""

import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from securebert.v1 import securebert_pb2, securebert_pb2_grpc

import securebert_client

HIDDEN = 4
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def fake_tokens(text):
    return ["<s>"] + text.split() + ["</s>"]


class FakeSecureBert(securebert_pb2_grpc.SecureBertServicer):
    """Canned answers; fail_next(code, n) fails the next n calls with code."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0  # guarded by lock: calls of every method, failed ones included
        self.metadata = []  # guarded by lock: each call's invocation metadata, as a dict
        self._fail_code = None  # guarded by lock: what the next failures return
        self._fail_left = 0  # guarded by lock: how many calls still fail
        self.stream_drop_last = False  # EmbedStream leaves out its last answer

    def fail_next(self, code, n):
        with self.lock:
            self._fail_code, self._fail_left = code, n

    def calls_so_far(self):
        with self.lock:
            return self.calls

    def _admit(self, context):
        with self.lock:
            self.calls += 1
            self.metadata.append(dict(context.invocation_metadata()))
            code = self._fail_code if self._fail_left > 0 else None
            self._fail_left -= 1 if code is not None else 0
        if code is not None:
            context.abort(code, f"fake failure: {code.name}")

    def _embedding(self, text, pooling):
        n = len(fake_tokens(text))
        rows = n if pooling == securebert_pb2.POOLING_NONE else 1
        shape = [n, HIDDEN] if pooling == securebert_pb2.POOLING_NONE else [HIDDEN]
        values = [float(r + j + len(text)) for r in range(rows) for j in range(HIDDEN)]
        return securebert_pb2.Embedding(values=values, shape=shape, num_tokens=n)

    def Embed(self, request, context):
        self._admit(context)
        if not request.inputs:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "inputs: must not be empty")
        return securebert_pb2.EmbedResponse(
            embeddings=[self._embedding(t, request.pooling) for t in request.inputs])

    def EmbedStream(self, request_iterator, context):
        requests = list(request_iterator)
        if self.stream_drop_last:
            requests = requests[:-1]
        for request in requests:
            yield self.Embed(request, context)

    def PredictMask(self, request, context):
        self._admit(context)
        results = []
        for i, text in enumerate(request.inputs):
            if "<mask>" not in text:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"inputs[{i}]: no <mask>")
            position = fake_tokens(text).index("<mask>")
            predictions = [
                securebert_pb2.TokenPrediction(
                    token_id=k, token=f"cand{k}", score=1.0 / (k + 2),
                    sequence="" if request.omit_sequence else text.replace("<mask>", f"cand{k}", 1))
                for k in range(request.top_k or 10)]
            results.append(securebert_pb2.InputPrediction(
                masks=[securebert_pb2.MaskResult(position=position, predictions=predictions)]))
        return securebert_pb2.PredictMaskResponse(results=results)

    def Tokenize(self, request, context):
        self._admit(context)
        return securebert_pb2.TokenizeResponse(results=[
            securebert_pb2.Tokenization(tokens=[
                securebert_pb2.Token(id=i, text=t) for i, t in enumerate(fake_tokens(text))])
            for text in request.inputs])

    def GetModelInfo(self, request, context):
        self._admit(context)
        return securebert_pb2.ModelInfo(model_id="fake/securebert", hidden_size=HIDDEN,
                                        num_layers=1, device="cpu", dtype="float32",
                                        mask_token="<mask>")


class FakeServer:
    """A started fake on 127.0.0.1: `address` is "127.0.0.1:PORT".

    server_credentials: grpc.ssl_server_credentials(...) for TLS; None for
    plaintext. Owns its grpc.server; stop() ends it."""

    def __init__(self, server_credentials=None):
        self.servicer = FakeSecureBert()
        self.health = health.HealthServicer()
        self.set_serving(True)
        # Every client channel holds a Watch stream on a worker thread.
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        securebert_pb2_grpc.add_SecureBertServicer_to_server(self.servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        if server_credentials is None:
            self.port = self._server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self._server.add_secure_port("127.0.0.1:0", server_credentials)
        self._server.start()
        self.address = f"127.0.0.1:{self.port}"

    def set_serving(self, serving):
        """SERVING or NOT_SERVING for the server and the SecureBert service."""
        status = SERVING if serving else NOT_SERVING
        self.health.set("", status)
        self.health.set(securebert_client.SERVICE_NAME, status)

    def stop(self):
        self.health.enter_graceful_shutdown()
        self._server.stop(grace=None)
