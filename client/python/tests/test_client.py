"""SecureBertClient against the in-process fake: each RPC, errors, retries
on UNAVAILABLE only (counted attempts and waits), deadlines, receive limits,
and example.py."""

import io
import socket
import time

import grpc
import pytest

import securebert_client
from fake_server import HIDDEN
from securebert_client import Backoff, SecureBertClient

# Retries in milliseconds, not the default tens of them.
QUICK = Backoff(initial_s=0.001, max_s=0.004, jitter=0)


@pytest.fixture
def client(fake):
    with SecureBertClient(fake.address, insecure=True, timeout_s=10, backoff=QUICK) as c:
        yield c


class RecordingTime:
    """Stands in for the client module's `time`: sleep records the wait."""

    def __init__(self):
        self.waits = []

    def monotonic(self):
        return time.monotonic()

    def sleep(self, seconds):
        self.waits.append(seconds)


@pytest.fixture
def waits(monkeypatch):
    recorder = RecordingTime()
    monkeypatch.setattr(securebert_client.client, "time", recorder)
    return recorder.waits


def test_embed(client):
    response = client.embed(["a b", "c"], pooling="cls")
    assert [e.num_tokens for e in response.embeddings] == [4, 3]
    assert [list(e.shape) for e in response.embeddings] == [[HIDDEN], [HIDDEN]]
    assert len(securebert_client.vectors(response)[0]) == HIDDEN
    full = client.embed(["a b"], pooling="none")
    assert list(full.embeddings[0].shape) == [4, HIDDEN]
    assert len(full.embeddings[0].values) == 4 * HIDDEN


def test_bad_choices_are_refused_before_sending(client, fake):
    with pytest.raises(ValueError, match="pooling must be one of none, cls, mean, not 'max'"):
        client.embed(["a"], pooling="max")
    with pytest.raises(ValueError, match="truncation must be one of"):
        client.tokenize(["a"], truncation="middle")
    assert fake.servicer.calls_so_far() == 0


def test_embed_stream_in_order(client):
    requests = [SecureBertClient.embed_request(["w " * i], pooling="none") for i in range(1, 6)]
    responses = client.embed_stream(requests)
    assert [r.embeddings[0].num_tokens for r in responses] == [3, 4, 5, 6, 7]
    assert list(responses[0].embeddings[0].shape) == [3, HIDDEN]


def test_embed_stream_retried_from_the_start_on_unavailable(client, fake):
    fake.servicer.fail_next(grpc.StatusCode.UNAVAILABLE, 1)
    responses = client.embed_stream(SecureBertClient.embed_request([t]) for t in ["a", "b c"])
    assert [r.embeddings[0].num_tokens for r in responses] == [3, 4]
    # One failed message, then both again.
    assert fake.servicer.calls_so_far() == 3


def test_embed_stream_short_answer_is_an_error(client, fake):
    fake.servicer.stream_drop_last = True
    with pytest.raises(RuntimeError, match="answered 1 messages to 2 requests"):
        client.embed_stream([SecureBertClient.embed_request(["a"])] * 2)


def test_predict_mask_tokenize_info_health(client):
    predicted = client.predict_mask(["the <mask> leaked"], top_k=2)
    candidates = predicted.results[0].masks[0].predictions
    assert [c.sequence for c in candidates] == ["the cand0 leaked", "the cand1 leaked"]
    omitted = client.predict_mask(["the <mask> leaked"], top_k=1, omit_sequence=True)
    assert omitted.results[0].masks[0].predictions[0].sequence == ""
    assert len(client.tokenize(["x y z"]).results[0].tokens) == 5
    assert client.info().mask_token == "<mask>"
    assert client.health() == "SERVING"
    assert client.health(securebert_client.SERVICE_NAME) == "SERVING"


def test_errors_keep_code_and_message_and_are_not_retried(client, fake):
    with pytest.raises(grpc.RpcError) as raised:
        client.predict_mask(["nothing to fill"])
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "inputs[0]: no <mask>"
    assert fake.servicer.calls_so_far() == 1
    with pytest.raises(grpc.RpcError) as raised:
        client.health("no.such.Service")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("code", [grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL,
                                  grpc.StatusCode.DEADLINE_EXCEEDED])
def test_only_unavailable_is_retried(client, fake, code):
    fake.servicer.fail_next(code, 1)
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    assert raised.value.code() == code
    assert fake.servicer.calls_so_far() == 1


def test_unavailable_is_retried_with_backoff(fake, waits):
    client = SecureBertClient(fake.address, insecure=True,
                              backoff=Backoff(initial_s=0.05, multiplier=2, max_s=2, jitter=0))
    fake.servicer.fail_next(grpc.StatusCode.UNAVAILABLE, 2)
    assert client.info().model_id == "fake/securebert"
    assert fake.servicer.calls_so_far() == 3
    assert waits == pytest.approx([0.05, 0.1])
    client.close()


def test_attempts_run_out(fake, waits):
    client = SecureBertClient(fake.address, insecure=True, max_attempts=3, backoff=QUICK)
    fake.servicer.fail_next(grpc.StatusCode.UNAVAILABLE, 10)
    with pytest.raises(grpc.RpcError) as raised:
        client.tokenize(["a"])
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert fake.servicer.calls_so_far() == 3 and len(waits) == 2
    client.close()


def test_no_retries_with_one_attempt(fake):
    client = SecureBertClient(fake.address, insecure=True, max_attempts=1)
    fake.servicer.fail_next(grpc.StatusCode.UNAVAILABLE, 1)
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert fake.servicer.calls_so_far() == 1
    client.close()


def test_no_retry_whose_wait_ends_past_the_deadline(fake, waits):
    client = SecureBertClient(fake.address, insecure=True, timeout_s=5,
                              backoff=Backoff(initial_s=6, max_s=6, jitter=0))
    fake.servicer.fail_next(grpc.StatusCode.UNAVAILABLE, 5)
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert fake.servicer.calls_so_far() == 1 and waits == []
    client.close()


def test_refused_connection_is_unavailable_after_every_attempt(waits):
    with socket.socket() as s:  # A port that nothing listens on once closed.
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = SecureBertClient(f"127.0.0.1:{port}", insecure=True, timeout_s=10,
                              backoff=Backoff(jitter=0))
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert waits == pytest.approx([0.05, 0.1, 0.2])
    client.close()


def test_receive_limit_applies(fake):
    client = SecureBertClient(fake.address, insecure=True, max_receive_message_bytes=64)
    with pytest.raises(grpc.RpcError) as raised:
        client.embed(["a " * 50], pooling="none")
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert fake.servicer.calls_so_far() == 1
    client.close()


def test_tls_client_against_a_plaintext_server_fails(fake):
    client = SecureBertClient(fake.address, max_attempts=1, timeout_s=10)
    with pytest.raises(grpc.RpcError) as raised:
        client.info()
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert fake.servicer.calls_so_far() == 0
    client.close()


def test_example_runs(example, fake):
    out = io.StringIO()
    assert example.main(["--target", fake.address], out=out, environ={}) == 0
    text = out.getvalue()
    assert "model: fake/securebert" in text
    assert "cosine similarity:" in text
    assert "  1. token='cand0'  score=0.5000" in text


def test_example_flag_errors(example, fake, capsys):
    assert example.main(["--target", fake.address, "--cacert", "ca.pem"], environ={}) == 2
    assert "ca_file need TLS, but insecure=True" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        example.main(["--insecure=maybe"], environ={})


def test_example_says_when_it_ignores_credentials(example, fake, capsys):
    environ = {securebert_client.ENV_TOKEN: "s3cret"}
    assert example.main(["--target", fake.address], out=io.StringIO(), environ=environ) == 0
    assert "note: SECUREBERT_TOKEN set but not used" in capsys.readouterr().err
    assert "authorization" not in fake.servicer.metadata[0]


def test_example_reports_rpc_errors(example, fake, capsys):
    fake.servicer.fail_next(grpc.StatusCode.INVALID_ARGUMENT, 1)
    assert example.main(["--target", fake.address], out=io.StringIO(), environ={}) == 1
    assert "error: INVALID_ARGUMENT: fake failure" in capsys.readouterr().err

