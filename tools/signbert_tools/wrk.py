"""wrk against one URL: a script that POSTs one body, the run, and its report read into numbers."""
import json
import math
import re
import shlex
import subprocess

# Posts one body read from a file; done() prints exact counts and percentiles (`WRK_JSON {...}`), which
# `parse` prefers to wrk's rounded text.
POST_SCRIPT = r"""-- written by tools/signbert_tools/wrk.py; posts one body on every request
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(content_type)s"
local f = assert(io.open("%(body_path)s", "rb"))
wrk.body = f:read("*a")
f:close()

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%%d,\"duration_us\":%%d,\"bytes\":%%d," ..
    "\"connect\":%%d,\"read\":%%d,\"write\":%%d,\"status\":%%d,\"timeout\":%%d," ..
    "\"lat_min_us\":%%d,\"lat_mean_us\":%%.1f,\"lat_max_us\":%%d," ..
    "\"p50_us\":%%d,\"p75_us\":%%d,\"p90_us\":%%d,\"p99_us\":%%d,\"p999_us\":%%d}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""


class WrkError(RuntimeError):
    """wrk exited non-zero (the message holds its output)."""


def post_script(script_path, body_path, content_type="application/json"):
    """Writes the POST script for the body in `body_path`; returns `script_path` as a string."""
    escaped = str(body_path).replace("\\", "\\\\").replace('"', '\\"')
    with open(script_path, "w") as f:
        f.write(POST_SCRIPT % {"body_path": escaped, "content_type": content_type})
    return str(script_path)


def run(url, script, connections, seconds, timeout_s=None, threads=None, latency=True, log=None):
    """`wrk -t T -c C -d Ds [--timeout Ts] [--latency] -s SCRIPT URL`; `parse`'s numbers plus `command`,
    `stdout` and `output` (stdout and stderr). T defaults to min(C, 2); D is rounded up to whole seconds."""
    threads = threads or max(1, min(connections, 2))
    seconds = max(1, int(math.ceil(seconds)))
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    if timeout_s is not None:
        command += ["--timeout", f"{max(1, int(math.ceil(timeout_s)))}s"]
    if latency:
        command.append("--latency")
    command += ["-s", str(script), url]
    if log:
        log("  " + shlex.join(command))
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + (timeout_s or 2) + 120)
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish: {error}") from error
    if result.returncode != 0:
        raise WrkError(f"wrk failed ({result.returncode}): {result.stderr.strip()}\n{result.stdout}")
    parsed = parse(result.stdout)
    parsed.update(command=command, stdout=result.stdout, output=result.stdout + result.stderr)
    return parsed


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value, unit):
    return float(value) * _UNITS[unit]


def parse(text):
    """wrk's report as numbers: requests, seconds, p50/p75/p90/p99(_ms), latency_*_ms, non_2xx, socket_errors
    (connect/read/write/timeout), ok_requests_per_s; the exact `WRK_JSON` line of `POST_SCRIPT` wins."""
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["requests_per_s_reported"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", text)
    if m:
        out["requests"] = int(m.group(1))
        out["seconds"] = _ms(m.group(2), m.group(3)) / 1e3
    m = re.search(r"Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)", text)
    if m:
        out["latency_mean_ms"] = _ms(m.group(1), m.group(2))
        out["latency_stdev_ms"] = _ms(m.group(3), m.group(4))
        out["latency_max_ms"] = _ms(m.group(5), m.group(6))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m|h)", text, re.M)
        if m:
            out[f"p{pct}_ms"] = _ms(m.group(1), m.group(2))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = ({"connect": int(m.group(1)), "read": int(m.group(2)), "write": int(m.group(3)),
                             "timeout": int(m.group(4))} if m else {"connect": 0, "read": 0, "write": 0, "timeout": 0})
    m = re.search(r"^(?:WRK_JSON|LOADBENCH_JSON) (\{.*\})\s*$", text, re.M)
    if m:
        j = json.loads(m.group(1))
        out["requests"] = j["requests"]
        out["seconds"] = j["duration_us"] / 1e6
        for pct, key in (("50", "p50_us"), ("75", "p75_us"), ("90", "p90_us"), ("99", "p99_us"), ("99.9", "p999_us")):
            out[f"p{pct}_ms"] = j[key] / 1e3
        out["latency_mean_ms"] = j["lat_mean_us"] / 1e3
        out["latency_max_ms"] = j["lat_max_us"] / 1e3
        out["latency_min_ms"] = j["lat_min_us"] / 1e3
        out["non_2xx"] = j["status"]
        out["socket_errors"] = {k: j[k] for k in ("connect", "read", "write", "timeout")}
    if "requests" in out and out.get("seconds"):
        out["ok_requests_per_s"] = (out["requests"] - out["non_2xx"]) / out["seconds"]
    return out


def errors(parsed):
    """Non-2xx answers plus socket errors of every kind."""
    return parsed["non_2xx"] + sum(parsed["socket_errors"].values())
