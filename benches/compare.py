#!/usr/bin/env python3
"""Portcullis against nginx and HAProxy, side by side, on loopback.

Called by benches/run.sh (which installs the tools and builds the binary); see
benches/README.md. One nginx origin answers a fixed 128-byte body on two ports; nginx,
HAProxy and Portcullis balance across those two ports, each on its own port, with the
same number of workers. wrk runs against each in interleaved rounds (A B C A B C ...);
every run records req/s, p50/p99 latency and the proxy's CPU time (utime + stime of its
whole process tree, from /proc) per 1,000 requests. Then each proxy holds N idle
keep-alive client connections and the growth of its process-tree RSS is divided by N.

Writes benches/results/<UTC timestamp>.json and latest.json, then report.py renders
latest.md (also printed) and latest.svg. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from configs import haproxy_conf, nginx_conf, origin_conf, portcullis_conf
from procfs import cpu_split, rss_kib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROXIES = ("nginx", "haproxy", "portcullis")


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Proc:
    """A server process we started; stopped by its own pid only."""

    def __init__(self, name, argv, tmp):
        self.name = name
        self.err_path = os.path.join(tmp, f"{name}.stderr")
        self.err = open(self.err_path, "w")
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=self.err, stdin=subprocess.DEVNULL
        )
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.err.close()

    def stderr_tail(self):
        try:
            with open(self.err_path) as f:
                return f.read()[-2000:]
        except OSError:
            return ""


def http_get(port, path="/", timeout=2.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def wait_ready(proc, port, attempts=100):
    """Until the proxy relays the origin's 200 with its 128-byte body (bounded)."""
    for _ in range(attempts):
        if not proc.alive():
            raise SystemExit(f"{proc.name} exited:\n{proc.stderr_tail()}")
        try:
            status, body = http_get(port)
            if status == 200 and len(body) == 128:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{proc.name} did not answer 200 on port {port}:\n{proc.stderr_tail()}")


def start_proxies(args, tmp, origins, workers):
    *proxy_ports, admin = free_ports(len(PROXIES) + 1)
    ports = dict(zip(PROXIES, proxy_ports))
    files = {
        "nginx": ("nginx.conf", nginx_conf(tmp, ports["nginx"], origins, workers)),
        "haproxy": ("haproxy.cfg", haproxy_conf(ports["haproxy"], origins, workers)),
        "portcullis": (
            "portcullis.toml",
            portcullis_conf(ports["portcullis"], admin, origins, workers),
        ),
    }
    paths = {}
    for name, (file, text) in files.items():
        paths[name] = os.path.join(tmp, f"w{workers}-{file}")
        with open(paths[name], "w") as f:
            f.write(text)
    argv = {
        "nginx": [args.nginx, "-c", paths["nginx"], "-p", tmp],
        "haproxy": [args.haproxy, "-db", "-f", paths["haproxy"]],
        "portcullis": [args.portcullis, "run", "-c", paths["portcullis"]],
    }
    procs = {name: Proc(f"{name}-w{workers}", argv[name], tmp) for name in PROXIES}
    for name in PROXIES:
        wait_ready(procs[name], ports[name])
    # Health checks must have admitted both origins before any measurement.
    time.sleep(args.settle)
    metrics_on = False
    try:
        status, text = http_get(admin, "/metrics")
        metrics_on = status == 200 and b"portcullis_" in text
    except OSError:
        pass
    return procs, ports, metrics_on


# ---------------------------------------------------------------- wrk

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT[m.group(2)] if m else None


def run_wrk(args, port, duration):
    argv = [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "--latency",
        f"http://127.0.0.1:{port}/",
    ]
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + 30, check=False
    ).stdout
    result = {"raw": out}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return result


def measured_run(args, proc, port):
    user0, sys0 = cpu_split(proc.pid)
    result = run_wrk(args, port, args.duration)
    user1, sys1 = cpu_split(proc.pid)
    per_1k = 1e6 / result["requests"] if result["requests"] else None
    result["cpu_s"] = (user1 - user0) + (sys1 - sys0)
    result["cpu_ms_per_1k"] = result["cpu_s"] * per_1k if per_1k else None
    result["user_ms_per_1k"] = (user1 - user0) * per_1k if per_1k else None
    result["sys_ms_per_1k"] = (sys1 - sys0) * per_1k if per_1k else None
    del result["raw"]
    return result


# ---------------------------------------------------------------- idle connections


def settled_rss(pid, tolerance_kib=64, attempts=20):
    """RSS once two samples half a second apart agree (allocators return memory lazily
    after a load run), or the last sample after `attempts`."""
    last = rss_kib(pid)
    for _ in range(attempts):
        time.sleep(0.5)
        now = rss_kib(pid)
        if abs(now - last) <= tolerance_kib:
            return now
        last = now
    return last


def read_line(pipe, deadline):
    """One line from `pipe`, or "" once `deadline` (time.monotonic) has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
        return ""
    return pipe.readline()


def counts(line, asked):
    parts = line.split()
    if len(parts) == 3:
        return int(parts[1]), int(parts[2])
    return 0, asked


def idle_memory(args, proc, port):
    """KiB of process-tree RSS per idle keep-alive client connection: over all N
    connections, and over the second half only (from N/2 to N), which leaves out what
    the first connections got from memory the allocator kept after the load runs."""
    before = settled_rss(proc.pid)
    client = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "idle_clients.py"), "127.0.0.1", str(port),
         str(args.idle), "--hold", "120", "--halfway"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        half_line = read_line(client.stdout, time.monotonic() + 90)
        half_opened, _ = counts(half_line, args.idle // 2)
        middle = settled_rss(proc.pid)
        client.stdin.write("more\n")
        client.stdin.flush()
        opened, failed = counts(read_line(client.stdout, time.monotonic() + 90), args.idle)
        after = settled_rss(proc.pid)
    finally:
        client.stdin.close()
        try:
            client.wait(timeout=30)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait(timeout=5)
    time.sleep(1.0)  # the proxy closes the connections
    second_half = opened - half_opened
    return {
        "connections": opened,
        "failed": failed,
        "rss_before_kib": before,
        "rss_half_kib": middle,
        "rss_after_kib": after,
        "kib_per_connection": (after - before) / opened if opened else None,
        "kib_per_connection_second_half": (
            (after - middle) / second_half if second_half > 0 else None
        ),
    }


# ---------------------------------------------------------------- the whole run


def tool_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
    except OSError:
        mem_kib = 0
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg()[0],
    }


def git_describe():
    try:
        p = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=10, check=False)
        return p.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, memory):
    """Medians per (workers, proxy), and each one's ratio to the best of its peers."""
    rows = []
    for workers in sorted({r["workers"] for r in runs}):
        for proxy in PROXIES:
            mine = [r for r in runs if r["workers"] == workers and r["proxy"] == proxy]
            mem = memory.get(f"{workers}/{proxy}", {})
            rows.append({
                "workers": workers,
                "proxy": proxy,
                "rounds": len(mine),
                "rps": med([r["rps"] for r in mine]),
                "p50_ms": med([r["p50_ms"] for r in mine]),
                "p99_ms": med([r["p99_ms"] for r in mine]),
                "cpu_ms_per_1k": med([r["cpu_ms_per_1k"] for r in mine]),
                "user_ms_per_1k": med([r["user_ms_per_1k"] for r in mine]),
                "sys_ms_per_1k": med([r["sys_ms_per_1k"] for r in mine]),
                "kib_per_idle_connection": mem.get("kib_per_connection"),
                "kib_per_idle_connection_second_half": mem.get("kib_per_connection_second_half"),
                "errors": sum(r["non_2xx"] + r["socket_errors"] for r in mine),
            })
    higher_better = {"rps"}
    for row in rows:
        peers = [r for r in rows if r["workers"] == row["workers"] and r["proxy"] != row["proxy"]]
        for key in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_1k", "kib_per_idle_connection",
                    "kib_per_idle_connection_second_half"):
            values = [p[key] for p in peers if p[key] is not None]
            if row[key] is None or not values:
                row[f"{key}_vs_best_peer"] = None
                continue
            best = max(values) if key in higher_better else min(values)
            row[f"{key}_vs_best_peer"] = row[key] / best if best > 0 else None
    return rows


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--portcullis", required=True, help="the portcullis binary")
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    p.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    p.add_argument("--rounds", type=int, default=9, help="wrk runs per proxy (>= 1)")
    p.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured seconds per proxy")
    p.add_argument("--connections", type=int, default=64, help="wrk -c")
    p.add_argument("--threads", type=int, default=1, help="wrk -t")
    p.add_argument("--idle", type=int, default=5000, help="idle keep-alive connections")
    p.add_argument("--origin-workers", type=int, default=1)
    p.add_argument("--settle", type=float, default=5.0, help="seconds after start-up")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--label", default="", help="free text stored in the JSON")
    p.add_argument("--portcullis-rev", default="",
                   help="the commit the binary was built from (default: git describe)")
    args = p.parse_args()
    args.rounds = max(1, min(args.rounds, 50))
    args.duration = max(1, min(args.duration, 120))
    return args


def bench_workers(args, tmp, origins, workers, runs, memory, meta):
    log(f"{workers} worker(s): starting nginx, haproxy and portcullis")
    procs, ports, metrics_on = start_proxies(args, tmp, origins, workers)
    meta["portcullis_metrics_endpoint"] = metrics_on
    try:
        for name in PROXIES:
            if args.warmup:
                run_wrk(args, ports[name], args.warmup)
        for round_no in range(1, args.rounds + 1):
            for name in PROXIES:
                result = measured_run(args, procs[name], ports[name])
                result.update(workers=workers, proxy=name, round=round_no)
                runs.append(result)
                log(f"w{workers} round {round_no} {name:10} {result['rps']:>10.0f} req/s "
                    f"p99 {result['p99_ms']} ms  cpu {result['cpu_ms_per_1k']:.1f} ms/1k"
                    + (f"  ERRORS {result['non_2xx']}+{result['socket_errors']}"
                       if result["non_2xx"] or result["socket_errors"] else ""))
                if not procs[name].alive():
                    raise SystemExit(f"{name} died:\n{procs[name].stderr_tail()}")
        for name in PROXIES:
            mem = idle_memory(args, procs[name], ports[name])
            memory[f"{workers}/{name}"] = mem
            log(f"w{workers} idle {name:10} {mem['connections']} conns "
                f"{mem['kib_per_connection'] or 0:.2f} KiB each "
                f"({mem['kib_per_connection_second_half'] or 0:.2f} over the second half)")
    finally:
        for proc in procs.values():
            proc.stop()


def main():
    args = parse_args()
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="portcullis-bench-")
    os.chmod(tmp, 0o755)
    started = datetime.datetime.now(datetime.timezone.utc)
    meta = {
        "started_utc": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {
            "portcullis": args.portcullis_rev or git_describe(),
            "portcullis_binary": tool_version([args.portcullis, "--version"]),
            "nginx": tool_version([args.nginx, "-v"]),
            "haproxy": tool_version([args.haproxy, "-v"]),
            "wrk": tool_version([args.wrk, "-v"]),
        },
        "params": {
            "wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency",
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "workers": worker_counts,
            "idle_connections": args.idle,
            "origin": f"nginx, {args.origin_workers} worker(s), 128-byte body on two ports",
            "body_bytes": 128,
        },
        "label": args.label,
    }
    origin_ports = free_ports(2)
    origin_path = os.path.join(tmp, "origin.conf")
    with open(origin_path, "w") as f:
        f.write(origin_conf(tmp, origin_ports, args.origin_workers))
    origin = Proc("origin", [args.nginx, "-c", origin_path, "-p", tmp], tmp)
    runs, memory = [], {}
    try:
        wait_ready(origin, origin_ports[0])
        wait_ready(origin, origin_ports[1])
        for workers in worker_counts:
            bench_workers(args, tmp, origin_ports, workers, runs, memory, meta)
    finally:
        origin.stop()
    meta["finished_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    document = {"meta": meta, "summary": summarize(runs, memory), "runs": runs,
                "idle_memory": memory}
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for name in (f"{stamp}.json", "latest.json"):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
    log(f"wrote {os.path.join(args.out, stamp + '.json')} and latest.json")
    shutil.rmtree(tmp, ignore_errors=True)
    report = os.path.join(HERE, "report.py")
    subprocess.run([sys.executable, report, os.path.join(args.out, "latest.json"),
                    "--out", args.out], check=True, timeout=60)


if __name__ == "__main__":
    main()
