#!/usr/bin/env python3
"""Renders a comparison JSON (from compare.py) as a Markdown table and an SVG chart.

Usage: report.py RESULTS.json [--out DIR]
Writes DIR/latest.md and DIR/latest.svg (DIR defaults to the JSON's folder) and prints
the Markdown. Standard library only.
"""

import argparse
import json
import os
from xml.sax.saxutils import escape

COLORS = {"nginx": "#2e7d32", "haproxy": "#1565c0", "portcullis": "#c62828"}
PANELS = [
    ("rps", "Requests per second (higher is better)", "{:,.0f}"),
    ("cpu_ms_per_1k", "Proxy CPU ms per 1,000 requests (lower is better)", "{:.1f}"),
    ("p99_ms", "p99 latency, ms (lower is better)", "{:.2f}"),
    ("kib_per_idle_connection", "RSS KiB per idle keep-alive connection, all N (lower is better)",
     "{:.1f}"),
]

# Portcullis's performance goals: (summary key, what it measures, bound, unit, higher is
# better). Ratios are to the best peer; the idle memory bound is absolute.
GOALS = [
    ("rps_vs_best_peer", "req/s", 1.0, "×", True),
    ("cpu_ms_per_1k_vs_best_peer", "CPU per request", 1.0, "×", False),
    ("p99_ms_vs_best_peer", "p99", 1.25, "×", False),
    ("kib_per_idle_connection", "KiB per idle connection", 4.0, "", False),
]


def fmt(value, pattern):
    return "n/a" if value is None else pattern.format(value)


def ratio(value):
    return "n/a" if value is None else f"{value:.2f}×"


def cpu_cell(row):
    """Total CPU per 1k requests, with its user and system parts when recorded."""
    total = fmt(row["cpu_ms_per_1k"], "{:.1f}")
    user, system = row.get("user_ms_per_1k"), row.get("sys_ms_per_1k")
    if user is None or system is None:
        return total
    return f"{total} ({user:.1f} u + {system:.1f} s)"


def memory_cell(row):
    """KiB per idle connection over all N, and over the second N/2 when recorded."""
    total = fmt(row["kib_per_idle_connection"], "{:.1f}")
    half = row.get("kib_per_idle_connection_second_half")
    return total if half is None else f"{total} / {half:.1f}"


def memory_ratio(row):
    total = ratio(row["kib_per_idle_connection_vs_best_peer"])
    if row.get("kib_per_idle_connection_second_half") is None:
        return total
    return f"{total} / {ratio(row.get('kib_per_idle_connection_second_half_vs_best_peer'))}"


def markdown(doc):
    meta = doc["meta"]
    m = meta["machine"]
    p = meta["params"]
    lines = [
        f"Run {meta['started_utc']} on {m['cpu']} ({m['cpus']} CPUs, {m['memory_gib']} GiB, "
        f"Linux {m['kernel']}); Portcullis `{meta['versions']['portcullis']}`, "
        f"{meta['versions']['nginx']}, {meta['versions']['haproxy'].split(' - ')[0]}.",
        f"`{p['wrk']}` against each proxy, {p['rounds']} interleaved rounds, medians; "
        f"origin: {p['origin']}; idle memory with {p['idle_connections']:,} keep-alive "
        "connections (all: RSS growth / N; 2nd half: growth from N/2 to N / (N/2), which "
        "leaves out memory an allocator kept from the load runs and hands to the first "
        "connections). × best peer = ratio to the better of the other two proxies "
        "(req/s: higher is better; the rest: lower is better). Portcullis metrics "
        f"endpoint answering: {'yes' if meta.get('portcullis_metrics_endpoint') else 'no'}.",
        "",
        "| workers | proxy | req/s | × best peer | p50 ms | p99 ms | × best peer "
        "| CPU ms / 1k req (user + sys) | × best peer | KiB / idle conn (all / 2nd half) "
        "| × best peer |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["summary"]:
        errors = f" ({r['errors']} errors)" if r.get("errors") else ""
        lines.append(
            f"| {r['workers']} | {r['proxy']}{errors} | {fmt(r['rps'], '{:,.0f}')} | "
            f"{ratio(r['rps_vs_best_peer'])} | {fmt(r['p50_ms'], '{:.2f}')} | "
            f"{fmt(r['p99_ms'], '{:.2f}')} | {ratio(r['p99_ms_vs_best_peer'])} | "
            f"{cpu_cell(r)} | {ratio(r['cpu_ms_per_1k_vs_best_peer'])} | "
            f"{memory_cell(r)} | "
            f"{memory_ratio(r)} |"
        )
    lines.append("")
    lines.extend(f"- {line}" for line in goal_lines(doc["summary"]))
    return "\n".join(lines) + "\n"


def goal_lines(rows):
    """Per worker count, whether Portcullis met every goal, each value beside its bound
    with three decimals: a ratio printed as 1.00× may be just below 1."""
    out = []
    for row in (r for r in rows if r["proxy"] == "portcullis"):
        checks = []
        for key, name, bound, unit, higher in GOALS:
            value = row.get(key)
            met = value is not None and (value >= bound if higher else value <= bound)
            shown = "n/a" if value is None else f"{value:.3f}{unit}"
            checks.append((met, f"{name} {shown} ({'≥' if higher else '≤'} {bound}{unit})"))
        missed = [text for met, text in checks if not met]
        verdict = "every goal met" if not missed else f"missed: {'; '.join(missed)}"
        listed = ", ".join(text for _, text in checks)
        out.append(f"Goals at {row['workers']} worker(s): {verdict} — {listed}.")
    return out


def svg(doc):
    rows = doc["summary"]
    workers = sorted({r["workers"] for r in rows})
    proxies = [p for p in COLORS if any(r["proxy"] == p for r in rows)]
    panel_w, panel_h, pad = 440, 240, 40
    width = 2 * panel_w + 3 * pad
    height = 2 * panel_h + 3 * pad + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{pad}" y="24" font-size="15" font-weight="bold">'
        f"{escape('Portcullis vs nginx vs HAProxy — ' + doc['meta']['started_utc'])}</text>",
    ]
    for i, proxy in enumerate(proxies):
        x = width - pad - (len(proxies) - i) * 110
        out.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{COLORS[proxy]}"/>')
        out.append(f'<text x="{x + 16}" y="23">{proxy}</text>')
    for index, (key, title, pattern) in enumerate(PANELS):
        ox = pad + (index % 2) * (panel_w + pad)
        oy = 40 + pad + (index // 2) * (panel_h + pad)
        out.extend(panel(rows, workers, proxies, key, title, pattern, ox, oy, panel_w, panel_h))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def panel(rows, workers, proxies, key, title, pattern, ox, oy, w, h):
    values = [r[key] for r in rows if r[key] is not None]
    top = max(values) * 1.15 if values else 1.0
    plot_top, plot_h = oy + 16, h - 40
    base = plot_top + plot_h
    out = [
        f'<text x="{ox}" y="{oy}" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{ox}" y1="{base}" x2="{ox + w}" y2="{base}" stroke="#888"/>',
    ]
    group_w = w / max(len(workers), 1)
    bar_w = group_w * 0.7 / max(len(proxies), 1)
    for g, count in enumerate(workers):
        gx = ox + g * group_w + group_w * 0.15
        label = f"{count} worker" + ("s" if count != 1 else "")
        out.append(f'<text x="{ox + g * group_w + group_w / 2}" y="{base + 16}" '
                   f'text-anchor="middle">{label}</text>')
        for b, proxy in enumerate(proxies):
            row = next((r for r in rows if r["workers"] == count and r["proxy"] == proxy), None)
            value = row[key] if row else None
            x = gx + b * bar_w
            if value is None:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 4}" '
                           'text-anchor="middle" fill="#888">n/a</text>')
                continue
            bh = plot_h * value / top if top else 0
            out.append(f'<rect x="{x:.1f}" y="{base - bh:.1f}" width="{bar_w - 4:.1f}" '
                       f'height="{bh:.1f}" fill="{COLORS[proxy]}"><title>{proxy}, {label}: '
                       f'{fmt(value, pattern)}</title></rect>')
            out.append(f'<text x="{x + (bar_w - 4) / 2:.1f}" y="{base - bh - 4:.1f}" '
                       f'text-anchor="middle" font-size="10">{fmt(value, pattern)}</text>')
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    parser.add_argument("--out")
    args = parser.parse_args()
    with open(args.json) as f:
        doc = json.load(f)
    out = args.out or os.path.dirname(os.path.abspath(args.json))
    text = markdown(doc)
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "latest.svg"), "w") as f:
        f.write(svg(doc))
    print(text, end="")


if __name__ == "__main__":
    main()
