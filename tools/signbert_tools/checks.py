"""The PASS/FAIL lines of the test scripts and their tally (`N passed, M failed` at the end, exit 1 on a failure)."""
import sys

passed = 0
failed = 0


def check(name, ok, detail=""):
    """Prints one PASS or FAIL line (a failure's detail after a colon) and counts it; returns `ok`."""
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def finish(suffix=""):
    """Prints the tally and exits non-zero when anything failed."""
    print(f"{passed} passed, {failed} failed" + (f" ({suffix})" if suffix else ""))
    sys.exit(1 if failed else 0)
