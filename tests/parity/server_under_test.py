"""The real securebert-server as a child process, for Python end-to-end tests.

Who uses it: test_server_vs_transformers.py. The server is started on ephemeral loopback
ports (`--listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0`); its log goes to stderr, which
one reader thread collects line by line. Waiting for a log line blocks on a condition the
reader signals (no polling, no sleeps) and gives up at a deadline or when the log ends
(the process exited), so a server that fails to start fails the test with its log.

Also generates the Python gRPC stubs of proto/securebert/v1/securebert.proto at test time
(grpc_tools.protoc), the same module layout as the build's (`securebert.v1`).

Thread safety: `ServerProcess` methods may be called from the test thread while the reader
thread appends; `_lines` and `_eof` are guarded by `_cond`.
"""

import importlib
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILE = PROTO_ROOT / "securebert" / "v1" / "securebert.proto"
# "listening: grpc=127.0.0.1:0 port=NNN metrics=127.0.0.1:0 port=MMM"
_LISTENING = re.compile(r"listening: grpc=\S+ port=(\d+) metrics=\S+ port=(\d+)")


class ServerProcess:
    """A started securebert-server; `stop()` (or the context manager) ends it."""

    def __init__(self, binary: Path, args: Sequence[str]):
        self.command = [str(binary), "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
                        *args]
        self._cond = threading.Condition()
        self._lines: List[str] = []  # guarded by _cond: every stderr line so far
        self._eof = False  # guarded by _cond: stderr closed (the process exited)
        self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True, errors="replace")
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        for line in self._process.stderr:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def log(self) -> str:
        """Everything the server has logged so far."""
        with self._cond:
            return "\n".join(self._lines)

    def wait_for_line(self, pattern: "re.Pattern", timeout_s: float) -> Optional["re.Match"]:
        """The first log line matching `pattern`; None at the deadline or when the log ends."""
        deadline = time.monotonic() + timeout_s
        checked = 0
        with self._cond:
            while True:
                for line in self._lines[checked:]:
                    match = pattern.search(line)
                    if match:
                        return match
                checked = len(self._lines)
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def wait_until_ready(self, timeout_s: float) -> Tuple[int, int]:
        """(gRPC port, metrics port) once the server has logged `listening:` and then `ready:`.

        Raises RuntimeError with the server's log when either line does not come.
        """
        deadline = time.monotonic() + timeout_s
        listening = self.wait_for_line(_LISTENING, timeout_s)
        if listening is None:
            raise RuntimeError(self._failure("no 'listening: ... port=N' line"))
        if self.wait_for_line(re.compile(r"\bready:"), deadline - time.monotonic()) is None:
            raise RuntimeError(self._failure("no 'ready:' line"))
        return int(listening.group(1)), int(listening.group(2))

    def _failure(self, what: str) -> str:
        status = self._process.poll()
        state = "still running" if status is None else f"exited with status {status}"
        return (f"{' '.join(self.command)}: {what} ({state}); its log:\n{self.log()}")

    def stop(self, timeout_s: float = 60) -> int:
        """SIGTERM (a drain), then SIGKILL if it has not exited in time; the exit status."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join()
        return self._process.returncode

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def generate_stubs(out_dir: Path, python: str = sys.executable, timeout_s: float = 120.0):
    """(securebert_pb2, securebert_pb2_grpc) generated from the proto into `out_dir` (made
    if missing) by `python`'s grpc_tools.protoc, and imported (out_dir first on sys.path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [python, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"--python_out={out_dir}",
         f"--grpc_python_out={out_dir}", str(PROTO_FILE)],
        capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"grpc_tools.protoc failed ({result.returncode}):\n{result.stderr}")
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    return (importlib.import_module("securebert.v1.securebert_pb2"),
            importlib.import_module("securebert.v1.securebert_pb2_grpc"))
