#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs
# every test of the workspace. Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the tests drive for real. Installed only when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# The deployment artifacts (systemd unit, container, Kubernetes, Grafana, alert rules)
# are checked with their own tools and against the real binary.
cargo build --locked -p portcullis
PORTCULLIS_BIN="$PWD/target/debug/portcullis" deploy/test.sh --install

# The benchmark report's own checks (its goal verdict).
python3 -m unittest discover -s benches -p 'test_*.py'

# Every test of the workspace; the last line sums up all of cargo's result lines.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
