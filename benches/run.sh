#!/usr/bin/env bash
# Portcullis against nginx and HAProxy with wrk, side by side on loopback: one command.
#
# Usage (as root, from anywhere):
#   benches/run.sh                  # the full comparison: 1 and 2 workers, 9 rounds of 6 s
#   benches/run.sh --rounds 1 --duration 2 --idle 500 --warmup 0   # a quick smoke run
#   PORTCULLIS_BIN=/path/to/portcullis benches/run.sh   # skip the build, use this binary
#
# What it does:
#   1. installs wrk, nginx and haproxy with apt-get when missing (apt-get update first);
#   2. builds Portcullis in release (cargo build --release -p portcullis);
#   3. raises the open-files limit and runs benches/compare.py, which starts one nginx
#      origin (a 128-byte body on two loopback ports) and nginx, HAProxy and Portcullis
#      in front of it with the same worker count, runs wrk against each in interleaved
#      rounds, measures CPU per request and RSS per idle connection from /proc, and
#      writes benches/results/<timestamp>.json, latest.json, latest.md and latest.svg.
#
# Every other argument goes to compare.py (see `python3 benches/compare.py --help`):
#   --workers 1,2  --rounds 9  --duration 6  --warmup 3  --connections 64  --threads 1
#   --idle 5000  --origin-workers 1  --label TEXT
#
# The figures are only as quiet as the machine: stop other builds and tests first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "benches/run.sh: missing ${need[*]}; run as root to install them" >&2
        exit 1
    fi
    echo "benches/run.sh: installing ${need[*]}" >&2
    apt-get update -qq
    # policy-rc.d (or no init) may refuse to start the packaged services: that is fine,
    # the benchmark runs its own instances with its own configs.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

if [ -n "${PORTCULLIS_BIN:-}" ]; then
    bin="$PORTCULLIS_BIN"
else
    echo "benches/run.sh: building portcullis (release)" >&2
    (cd "$root" && cargo build --release -q -p portcullis)
    bin="${CARGO_TARGET_DIR:-$root/target}/release/portcullis"
fi
[ -x "$bin" ] || { echo "benches/run.sh: no binary at $bin" >&2; exit 1; }

# 5,000 idle clients plus upstream connections, per proxy: raise the fd limit as far
# as the hard limit allows (and the hard limit too, when root may).
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
    echo "benches/run.sh: open-files limit $(ulimit -n) is too low for the idle test" >&2
    exit 1
fi

exec python3 "$here/compare.py" --portcullis "$bin" "$@"
