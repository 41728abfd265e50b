"""Runs the real securebert-server as a child process for end-to-end tests.

A thread reads the child's stderr (its log) line by line into a list under
a condition variable, so tests wait on log lines ("ready:") instead of
sleeping; the port comes from the "listening:" line.

Ownership: a ServerProcess owns its child; stop() ends it (SIGTERM, then
SIGKILL if it has not exited in time). Thread safety: wait_for and
log_tail may be called from any thread.
"""

import re
import subprocess
import threading
import time

# "listening: grpc=H:P port=N metrics=H:P port=M"
LISTENING = re.compile(r"listening: grpc=\S+ port=(\d+) metrics=\S+ port=(\d+)")


class ServerProcess:
    def __init__(self, binary, model_dir, *extra_args):
        args = [binary, "--model_dir", model_dir, "--listen", "127.0.0.1:0",
                "--metrics_listen", "127.0.0.1:0", *extra_args]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True, errors="replace")
        self._changed = threading.Condition()
        self._lines = []  # guarded by _changed: every log line so far
        self._ended = False  # guarded by _changed: the log has ended
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self):
        for line in self._process.stderr:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_for(self, text, timeout_s):
        """The first log line containing text; AssertionError (with the log's
        tail) if the log ends or timeout_s passes first."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self._changed:
            while True:
                for line in self._lines[seen:]:
                    if text in line:
                        return line
                seen = len(self._lines)
                if self._ended:
                    raise AssertionError(f"securebert-server exited ({self._process.poll()}) "
                                         f"before logging {text!r}:\n{self._tail(20)}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {text!r} in the securebert-server log after "
                                         f"{timeout_s} s:\n{self._tail(20)}")
                self._changed.wait(remaining)

    def ready(self, timeout_s):
        """Waits for "ready:"; the gRPC address, "127.0.0.1:PORT"."""
        self.wait_for("ready:", timeout_s)
        # "listening:" comes before "ready:", so it is in the log by now.
        match = LISTENING.search(self.wait_for("listening:", 0))
        assert match, f"cannot read the port from the log:\n{self.log_tail(20)}"
        return f"127.0.0.1:{match.group(1)}"

    def log_tail(self, n):
        with self._changed:
            return self._tail(n)

    def _tail(self, n):
        return "\n".join(self._lines[-n:])

    def stop(self, timeout_s=30):
        """SIGTERM (the server drains), SIGKILL after timeout_s; the exit code."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join()
        return self._process.returncode
