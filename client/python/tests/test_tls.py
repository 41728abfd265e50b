"""TLS against fakes that require a client certificate from a throw-away CA:
mutual TLS with a bearer token, the same from the environment, server-name
checks, an address list, and the refusals (unknown CA, no client
certificate, wrong name)."""

import io

import grpc
import pytest

import securebert_client
from securebert_client import SecureBertClient


@pytest.fixture
def tls_fake(start_fake, tls_credentials):
    return start_fake(tls_credentials)


def mtls(pki, **fields):
    return dict(ca_file=str(pki.ca), cert_file=str(pki.client_cert),
                key_file=str(pki.client_key), timeout_s=10, **fields)


def refused(client):
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    return raised.value.code()


def test_mutual_tls_with_a_token(tls_fake, pki):
    with SecureBertClient(f"localhost:{tls_fake.port}", environ={},
                          **mtls(pki, token="s3cret")) as client:
        assert client.info().model_id == "fake/securebert"
        assert client.embed(["a b"]).embeddings[0].num_tokens == 4
    assert [m["authorization"] for m in tls_fake.servicer.metadata] == ["Bearer s3cret"] * 2


def test_mutual_tls_and_token_from_the_environment(tls_fake, pki):
    environ = {securebert_client.ENV_CA_FILE: str(pki.ca),
               securebert_client.ENV_CERT_FILE: str(pki.client_cert),
               securebert_client.ENV_KEY_FILE: str(pki.client_key),
               securebert_client.ENV_TOKEN: "from-env"}
    with SecureBertClient(tls_fake.address, environ=environ, timeout_s=10) as client:
        assert client.health() == "SERVING"
        assert client.tokenize(["x"]).results[0].tokens[1].text == "x"
    assert tls_fake.servicer.metadata[0]["authorization"] == "Bearer from-env"


def test_no_token_sends_no_authorization(tls_fake, pki):
    with SecureBertClient(tls_fake.address, environ={}, **mtls(pki)) as client:
        client.info()
    assert "authorization" not in tls_fake.servicer.metadata[0]


def test_server_name_override(tls_fake, pki):
    with SecureBertClient(tls_fake.address, environ={},
                          **mtls(pki, server_name="securebert.test")) as client:
        assert client.info().model_id == "fake/securebert"
    with SecureBertClient(tls_fake.address, environ={}, max_attempts=1,
                          **mtls(pki, server_name="other.test")) as client:
        assert refused(client) == grpc.StatusCode.UNAVAILABLE
    assert tls_fake.servicer.calls_so_far() == 1


def test_address_list_over_tls(start_fake, tls_credentials, pki):
    a, b = start_fake(tls_credentials), start_fake(tls_credentials)
    with SecureBertClient(f"{a.address},{b.address}", environ={}, **mtls(pki)) as client:
        for _ in range(20):
            client.info()
    # Round robin reached both over TLS, checking each certificate against
    # the first address (127.0.0.1, in the certificate's names).
    assert a.servicer.calls_so_far() > 0 and b.servicer.calls_so_far() > 0


@pytest.mark.parametrize("fields", [
    dict(ca_file="other_ca", cert_file="client_cert", key_file="client_key"),  # unknown CA
    dict(ca_file="ca"),  # no client certificate
])
def test_refusals(tls_fake, pki, fields):
    paths = {name: str(getattr(pki, value)) for name, value in fields.items()}
    with SecureBertClient(tls_fake.address, environ={}, max_attempts=1, timeout_s=10,
                          **paths) as client:
        assert refused(client) == grpc.StatusCode.UNAVAILABLE
    assert tls_fake.servicer.calls_so_far() == 0


def test_example_over_mutual_tls(example, tls_fake, pki):
    out = io.StringIO()
    argv = ["--target", f"localhost:{tls_fake.port}", "--insecure=false", "--cacert",
            str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key)]
    environ = {securebert_client.ENV_TOKEN: "example-token"}
    assert example.main(argv, out=out, environ=environ) == 0
    assert "model: fake/securebert" in out.getvalue()
    assert tls_fake.servicer.metadata[0]["authorization"] == "Bearer example-token"
