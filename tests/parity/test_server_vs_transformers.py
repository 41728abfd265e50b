"""The C++ server's answers against Hugging Face `transformers` on the same weights and ids.

A tiny RobertaForMaskedLM (transformers' own class, SecureBERT's config with 2 layers of
width 64, seeded random weights, peaked MLM softmax) is saved with save_pretrained, exported
with `tools/export_model.py --hf-dir` (our reference model and checkpoint reader) and
served by the real securebert-server binary on loopback. For texts of 2 to 512 tokens (the
longest truncated), the server's own Tokenize answer gives the ids; transformers runs on
exactly those ids, each text alone and unpadded, while the server batches and pads them.
Within 1e-4 (fp32), per text:
  - Embed POOLING_NONE: every token's last_hidden_state (<s> and </s> included);
  - Embed POOLING_CLS: the vector at position 0; POOLING_MEAN: the mean over all real
    tokens (<s> and </s> included), also L2-normalized with `normalize`;
  - PredictMask: the mask positions, and per mask the top-k ids and softmax scores (a rank
    may hold another id only where the two probabilities are within a relative 1e-4).

Environment:
  SECUREBERT_SERVER_BIN      the securebert-server binary (required: unset fails the test).
                             It must load TorchScript from the exporting torch: with this
                             venv's torch, a build against PyPI torch's LibTorch
                             (build-pytorch/bin/securebert-server).
  SECUREBERT_EXPORT_PYTHON   interpreter that runs the exporter (default: this one), for a
                             server whose LibTorch cannot read this torch's TorchScript:
                             /usr/bin/python3 (Debian's torch 1.13) with the Debian-LibTorch
                             build/bin/securebert-server.
Needs `transformers` and `grpcio-tools` (the project's venv). Run with -rP to see the
measured max differences.
"""

import dataclasses
import os
import sys
from pathlib import Path
from typing import Dict, List

import grpc
import pytest
import torch

import server_under_test

sys.path.insert(0, str(server_under_test.REPO_ROOT / "tools" / "tests"))
import hf_parity  # noqa: E402  pylint: disable=wrong-import-position
from hf_parity import TOLERANCE  # noqa: E402  pylint: disable=wrong-import-position

SEED = 2024
TOP_K = 10
RPC_TIMEOUT_S = 120
STARTUP_TIMEOUT_S = 180
MAX_RECEIVE_BYTES = 64 << 20

_SENTENCE = ("The Remote Access Gateway of Initech parsed session cookies with a heap-based "
             "buffer overflow, so an unauthenticated attacker could run code as SYSTEM; "
             "the vendor shipped 4.2.1 and revoked the leaked signing key. ")
_MASKED = "The stolen data was sold on a <mask> forum. "
# Embed texts, two requests. The server pads a batch only when real tokens are >= 90 % of
# the padded ones, so each request holds a pair of close lengths that it batches together:
# 2, 3, 10 + 9 (padded to 10), 81 tokens ("" is <s> </s>); 273, 463 + 903 (truncated to
# 512; the pair padded to 512).
SHORT_TEXTS = ["", "a", "Ransomware encrypted the file server.", "Ransomware encrypted a server.",
               "Phishing e-mails delivered a macro that downloaded Emotet from "
               "hxxp://198.51.100.7:8080/a.php; " + _SENTENCE]
LONG_TEXTS = [_SENTENCE * 6, _SENTENCE * 10 + "The stolen data was sold on a dark web forum.",
              _SENTENCE * 20]
# 6 masks: 1, 3, 1 near the end of 463 tokens, 1 at 369 of 644 tokens truncated to 512
# (the last two batched together, padded to 512).
MASK_TEXTS = [
    "Attackers used <mask> to steal credentials.",
    "The <mask> exploited a <mask> in the VPN appliance before <mask> patched it.",
    _SENTENCE * 10 + _MASKED,
    _SENTENCE * 8 + _MASKED + _SENTENCE * 6,
]


@pytest.fixture(scope="module")
def server_binary() -> Path:
    value = os.environ.get("SECUREBERT_SERVER_BIN")
    if not value:
        pytest.fail("SECUREBERT_SERVER_BIN is unset: set it to the securebert-server binary "
                    "that loads this venv's TorchScript (build-pytorch/bin/securebert-server; "
                    "for build/bin/securebert-server also set SECUREBERT_EXPORT_PYTHON="
                    "/usr/bin/python3)", pytrace=False)
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"SECUREBERT_SERVER_BIN={value} is not an executable file", pytrace=False)
    return path


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """(securebert_pb2, securebert_pb2_grpc), generated from the proto for this run."""
    return server_under_test.generate_stubs(tmp_path_factory.mktemp("stubs"))


@pytest.fixture(scope="module")
def hf_model():
    return hf_parity.build_model(hf_parity.SHAPES["tiny"], SEED)


@pytest.fixture(scope="module")
def model_dir(hf_model, tmp_path_factory) -> Path:
    """The --hf-dir export of the saved transformers model."""
    root = tmp_path_factory.mktemp("server-parity")
    source = hf_parity.save_safetensors_checkpoint(hf_model, root / "hf")
    out = root / "model"
    python = os.environ.get("SECUREBERT_EXPORT_PYTHON", sys.executable)
    hf_parity.run_exporter("--hf-dir", str(source), "--out", str(out), python=python)
    return out


@pytest.fixture(scope="module")
def stub(server_binary, model_dir, pb):
    """A SecureBert stub connected to a started server; the server is stopped afterwards."""
    pb2, pb2_grpc = pb
    server = server_under_test.ServerProcess(
        # A budget that batches rows of very different lengths (up to 512): the
        # parity checks include what padding must not change. The CPU default
        # (128) runs long inputs alone.
        server_binary, ["--model_dir", str(model_dir), "--shutdown_linger_ms=0",
                        "--max_batch_tokens=4096"])
    try:
        port, _ = server.wait_until_ready(STARTUP_TIMEOUT_S)
        channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)])
        with channel:
            yield pb2_grpc.SecureBertStub(channel)
    finally:
        status = server.stop()
    assert status == 0, f"server exited with status {status}; its log:\n{server.log()}"


@dataclasses.dataclass(frozen=True)
class Case:
    """One text as the server tokenizes it, and transformers' hidden states for its ids."""

    text: str  # the input
    ids: List[int]  # the server's Tokenize ids, <s> and </s> included
    truncated: bool  # the server's Tokenize says it cut the text to max_input_tokens
    hidden: torch.Tensor  # transformers' last_hidden_state [len(ids), H] on `ids` alone


def tokenize(stub, pb, texts: List[str]):
    """The server's Tokenize results (right truncation), one per text."""
    pb2, _ = pb
    response = stub.Tokenize(pb2.TokenizeRequest(inputs=texts, truncation=pb2.TRUNCATION_RIGHT),
                             timeout=RPC_TIMEOUT_S)
    assert len(response.results) == len(texts)
    return list(response.results)


def ids_of(result) -> List[int]:
    return [token.id for token in result.tokens]


@torch.no_grad()
def transformers_hidden(hf_model, ids: List[int]) -> torch.Tensor:
    """transformers' last_hidden_state [T, H] for one unpadded sequence."""
    return hf_model.roberta(input_ids=torch.tensor([ids])).last_hidden_state[0]


@torch.no_grad()
def transformers_logits(hf_model, ids: List[int]) -> torch.Tensor:
    """transformers' MLM logits [T, V] for one unpadded sequence."""
    return hf_model(input_ids=torch.tensor([ids])).logits[0]


def embed(stub, pb, texts: List[str], pooling, normalize: bool = False):
    pb2, _ = pb
    return stub.Embed(pb2.EmbedRequest(inputs=texts, pooling=pooling, normalize=normalize,
                                       truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S)


def values(embedding) -> torch.Tensor:
    return torch.tensor(list(embedding.values), dtype=torch.float32).view(
        *[int(d) for d in embedding.shape])


@pytest.fixture(scope="module")
def cases(stub, pb, hf_model) -> Dict[str, List[Case]]:
    """Request name ("short", "long") -> its cases."""
    out = {}
    for name, texts in (("short", SHORT_TEXTS), ("long", LONG_TEXTS)):
        out[name] = [Case(text, ids_of(r), r.truncated, transformers_hidden(hf_model, ids_of(r)))
                     for text, r in zip(texts, tokenize(stub, pb, texts))]
    return out


def test_model_info_describes_the_export(stub, pb, hf_model):
    pb2, _ = pb
    info = stub.GetModelInfo(pb2.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
    config = hf_model.config
    assert (info.hidden_size, info.num_layers, info.vocab_size) == (
        config.hidden_size, config.num_hidden_layers, config.vocab_size)
    assert (info.max_input_tokens, info.dtype, info.mask_token) == (512, "float32", "<mask>")


def test_inputs_cover_the_lengths(cases):
    lengths = sorted(len(case.ids) for group in cases.values() for case in group)
    assert lengths[0] == 2 and lengths[1] <= 3
    assert any(60 <= n <= 120 for n in lengths) and any(250 <= n <= 350 for n in lengths)
    assert lengths[-1] == 512
    assert [case.truncated for case in cases["long"]] == [False, False, True]
    for group in cases.values():
        for case in group:
            assert case.ids[0] == hf_parity.BOS_ID and case.ids[-1] == hf_parity.EOS_ID


@pytest.mark.parametrize("group", ["short", "long"])
def test_embed_hidden_states_match_transformers(stub, pb, cases, group):
    pb2, _ = pb
    response = embed(stub, pb, [case.text for case in cases[group]], pb2.POOLING_NONE)
    assert response.timing.batch_size >= 2  # the server padded rows of different lengths
    assert len(response.embeddings) == len(cases[group])
    worst = 0.0
    for embedding, case in zip(response.embeddings, cases[group]):
        assert embedding.num_tokens == len(case.ids), case.text[:40]
        assert embedding.truncated == case.truncated
        worst = max(worst, hf_parity.max_abs_diff(values(embedding), case.hidden))
    print(f"Embed POOLING_NONE ({group}, lengths {[len(c.ids) for c in cases[group]]}, "
          f"batch {response.timing.batch_size}): max |diff| {worst:.2e}")
    assert worst <= TOLERANCE


@pytest.mark.parametrize("pooling, normalize", [("POOLING_CLS", False), ("POOLING_MEAN", False),
                                                ("POOLING_MEAN", True), ("POOLING_CLS", True)])
def test_embed_pooled_vectors_match_transformers(stub, pb, cases, pooling, normalize):
    pb2, _ = pb
    worst = 0.0
    for group in cases.values():
        response = embed(stub, pb, [case.text for case in group], getattr(pb2, pooling),
                         normalize)
        assert len(response.embeddings) == len(group)
        for embedding, case in zip(response.embeddings, group):
            hidden = case.hidden
            expected = hidden[0] if pooling == "POOLING_CLS" else hidden.mean(dim=0)
            if normalize:
                expected = torch.nn.functional.normalize(expected, dim=0)
            assert list(embedding.shape) == [hidden.shape[1]]
            worst = max(worst, hf_parity.max_abs_diff(values(embedding), expected))
    print(f"Embed {pooling} normalize={normalize}: max |diff| {worst:.2e}")
    assert worst <= TOLERANCE


def test_predict_mask_matches_transformers(stub, pb, hf_model):
    pb2, _ = pb
    all_ids = [ids_of(result) for result in tokenize(stub, pb, MASK_TEXTS)]
    response = stub.PredictMask(
        pb2.PredictMaskRequest(inputs=MASK_TEXTS, top_k=TOP_K, omit_sequence=True,
                               truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S)
    assert len(response.results) == len(MASK_TEXTS)
    assert response.timing.batch_size >= 2  # the server padded rows of different lengths
    worst = top1 = 0.0
    masks = 0
    for text, ids, result in zip(MASK_TEXTS, all_ids, response.results):
        positions = [i for i, token in enumerate(ids) if token == hf_parity.MASK_ID]
        assert [m.position for m in result.masks] == positions, text[:40]
        probs = torch.softmax(transformers_logits(hf_model, ids), dim=-1)
        for mask in result.masks:
            got_ids = [p.token_id for p in mask.predictions]
            got_scores = [p.score for p in mask.predictions]
            assert len(got_ids) == TOP_K
            problems = hf_parity.topk_mismatches(got_ids, got_scores, probs[mask.position])
            assert not problems, f"{text[:40]!r} mask at {mask.position}: {problems}"
            worst = max(worst, hf_parity.max_abs_diff(torch.tensor(got_scores),
                                                      probs[mask.position][got_ids]))
            top1 = max(top1, got_scores[0])
            masks += 1
    lengths = [len(i) for i in all_ids]
    print(f"PredictMask ({masks} masks, lengths {lengths}, top_k {TOP_K}): "
          f"max |score diff| {worst:.2e}; highest top-1 score {top1:.3f}")
    assert masks == 6 and max(lengths) == 512
