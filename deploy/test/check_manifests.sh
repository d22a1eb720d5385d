#!/usr/bin/env bash
# Static checks of the deployment files (no cluster, no container engine needed):
#   - every kustomization under deploy/kubernetes renders with `kubectl kustomize` and the result passes
#     `kubernetes-validate --strict` (schemas bundled, offline) for the oldest Kubernetes the manifests
#     target and for the newest the tool knows;
#   - the KServe manifests parse, and their core fields are checked (the KServe CRDs are not in
#     kubernetes-validate's schemas); the ServingRuntime's container, which is a core Container, is validated
#     against the Kubernetes schema inside a Pod; the ServiceMonitor (a Prometheus-operator CRD, no schema either)
#     is checked against the Service it selects, and the monitoring HPA's custom metric against the
#     prometheus-adapter rule that serves it;
#   - kubeconform --strict on every rendered kustomization and KServe file, when kubeconform is on PATH (it is not
#     packaged for Debian or PyPI; kubernetes-validate is the check that always runs);
#   - hadolint lints the Dockerfile and the Swift stand-in's Containerfile (ignores only inline, justified);
#   - shellcheck checks the deploy/test scripts.
# kubernetes-validate and hadolint come from PyPI into a virtualenv outside the repository.
#
#   deploy/test/check_manifests.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
started=$(now_ms)
OLDEST_KUBERNETES="${OLDEST_KUBERNETES:-1.29.0}"

command -v kubectl >/dev/null || die "kubectl is not on PATH (it renders the kustomizations)"
venv_bin="$(ensure_deploy_venv)"
# The newest Kubernetes whose schemas the installed kubernetes-validate bundles (its default).
newest_kubernetes="$("$venv_bin/kubernetes-validate" --help | sed -n 's/.*Defaults to \([0-9.]*[0-9]\).*/\1/p')"
newest_kubernetes="${newest_kubernetes:-$OLDEST_KUBERNETES}"
status=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for kustomization in $(find deploy/kubernetes -name kustomization.yaml | sort); do
  dir="$(dirname "$kustomization")"
  if ! kubectl kustomize "$dir" >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err"; then
    cat "$tmp/kustomize.err" >&2
    log "FAIL: kubectl kustomize $dir"; status=1; continue
  fi
  kinds="$(grep -E '^kind: ' "$tmp/rendered.yaml" | sed 's/kind: //' | sort | tr '\n' ' ')"
  for version in "$OLDEST_KUBERNETES" "$newest_kubernetes"; do
    if "$venv_bin/kubernetes-validate" --strict --kubernetes-version "$version" "$tmp/rendered.yaml" \
        >"$tmp/validate.out" 2>&1; then
      log "ok: kubectl kustomize $dir | kubernetes-validate --strict -k $version: $kinds"
    else
      cat "$tmp/validate.out" >&2
      log "FAIL: kubernetes-validate --strict -k $version on kubectl kustomize $dir"; status=1
    fi
  done
done

# KServe: custom resources, so their structure is checked here rather than against a schema; the runtime's
# container is written into a Pod ($tmp/kserve-pod.yaml) for kubernetes-validate below.
if ! "$venv_bin/python" - "$tmp/kserve-pod.yaml" deploy/kserve/*.yaml <<'EOF'
import sys, yaml
expected = {"ServingRuntime": "serving.kserve.io/v1alpha1", "InferenceService": "serving.kserve.io/v1beta1"}
seen, problems = {}, []
pod_path = sys.argv[1]
for path in sys.argv[2:]:
    for doc in yaml.safe_load_all(open(path)):
        if not doc:
            continue
        kind = doc.get("kind")
        seen[kind] = doc
        if expected.get(kind) != doc.get("apiVersion"):
            problems.append(f"{path}: {kind} has apiVersion {doc.get('apiVersion')}, expected {expected.get(kind)}")
runtime, service = seen.get("ServingRuntime"), seen.get("InferenceService")
if not runtime or not service:
    problems.append("deploy/kserve needs a ServingRuntime and an InferenceService")
else:
    formats = {f["name"] for f in runtime["spec"]["supportedModelFormats"]}
    model = service["spec"]["predictor"]["model"]
    if model["modelFormat"]["name"] not in formats:
        problems.append(f"the InferenceService's format {model['modelFormat']['name']} is not served by the runtime ({formats})")
    if model.get("runtime") not in (None, runtime["metadata"]["name"]):
        problems.append(f"the InferenceService names runtime {model.get('runtime')}, the runtime is {runtime['metadata']['name']}")
    container = runtime["spec"]["containers"][0]
    if container.get("name") != "kserve-container":
        problems.append("KServe expects the runtime's container to be named kserve-container")
    if not {"v2", "v1"} <= set(runtime["spec"].get("protocolVersions", [])):
        problems.append("the ServingRuntime should declare protocolVersions v2 and v1, which the server speaks")
    if "--model-name={{.Name}}" not in container.get("args", []):
        problems.append("the ServingRuntime should pass --model-name={{.Name}}: KServe's V1/V2 paths carry the InferenceService's name")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if probe not in container:
            problems.append(f"the ServingRuntime's container has no {probe}")
    security = container.get("securityContext", {})
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("the ServingRuntime's container needs seccompProfile RuntimeDefault")
    if not security.get("runAsNonRoot") or security.get("allowPrivilegeEscalation") is not False:
        problems.append("the ServingRuntime's container must run as non-root without privilege escalation")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kserve-container-check"},
           "spec": {"containers": [container]}}
    yaml.safe_dump(pod, open(pod_path, "w"))
for problem in problems:
    print("FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then
  log "FAIL: deploy/kserve"; status=1
else
  log "ok: deploy/kserve: ServingRuntime + InferenceService are consistent"
  for version in "$OLDEST_KUBERNETES" "$newest_kubernetes"; do
    if "$venv_bin/kubernetes-validate" --strict --kubernetes-version "$version" "$tmp/kserve-pod.yaml" \
        >"$tmp/validate.out" 2>&1; then
      log "ok: the ServingRuntime's container in a Pod | kubernetes-validate --strict -k $version"
    else
      cat "$tmp/validate.out" >&2
      log "FAIL: kubernetes-validate --strict -k $version on the ServingRuntime's container"; status=1
    fi
  done
fi

# The ServiceMonitor selects the Service and its port; the HPA's custom metric is the one the adapter rule serves.
kubectl kustomize deploy/kubernetes/monitoring >"$tmp/monitoring.yaml"
if "$venv_bin/python" - "$tmp/monitoring.yaml" deploy/kubernetes/monitoring/prometheus-adapter-values.yaml <<'EOF'
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
rules = yaml.safe_load(open(sys.argv[2]))["rules"]["custom"]
problems = []
monitor, service, hpa = docs.get("ServiceMonitor"), docs.get("Service"), docs.get("HorizontalPodAutoscaler")
if not (monitor and service and hpa):
    problems.append("deploy/kubernetes/monitoring must render a ServiceMonitor, a Service and an HPA")
else:
    if monitor.get("apiVersion") != "monitoring.coreos.com/v1":
        problems.append(f"ServiceMonitor apiVersion {monitor.get('apiVersion')}")
    wanted = monitor["spec"]["selector"]["matchLabels"]
    if any(service["metadata"].get("labels", {}).get(k) != v for k, v in wanted.items()):
        problems.append(f"the ServiceMonitor selects {wanted}, the Service is labelled {service['metadata'].get('labels')}")
    ports = {p.get("name") for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        if endpoint.get("port") not in ports or endpoint.get("path") != "/metrics":
            problems.append(f"ServiceMonitor endpoint {endpoint} is not the Service's port {ports} at /metrics")
    served = {r["name"]["as"] for r in rules}
    kinds = {m["type"] for m in hpa["spec"]["metrics"]}
    if kinds != {"Resource", "Pods"}:
        problems.append(f"the monitoring HPA should scale on CPU and a Pods metric, it has {kinds}")
    for metric in hpa["spec"]["metrics"]:
        if metric["type"] == "Pods" and metric["pods"]["metric"]["name"] not in served:
            problems.append(f"the HPA's metric {metric['pods']['metric']['name']} is not served by the adapter rules ({served})")
    for rule in rules:
        if "signbert_queue_wait_seconds" not in rule["seriesQuery"] or "<<.LabelMatchers>>" not in rule["metricsQuery"]:
            problems.append(f"adapter rule {rule['name']['as']}: series or query does not select signbert's histogram per pod")
for problem in problems:
    print("FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then
  log "ok: deploy/kubernetes/monitoring: ServiceMonitor -> Service port http /metrics; HPA metric served by the adapter rule"
else
  log "FAIL: deploy/kubernetes/monitoring"; status=1
fi

if command -v kubeconform >/dev/null; then
  for kustomization in $(find deploy/kubernetes -name kustomization.yaml | sort); do
    if kubectl kustomize "$(dirname "$kustomization")" | kubeconform -strict -summary -ignore-missing-schemas \
        -kubernetes-version "$OLDEST_KUBERNETES" >"$tmp/kubeconform.out" 2>&1; then
      log "ok: kubeconform $(dirname "$kustomization")"
    else
      cat "$tmp/kubeconform.out" >&2
      log "FAIL: kubeconform $(dirname "$kustomization")"; status=1
    fi
  done
  if kubeconform -strict -summary -ignore-missing-schemas deploy/kserve/*.yaml >"$tmp/kubeconform.out" 2>&1; then
    log "ok: kubeconform deploy/kserve"
  else
    cat "$tmp/kubeconform.out" >&2
    log "FAIL: kubeconform deploy/kserve"; status=1
  fi
else
  log "note: kubeconform is not on PATH; kubernetes-validate's checks above are the schema checks"
fi

for file in Dockerfile deploy/test/swift-standin.Containerfile; do
  if "$venv_bin/hadolint" --failure-threshold info "$file" >"$tmp/hadolint.out" 2>&1; then
    log "ok: hadolint $file"
  else
    cat "$tmp/hadolint.out" >&2
    log "FAIL: hadolint $file"; status=1
  fi
done

ensure_apt_packages shellcheck
if shellcheck -x deploy/test/*.sh >"$tmp/shellcheck.out" 2>&1; then
  log "ok: shellcheck deploy/test/*.sh"
else
  cat "$tmp/shellcheck.out" >&2
  log "FAIL: shellcheck deploy/test/*.sh"; status=1
fi

log "manifest checks: $([ "$status" -eq 0 ] && echo passed || echo FAILED) in $(( ($(now_ms) - started) / 1000 )) s"
exit "$status"
