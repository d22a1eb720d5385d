"""What the Python scripts in tools/, tools/reliability/ and deploy/test/ share (standard library only).

- `paths`: the repository's folders and files (REPO, TOOLS, DEMO_MODEL, ...);
- `server`: `ServeProcess`, a `signbert serve` child on a kernel-chosen port, ready once /ready answers 200;
- `wrk`: running wrk against one URL with a POST body script, and reading its report.

Scripts in tools/ import it directly (their folder is on sys.path); scripts in a sub-folder put tools/ on
sys.path first (one line), e.g. `sys.path.insert(0, str(Path(__file__).resolve().parents[1]))`.
"""
