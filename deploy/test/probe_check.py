#!/usr/bin/env python3
"""Reads the Kubernetes Deployment's probes and lifecycle and exercises them against a running signbert
container (deploy/test/container_test.sh runs it against the image under podman):

  - each probe is an httpGet on the endpoint it should be on (startup /health or /ready, readiness
    /ready, liveness /health), on a declared container port; it is sent to that port (through the
    published host port), must answer 200 within the probe's timeoutSeconds, successThreshold times in
    a row at its periodSeconds (capped at 1 s, to keep the check short);
  - the measured cold start (container start to /ready 200) fits the startup probe's budget
    (initialDelaySeconds + periodSeconds x failureThreshold), with room to spare;
  - the liveness and readiness probes keep answering within their timeouts while the server computes
    large batches on its one CPU (a probe that times out under load restarts healthy pods);
  - terminationGracePeriodSeconds exceeds the preStop pause plus SIGNBERT_DRAIN_TIMEOUT plus a margin,
    and the preStop command runs in the container (with its read-only root and non-root user);
  - the pod's user and limits match the image's user and what the container test ran with.

    probe_check.py --port-map 8080=43123 [--manifests deploy/kubernetes] [--cold-start-ms 420]
                   [--exec "podman exec NAME"] [--image-user 10001:10001] [--ran-with-cpus 1]
                   [--ran-with-memory 256m] [--load-request examples/wave.json]

Needs PyYAML (the deploy virtualenv has it). Exit 1 on any failure.
"""
import argparse
import concurrent.futures
import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

EXPECTED_PATHS = {"startupProbe": {"/health", "/ready"}, "readinessProbe": {"/ready"}, "livenessProbe": {"/health"}}
DRAIN_TIMEOUT_DEFAULT = 30  # the server's --drain-timeout default
failures = []


def fail(message):
    failures.append(message)
    print(f"  FAIL {message}")


def ok(message):
    print(f"  ok   {message}")


def render(manifests):
    if manifests.endswith((".yaml", ".yml")):
        with open(manifests) as handle:
            return list(yaml.safe_load_all(handle))
    result = subprocess.run(["kubectl", "kustomize", manifests], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: kubectl kustomize {manifests}: {result.stderr.strip()}")
    return list(yaml.safe_load_all(result.stdout))


def get(url, timeout):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        return None, time.monotonic() - started, str(error)
    return status, time.monotonic() - started, None


def quantity_cpu(text):
    text = str(text)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def quantity_bytes(text):
    text = str(text)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9,
             "b": 1, "m": 2**20, "g": 2**30}  # the last three: podman's --memory spelling
    for suffix, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifests", default="deploy/kubernetes", help="a kustomization folder or a rendered YAML file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-map", action="append", default=[], metavar="CONTAINER=HOST",
                        help="where a container port is published on the host (repeatable)")
    parser.add_argument("--cold-start-ms", type=float, help="measured container start to /ready 200")
    parser.add_argument("--exec", dest="exec_prefix", help='runs a command in the container, e.g. "podman exec NAME"')
    parser.add_argument("--image-user", help="the image's USER (uid:gid)")
    parser.add_argument("--ran-with-cpus", help="the container test's --cpus")
    parser.add_argument("--ran-with-memory", help="the container test's --memory")
    parser.add_argument("--load-request", help="a /predict body to load the server with while probing")
    args = parser.parse_args()

    ports = dict(item.split("=", 1) for item in args.port_map)
    documents = [d for d in render(args.manifests) if d]
    deployments = [d for d in documents if d.get("kind") == "Deployment"]
    if len(deployments) != 1:
        raise SystemExit(f"FAIL: expected one Deployment in {args.manifests}, found {len(deployments)}")
    deployment = deployments[0]
    pod = deployment["spec"]["template"]["spec"]
    container = next((c for c in pod["containers"] if c["name"] == "signbert"), pod["containers"][0])
    named_ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    declared_ports = {p["containerPort"] for p in container.get("ports", [])}
    print(f"probe check: Deployment {deployment['metadata']['name']}, container {container['name']}")

    def probe_url(name, probe):
        action = probe.get("httpGet")
        if action is None:
            fail(f"{name} is not an httpGet probe: {sorted(probe)}")
            return None
        port = action.get("port")
        port = named_ports.get(port, port) if isinstance(port, str) else port
        if not isinstance(port, int) or port not in declared_ports:
            fail(f"{name} port {action.get('port')!r} is not one of the container's ports {sorted(declared_ports)}")
            return None
        path = action.get("path", "/")
        if path not in EXPECTED_PATHS[name]:
            fail(f"{name} is on {path}; it belongs on {' or '.join(sorted(EXPECTED_PATHS[name]))}")
        host_port = ports.get(str(port))
        if host_port is None:
            fail(f"{name}: container port {port} is not published (--port-map {port}=HOSTPORT)")
            return None
        scheme = action.get("scheme", "HTTP").lower()
        return f"{scheme}://{args.host}:{host_port}{path}"

    probes = {}
    for name in EXPECTED_PATHS:
        probe = container.get(name)
        if probe is None:
            fail(f"the container has no {name}")
            continue
        url = probe_url(name, probe)
        if url:
            probes[name] = (probe, url)

    # Each probe as the kubelet sends it: its URL, its timeout, successThreshold times in a row.
    for name, (probe, url) in probes.items():
        timeout = probe.get("timeoutSeconds", 1)
        period = min(probe.get("periodSeconds", 10), 1)
        needed = max(probe.get("successThreshold", 1), 2)
        latencies = []
        for attempt in range(needed):
            status, seconds, error = get(url, timeout)
            if status != 200:
                fail(f"{name} GET {url} answered {status or error} (attempt {attempt + 1})")
                break
            latencies.append(seconds)
            if attempt + 1 < needed:
                time.sleep(period)
        else:
            ok(f"{name} GET {url} -> 200 "
               f"x{needed}, slowest {max(latencies) * 1000:.1f} ms (timeout {timeout} s)")

    # The cold start must fit the startup probe's budget with room to spare (a slower node, a bigger model).
    if "startupProbe" in probes and args.cold_start_ms is not None:
        probe = probes["startupProbe"][0]
        budget = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
        if args.cold_start_ms / 1000 * 10 > budget:
            fail(f"startup budget {budget} s is less than 10x the measured cold start {args.cold_start_ms:.0f} ms")
        else:
            ok(f"startup budget {budget} s (initialDelay + period x failureThreshold) vs cold start "
               f"{args.cold_start_ms:.0f} ms")
    if "readinessProbe" in probes and "livenessProbe" in probes:
        readiness, liveness = probes["readinessProbe"][0], probes["livenessProbe"][0]
        live_window = liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3)
        ready_window = readiness.get("periodSeconds", 10) * readiness.get("failureThreshold", 3)
        if live_window <= ready_window:
            fail(f"liveness gives up after {live_window} s, no later than readiness ({ready_window} s): "
                 "a slow pod would be restarted before it is taken out of the Service")
        else:
            ok(f"liveness gives up after {live_window} s, readiness after {ready_window} s")

    # Probes under load: the compute thread busy with big batches on one CPU.
    if args.load_request and {"livenessProbe", "readinessProbe"} <= probes.keys():
        with open(args.load_request) as handle:
            body = json.load(handle)
        clip = body["inputs"][0]
        big = json.dumps({"inputs": [clip] * 32, "top_k": 1}).encode()
        base = probes["livenessProbe"][1].split("/", 3)
        predict_url = f"{base[0]}//{base[2]}/predict"

        def predict():
            request = urllib.request.Request(predict_url, data=big, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code
            except OSError as error:
                return str(error)

        worst = {"livenessProbe": 0.0, "readinessProbe": 0.0}
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            started = time.monotonic()
            futures = [pool.submit(predict) for _ in range(4)]
            while not all(f.done() for f in futures) and time.monotonic() - started < 60:
                for name in worst:
                    probe, url = probes[name]
                    status, seconds, error = get(url, probe.get("timeoutSeconds", 1))
                    if status != 200:
                        fail(f"{name} under load answered {status or error}")
                    worst[name] = max(worst[name], seconds)
                time.sleep(0.1)
            statuses = [f.result() for f in futures]
            elapsed = time.monotonic() - started
        if any(status != 200 for status in statuses):
            fail(f"load requests answered {statuses}")
        ok(f"under load (4 x 32 clips, {elapsed:.1f} s): liveness slowest {worst['livenessProbe'] * 1000:.0f} ms, "
           f"readiness slowest {worst['readinessProbe'] * 1000:.0f} ms")

    # Termination: preStop pause + drain must end before the kubelet's SIGKILL.
    grace = pod.get("terminationGracePeriodSeconds", 30)
    environment = {e["name"]: e.get("value") for e in container.get("env", [])}
    drain = float(environment.get("SIGNBERT_DRAIN_TIMEOUT") or DRAIN_TIMEOUT_DEFAULT)
    pre_stop = container.get("lifecycle", {}).get("preStop")
    pause = 0.0
    if pre_stop is None:
        fail("no preStop pause: endpoints may still route to the pod after it stops accepting")
    elif "sleep" in pre_stop:
        pause = float(pre_stop["sleep"]["seconds"])
    elif "exec" in pre_stop:
        command = pre_stop["exec"]["command"]
        if command[0] == "sleep":
            pause = float(command[1])
        if args.exec_prefix:
            started = time.monotonic()
            result = subprocess.run(shlex.split(args.exec_prefix) + command, capture_output=True, text=True, timeout=grace)
            took = time.monotonic() - started
            if result.returncode != 0:
                fail(f"preStop {command} failed in the container: exit {result.returncode} {result.stderr.strip()}")
            else:
                ok(f"preStop {command} ran in the container in {took:.1f} s")
    if grace < pause + drain + 5:
        fail(f"terminationGracePeriodSeconds {grace} < preStop {pause:g} s + drain timeout {drain:g} s + 5 s")
    else:
        ok(f"terminationGracePeriodSeconds {grace} >= preStop {pause:g} s + drain timeout {drain:g} s + 5 s")

    # The pod as the image and the container test have it.
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    if not security.get("runAsNonRoot"):
        fail("runAsNonRoot is not set")
    if args.image_user:
        user = args.image_user.split(":")[0]
        if str(security.get("runAsUser")) != user:
            fail(f"runAsUser {security.get('runAsUser')} is not the image's USER {args.image_user}")
        else:
            ok(f"runAsUser {security.get('runAsUser')} = the image's USER {args.image_user}")
    for key, wanted in (("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False)):
        if security.get(key) is not wanted:
            fail(f"securityContext.{key} is not {wanted}")
    if "ALL" not in security.get("capabilities", {}).get("drop", []):
        fail("capabilities are not dropped (drop: [ALL])")
    limits = container.get("resources", {}).get("limits", {})
    if args.ran_with_cpus and quantity_cpu(limits.get("cpu", 0)) != float(args.ran_with_cpus):
        fail(f"cpu limit {limits.get('cpu')} is not what the container test ran with (--cpus {args.ran_with_cpus})")
    if args.ran_with_memory and quantity_bytes(limits.get("memory", 0)) != quantity_bytes(args.ran_with_memory):
        fail(f"memory limit {limits.get('memory')} is not what the container test ran with (--memory {args.ran_with_memory})")
    if args.ran_with_cpus and args.ran_with_memory:
        ok(f"limits cpu {limits.get('cpu')}, memory {limits.get('memory')} = the container test's "
           f"--cpus {args.ran_with_cpus} --memory {args.ran_with_memory}")

    if failures:
        print(f"probe check: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("probe check: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
