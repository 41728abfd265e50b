#!/usr/bin/env python3
"""Our tokenizer's encode MB/s against Hugging Face `tokenizers`, in one run on the same texts.

  .venv/bin/python bench/tokenizer_vs_hf.py [--build-dir build] [--corpus FILE.jsonl ...]

Per corpus, median of --repeat runs each, after a warm-up pass (both sides keep a word cache):
  - ours in process: securebert_tokenizer_benchmark BM_Encode (Google Benchmark, real time,
    one document per Encode call), one thread and every thread count it runs;
  - HF: the parity test's reference (tests/parity/hf_reference.py: RoBERTa's fast tokenizer
    from the same vocab.json / merges.txt), in a child process with RAYON_NUM_THREADS=1:
    Tokenizer.encode_batch over the corpus, and Tokenizer.encode one text at a time; and in
    one with all threads: encode_batch;
  - ours through the securebert-tokenize CLI, end to end: JSONL in, JSONL out (to
    /dev/null), process start-up included (also shown without it).
MB is 10^6 bytes of UTF-8 text. Prints a Markdown table per corpus: MB/s, and our MB/s on
the same number of threads divided by the row's. Figures, never assertions: exit 0 whenever
it ran (1 only when a binary or file is missing).

Corpora: "generated" is the C++ benchmark's own (bench_corpus.cc re-implemented here,
std::mt19937 and all, from tests/data/tokenizer/bench_corpus_seed.txt and parity.jsonl);
it is checked against the benchmark's corpus_MB counter and per-pass token count. --corpus
FILE adds a JSONL corpus ({"text": ...} per line; e.g. `tests/parity/parity_corpus.py >
FILE`). The benchmark binary reads a file corpus only if it honours
SECUREBERT_TOKENIZER_BENCH_CORPUS=FILE (its corpus_MB then equals the file's size); until
then the in-process row of a file corpus reads n/a.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "tokenizer"
CORPUS_ENV = "SECUREBERT_TOKENIZER_BENCH_CORPUS"


class CppCorpus:
    """bench_corpus.cc's MakeBenchCorpus, draw for draw (std::mt19937, `rng() % n`).
    Where C++ leaves the order of evaluating arguments open (StrFormat, StrCat), this follows
    GCC on x86-64, which evaluates them last to first; corpus_MB confirms it."""

    def __init__(self, seed_path, parity_path, random_seed=20240531):
        self.slots, self.prose, self.logs = {}, [], []
        for line in Path(seed_path).read_text(encoding="utf-8").split("\n"):
            if not line or line.startswith("#"):
                continue
            if line.startswith("prose: "):
                self.prose.append(line[len("prose: "):])
            elif line.startswith("log: "):
                self.logs.append(line[len("log: "):])
            elif line.startswith("@"):
                name, _, choices = line[1:].partition(": ")
                self.slots[name] = [c.strip(" \t\n\r\f\v") for c in choices.split(" | ")]
        self.parity = [json.loads(l)["text"] for l in
                       Path(parity_path).read_text(encoding="utf-8").split("\n") if l.strip()]
        state = [random_seed & 0xFFFFFFFF]
        for i in range(1, 624):  # std::mt19937's seeding (init_genrand)
            state.append((1812433253 * (state[-1] ^ (state[-1] >> 30)) + i) & 0xFFFFFFFF)
        self.rng = random.Random()
        self.rng.setstate((3, tuple(state) + (624,), None))  # CPython's MT19937, same outputs

    def uniform(self, n):
        return self.rng.getrandbits(32) % n

    def pick(self, values):
        return values[self.uniform(len(values))]

    def hexs(self, n):
        return "".join("0123456789abcdef"[self.uniform(16)] for _ in range(n))

    def args(self, *draws):
        """Evaluates argument thunks last to first, returns them in order."""
        values = [None] * len(draws)
        for i in reversed(range(len(draws))):
            values[i] = draws[i]()
        return values

    def builtin(self, name):
        u = self.uniform
        if name == "CVE":
            a, b = self.args(lambda: 15 + u(11), lambda: 1000 + u(60000))
            return f"CVE-20{a:02d}-{b}"
        if name == "IP":
            return "%d.%d.%d.%d" % tuple(self.args(lambda: 1 + u(223), lambda: u(256),
                                                   lambda: u(256), lambda: 1 + u(254)))
        if name == "IP6":
            a, b, c = self.args(lambda: self.hexs(4), lambda: self.hexs(2), lambda: self.hexs(3))
            return f"2001:db8:{a}:{b}::{c}"
        simple = {"PORT": lambda: str(1 + u(65535)), "PID": lambda: str(100 + u(60000)),
                  "MD5": lambda: self.hexs(32), "SHA1": lambda: self.hexs(40),
                  "SHA256": lambda: self.hexs(64), "HEX8": lambda: self.hexs(8)}
        if name in simple:
            return simple[name]()
        if name == "B64":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            return "".join(alphabet[u(64)] for _ in range(40 + u(80))) + "=="
        formats = {"DATE": ("20%02d-%02d-%02d", (lambda: 20 + u(6), lambda: 1 + u(12),
                                                 lambda: 1 + u(28))),
                   "TIME": ("%02d:%02d:%02d", (lambda: u(24), lambda: u(60), lambda: u(60))),
                   "VERSION": ("%d.%d.%d", (lambda: 1 + u(12), lambda: u(20), lambda: u(40))),
                   "CVSS": ("%d.%d", (lambda: 4 + u(6), lambda: u(10)))}
        if name in formats:
            pattern, draws = formats[name]
            return pattern % tuple(self.args(*draws))
        if name == "NUM":
            return str(u(100 if u(2) == 0 else 100000))
        return ""

    def fill(self, pattern):
        out, pos = [], 0
        while pos < len(pattern):
            start = pattern.find("{", pos)
            end = -1 if start < 0 else pattern.find("}", start)
            if end < 0:
                break
            name = pattern[start + 1:end]
            out.append(pattern[pos:start])
            value = self.pick(self.slots[name]) if name in self.slots else self.builtin(name)
            if not value and name not in self.slots:
                out.append("{")  # not a slot: JSON or a literal brace
                pos = start + 1
                continue
            out.append(value)
            pos = end + 1
        out.append(pattern[pos:])
        return "".join(out)

    def document(self, target_bytes):
        parts, size = [], 0
        kind = self.uniform(100)
        while size < target_bytes:  # size > 0: the document is not empty (a text may be)
            if kind < 50:
                sep = ("\n\n" if self.uniform(6) == 0 else " ") if size else ""
                piece = self.fill(self.pick(self.prose))
            elif kind < 85 or not self.parity:
                sep, piece = ("\n" if size else ""), self.fill(self.pick(self.logs))
            else:
                sep, piece = ("\n" if size else ""), self.pick(self.parity)
            parts += [sep, piece]
            size += len(sep) + len(piece.encode())
        return "".join(parts)

    def documents(self, min_total_bytes=6 << 20, document_bytes=1500):
        docs, total = [], 0
        while total < min_total_bytes:
            docs.append(self.document(document_bytes))
            total += len(docs[-1].encode())
        return docs


def read_jsonl(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def write_jsonl(texts, path):
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")


def hf_worker(corpus_path, modes, repeat):
    """In a child process (RAYON_NUM_THREADS is read once, when the thread pool starts):
    MB/s of the HF reference for each mode, and tokens per pass."""
    sys.path.insert(0, str(REPO / "tests" / "parity"))
    import hf_reference  # pylint: disable=import-outside-toplevel
    texts = read_jsonl(corpus_path)
    tokenizer = hf_reference.reference(str(DATA / "vocab.json"), str(DATA / "merges.txt"))
    mb = sum(len(t.encode()) for t in texts) / 1e6
    passes = {"batch": lambda: tokenizer.encode_batch(texts),
              "one_by_one": lambda: [tokenizer.encode(t) for t in texts]}
    result = {}
    for mode in modes:
        encodings = passes[mode]()  # warm-up: HF's BPE word cache, like ours
        result["tokens"] = sum(len(e.ids) for e in encodings)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            passes[mode]()
            times.append(time.perf_counter() - start)
        result[mode] = mb / statistics.median(times)
    print(json.dumps(result))


def run_hf(corpus_path, threads_one, modes, repeat):
    env = dict(os.environ)
    env.pop("RAYON_NUM_THREADS", None)
    if threads_one:
        env["RAYON_NUM_THREADS"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "true"
    out = subprocess.run([sys.executable, __file__, "--hf-worker", str(corpus_path),
                          "--modes", ",".join(modes), "--repeat", str(repeat)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run_ours(binary, corpus_path, min_time_s, repeat):
    """{threads: MB/s}, the corpus size the benchmark saw (MB) and its tokens per pass;
    a file corpus through CORPUS_ENV."""
    env = dict(os.environ)
    env.pop(CORPUS_ENV, None)
    if corpus_path:
        env[CORPUS_ENV] = str(corpus_path)
    out = subprocess.run([str(binary), "--benchmark_filter=^BM_Encode/",
                          "--benchmark_format=json", f"--benchmark_min_time={min_time_s}",
                          f"--benchmark_repetitions={repeat}",
                          "--benchmark_report_aggregates_only=true"],
                         env=env, capture_output=True, text=True, check=True)
    rates, corpus_mb, tokens = {}, None, None
    for run in json.loads(out.stdout)["benchmarks"]:
        if run.get("aggregate_name", "median") != "median":
            continue
        threads = int(re.search(r"threads:(\d+)", run["name"]).group(1))
        rates[threads] = run["bytes_per_second"] / 1e6
        corpus_mb = run["corpus_MB"]
        if threads == 1:  # tokens/s times seconds per pass (one iteration = the corpus)
            tokens = run["tokens/s"] * run["real_time"] / 1e3
    return rates, corpus_mb, tokens


def run_cli(cli, corpus_path, repeat):
    """(MB/s with start-up, MB/s without, start-up seconds), median of `repeat` runs."""
    flags = ["--vocab", str(DATA / "vocab.json"), "--merges", str(DATA / "merges.txt")]

    def timed(stdin_path):
        with open(stdin_path, "rb") as stdin:
            start = time.perf_counter()
            subprocess.run([str(cli)] + flags, stdin=stdin, stdout=subprocess.DEVNULL,
                           check=True)
            return time.perf_counter() - start

    with tempfile.NamedTemporaryFile(suffix=".jsonl") as empty:
        startup = statistics.median(timed(empty.name) for _ in range(repeat))
    total = statistics.median(timed(corpus_path) for _ in range(repeat))
    mb = sum(len(t.encode()) for t in read_jsonl(corpus_path)) / 1e6
    return mb / total, mb / max(total - startup, 1e-9), startup


def bench_corpus(name, texts, corpus_file, args):
    """Measures one corpus and prints its table; `corpus_file` is None for the generated
    one (the benchmark's own)."""
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"\n### {name}: {len(texts)} texts, {mb:.2f} MB\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        write_jsonl(texts, path)
        ours, seen_mb, our_tokens = run_ours(args.build_dir / "bin" /
                                             "securebert_tokenizer_benchmark",
                                             corpus_file, args.min_time_s, args.repeat)
        if seen_mb is None or abs(seen_mb - mb) > 1e-6:
            if corpus_file:
                print(f"(ours in process: n/a; the benchmark ran on its own {seen_mb} MB corpus, "
                      f"it does not read {CORPUS_ENV} yet)\n")
                ours = {}
            else:
                print(f"(warning: the benchmark's corpus is {seen_mb} MB, this one {mb} MB; "
                      "bench_corpus.cc and CppCorpus have drifted apart)\n")
        hf_one = run_hf(path, True, ["batch", "one_by_one"], args.repeat)
        hf_all = run_hf(path, False, ["batch"], args.repeat)
        cli_mb_s, cli_net_mb_s, startup = run_cli(args.build_dir / "bin" / "securebert-tokenize",
                                                  path, args.repeat)
    cores = os.cpu_count() or 1
    ours_all = ours.get(max(ours)) if ours else None
    rows = [("ours, in process (BM_Encode)", 1, ours.get(1), ours.get(1)),
            ("HF encode_batch, RAYON_NUM_THREADS=1", 1, hf_one["batch"], ours.get(1)),
            ("HF encode, one call per text", 1, hf_one["one_by_one"], ours.get(1)),
            (f"ours, in process (BM_Encode, {max(ours) if ours else cores} threads)",
             max(ours) if ours else cores, ours_all, ours_all),
            ("HF encode_batch, all threads", cores, hf_all["batch"], ours_all),
            ("ours, securebert-tokenize CLI end to end", 1, cli_mb_s, ours.get(1)),
            (f"ours, CLI without its {startup * 1e3:.0f} ms start-up", 1, cli_net_mb_s,
             ours.get(1))]
    print("| encoder | threads | MB/s | ours in process (same threads) ÷ this |")
    print("|---|---:|---:|---:|")
    for label, threads, rate, ours_rate in rows:
        shown = f"{rate:.2f}" if rate else "n/a"
        ratio = f"{ours_rate / rate:.2f}" if rate and ours_rate else "n/a"
        print(f"| {label} | {threads} | {shown} | {ratio} |")
    print(f"\nours through the CLI end to end ÷ HF encode_batch on 1 thread: "
          f"{cli_mb_s / hf_one['batch']:.2f}")
    if our_tokens and ours:
        same = "equal" if round(our_tokens) == hf_one["tokens"] else "DIFFERENT"
        print(f"tokens per pass: ours {our_tokens:.0f}, HF {hf_one['tokens']} ({same})",
              flush=True)
    else:
        print(f"tokens per pass: HF {hf_one['tokens']}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", type=Path, default=REPO / "build")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="JSONL corpus ({\"text\": ...} lines); repeatable")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--min-time-s", type=float, default=1.0,
                        help="Google Benchmark's --benchmark_min_time per run")
    parser.add_argument("--hf-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--modes", default="batch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hf_worker:
        hf_worker(args.hf_worker, args.modes.split(","), args.repeat)
        return 0
    needed = [args.build_dir / "bin" / "securebert_tokenizer_benchmark",
              args.build_dir / "bin" / "securebert-tokenize"] + args.corpus
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"## Tokenizer encode throughput, ours vs Hugging Face tokenizers\n\n"
          f"{os.cpu_count()} CPUs, load average {load} at the start; median of {args.repeat} "
          "runs per figure; MB = 10^6 bytes of text")
    generated = CppCorpus(DATA / "bench_corpus_seed.txt", DATA / "parity.jsonl").documents()
    bench_corpus("generated (the C++ benchmark's corpus)", generated, None, args)
    for path in args.corpus:
        bench_corpus(str(path), read_jsonl(path), path.resolve(), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
