"""Python client of securebert-serve (SecureBERT embeddings, <mask> filling,
tokenization) over gRPC stubs generated when the package is built.

    from securebert_client import SecureBertClient

    with SecureBertClient("127.0.0.1:50051", insecure=True) as client:
        response = client.embed(["Emotet spreads by email."], pooling="mean")
        print(list(response.embeddings[0].shape))          # [hidden]

Requests and responses are the generated messages of securebert.v1
(securebert.v1.securebert_pb2); a failed call raises grpc.RpcError with the
server's code and message. Options (TLS, tokens, round robin over several
addresses, deadlines, retries) are in securebert_client.options.
"""

from .channel import SERVICE_NAME
from .client import POOLING, TRUNCATION, SecureBertClient, vectors
from .options import (DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, DEFAULT_TARGET, ENV_CA_FILE,
                      ENV_CERT_FILE, ENV_KEY_FILE, ENV_TOKEN, Backoff, Options)

__all__ = [
    "Backoff", "DEFAULT_MAX_RECEIVE_MESSAGE_BYTES", "DEFAULT_TARGET", "ENV_CA_FILE",
    "ENV_CERT_FILE", "ENV_KEY_FILE", "ENV_TOKEN", "Options", "POOLING", "SERVICE_NAME",
    "SecureBertClient", "TRUNCATION", "vectors",
]
