"""Runs texts through our securebert-tokenize CLI (one process for all of them)
and through the Hugging Face reference, and checks each text against the
rules of test_tokenizers_parity.py's docstring; shrinks a failing text to a
minimal reproduction.
"""

import json
import subprocess
from dataclasses import dataclass

import hf_reference
import unicode_classes


@dataclass(frozen=True)
class Config:
    """One way of encoding, on both sides."""
    max_tokens: int = 0        # longest output in tokens, <s> </s> included; 0 = no limit
    truncation: str = "none"   # "none", "right" (keep the start) or "left" (keep the end)
    special: bool = True       # wrap in <s> ... </s>

    def cli_flags(self):
        return [f"--max_tokens={self.max_tokens}", f"--truncation={self.truncation}",
                f"--add_special_tokens={'true' if self.special else 'false'}"]


@dataclass
class Outcome:
    """What the comparison of one text found."""
    failure: str = ""       # empty when every rule held; else which rule broke
    detail: str = ""        # where: the first differing token, ...
    exact: bool = False     # our offsets are HF's (trimmed, as bytes) as they are
    widened: bool = False   # a token held part of a character (rule 2 changed something)
    trimmed: bool = False   # HF's trim_offsets moved an offset (rule 3 changed something)


class ParityRunner:
    """Both tokenizers on lists of texts. Not thread-safe (the references'
    truncation is set per call)."""

    def __init__(self, cli, vocab_json, merges_txt):
        self.cli = str(cli)
        self.files = [str(vocab_json), str(merges_txt)]
        # (our_classes, trim_offsets) -> reference tokenizer
        self.refs = {(classes, trim): hf_reference.reference(*self.files, trim_offsets=trim,
                                                             our_classes=classes)
                     for classes in (False, True) for trim in (False, True)}

    def run_cli(self, texts, config):
        """Our CLI's output lines (dicts) for `texts`, from one process."""
        data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
        proc = subprocess.run([self.cli, "--vocab", self.files[0], "--merges", self.files[1]] +
                              config.cli_flags(), input=data.encode(), capture_output=True,
                              timeout=600, check=False)
        assert proc.returncode == 0, (f"{self.cli} exited {proc.returncode}: "
                                      f"{proc.stderr.decode(errors='replace')[-2000:]}")
        # Split on "\n" only: the texts may hold U+2028, U+0085, ... unescaped.
        lines = proc.stdout.decode().split("\n")
        assert lines[-1] == "" and len(lines) == len(texts) + 1, (
            f"{self.cli} wrote {len(lines) - 1} lines for {len(texts)} texts")
        return [json.loads(line) for line in lines[:-1]]

    def run_hf(self, texts, config, trim):
        """HF encodings of `texts`, from the stock reference, or from the one
        with our character classes for texts that hold a differing code point."""
        out = [None] * len(texts)
        for classes in (False, True):
            picked = [i for i, t in enumerate(texts) if unicode_classes.has_differing(t) == classes]
            tokenizer = self.refs[(classes, trim)]
            if config.max_tokens:
                tokenizer.enable_truncation(config.max_tokens, direction=config.truncation)
            else:
                tokenizer.no_truncation()
            encodings = tokenizer.encode_batch([texts[i] for i in picked],
                                               add_special_tokens=config.special)
            for i, encoding in zip(picked, encodings):
                out[i] = encoding
        return out

    def compare(self, texts, config):
        """An Outcome per text."""
        ours = self.run_cli(texts, config)
        trimmed = self.run_hf(texts, config, trim=True)
        untrimmed = self.run_hf(texts, config, trim=False)
        return [check(t, o, a, b) for t, o, a, b in zip(texts, ours, trimmed, untrimmed)]


def check(text, ours, hf, hf_untrimmed):
    """The rules, in order; the first broken one is the failure."""
    if "error" in ours:
        return Outcome("our CLI refused the text", ours["error"])
    if ours["text"] != text:
        return Outcome("our CLI echoed a different text (JSON transport)")
    if ours["ids"] != hf.ids:
        return Outcome("ids differ", _at(ours["ids"], hf.ids))
    if ours["tokens"] != hf.tokens:
        return Outcome("tokens differ", _at(ours["tokens"], hf.tokens))
    if bool(ours.get("truncated")) != bool(hf.overflowing):
        return Outcome("truncated flag differs", f"ours {bool(ours.get('truncated'))}")
    starts = hf_reference.char_starts(text)
    offsets = [tuple(pair) for pair in ours["offsets"]]
    bad = [i for i, (s, e) in enumerate(offsets) if not 0 <= s <= e <= starts[-1]]
    if len(offsets) != len(hf.ids) or bad:
        return Outcome("offsets malformed", f"{len(offsets)} offsets, out of range at {bad[:3]}")
    widened = hf_reference.round_out(starts, offsets)
    untrimmed = hf_reference.chars_to_bytes(starts, hf_untrimmed.offsets)
    if widened != untrimmed:
        return Outcome("rule 2: our offsets widened to whole characters are not HF's untrimmed",
                       _at(widened, untrimmed))
    expected = hf_reference.chars_to_bytes(starts, hf.offsets)
    rule = hf_reference.trim_offsets(starts, ours["tokens"], widened)
    if rule != expected:
        return Outcome("rule 3: trim_offsets of our widened offsets is not HF's offsets",
                       _at(rule, expected))
    return Outcome(exact=offsets == expected, widened=widened != offsets,
                   trimmed=rule != widened)


def _at(a, b):
    index = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at token {index}"


def shrink(runner, text, config, rounds=60):
    """A shorter text that still breaks the same rule: each round drops one
    chunk (halves, quarters, ... down to single characters, at most 64 chunks
    of a size), all candidates through one CLI run, the shortest failing kept."""
    rule = runner.compare([text], config)[0].failure
    for _ in range(rounds):
        candidates = []
        size = max(1, len(text) // 2)
        while True:
            if len(text) // size <= 64:
                candidates += [text[:i] + text[i + size:] for i in range(0, len(text), size)]
            if size == 1:
                break
            size //= 2
        candidates = sorted(set(candidates) - {text}, key=len)
        if not candidates:
            break
        outcomes = runner.compare(candidates, config)
        failing = [c for c, o in zip(candidates, outcomes) if o.failure == rule]
        if not failing:
            break
        text = failing[0]
    return text


def reproduction(runner, text, config):
    """What to paste into a bug report: the text, both sides' ids, tokens and byte offsets."""
    ours = runner.run_cli([text], config)[0]
    hf = runner.run_hf([text], config, trim=True)[0]
    hf_untrimmed = runner.run_hf([text], config, trim=False)[0]
    starts = hf_reference.char_starts(text)
    outcome = check(text, ours, hf, hf_untrimmed)
    return "\n".join([
        f"  text     {text!r}  ({config})",
        f"  failure  {outcome.failure}, {outcome.detail}",
        f"  ours     ids {ours.get('ids')}\n           tokens {ours.get('tokens')}\n"
        f"           offsets {ours.get('offsets')}  {ours.get('error', '')}",
        f"  HF       ids {hf.ids}\n           tokens {hf.tokens}\n"
        f"           offsets (bytes) {hf_reference.chars_to_bytes(starts, hf.offsets)}\n"
        f"           untrimmed (bytes) {hf_reference.chars_to_bytes(starts, hf_untrimmed.offsets)}",
    ])
