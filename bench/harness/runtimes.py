"""The runtime table (issue "CPU speed"): every runtime on the same weights and texts.

Pure assembly of what compare_steps.runtime_table measured: per runtime, static-batch
tokens/s by core arrangement and batch size (the engine bench's layout: raw rows of
{"arrangement", "batch", "tokens_per_s"}); the fastest raw figure of all; the servers and
the transformers peer at one concurrency; and the ratios the issue's targets are stated on:
server / fastest raw (>= 0.95) and server / transformers peer (>= 1.3), both on tokens/s.
"""

from typing import Dict, Optional

from harness import figures

TARGET_SERVER_OVER_FASTEST_RAW = 0.95
TARGET_SERVER_OVER_TRANSFORMERS = 1.3

# Row order and names of the table.
RUNTIMES = (("debian_libtorch", "Debian LibTorch (securebert-engine-bench, build-debian-torch)"),
            ("pypi_libtorch", "PyPI LibTorch (securebert-engine-bench, build)"),
            ("onnxruntime", "ONNX Runtime, CPU provider (Python)"),
            ("transformers", "transformers eager, PyPI torch (Python)"))
SERVERS = (("pypi_libtorch", "securebert-server, PyPI LibTorch (build)"),
           ("debian_libtorch", "securebert-server, Debian LibTorch (build-debian-torch)"),
           ("transformers_peer", "transformers peer (bench/transformers_peer.py)"))
ARRANGEMENTS = ("1 forward(s) x {cores} thread(s)", "{cores} forward(s) x 1 thread(s)")


def _verdict(value, target) -> str:
    return "n/a" if value is None else ("met" if value >= target else "missed")


def runtime_row(key: str, name: str, measured: dict) -> dict:
    """One runtime's figures by arrangement and batch, and its best; n/a with a reason."""
    if not measured or not measured.get("available"):
        return {"key": key, "name": name, "available": False,
                "reason": (measured or {}).get("reason", "not measured")}
    by_arrangement: Dict[str, Dict[int, float]] = {}
    for row in measured.get("raw", []):
        by_arrangement.setdefault(row["arrangement"], {})[row["batch"]] = row["tokens_per_s"]
    best = max(measured["raw"], key=lambda row: row["tokens_per_s"])
    return {"key": key, "name": name, "available": True, "cores": measured.get("cores"),
            "tokens_per_s": by_arrangement, "texts": measured.get("texts"),
            "tokens": measured.get("tokens"),
            "best": {"tokens_per_s": best["tokens_per_s"], "arrangement": best["arrangement"],
                     "batch": best["batch"]},
            "export": measured.get("export"), "verify": measured.get("verify"),
            "version": measured.get("version")}


def server_row(key: str, name: str, level: Optional[dict]) -> dict:
    if not level or level.get("available") is False:
        return {"key": key, "name": name, "available": False,
                "reason": (level or {}).get("reason", "not measured")}
    return {"key": key, "name": name, "available": True,
            "concurrency": level["concurrency"], "tokens_per_s": level["tokens_per_s"],
            "p50_ms": level["p50_ms"], "p99_ms": level["p99_ms"], "errors": level["errors"]}


def assemble(measured: Dict[str, dict], servers: Dict[str, Optional[dict]],
             concurrency: int) -> dict:
    """The table, the fastest raw runtime and the ratios (None where a figure is missing)."""
    rows = [runtime_row(key, name, measured.get(key)) for key, name in RUNTIMES]
    server_rows = [server_row(key, name, servers.get(key)) for key, name in SERVERS]
    available = [row for row in rows if row["available"]]
    fastest = max(available, key=lambda row: row["best"]["tokens_per_s"], default=None)
    fastest_tps = fastest["best"]["tokens_per_s"] if fastest else None
    by_key = {row["key"]: row for row in server_rows}
    peer_tps = by_key["transformers_peer"].get("tokens_per_s")
    ratios = {}
    for key in ("pypi_libtorch", "debian_libtorch"):
        tps = by_key[key].get("tokens_per_s")
        ratios[key] = {"server_over_fastest_raw": figures.ratio(tps, fastest_tps),
                       "server_over_transformers_peer": figures.ratio(tps, peer_tps)}
        ratios[key]["targets"] = {
            "server_over_fastest_raw >= 0.95": _verdict(
                ratios[key]["server_over_fastest_raw"], TARGET_SERVER_OVER_FASTEST_RAW),
            "server_over_transformers_peer >= 1.3": _verdict(
                ratios[key]["server_over_transformers_peer"], TARGET_SERVER_OVER_TRANSFORMERS)}
    return {"concurrency": concurrency, "rows": rows, "servers": server_rows,
            "fastest": None if fastest is None else {
                "key": fastest["key"], "name": fastest["name"], "tokens_per_s": fastest_tps,
                "arrangement": fastest["best"]["arrangement"],
                "batch": fastest["best"]["batch"]},
            "ratios": ratios}


def arrangements(cores: int):
    """The two arrangement labels the engine bench prints for `cores` cores."""
    return [a.format(cores=cores) for a in ARRANGEMENTS]
