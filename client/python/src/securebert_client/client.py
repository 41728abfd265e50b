"""SecureBertClient: calls securebert.v1.SecureBert and grpc.health.v1.Health.

Each call gets the client's deadline (retries included) and is tried again
only when it fails with UNAVAILABLE (server starting or draining, connection
refused), waiting as Backoff says; a retry whose wait would end past the
deadline is not made. Every RPC of the service is a pure function of its
request, so trying one again is safe. Other failures raise grpc.RpcError
unchanged: .code() and .details() are the server's.

Ownership: the client owns its two channels; close() (or `with`) closes them.
Thread safety: one client may be used from many threads at once; it holds no
mutable state besides the channels, which synchronize themselves.
"""

import os
import random
import time
from typing import Iterable, List, Mapping, Optional

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from securebert.v1 import securebert_pb2, securebert_pb2_grpc

from .channel import create_channel
from .options import Options, resolve

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


def _choice(table, name, what):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"{what} must be one of {', '.join(table)}, not {name!r}") from None


class SecureBertClient:
    """A client of one securebert-serve deployment.

    SecureBertClient(target="", **fields): the keyword arguments are the
    fields of securebert_client.Options (addresses, timeout_s, max_attempts,
    backoff, max_receive_message_bytes, insecure, ca_file, cert_file,
    key_file, server_name, token). Raises ValueError for options that break
    a rule, OSError for a PEM file it cannot read. Connects lazily.

    `environ` replaces os.environ as the source of SECUREBERT_* variables.
    """

    def __init__(self, target: str = "", *, environ: Optional[Mapping[str, str]] = None,
                 **fields):
        settings = resolve(Options(target=target, **fields),
                           os.environ if environ is None else environ)
        self._timeout_s = settings.timeout_s
        self._max_attempts = settings.max_attempts
        self._backoff = settings.backoff
        self._channel = create_channel(settings, health_checked=True)
        # Health() goes over a channel that is not health-checked itself, so a
        # NOT_SERVING server can still say so.
        self._probe_channel = create_channel(settings, health_checked=False)
        self._stub = securebert_pb2_grpc.SecureBertStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._probe_channel)

    def close(self):
        """Closes the channels; calls in flight fail with CANCELLED."""
        self._channel.close()
        self._probe_channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def embed(self, texts: Iterable[str], *, pooling="mean", normalize=False,
              truncation="none") -> securebert_pb2.EmbedResponse:
        """One Embedding per text; pooling is "none", "cls" or "mean",
        truncation "none", "right" or "left"."""
        return self._unary(self._stub.Embed, self.embed_request(
            texts, pooling=pooling, normalize=normalize, truncation=truncation))

    @staticmethod
    def embed_request(texts: Iterable[str], *, pooling="mean", normalize=False,
                      truncation="none") -> securebert_pb2.EmbedRequest:
        """The EmbedRequest that embed() sends, e.g. for embed_stream()."""
        return securebert_pb2.EmbedRequest(
            inputs=list(texts), pooling=_choice(POOLING, pooling, "pooling"),
            normalize=normalize, truncation=_choice(TRUNCATION, truncation, "truncation"))

    def embed_stream(self, requests: Iterable[securebert_pb2.EmbedRequest]
                     ) -> List[securebert_pb2.EmbedResponse]:
        """Sends the requests on one EmbedStream call; the responses, in
        request order. The stream is one call: it shares the deadline, and an
        UNAVAILABLE failure starts it again from the first request."""
        requests = list(requests)

        def attempt(timeout):
            responses = list(self._stub.EmbedStream(iter(requests), timeout=timeout))
            if len(responses) != len(requests):
                raise RuntimeError(f"EmbedStream: the server answered {len(responses)} "
                                   f"messages to {len(requests)} requests")
            return responses

        return self._with_retries(attempt)

    def predict_mask(self, texts: Iterable[str], *, top_k=5, truncation="none",
                     omit_sequence=False) -> securebert_pb2.PredictMaskResponse:
        """The top_k candidates for every <mask> of each text."""
        request = securebert_pb2.PredictMaskRequest(
            inputs=list(texts), top_k=top_k, omit_sequence=omit_sequence,
            truncation=_choice(TRUNCATION, truncation, "truncation"))
        return self._unary(self._stub.PredictMask, request)

    def tokenize(self, texts: Iterable[str], *, truncation="none"
                 ) -> securebert_pb2.TokenizeResponse:
        """The tokens the model sees for each text, without running it."""
        request = securebert_pb2.TokenizeRequest(
            inputs=list(texts), truncation=_choice(TRUNCATION, truncation, "truncation"))
        return self._unary(self._stub.Tokenize, request)

    def info(self) -> securebert_pb2.ModelInfo:
        """The loaded model and the server's limits (GetModelInfo)."""
        return self._unary(self._stub.GetModelInfo, securebert_pb2.GetModelInfoRequest())

    def health(self, service: str = "") -> str:
        """"SERVING", "NOT_SERVING", ... for `service`: "" for the whole
        server, or SERVICE_NAME. An unknown service raises NOT_FOUND."""
        response = self._unary(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def _unary(self, method, request):
        return self._with_retries(lambda timeout: method(request, timeout=timeout))

    def _with_retries(self, attempt):
        """attempt(timeout_s) until it returns, raises anything but
        UNAVAILABLE, or max_attempts are spent; the last error is re-raised."""
        deadline = None if self._timeout_s is None else time.monotonic() + self._timeout_s
        tried = 0
        while True:
            tried += 1
            timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                return attempt(timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or tried >= self._max_attempts:
                    raise
                wait = self._backoff.delay_s(tried - 1, random.random())
                # A retry that would start at or after the deadline could only time out.
                if deadline is not None and time.monotonic() + wait >= deadline:
                    raise
            time.sleep(wait)


def vectors(response: securebert_pb2.EmbedResponse) -> List[List[float]]:
    """The embeddings of an EmbedResponse as lists of floats, one per input."""
    return [list(embedding.values) for embedding in response.embeddings]
