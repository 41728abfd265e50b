"""A thin Python client for securebert-serve over the generated gRPC stubs.

It sets the channel up the way this service needs (a 64 MiB receive limit,
since full hidden states are about 1.5 MB per 512-token input; retries on
UNAVAILABLE with exponential backoff through gRPC's service config; optional
TLS) and turns plain Python values into requests. Responses are the
generated protobuf messages; failures raise grpc.RpcError with the server's
status code and message.

The generated modules come from the build: put ${build}/python on PYTHONPATH
(`securebert.v1` from proto/, `grpc_health.v1` from client/).

Example:
    with SecureBertClient("127.0.0.1:50051") as client:
        vectors = client.embed(["Emotet spreads by email."], pooling="mean")
        print(client.predict_mask(["Attackers use <mask> to steal data."]))

Thread safety: one client may be used from many threads (gRPC channels are).
"""

import json

import grpc

from grpc_health.v1 import health_pb2, health_pb2_grpc
from securebert.v1 import securebert_pb2, securebert_pb2_grpc

DEFAULT_TARGET = "127.0.0.1:50051"
# Full hidden states (pooling="none") are ~1.5 MB per 512-token input.
DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024
SERVICE_NAME = "securebert.v1.SecureBert"

POOLING = {
    "none": securebert_pb2.POOLING_NONE,
    "cls": securebert_pb2.POOLING_CLS,
    "mean": securebert_pb2.POOLING_MEAN,
}
TRUNCATION = {
    "none": securebert_pb2.TRUNCATION_NONE,
    "right": securebert_pb2.TRUNCATION_RIGHT,
    "left": securebert_pb2.TRUNCATION_LEFT,
}


def _retry_service_config(max_attempts):
    """gRPC service config retrying UNAVAILABLE on every SecureBert RPC."""
    policy = {
        "maxAttempts": max_attempts,
        "initialBackoff": "0.05s",
        "maxBackoff": "2s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    return json.dumps({
        "methodConfig": [{
            "name": [{"service": SERVICE_NAME}, {"service": "grpc.health.v1.Health"}],
            "retryPolicy": policy,
        }]
    })


def _read(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


class SecureBertClient:
    """Calls securebert.v1.SecureBert and grpc.health.v1.Health.

    Args:
        target: "host:port" or a gRPC target URI.
        timeout_s: deadline of each call in seconds, retries included;
            None for no deadline.
        max_receive_message_bytes: largest response accepted.
        max_attempts: attempts per call on UNAVAILABLE (2 to 5; gRPC caps
            at 5); 1 disables retries.
        tls: use TLS (the server speaks plaintext by default).
        root_certs_path, client_cert_path, client_key_path: PEM files for
            TLS; None uses gRPC's default roots and no client certificate.
    """

    def __init__(self, target=DEFAULT_TARGET, *, timeout_s=30.0,
                 max_receive_message_bytes=DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
                 max_attempts=4, tls=False, root_certs_path=None,
                 client_cert_path=None, client_key_path=None):
        options = [("grpc.max_receive_message_length", max_receive_message_bytes)]
        if max_attempts > 1:
            options += [("grpc.enable_retries", 1),
                        ("grpc.service_config", _retry_service_config(max_attempts))]
        else:
            options.append(("grpc.enable_retries", 0))
        if tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read(root_certs_path),
                private_key=_read(client_key_path),
                certificate_chain=_read(client_cert_path))
            self._channel = grpc.secure_channel(target, credentials, options=options)
        elif root_certs_path or client_cert_path or client_key_path:
            raise ValueError("certificate files need tls=True")
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._timeout_s = timeout_s
        self._stub = securebert_pb2_grpc.SecureBertStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def embed(self, texts, *, pooling="mean", normalize=False, truncation="none"):
        """EmbedResponse for `texts`; pooling is "none", "cls" or "mean"."""
        request = securebert_pb2.EmbedRequest(
            inputs=list(texts), pooling=POOLING[pooling], normalize=normalize,
            truncation=TRUNCATION[truncation])
        return self._stub.Embed(request, timeout=self._timeout_s)

    def embed_stream(self, requests):
        """Sends EmbedRequests on one stream; yields the responses in order."""
        return self._stub.EmbedStream(iter(requests), timeout=self._timeout_s)

    def predict_mask(self, texts, *, top_k=5, truncation="none"):
        """PredictMaskResponse: top_k candidates for every <mask>."""
        request = securebert_pb2.PredictMaskRequest(
            inputs=list(texts), top_k=top_k, truncation=TRUNCATION[truncation])
        return self._stub.PredictMask(request, timeout=self._timeout_s)

    def tokenize(self, texts, *, truncation="none"):
        """TokenizeResponse: the tokens the model sees for each text."""
        request = securebert_pb2.TokenizeRequest(
            inputs=list(texts), truncation=TRUNCATION[truncation])
        return self._stub.Tokenize(request, timeout=self._timeout_s)

    def info(self):
        """ModelInfo of the loaded model and the server's limits."""
        return self._stub.GetModelInfo(securebert_pb2.GetModelInfoRequest(),
                                       timeout=self._timeout_s)

    def health(self, service=""):
        """"SERVING", "NOT_SERVING", ... for `service` ("" is the server)."""
        response = self._health.Check(health_pb2.HealthCheckRequest(service=service),
                                      timeout=self._timeout_s)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def vectors(response):
    """The embeddings of an EmbedResponse as lists of floats, one per input."""
    return [list(embedding.values) for embedding in response.embeddings]
