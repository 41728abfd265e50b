"""Tests of securebert_client.py and example.py against an in-process fake
server (grpcio) that answers canned results; run by ctest with the generated
stubs on PYTHONPATH."""

import io
import threading
import unittest
from concurrent import futures

import grpc

import example
import securebert_client
from grpc_health.v1 import health_pb2, health_pb2_grpc
from securebert.v1 import securebert_pb2, securebert_pb2_grpc

HIDDEN = 4


def fake_tokens(text):
    return ["<s>"] + text.split() + ["</s>"]


class FakeSecureBert(securebert_pb2_grpc.SecureBertServicer):
    """Canned answers; fails the next `unavailable` calls with UNAVAILABLE."""

    def __init__(self):
        self.lock = threading.Lock()
        self.unavailable = 0
        self.calls = 0

    def _admit(self, context):
        with self.lock:
            self.calls += 1
            fail = self.unavailable > 0
            self.unavailable -= 1 if fail else 0
        if fail:
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")

    def _embedding(self, text, pooling):
        n = len(fake_tokens(text))
        rows = n if pooling == securebert_pb2.POOLING_NONE else 1
        shape = [n, HIDDEN] if rows > 1 else [HIDDEN]
        values = [float(r + j + len(text)) for r in range(rows) for j in range(HIDDEN)]
        return securebert_pb2.Embedding(values=values, shape=shape, num_tokens=n)

    def Embed(self, request, context):
        self._admit(context)
        if not request.inputs:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "inputs: must not be empty")
        return securebert_pb2.EmbedResponse(
            embeddings=[self._embedding(t, request.pooling) for t in request.inputs])

    def EmbedStream(self, request_iterator, context):
        for request in request_iterator:
            yield self.Embed(request, context)

    def PredictMask(self, request, context):
        self._admit(context)
        results = []
        for text in request.inputs:
            if "<mask>" not in text:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "inputs[0]: no <mask>")
            position = fake_tokens(text).index("<mask>")
            predictions = [
                securebert_pb2.TokenPrediction(
                    token_id=k, token=f"cand{k}", score=1.0 / (k + 2),
                    sequence=text.replace("<mask>", f"cand{k}", 1))
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


class FakeHealth(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service not in ("", securebert_client.SERVICE_NAME):
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return health_pb2.HealthCheckResponse(
            status=health_pb2.HealthCheckResponse.SERVING)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.servicer = FakeSecureBert()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        securebert_pb2_grpc.add_SecureBertServicer_to_server(self.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(FakeHealth(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.target = f"127.0.0.1:{port}"
        self.client = securebert_client.SecureBertClient(self.target, timeout_s=10)

    def tearDown(self):
        self.client.close()
        self.server.stop(grace=None)

    def test_embed(self):
        response = self.client.embed(["a b", "c"], pooling="cls")
        self.assertEqual([e.num_tokens for e in response.embeddings], [4, 3])
        self.assertEqual(len(securebert_client.vectors(response)[0]), HIDDEN)
        full = self.client.embed(["a b"], pooling="none")
        self.assertEqual(list(full.embeddings[0].shape), [4, HIDDEN])

    def test_embed_stream_in_order(self):
        requests = [securebert_pb2.EmbedRequest(inputs=["w " * i]) for i in range(1, 6)]
        counts = [r.embeddings[0].num_tokens for r in self.client.embed_stream(requests)]
        self.assertEqual(counts, [3, 4, 5, 6, 7])

    def test_predict_mask_tokenize_info_health(self):
        predicted = self.client.predict_mask(["the <mask> leaked"], top_k=2)
        candidates = predicted.results[0].masks[0].predictions
        self.assertEqual([c.sequence for c in candidates],
                         ["the cand0 leaked", "the cand1 leaked"])
        self.assertEqual(len(self.client.tokenize(["x y z"]).results[0].tokens), 5)
        self.assertEqual(self.client.info().mask_token, "<mask>")
        self.assertEqual(self.client.health(), "SERVING")
        self.assertEqual(self.client.health(securebert_client.SERVICE_NAME), "SERVING")

    def test_errors_keep_code_and_message(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.predict_mask(["nothing to fill"])
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(raised.exception.details(), "inputs[0]: no <mask>")
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.health("no.such.Service")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_retries_unavailable(self):
        self.servicer.unavailable = 2
        self.assertEqual(self.client.info().model_id, "fake/securebert")
        self.assertEqual(self.servicer.calls, 3)

    def test_no_retries_when_disabled(self):
        client = securebert_client.SecureBertClient(self.target, max_attempts=1)
        self.servicer.unavailable = 1
        with self.assertRaises(grpc.RpcError) as raised:
            client.info()
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)
        client.close()

    def test_receive_limit_applies(self):
        client = securebert_client.SecureBertClient(self.target, max_receive_message_bytes=64)
        with self.assertRaises(grpc.RpcError) as raised:
            client.embed(["a " * 50], pooling="none")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        client.close()

    def test_certificates_need_tls(self):
        with self.assertRaises(ValueError):
            securebert_client.SecureBertClient(self.target, root_certs_path="/x.pem")

    def test_example_runs(self):
        out = io.StringIO()
        self.assertEqual(example.main(["--target", self.target], out=out), 0)
        text = out.getvalue()
        self.assertIn("model: fake/securebert", text)
        self.assertIn("cosine similarity:", text)
        self.assertIn("  1. token='cand0'  score=0.5000", text)


if __name__ == "__main__":
    unittest.main()
