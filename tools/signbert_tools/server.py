"""`signbert serve` as a child process: started on 127.0.0.1 with --port 0 (the "started" log line tells the
port), ready once GET /ready answers 200, its JSON log (stdout and stderr) in a file that can be read any time."""
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time


class ServerError(RuntimeError):
    """The server exited, or did not log its port or become ready in time (the message ends with its log)."""


class ServeProcess:
    """`BINARY serve --host 127.0.0.1 --port PORT ARGS...`; `start()` returns once it is ready.

    `port`: 0 (the default) lets the kernel pick one; `log_path`: where its output goes (default: a temporary file, kept after the process ends); `log_stdout`:
    False sends stdout to /dev/null (the log is on stderr either way)."""

    def __init__(self, binary, args=(), log_path=None, cwd=None, env=None, log_stdout=True, port=0):
        self.cmd = [str(binary), "serve", "--host", "127.0.0.1", "--port", str(port), *[str(a) for a in args]]
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="signbert-serve-", suffix=".log")
            os.close(handle)
        self.log_path = str(log_path)
        self.cwd, self.env, self.log_stdout = cwd, env, log_stdout
        self.proc = None
        self.port = None
        self.started_line = None
        self.log_file = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60.0):
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log_file if self.log_stdout else subprocess.DEVNULL,
                                     stderr=self.log_file)
        deadline = time.monotonic() + timeout
        while self.port is None:
            if self.proc.poll() is not None:
                raise ServerError(f"serve exited with {self.proc.returncode} before listening; log: {self.tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"serve did not log its port within {timeout} s; log: {self.tail()}")
            self._read_port()
            time.sleep(0.02)
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"serve exited with {self.proc.returncode} before it was ready; log: {self.tail()}")
            try:
                if self.get("/ready", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"/ready not 200 within {timeout} s; log: {self.tail()}")
            time.sleep(0.02)

    def _read_port(self):
        for line in self.lines():
            if '"started"' in line:
                match = re.search(r'"listen"\s*:\s*"[^"]*:(\d+)"', line)
                if match:
                    self.port = int(match.group(1))
                    try:
                        self.started_line = json.loads(line)
                    except ValueError:
                        self.started_line = line
                    return

    def lines(self, start=0):
        """The log's lines from byte offset `start`."""
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace").splitlines()

    def log_entries(self):
        """The log's JSON objects (other lines skipped)."""
        entries = []
        for line in self.lines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def log_text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_size(self):
        return os.path.getsize(self.log_path)

    def tail(self, n=15):
        try:
            return "\n" + "\n".join(self.lines()[-n:])
        except OSError:
            return "(no log)"

    def get(self, path, timeout=10):
        """(status, headers, body) of GET path."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def kill(self):
        """Ends it at once (SIGKILL) if it still runs, and closes the log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.log_file is not None:
            self.log_file.close()

    def terminate(self, timeout=60):
        """SIGTERM (a graceful drain), then SIGKILL after `timeout` s: (exit code, seconds, killed)."""
        started = time.monotonic()
        killed = False
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code, killed = self.proc.wait(), True
        self.log_file.close()
        return code, time.monotonic() - started, killed
