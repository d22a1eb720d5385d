#!/usr/bin/env python3
"""Runs the README's commands against a real server, as a newcomer pastes them into a shell (Python standard
library, bash, curl, h2load).

Usage:
    python3 tools/readme_test.py path/to/signbert

Starts `signbert serve` on the bundled model from the repository's root (as the README's first command does, but on
127.0.0.1 with a port the kernel picks), then runs every fenced ```sh block of README.md that talks to
localhost:8080, with only that address changed to the server's (and h2load's `-n 1000` cut to `-n 64`: the
debug build computes a thousand clips slowly on a busy machine). Each block runs under bash -euo pipefail from the
repository's root, with curl given --fail-with-body (a 4xx or 5xx answer fails the block, as a reader would see it
fail) and h2load checked for 0 failed requests and no 4xx/5xx. Blocks that install, build or deploy (setup, docker,
kubectl) are not run here. Prints one line per block and `N passed, M failed` last; exits non-zero on any failure.
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from signbert_tools.paths import REPO as ROOT
from signbert_tools.server import ServeProcess
README = ROOT / "README.md"

PRELUDE = r"""set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
h2load() {
  local out
  out="$(command h2load "$@")"
  printf '%s\n' "$out"
  grep -Eq ' 0 failed, 0 errored' <<<"$out" && grep -Eq ' 0 4xx, 0 5xx' <<<"$out"
}
"""


def sh_blocks(text):
    """The ```sh blocks of a Markdown text, in order."""
    return [m.group(1) for m in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = Path(sys.argv[1]).resolve()
    blocks = [b for b in sh_blocks(README.read_text()) if "localhost:8080" in b]
    passed = failed = 0
    with tempfile.NamedTemporaryFile("wb", prefix="signbert-readme-", suffix=".log") as log:
        server = ServeProcess(binary, log_path=log.name, cwd=ROOT).start()
        port = server.port
        try:
            for block in blocks:
                script = PRELUDE + block.replace("localhost:8080", f"localhost:{port}").replace("h2load -c 1 -m 32 -n 1000",
                                                                                               "h2load -c 1 -m 32 -n 64")
                result = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
                first = block.strip().splitlines()[0][:100]
                if result.returncode == 0 and result.stdout.strip():
                    passed += 1
                    print(f"PASS {first}", flush=True)
                else:
                    failed += 1
                    print(f"FAIL {first}: exit {result.returncode}\n--- stdout\n{result.stdout[-1500:]}"
                          f"\n--- stderr\n{result.stderr[-1500:]}", flush=True)
        finally:
            server.terminate(timeout=30)
    if not blocks:
        failed += 1
        print("FAIL no ```sh block of README.md talks to localhost:8080")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
