"""End-to-end: every ghz config in this folder, run by ghz against the real
securebert-server on the tiny model, once by server reflection and once from
the .proto.

For each run the test asserts from ghz's JSON report (-O json) that every
call ended OK and that ghz counted the total it was asked for, then
cross-checks with the server's /metrics: securebert_requests_total{rpc, code}
grew by exactly that many OK calls of the config's RPC (and no other series
moved), and the tokenizer and batching-queue histograms grew by the requests
those calls carried (every message of a stream counts). At the end the server
gets SIGTERM and must exit 0.

Classify and ExtractEntities need a model with a task head: their configs run
against a second and a third server, each on its own model directory, checked
the same way.

Environment (ctest sets them all):
  SECUREBERT_SERVER_BIN          the securebert-server binary
  SECUREBERT_TEST_MODEL_DIR      the tiny random-weight model (build/models/tiny)
  SECUREBERT_SEQUENCE_MODEL_DIR  a tiny model with a sequence-classification head,
                                 for classify.json
  SECUREBERT_TOKEN_MODEL_DIR     a tiny model with a token-classification head,
                                 for extract_entities.json
A missing SECUREBERT_SERVER_BIN or SECUREBERT_TEST_MODEL_DIR fails the test; an
unset head-model variable skips only that RPC's config (a set one that does not
exist fails). ghz is the pinned one that scripts/go-tools.sh installs; the
script is run to find it. Standard library only; run with the project venv's
interpreter:

  tools/export_model.py --random-init tiny --head sequence --labels 4 --out /tmp/tiny-seq
  tools/export_model.py --random-init tiny --head token --labels 9 --out /tmp/tiny-tok
  SECUREBERT_SERVER_BIN=build/bin/securebert-server \\
  SECUREBERT_TEST_MODEL_DIR=build/models/tiny \\
  SECUREBERT_SEQUENCE_MODEL_DIR=/tmp/tiny-seq SECUREBERT_TOKEN_MODEL_DIR=/tmp/tiny-tok \\
  .venv/bin/python client/ghz/ghz_e2e_test.py -v

ghz runs in this folder, as the README's commands do, so the configs' relative
data-file and proto paths resolve as they do for users.
"""

import functools
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.request
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILE = PROTO_ROOT / "securebert" / "v1" / "securebert.proto"
GO_TOOLS = REPO_ROOT / "scripts" / "go-tools.sh"
# What go-tools.sh writes into <bin>/.ghz.version; the report format parsed
# below is this release's (`go install` leaves `ghz --version` empty).
GHZ_PIN = "github.com/bojand/ghz/cmd/ghz@v0.120.0"

sys.path.insert(0, str(REPO_ROOT / "tests" / "parity"))
from server_under_test import ServerProcess  # noqa: E402  (the repo's server harness)

# Calls per run at most (the configs' totals are for load tests): enough to
# fill batches at the configs' concurrency, a second or so on two cores.
MAX_CALLS_PER_RUN = 40
# The limits the end-to-end suites run with; the sample texts fit in them.
# No linger on drain: no load balancer has to move away.
SERVER_FLAGS = ["--max_input_tokens=128", "--shutdown_linger_ms=0"]
START_TIMEOUT_S = 60
GHZ_TIMEOUT_S = 60
GO_TOOLS_TIMEOUT_S = 240
ROUTES = ("reflection", "proto")

# service SecureBert's rpc lines: name, and "stream " when the client streams.
_RPC = re.compile(r"^\s*rpc\s+(\w+)\s*\(\s*(stream\s+)?[\w.]+\s*\)", re.MULTILINE)
_REQUESTS = re.compile(
    r'^securebert_requests_total\{rpc="([^"]*)",code="([^"]*)"\} (\S+)$', re.MULTILINE)
_TOKENIZED = re.compile(r"^securebert_tokenize_duration_seconds_count (\S+)$", re.MULTILINE)
_QUEUED = re.compile(r"^securebert_queue_duration_seconds_count (\S+)$", re.MULTILINE)


class Work(NamedTuple):
    """What the server does for one request of an RPC."""

    tokenized: bool  # it observes securebert_tokenize_duration_seconds
    queued: bool  # it waits in the batching queue (securebert_queue_duration_seconds)


# Per RPC; a new RPC in the .proto fails the test until it is described here.
SERVER_WORK = {
    "Embed": Work(tokenized=True, queued=True),
    "EmbedStream": Work(tokenized=True, queued=True),
    "PredictMask": Work(tokenized=True, queued=True),
    "Tokenize": Work(tokenized=True, queued=False),
    "GetModelInfo": Work(tokenized=False, queued=False),
    "Classify": Work(tokenized=True, queued=True),
    "ExtractEntities": Work(tokenized=True, queued=True),
}
# RPCs that need a task head -> the variable naming a model directory that has it. Every other
# RPC runs on SECUREBERT_TEST_MODEL_DIR.
HEAD_MODEL_ENV = {
    "Classify": "SECUREBERT_SEQUENCE_MODEL_DIR",
    "ExtractEntities": "SECUREBERT_TOKEN_MODEL_DIR",
}


class Snapshot(NamedTuple):
    """The /metrics series this test reads, at one moment."""

    requests: Dict[Tuple[str, str], int]  # (rpc, code) -> securebert_requests_total
    tokenized: int  # securebert_tokenize_duration_seconds_count (0 before the first)
    queued: int  # securebert_queue_duration_seconds_count (0 before the first)


def service_rpcs() -> Dict[str, bool]:
    """{rpc name: client-streaming} from the .proto the server implements."""
    return {m.group(1): bool(m.group(2)) for m in _RPC.finditer(PROTO_FILE.read_text("utf-8"))}


def load_configs() -> List[Tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text("utf-8"))) for p in sorted(HERE.glob("*.json"))]


def rpc_of(config: dict) -> str:
    """The method name of a config's call ("securebert.v1.SecureBert.Embed" -> "Embed")."""
    return config["call"].rsplit(".", 1)[1]


def scrape(metrics_port: int) -> Snapshot:
    # No proxy: an http_proxy in the environment must not catch loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
        text = response.read().decode("utf-8")

    def single(pattern: "re.Pattern") -> int:
        match = pattern.search(text)
        return int(float(match.group(1))) if match else 0

    requests = {(m.group(1), m.group(2)): int(float(m.group(3))) for m in _REQUESTS.finditer(text)}
    return Snapshot(requests, single(_TOKENIZED), single(_QUEUED))


def requests_delta(before: Snapshot, after: Snapshot) -> Dict[Tuple[str, str], int]:
    keys = set(before.requests) | set(after.requests)
    delta = {k: after.requests.get(k, 0) - before.requests.get(k, 0) for k in keys}
    return {k: v for k, v in delta.items() if v}


@functools.lru_cache(maxsize=None)
def find_ghz() -> Path:
    """The pinned ghz (looked up once per run); AssertionError naming what to run when it is not there."""
    try:
        run = subprocess.run([str(GO_TOOLS)], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=False, timeout=GO_TOOLS_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AssertionError(f"{GO_TOOLS} could not run: {e}") from e
    if run.returncode != 0 or not run.stdout.strip():
        raise AssertionError(f"{GO_TOOLS} failed (exit {run.returncode}); it installs ghz with Go "
                             f"(scripts/setup.sh installs Go):\n{run.stderr.strip()}")
    bin_dir = Path(run.stdout.strip().splitlines()[-1])
    ghz = bin_dir / "ghz"
    if not (ghz.is_file() and os.access(ghz, os.X_OK)):
        raise AssertionError(f"no executable {ghz} after {GO_TOOLS}")
    stamp = bin_dir / ".ghz.version"
    recorded = stamp.read_text("utf-8").strip() if stamp.is_file() else "(no stamp)"
    if recorded != GHZ_PIN:
        raise AssertionError(f"{ghz} is {recorded}, not the pinned {GHZ_PIN}: rerun {GO_TOOLS}")
    return ghz


def required_env(name: str) -> Path:
    value = os.environ.get(name)
    if not value:
        raise AssertionError(
            f"{name} is not set. ctest sets it; by hand: SECUREBERT_SERVER_BIN="
            f"build/bin/securebert-server SECUREBERT_TEST_MODEL_DIR=build/models/tiny")
    return existing_path(name, value)


def existing_path(name: str, value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise AssertionError(f"{name}={value} does not exist (build it, or run ctest's "
                             f"export_tiny_model for the model)")
    return path


def messages_per_call(config: dict, client_streaming: bool) -> int:
    """Requests one ghz call carries: one for a unary call; for a stream, its
    stream-call-count, else every message of the data array once."""
    if not client_streaming:
        return 1
    if config.get("stream-call-count"):
        return int(config["stream-call-count"])
    return len(json.loads((HERE / config["data-file"]).read_text("utf-8")))


def ghz_command(ghz: Path, name: str, config: dict, route: str, host: str, calls: int) -> List[str]:
    """ghz on the config file with the host, the count and the output replaced;
    everything else (concurrency, connections, data, limits) is the config's."""
    command = [str(ghz), "--config", name, f"--total={calls}", "--skipFirst=0", "--duration=0",
               "--output=", "--format=json"]
    if route == "reflection":
        command += ["--proto=", "--protoset="]
    elif not config.get("proto"):
        command += ["--proto", str(PROTO_FILE), "--import-paths", str(PROTO_ROOT)]
    # else: the config's own proto and import paths, as users run it.
    return command + [host]


class GhzE2ETest(unittest.TestCase):
    maxDiff = None

    def test_every_config_by_reflection_and_by_proto(self):
        """Every config whose RPC needs no task head, on the tiny model."""
        ghz = find_ghz()
        binary = required_env("SECUREBERT_SERVER_BIN")
        model_dir = required_env("SECUREBERT_TEST_MODEL_DIR")
        rpcs = service_rpcs()
        configs = load_configs()
        self.assertEqual(set(SERVER_WORK), set(rpcs), "describe every RPC in SERVER_WORK")
        self.assertEqual(set(rpcs), {rpc_of(c) for _, c in configs},
                         "every RPC needs a ghz config")
        self.assertLessEqual(set(HEAD_MODEL_ENV), set(rpcs))
        plain = [(n, c) for n, c in configs if rpc_of(c) not in HEAD_MODEL_ENV]
        self.run_configs(ghz, binary, model_dir, plain, rpcs)

    def test_head_configs_by_reflection_and_by_proto(self):
        """Classify's and ExtractEntities' configs, each on a model with the head it needs."""
        ghz = find_ghz()
        binary = required_env("SECUREBERT_SERVER_BIN")
        rpcs = service_rpcs()
        configs = load_configs()
        for method, variable in sorted(HEAD_MODEL_ENV.items()):
            with self.subTest(rpc=method, model=variable):
                value = os.environ.get(variable)
                if not value:
                    self.skipTest(f"{variable} is unset: no model with the head {method} needs")
                ours = [(n, c) for n, c in configs if rpc_of(c) == method]
                self.assertTrue(ours, f"no config calls {method}")
                self.run_configs(ghz, binary, existing_path(variable, value), ours, rpcs)

    def run_configs(self, ghz, binary, model_dir, configs, rpcs):
        """Each config by reflection and by proto against one server on `model_dir`, which must
        then exit 0 on SIGTERM."""
        server = ServerProcess(binary, ["--model_dir", str(model_dir), *SERVER_FLAGS])
        try:
            try:
                grpc_port, metrics_port = server.wait_until_ready(START_TIMEOUT_S)
            except RuntimeError as e:
                self.fail(str(e))
            for name, config in configs:
                for route in ROUTES:
                    with self.subTest(config=name, route=route):
                        self.check_run(ghz, name, config, route, rpcs, server, grpc_port,
                                       metrics_port)
        finally:
            status = server.stop()
        self.assertEqual(status, 0, f"securebert-server exited {status} on SIGTERM; its log:\n"
                                    f"{server.log()[-4000:]}")

    def scrape(self, server, metrics_port):
        try:
            return scrape(metrics_port)
        except OSError as e:
            self.fail(f"GET /metrics on port {metrics_port}: {e}; the server's log:\n"
                      f"{server.log()[-4000:]}")

    def check_run(self, ghz, name, config, route, rpcs, server, grpc_port, metrics_port):
        method = rpc_of(config)
        calls = min(int(config["total"]), MAX_CALLS_PER_RUN)
        host = f"127.0.0.1:{grpc_port}"
        command = ghz_command(ghz, name, config, route, host, calls)
        before = self.scrape(server, metrics_port)
        run = subprocess.run(command, cwd=HERE, capture_output=True, text=True, check=False,
                             timeout=GHZ_TIMEOUT_S)
        after = self.scrape(server, metrics_port)
        self.assertEqual(run.returncode, 0, f"{' '.join(command)}:\n{run.stderr}{run.stdout}")
        try:
            report = json.loads(run.stdout)
        except json.JSONDecodeError as e:
            self.fail(f"ghz printed no JSON report ({e}):\n{run.stdout[:2000]}{run.stderr}")

        # ghz ran what the test meant: the config's call, this server, this count, this route.
        options = report["options"]
        self.assertEqual(options["call"], config["call"])
        self.assertEqual(options["host"], host)
        self.assertEqual(options["total"], calls)
        if route == "proto":
            self.assertEqual((HERE / options.get("proto", "")).resolve(), PROTO_FILE)
        else:
            self.assertFalse(options.get("proto") or options.get("protoset"), options)

        # Every call OK, and as many as asked.
        self.assertEqual(report["endReason"], "normal")
        self.assertEqual(report["statusCodeDistribution"], {"OK": calls})
        self.assertFalse(report.get("errorDistribution"), report.get("errorDistribution"))
        self.assertEqual(report["count"], calls)

        # The server saw the same: that many OK calls of this RPC and nothing else, and the
        # requests they carried went through the tokenizer and the queue.
        self.assertEqual(requests_delta(before, after), {(method, "OK"): calls})
        requests = calls * messages_per_call(config, rpcs[method])
        work = SERVER_WORK[method]
        self.assertEqual(after.tokenized - before.tokenized, requests if work.tokenized else 0,
                         "securebert_tokenize_duration_seconds_count")
        self.assertEqual(after.queued - before.queued, requests if work.queued else 0,
                         "securebert_queue_duration_seconds_count")
        print(f"{name} by {route}: {method} x{calls} OK ({requests} requests), "
              f"{report['rps']:.0f} calls/s", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
