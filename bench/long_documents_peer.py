#!/usr/bin/env python3
"""The long-document step's transformers side (harness/long_documents.py): its weights, its
documents and its peers, each a subcommand run in a process of its own on PyPI's torch.

  checkpoint  a seeded random-init transformers RobertaForTokenClassification of the run's
              shape (hf_model.py's config, tiny or base) with 40 labels named as
              `export_model.py --random-init --head token --labels 40` names them ("O",
              "B-ENT1", "I-ENT1", ...), saved with save_pretrained beside hf_model.py's
              tokenizer files. The harness exports it with `export_model.py --hf-dir`, so the
              server and the peers run the same weights. The head is centred on a sample
              document and "O" gets a prior, so that about one token in twenty is tagged, as
              in a report (a raw random head tags nearly every token).
  documents   threat-report-length documents: report headings over paragraphs of varied
              cybersecurity sentences (actors, CVEs, malware, techniques, and indicators:
              IPs, domains, URLs, hashes, paths, registry keys), ASCII, each filled to its
              target length (spread over --min-tokens..--max-tokens, in a shuffled order);
              tokens counted by RobertaTokenizerFast (<s> and </s> included).
  peers       closed loops over the documents at each concurrency, c threads calling:
                pipeline  Hugging Face's pipeline("token-classification", stride=128,
                          aggregation_strategy="simple"): one pipeline object shared by the
                          threads, its default batch_size (each window its own forward);
                embed     the same model's RobertaModel on the document's windows (the
                          server's windows, WINDOWS.md), one padded forward per document,
                          merged by the server's rule and mean-pooled over the n + 2 tokens.
              Each calling thread runs torch on max(1, cores // c) threads (one per core
              in all, as bench/transformers_peer.py is tuned). The first document's answers
              go to --answers, for the harness's check that both sides agree.

Each subcommand prints one JSON line on stdout.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local

from harness.long_documents import closed_loop, warm_up, window_cuts, window_spans  # noqa: E402  pylint: disable=wrong-import-position
import hf_model  # noqa: E402  pylint: disable=wrong-import-position
import text_mix  # noqa: E402  pylint: disable=wrong-import-position

SENTENCE_TOKENS = 96  # more than the longest sentence below (89 tokens), in tokens
O_PRIOR = 3.0  # added to "O"'s centred logit (std 1): 5.7 % of the tiny model's tokens tagged
HEADINGS = ("Executive summary", "Initial access", "Execution and persistence",
            "Lateral movement", "Command and control", "Exfiltration and impact",
            "Indicators of compromise", "Detection opportunities", "Recommendations")
TEMPLATES = (
    "{actor} exploited {cve} in {product} to {goal}.",
    "The {malware} sample relies on {technique} and beacons to {domain} ({ip}) over HTTPS "
    "port {port}.",
    "{defence} {source} for signs of {technique}.",
    "Analysts linked {count} {indicator} to {actor}, who used {malware} to {goal}.",
    "The dropper wrote {path} (SHA-256 {sha256}) and added a Run key under {registry}.",
    "On day {count} the operators staged archives in C:\\ProgramData\\{word}.7z and "
    "exfiltrated about {count} GB to {url}.",
    "{actor} sent spear-phishing e-mails from {email} carrying an ISO with a malicious LNK "
    "file that launched {malware}.",
    "Network telemetry showed DNS lookups of {domain} every {interval} seconds, a pattern "
    "consistent with {malware}.",
    "MD5 {md5} matches a {malware} loader first seen by {source} in campaigns attributed to "
    "{actor}.",
    "Block {ip} and {domain} at the perimeter, rotate credentials exposed by {technique}, "
    "and patch {cve}.",
)
WORDS = ("backup", "update", "svc", "cache", "telemetry", "office365", "vpn-gw", "intranet")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checkpoint = commands.add_parser("checkpoint", help="the token-classification checkpoint")
    checkpoint.add_argument("--shape", choices=sorted(hf_model.SHAPES), required=True)
    checkpoint.add_argument("--seed", type=int, default=0)
    checkpoint.add_argument("--labels", type=int, default=40)
    checkpoint.add_argument("--out", type=Path, required=True, help="directory to create")
    documents = commands.add_parser("documents", help="the documents, as JSON")
    documents.add_argument("--hf-dir", type=Path, required=True, help="its tokenizer counts")
    documents.add_argument("--count", type=int, required=True)
    documents.add_argument("--min-tokens", type=int, default=1000)
    documents.add_argument("--max-tokens", type=int, default=8000)
    documents.add_argument("--seed", type=int, default=0)
    documents.add_argument("--out", type=Path, required=True)
    peers = commands.add_parser("peers", help="the pipeline and embedding peers' levels")
    peers.add_argument("--hf-dir", type=Path, required=True)
    peers.add_argument("--documents", type=Path, required=True)
    peers.add_argument("--levels", type=Path, required=True,
                       help="JSON: [{concurrency, min_s, min_documents, max_s}, ...]")
    peers.add_argument("--stride", type=int, default=128, help="window overlap in tokens")
    peers.add_argument("--answers", type=Path, required=True,
                       help="where the first document's answers go")
    return parser.parse_args(argv)


def token_labels(count: int) -> list:
    """export_model.py's names: "O", then B-/I- pairs ("B-ENT1", "I-ENT1", ...)."""
    return ["O"] + [f"{'B' if i % 2 else 'I'}-ENT{(i + 1) // 2}" for i in range(1, count)]


def checkpoint(args) -> dict:
    """The seeded RobertaForTokenClassification, its head centred, saved to args.out."""
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
    started = time.monotonic()
    labels = token_labels(args.labels)
    torch.manual_seed(args.seed)
    config = transformers.RobertaConfig(
        **dict(hf_model.SECUREBERT_CONFIG, **hf_model.SHAPES[args.shape]),
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = transformers.RobertaForTokenClassification(config).eval()
    args.out.mkdir(parents=True)
    hf_model.write_tokenizer_files(args.out)
    tokenizer = transformers.RobertaTokenizerFast.from_pretrained(str(args.out))
    sample = " ".join(text_mix.generated_texts(24))
    with torch.inference_mode():
        encoded = tokenizer(sample, truncation=True, return_tensors="pt")
        head = model.classifier
        head.bias.zero_()
        logits = model(**encoded).logits[0]
        head.weight.div_(float(logits.std()))  # zero bias: logits are linear in the weight
        prior = torch.zeros(len(labels))
        prior[0] = O_PRIOR
        head.bias.copy_(prior - logits.mean(dim=0) / float(logits.std()))
        tagged = float((model(**encoded).logits[0].argmax(dim=-1) != 0).float().mean())
    model.save_pretrained(str(args.out))
    return {"hf_dir": str(args.out), "shape": args.shape, "seed": args.seed,
            "labels": len(labels), "head": "token", "tagged_share_of_sample": round(tagged, 3),
            "transformers": transformers.__version__, "torch": torch.__version__,
            "seconds": round(time.monotonic() - started, 2)}


def _sentence(rng: random.Random) -> str:
    def hexes(k: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(k))
    word, c = rng.choice(WORDS), rng.choice
    domain = f"{word}-{hexes(4)}.{c(('com', 'net', 'info', 'top'))}"
    sentence = c(TEMPLATES).format(
        actor=c(text_mix.ACTORS), cve=c(text_mix.CVES), product=c(text_mix.PRODUCTS),
        goal=c(text_mix.GOALS), malware=c(text_mix.MALWARE), technique=c(text_mix.TECHNIQUES),
        defence=c(text_mix.DEFENCES), source=c(text_mix.SOURCES),
        indicator=c(text_mix.INDICATORS), count=rng.randrange(2, 90), word=word, domain=domain,
        ip=".".join(str(rng.randrange(1, 255)) for _ in range(4)), port=rng.randrange(20, 9999),
        url=f"hxxps://{domain}/upload/{hexes(8)}", email=f"hr-{word}@{domain}",
        path=f"C:\\Users\\Public\\{word}{rng.randrange(1, 99)}.dll", sha256=hexes(64),
        md5=hexes(32), registry="HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        interval=rng.randrange(30, 3600))
    return sentence[0].upper() + sentence[1:]


def _document(rng: random.Random, tokenizer, target: int) -> dict:
    """Sections (a heading, then 3-6 sentences) until the next sentence would pass `target`."""
    pieces, tokens, left_in_section = [], 2, 0
    while True:
        sentence = _sentence(rng)
        if left_in_section == 0:
            heading = HEADINGS[sum(1 for p in pieces if p.startswith("\n\n")) % len(HEADINGS)]
            piece, left_in_section = f"\n\n{heading}\n{sentence}", rng.randrange(3, 7)
        else:
            piece = " " + sentence
        cost = len(tokenizer(piece, add_special_tokens=False)["input_ids"])
        if pieces and tokens + cost > target:
            break
        pieces.append(piece)
        tokens, left_in_section = tokens + cost, left_in_section - 1
    text = "".join(pieces).lstrip("\n")
    return {"text": text, "tokens": len(tokenizer(text)["input_ids"])}


def documents(args) -> dict:
    import transformers  # pylint: disable=import-outside-toplevel
    transformers.logging.set_verbosity_error()  # "longer than the maximum": on purpose
    tokenizer = transformers.RobertaTokenizerFast.from_pretrained(str(args.hf_dir))
    rng = random.Random(f"long-documents:{args.seed}")
    # A document stops a sentence short of its target: the shortest aim a sentence higher.
    low = args.min_tokens + SENTENCE_TOKENS
    step = (args.max_tokens - low) / max(1, args.count - 1)
    targets = [round(low + i * step) for i in range(args.count)]
    rng.shuffle(targets)
    docs = [_document(rng, tokenizer, target) for target in targets]
    args.out.write_text(json.dumps(docs) + "\n", encoding="utf-8")
    lengths = [d["tokens"] for d in docs]
    return {"documents": len(docs), "tokens": sum(lengths), "min_tokens": min(lengths),
            "max_tokens": max(lengths)}


class Peers:
    """The pipeline and the windowed mean-pooling peer on one model (read-only once built)."""

    def __init__(self, hf_dir: Path, stride: int):
        import torch  # pylint: disable=import-outside-toplevel
        import transformers  # pylint: disable=import-outside-toplevel
        transformers.logging.set_verbosity_error()
        self.torch = torch
        self.tokenizer = transformers.RobertaTokenizerFast.from_pretrained(str(hf_dir))
        self.model = transformers.RobertaForTokenClassification.from_pretrained(
            str(hf_dir)).eval()
        self.pipeline = transformers.pipeline(
            "token-classification", model=self.model, tokenizer=self.tokenizer, device="cpu",
            stride=stride, aggregation_strategy="simple")
        self.stride = stride
        self.transformers_version = transformers.__version__
        self.width = self.tokenizer.model_max_length - 2  # content tokens per window

    def entities(self, text: str) -> list:
        """The pipeline's entities, offsets as UTF-8 byte offsets (the server's)."""
        return [{"label": e["entity_group"], "score": float(e["score"]),
                 "start": len(text[:e["start"]].encode()), "end": len(text[:e["end"]].encode())}
                for e in self.pipeline(text)]

    def mean_embedding(self, text: str) -> list:
        """POOLING_MEAN over the n + 2 merged token vectors of the server's windows."""
        torch = self.torch
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        spans = window_spans(len(ids), self.width, self.stride)
        bos, eos, pad = (self.tokenizer.bos_token_id, self.tokenizer.eos_token_id,
                         self.tokenizer.pad_token_id)
        longest = max(e - s for s, e in spans) + 2
        batch = torch.full((len(spans), longest), pad, dtype=torch.long)
        mask = torch.zeros_like(batch)
        for row, (s, e) in enumerate(spans):
            batch[row, :e - s + 2] = torch.tensor([bos] + ids[s:e] + [eos])
            mask[row, :e - s + 2] = 1
        with torch.inference_mode():
            hidden = self.model.roberta(input_ids=batch, attention_mask=mask).last_hidden_state
            cuts = window_cuts(spans, len(ids))
            total = hidden[0, 0] + hidden[-1, spans[-1][1] - spans[-1][0] + 1]
            for k, (s, _) in enumerate(spans):
                total = total + hidden[k, 1 + cuts[k] - s:1 + cuts[k + 1] - s].sum(dim=0)
        return (total / (len(ids) + 2)).tolist()


def peers(args) -> dict:
    cores = os.cpu_count() or 1
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(cores)  # before torch
    served = Peers(args.hf_dir, args.stride)
    docs = json.loads(args.documents.read_text(encoding="utf-8"))
    first = docs[0]["text"]
    args.answers.write_text(json.dumps({"entities": served.entities(first),
                                        "mean_embedding": served.mean_embedding(first)}) + "\n")
    calls = {"pipeline": lambda d: served.entities(d["text"]),
             "embed": lambda d: served.mean_embedding(d["text"])}
    result = {}
    for name, call in calls.items():
        result[name] = []
        for level in json.loads(args.levels.read_text()):
            threads = max(1, cores // level["concurrency"])

            def init(t=threads):
                served.torch.set_num_threads(t)  # per thread for OpenMP: set in every slot
            warm_up(call, docs, level, init)
            result[name].append(dict(closed_loop(
                call, docs, level["concurrency"], level["min_s"], level["min_documents"],
                level["max_s"], init), torch_threads_per_thread=threads))
            print(f"{name} c={level['concurrency']}: {result[name][-1]['tokens_per_s']:.1f} "
                  "tokens/s", file=sys.stderr, flush=True)
    return {"levels": result, "torch": served.torch.__version__,
            "transformers": served.transformers_version, "cores": cores}


def main(argv=None) -> int:
    args = parse_args(argv)
    command = {"checkpoint": checkpoint, "documents": documents, "peers": peers}[args.command]
    print(json.dumps(command(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
