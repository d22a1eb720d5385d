#!/usr/bin/env python3
"""The demo page in a real browser (issue 22, items 1 and 2): headless Chromium, driven by Playwright, against a
real `signbert serve` of the bundled demo model.

    python tools/demo_browser_test.py [path/to/signbert] [--chromium /usr/bin/chromium] [--screenshot OUT.png]

(tools/demo_browser_test.sh makes the Playwright virtualenv outside the repository and runs this.) Checks:

1. `GET /demo` answers the page with a Content-Security-Policy, and the page loads and lists the model;
2. Play replays the bundled recording (Sources/InferenceService/Resources/demo/recording.pose) at its real speed
   over the WebSocket stream; the skeleton canvas is drawn, the top-k list shows scores, and when the stream
   ends the transcript's signs equal the recording's gestures (recording.json), in order. The rule is exact
   equality: the server's windows are deterministic (the same frames give the same windows at any speed when
   none is skipped; skipped windows, which a very busy machine can cause, are printed with the result), and the
   bundled recording is one the demo model recovers exactly (tools/make_demo_recording.py says which and why:
   the model recovers about 3 random recordings in 10 exactly, so the recording was chosen, not drawn);
3. no request of the page (HTTP or WebSocket) goes to another host, and the browser reports no CSP violation;
4. a file the server refuses (a landmark JSON file with a malformed frame) gives the server's error message on
   the page; a full server (serve --max-streams 1, the one stream held by another client) gives the "overloaded"
   message (close 1013); a server that drains (SIGTERM) during a replay gives the "shutting down" message
   (close 1001).

Screenshots are kept: the finished replay (default .build/demo-browser/demo.png) and one mid-replay
(demo-playing.png beside it); the paths are printed.
Prints one line per check and `N passed, M failed`; exits non-zero when anything failed.
"""
import argparse
import http.client
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from signbert_tools import checks
from signbert_tools.checks import check

ROOT = Path(__file__).resolve().parent.parent
TRUTH = ROOT / "Sources/InferenceService/Resources/demo/recording.json"
def error_status(page):
    """The status text while the page shows an error, else None. status() sets the text and then the class in one
    task, but each read here is its own round trip: the text is read before and after the class, and a text that
    changed in between belongs to a newer status (e.g. "Connecting…" read after the previous error's class)."""
    before = page.text_content("#status")
    error = page.get_attribute("#status", "class") == "error"
    after = page.text_content("#status")
    return after if error and before == after else None


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns a true value, and returns that value. From Python: the page's CSP forbids
    eval, which Playwright's wait_for_function relies on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class Server:
    """`signbert serve` of the bundled demo model on a port the kernel picks, its JSON log in a file."""

    def __init__(self, binary, workdir):
        self.log_path = Path(workdir) / "serve.log"
        self.log = open(self.log_path, "wb")
        # One stream at a time, so that the test can fill the server up (close 1013) with one raw stream.
        self.process = subprocess.Popen([str(binary), "serve", "--host", "127.0.0.1", "--port", "0",
                                         "--max-streams", "1"], cwd=ROOT,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.port = None
        deadline = time.monotonic() + 60
        while self.port is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {self.log_path.read_text()}")
            for raw in self.log_path.read_text(errors="replace").splitlines():
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if line.get("message") == "started":
                    self.port = int(line["listen"].rsplit(":", 1)[1])
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", nargs="?", default=str(ROOT / ".build/debug/signbert"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--screenshot", default=str(ROOT / ".build/demo-browser/demo.png"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    truth = [s["label"] for s in json.loads(TRUTH.read_text())["segments"]]
    fps = json.loads(TRUTH.read_text())["fps"]
    frames = json.loads(TRUTH.read_text())["frames"]
    workdir = tempfile.mkdtemp(prefix="signbert-demo-")
    server = Server(args.binary, workdir)
    origin = f"127.0.0.1:{server.port}"
    base = f"http://{origin}"
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/demo")
        response = connection.getresponse()
        body = response.read()
        csp = response.getheader("Content-Security-Policy") or ""
        check("GET /demo is the page with a strict CSP", response.status == 200
              and response.getheader("Content-Type", "").startswith("text/html")
              and "script-src 'self'" in csp and "default-src 'none'" in csp and b"<canvas" in body, csp)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                        args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            requests, problems = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            page.goto(f"{base}/demo")
            wait_until(lambda: page.text_content("#status").startswith("Ready"), 10, "the model list")
            check("the page lists the model", page.eval_on_selector("#model", "s => s.options.length") == 1
                  and page.input_value("#model") == "signbert", page.text_content("#status"))

            started = time.monotonic()
            page.click("#play")
            playing = Path(args.screenshot).with_name("demo-playing.png")
            playing.parent.mkdir(parents=True, exist_ok=True)

            def done():
                # One screenshot mid-replay (three signs in, the skeleton mid-gesture: README.md's picture).
                if not playing.exists() and len(page.query_selector_all("#transcript li")) >= 3:
                    page.screenshot(path=str(playing))
                return page.text_content("#status").startswith("Done")
            wait_until(done, frames / fps + 60, "the end of the replay")
            took = time.monotonic() - started
            status = page.text_content("#status")
            shown = page.eval_on_selector_all("#transcript li", "items => items.map(i => i.dataset.label)")
            check("the replay ran at real speed", took >= frames / fps * 0.95,
                  f"{frames} frames at {fps}/s in {took:.1f} s")
            # Skipped windows (backpressure on a busy machine) are reported, not failed: the transcript is what
            # must hold, and with every window computed it is deterministic.
            check("the transcript shows the recording's gestures in order", shown == truth,
                  f"shown {shown}, truth {truth}; {status}")
            scores = page.eval_on_selector_all("#topk .score", "s => s.map(e => e.textContent)")
            check("the top-k list shows scores", len(scores) == 5 and all(0 <= float(s) <= 1 for s in scores), str(scores))
            lit = page.evaluate("""() => { const c = document.getElementById('skeleton');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] > 150) n++; return n; }""")
            check("the skeleton is drawn on the canvas", lit > 200, f"{lit} bright pixels")
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)
            print(f"screenshots: {args.screenshot}, {playing}", flush=True)

            # A file the server refuses: the page must show the server's message.
            bad = Path(workdir) / "bad.json"
            bad.write_text(json.dumps({"image_width": 640, "image_height": 480,
                                       "frames": [{"pose": [[0.5, 0.5, 0, 1]] * 3, "left_hand": None, "right_hand": None}]}))
            page.select_option("#source", "file")
            page.set_input_files("#file", str(bad))
            page.click("#play")
            refusal = wait_until(lambda: error_status(page), 10, "the refusal")
            check("a refused file shows the server's error", refusal.startswith("The server refused the recording")
                  and "pose" in refusal, refusal)

            # An overloaded server: another client holds the one stream allowed; the page must say so (1013).
            blocker = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            blocker.sendall(("GET /stream HTTP/1.1\r\nHost: " + origin + "\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
            handshake = blocker.recv(4096)
            page.select_option("#source", "bundled")
            page.click("#play")
            # (The refusal's message is still up when the click returns: wait for a new one.)
            def newer_error():
                text = error_status(page)
                return text if text != refusal else None
            overloaded = wait_until(newer_error, 10, "the overload message")
            check("an overloaded server shows the overload message", handshake.startswith(b"HTTP/1.1 101")
                  and "overloaded" in overloaded, overloaded)
            blocker.close()
            time.sleep(0.5)

            # A drain during a replay: close 1001, the page says the server is shutting down.
            page.click("#play")
            wait_until(lambda: page.text_content("#status").startswith("Streaming"), 10, "the replay to start")
            time.sleep(1.0)
            server.process.send_signal(signal.SIGTERM)
            drained = wait_until(lambda: error_status(page), 30, "the drain message")
            check("a draining server shows the shutting-down message", "shutting down" in drained, drained)
            browser.close()

        foreign = [u for u in requests if urlsplit(u).netloc != origin]
        check("every request went to the server itself", requests and not foreign,
              f"{len(requests)} requests" + (f", foreign: {foreign}" if foreign else ""))
        csp_errors = [m for m in problems if "Content Security Policy" in m]
        check("no CSP violation", not csp_errors, "; ".join(csp_errors)[:300])
    finally:
        server.stop()
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
