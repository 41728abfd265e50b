"""The installed client against the real securebert-server on the tiny model.

SECUREBERT_SERVER_BIN (e.g. build/bin/securebert-server) and
SECUREBERT_TEST_MODEL_DIR (e.g. build/models/tiny) say what to run; without
them every test here fails (never skips). One server for the module, on
ephemeral loopback ports, with --max_input_tokens=128.
"""

import json
import math
import os
import pathlib
import subprocess
import sys

import grpc
import pytest

import securebert_client
from securebert_client import SecureBertClient
from server_process import ServerProcess

ENV_SERVER_BIN = "SECUREBERT_SERVER_BIN"
ENV_MODEL_DIR = "SECUREBERT_TEST_MODEL_DIR"
MAX_INPUT_TOKENS = 128
PYTHON_DIR = pathlib.Path(__file__).resolve().parent.parent
PARITY = PYTHON_DIR.parent.parent / "tests" / "data" / "tokenizer" / "parity.jsonl"
TEXTS = ["Emotet spreads through malicious Word attachments.",
         "APT29 used spear-phishing links to deliver a backdoor to government networks."]


@pytest.fixture(scope="module")
def address():
    binary, model_dir = os.environ.get(ENV_SERVER_BIN), os.environ.get(ENV_MODEL_DIR)
    if not binary or not model_dir:
        pytest.fail(f"the end-to-end tests need {ENV_SERVER_BIN} (e.g. build/bin/securebert-server)"
                    f" and {ENV_MODEL_DIR} (e.g. build/models/tiny); client/python/run_tests.sh "
                    "is run by ctest with both set", pytrace=False)
    server = ServerProcess(binary, model_dir, f"--max_input_tokens={MAX_INPUT_TOKENS}",
                           # Its drain would otherwise linger 2 s answering UNAVAILABLE.
                           "--shutdown_linger_ms=0")
    try:
        yield server.ready(timeout_s=120)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(address):
    with SecureBertClient(address, insecure=True, timeout_s=60) as c:
        yield c


@pytest.fixture(scope="module")
def info(client):
    return client.info()


def test_model_info(info):
    assert info.max_input_tokens == MAX_INPUT_TOKENS
    assert info.mask_token == "<mask>"
    assert info.hidden_size > 0 and info.num_layers > 0 and info.vocab_size > 50000
    assert info.max_client_batch_size >= 1 and info.device.startswith(("cpu", "cuda"))
    assert info.dtype in ("float32", "float16", "bfloat16")


def test_health(client):
    assert client.health() == "SERVING"
    assert client.health(securebert_client.SERVICE_NAME) == "SERVING"
    with pytest.raises(grpc.RpcError) as raised:
        client.health("no.such.Service")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_embed_shapes_and_pooling(client, info):
    hidden = info.hidden_size
    full = client.embed(TEXTS, pooling="none")
    cls = client.embed(TEXTS, pooling="cls")
    mean = client.embed(TEXTS, pooling="mean", normalize=True)
    for f, c, m in zip(full.embeddings, cls.embeddings, mean.embeddings):
        assert list(f.shape) == [f.num_tokens, hidden] and len(f.values) == f.num_tokens * hidden
        assert list(c.shape) == [hidden] == list(m.shape)
        assert c.num_tokens == f.num_tokens == m.num_tokens > 2
        rows = [f.values[r * hidden:(r + 1) * hidden] for r in range(f.num_tokens)]
        assert list(c.values) == pytest.approx(rows[0], abs=1e-4)
        averaged = [sum(column) / len(rows) for column in zip(*rows)]
        norm = math.sqrt(sum(x * x for x in averaged))
        assert list(m.values) == pytest.approx([x / norm for x in averaged], abs=1e-4)
    assert full.embeddings[0].num_tokens != full.embeddings[1].num_tokens


def test_embed_stream_answers_in_order(client):
    texts = [TEXTS[1], TEXTS[0], "short", TEXTS[1] + " " + TEXTS[0]]
    expected = [e.num_tokens for e in client.embed(texts, pooling="cls").embeddings]
    requests = [SecureBertClient.embed_request([t], pooling="cls") for t in texts]
    responses = client.embed_stream(requests)
    assert [r.embeddings[0].num_tokens for r in responses] == expected


def test_predict_mask_at_every_mask(client):
    texts = ["Attackers used <mask> to steal credentials.",
             "The <mask> exploited a flaw in the <mask> parser."]
    response = client.predict_mask(texts, top_k=3)
    tokenized = client.tokenize(texts)
    for result, tokens in zip(response.results, tokenized.results):
        positions = [i for i, t in enumerate(tokens.tokens) if t.text == "<mask>"]
        assert [m.position for m in result.masks] == positions
        for mask in result.masks:
            scores = [p.score for p in mask.predictions]
            assert len(scores) == 3 and scores == sorted(scores, reverse=True)
            assert all(0 < s <= 1 for s in scores)
            assert all(p.sequence for p in mask.predictions)


def test_tokenize_matches_hugging_face(client, info):
    with PARITY.open(encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    cases = [c for c in cases if len(c["ids"]) <= MAX_INPUT_TOKENS]
    assert len(cases) >= 50, f"only {len(cases)} parity cases fit {MAX_INPUT_TOKENS} tokens"
    batch = info.max_client_batch_size
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        response = client.tokenize([c["text"] for c in chunk])
        for case, result in zip(chunk, response.results):
            assert [t.id for t in result.tokens] == case["ids"], case["text"]


def test_errors_map_to_invalid_argument(client):
    cases = [lambda: client.predict_mask(["no mask in this text"]),
             lambda: client.embed([]),
             lambda: client.embed(["word " * (2 * MAX_INPUT_TOKENS)])]
    for call in cases:
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "inputs" in raised.value.details()
    truncated = client.embed(["word " * (2 * MAX_INPUT_TOKENS)], truncation="right")
    assert truncated.embeddings[0].truncated
    assert truncated.embeddings[0].num_tokens == MAX_INPUT_TOKENS


def test_example_script(address, info):
    # The script as a user runs it, with the installed package on sys.path.
    done = subprocess.run([sys.executable, str(PYTHON_DIR / "example.py"), "--target", address],
                          capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert f"model: {info.model_id}" in done.stdout
    assert done.stdout.count("embed: ") == 2 and "cosine similarity:" in done.stdout
    assert "  1. token=" in done.stdout
