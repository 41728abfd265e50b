"""Tests of the long-document step's pieces that need no server (bench/harness/long_documents.py,
bench/long_documents_peer.py): the windows and their merge rule against WINDOWS.md, the closed
loop, the labels, the documents' lengths, the ratios, verdicts and report on hand-made
figures. Needs the venv (transformers' tokenizer); no network, no model."""

import math
import sys
import threading
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))
import hf_model  # noqa: E402  pylint: disable=wrong-import-position
import long_documents_peer as peer  # noqa: E402  pylint: disable=wrong-import-position
import run_bench  # noqa: E402  pylint: disable=wrong-import-position
from harness import long_documents as ld  # noqa: E402  pylint: disable=wrong-import-position

WIDTH, OVERLAP = 510, 128  # SecureBERT's 512-token inputs, the server's default overlap


def _owner_by_the_rule(p: int, spans, n: int) -> int:
    """WINDOWS.md word for word: the window where p stands furthest from an edge that is not
    the document's own; ties to the earlier window."""
    best, best_distance = None, -1.0
    for k, (start, end) in enumerate(spans):
        if start <= p < end:
            distance = min(math.inf if start == 0 else p - start,
                           math.inf if end == n else end - 1 - p)
            if distance > best_distance:
                best, best_distance = k, distance
    return best


@pytest.mark.parametrize("n", [1, 509, 510, 511, 892, 893, 1000, 1274, 4000, 7998])
def test_windows_and_cuts_follow_windows_md(n):
    spans = ld.window_spans(n, WIDTH, OVERLAP)
    count = 1 if n <= WIDTH else 1 + math.ceil((n - WIDTH) / (WIDTH - OVERLAP))
    assert len(spans) == count
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(e - s <= WIDTH for s, e in spans)
    cuts = ld.window_cuts(spans, n)
    owners = [k for k in range(len(spans)) for _ in range(cuts[k], cuts[k + 1])]
    assert owners == [_owner_by_the_rule(p, spans, n) for p in range(n)]


def test_overlap_is_clamped_to_half_a_window():
    spans = ld.window_spans(2000, WIDTH, 400)
    assert [s for s, _ in spans[:3]] == [0, 255, 510]
    cuts = ld.window_cuts(spans, 2000)
    owners = [k for k in range(len(spans)) for _ in range(cuts[k], cuts[k + 1])]
    assert owners == [_owner_by_the_rule(p, spans, 2000) for p in range(2000)]


def test_closed_loop_cycles_the_documents_and_counts_errors():
    docs = [{"tokens": 10, "fail": False}, {"tokens": 20, "fail": True},
            {"tokens": 30, "fail": False}]
    seen, lock = [], threading.Lock()

    def call(doc):
        with lock:
            seen.append(doc["tokens"])
        if doc["fail"]:
            raise ValueError("refused")

    level = ld.closed_loop(call, docs, 2, 0.0, 7, 60.0)
    assert len(seen) == 7 and sorted(seen) == [10, 10, 10, 20, 20, 30, 30]
    assert level["documents"] == 5 and level["errors"] == 2
    assert level["tokens"] == 3 * 10 + 2 * 30
    assert level["first_error"] == "ValueError: refused"
    assert level["tokens_per_s"] == pytest.approx(level["tokens"] / level["seconds"])
    assert sorted(level["completed"]) == [0, 0, 0, 2, 2]


def test_closed_loop_runs_thread_init_in_every_slot():
    started = []  # list.append is atomic
    ld.closed_loop(lambda d: None, [{"tokens": 1}], 3, 0.0, 3, 60.0,
                   thread_init=lambda: started.append(1))
    assert len(started) == 3


def test_labels_are_the_exporters():
    labels = peer.token_labels(40)
    assert labels[:5] == ["O", "B-ENT1", "I-ENT1", "B-ENT2", "I-ENT2"]
    assert labels[-1] == "B-ENT20" and len(set(labels)) == 40


def test_documents_are_threat_report_length(tmp_path):
    hf_model.write_tokenizer_files(tmp_path)
    args = peer.parse_args(["documents", "--hf-dir", str(tmp_path), "--count", "3",
                            "--out", str(tmp_path / "docs.json")])
    summary = peer.documents(args)
    assert summary["documents"] == 3
    assert ld.MIN_TOKENS <= summary["min_tokens"] and summary["max_tokens"] <= ld.MAX_TOKENS + 8
    assert summary["max_tokens"] >= ld.MAX_TOKENS - 100
    text = (tmp_path / "docs.json").read_text()
    assert "Indicators of compromise" in text and "CVE-" in text and text.isascii()


def _level(c, tokens_per_s, padded=None, real=None, tokens=1000):
    return {"concurrency": c, "documents": 4, "tokens": tokens, "seconds": tokens / tokens_per_s,
            "documents_per_s": 4 * tokens_per_s / tokens, "tokens_per_s": tokens_per_s,
            "p50_ms": 100.0, "errors": 0, "padded_tokens": padded, "real_tokens": real,
            "window_tokens": real,
            "padded_over_document_tokens": None if padded is None else padded / tokens}


def _result(ee_c8, padded):
    server = {"extract_entities": [_level(1, 500.0, 1340, 1330), _level(8, ee_c8, padded, 1330)],
              "embed": [_level(1, 600.0, 1340, 1330), _level(8, 700.0, 1340, 1330)],
              "info": {"max_input_tokens": 512, "window_overlap_tokens": 128,
                       "max_windows_per_input": 64, "model_id": "bench/x"},
              "counts": {"same_token_counts": True, "same_window_counts": True}}
    peers = {"levels": {"pipeline": [_level(1, 200.0), _level(8, 250.0)],
                        "embed": [_level(1, 500.0), _level(8, 500.0)]}}
    result = {"server": server, "peers": peers,
              "documents": {"count": 8, "tokens": 36000, "min": 1016, "max": 7979},
              "agreement": {"mean_embedding_max_abs_diff": 1e-7, "server_entities": 81,
                            "pipeline_entities": 91, "entities_agreeing": 79}}
    result["ratios"] = ld.ratios(result)
    return result


def test_ratios_verdicts_and_report():
    good = _result(ee_c8=550.0, padded=1350)
    r = good["ratios"]
    assert r["server_over_peer"]["extract_entities c=8"] == pytest.approx(2.2)
    assert r["server_over_peer"]["embed c=1"] == pytest.approx(1.2)
    assert r["ideal_window_factor"] == pytest.approx(510 / 382)
    assert r["padded_over_document_tokens"] == pytest.approx((3 * 1340 + 1350) / 4000)
    assert r["window_arithmetic_matches"]
    assert set(r["targets"].values()) == {"met"}
    bad = _result(ee_c8=450.0, padded=2000)["ratios"]
    assert set(bad["targets"].values()) == {"missed"}
    text = ld.markdown(good)
    assert "| securebert-server | ExtractEntities simple | 8 | 2.20 | 550 | 100 | 2.20 | 1.350 |" \
        in text
    assert "| HF pipeline (stride 128, simple) | token-classification | 8 | 1.00 | 250 |" in text
    assert f"| {ld.TARGET_SPEEDUP_NAME} | met |" in text
    assert "8 documents of 1016-7979 tokens" in text and "79 identical" in text
    assert ld.markdown(None) == ""


def test_missing_parts_flags_a_failed_long_document_level():
    result = _result(ee_c8=550.0, padded=1350)
    assert len(ld.all_levels(result)) == 8 and ld.all_levels(None) == []
    result["peers"]["levels"]["pipeline"][1]["errors"] = 3
    missing = run_bench.missing_parts({"long_documents": result})
    assert "a long-document level with an error or no document done" in missing
