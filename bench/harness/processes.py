"""Child processes of the benchmark: servers under test and bounded commands.

Every process started here is owned by a context manager that stops it on
exit, exception included: SIGTERM, a bounded wait, then SIGKILL. Servers
listen on 127.0.0.1 only. Output goes to log files under the run's work
directory (never to pipes that could fill up and stall the child).
"""

import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import List, Optional

# securebert-server's start-up lines on stderr.
_LISTENING = re.compile(r"listening: grpc=\S+ port=(\d+) metrics=\S+ port=(\d+)")
_READY = "ready:"


class ManagedProcess:
    """A child process with its log file; stop() is idempotent."""

    def __init__(self, argv: List[str], log_path: Path, env: Optional[dict] = None,
                 stdout_path: Optional[Path] = None):
        self.log_path = log_path
        self.stdout_path = stdout_path or log_path
        self._log = open(log_path, "wb")  # pylint: disable=consider-using-with
        self._stdout = open(self.stdout_path, "wb") if stdout_path else self._log  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(argv, stdout=self._stdout, stderr=self._log, env=env,  # pylint: disable=consider-using-with
                                     stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: re.Pattern, timeout_s: float, path: Optional[Path] = None):
        """The first match of pattern in the log (or path), polling; raises on exit or timeout."""
        path = path or self.log_path
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            match = pattern.search(path.read_text(errors="replace"))
            if match:
                return match
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.proc.args[0]} exited with {self.proc.returncode}: "
                                   f"{self.log_text()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.proc.args[0]}: no {pattern.pattern!r} within {timeout_s} s")

    def peak_rss_bytes(self) -> Optional[int]:
        """VmHWM of the live process, bytes; None once it has exited."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) * 1024 if match else None

    def rss_bytes(self) -> Optional[int]:
        """VmRSS (current resident size) of the live process, bytes."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) * 1024 if match else None

    def stop(self, grace_s: float = 15.0) -> Optional[int]:
        """SIGTERM, then SIGKILL after grace_s; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in {self._log, self._stdout}:
            f.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SecureBertServer(ManagedProcess):
    """build/bin/securebert-server on ephemeral loopback ports; ready when entered."""

    def __init__(self, binary: Path, model_dir: Path, log_path: Path, extra_args: List[str],
                 ready_timeout_s: float = 180.0):
        super().__init__([str(binary), "--model_dir", str(model_dir),
                          "--listen", "127.0.0.1:0", "--metrics_listen", "127.0.0.1:0",
                          "--shutdown_linger_ms", "0"] + extra_args, log_path)
        try:
            match = self.wait_for(_LISTENING, ready_timeout_s)
            self.grpc_port, self.metrics_port = int(match.group(1)), int(match.group(2))
            self.wait_for(re.compile(re.escape(_READY)), ready_timeout_s)
        except BaseException:
            self.stop()
            raise

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


class PythonPeer(ManagedProcess):
    """A Python peer server (argv) that prints one JSON line with its port when ready."""

    def __init__(self, argv: List[str], log_path: Path, ready_timeout_s: float = 180.0):
        stdout_path = log_path.with_suffix(".stdout")
        super().__init__(argv, log_path, stdout_path=stdout_path)
        try:
            match = self.wait_for(re.compile(r"^\{.*\}$", re.MULTILINE), ready_timeout_s,
                                  path=stdout_path)
            self.info = json.loads(match.group(0))
        except BaseException:
            self.stop()
            raise

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.info['port']}"


class NaivePeer(PythonPeer):
    """bench/naive_peer.py in one mode; ready when entered."""

    def __init__(self, python: str, script: Path, model_dir: Path, mode: str, stubs: Path,
                 log_path: Path, ready_timeout_s: float = 120.0):
        super().__init__([python, str(script), "--model_dir", str(model_dir), "--mode", mode,
                          "--stubs", str(stubs)], log_path, ready_timeout_s)


class TransformersPeer(PythonPeer):
    """bench/transformers_peer.py over a Hugging Face directory; ready when entered."""

    def __init__(self, python: str, script: Path, hf_dir: Path, log_path: Path,
                 extra_args: Optional[List[str]] = None, ready_timeout_s: float = 300.0):
        super().__init__([python, str(script), "--hf-dir", str(hf_dir)] + (extra_args or []),
                         log_path, ready_timeout_s)


def run_bounded(argv: List[str], timeout_s: float, log_path: Path) -> str:
    """Runs argv to completion within timeout_s; its stdout, or raises with its stderr."""
    with open(log_path, "wb") as log:
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=timeout_s,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(f"{argv[0]} ran past {timeout_s} s") from error
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: "
                           f"{log_path.read_text(errors='replace')[-2000:]}")
    return done.stdout.decode("utf-8", errors="replace")
