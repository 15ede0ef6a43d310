#!/usr/bin/env python3
"""Offline checks of deploy/, driven by deploy/test.sh.

    checks.py parse                      every YAML/JSON file under deploy/ parses
    checks.py metrics SPEC.md            dashboard + alert rules use only the SPEC's metrics,
                                         labels and label values; the dashboard uses them all
    checks.py dashboard                  dashboard structure (schema, variables, panels)
    checks.py promql-rules OUT           dashboard queries as recording rules (for promtool)
    checks.py strip-annotations IN OUT   the alert rules without annotations (for promtool test)
    checks.py extract-config OUT         the ConfigMap's portcullis.toml
    checks.py manifests                  Kubernetes / container / systemd settings agree
    checks.py docker-context OUT         lay out the Docker build context as the Dockerfile's
                                         .dockerignore leaves it; the COPY sources are in it
    checks.py smoke BIN                  run the binary on a ConfigMap-style directory: probes,
                                         metrics the dashboard needs, `..data` swap reload, drain

Each prints what it found and exits 1 on a failed check. Needs PyYAML.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
DASHBOARD = DEPLOY / "grafana" / "portcullis-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "portcullis-alerts.yml"
K8S = DEPLOY / "kubernetes"

errors: list[str] = []


def err(msg: str) -> None:
    errors.append(msg)
    print(f"  error: {msg}")


def done() -> None:
    sys.exit(1 if errors else 0)


def duration(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def load_yaml_docs(path: Path) -> list:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---------------------------------------------------------------- parse

def cmd_parse() -> None:
    n = 0
    for path in sorted(DEPLOY.rglob("*")):
        if path.suffix in (".yml", ".yaml"):
            try:
                docs = load_yaml_docs(path)
                print(f"  {path.relative_to(ROOT)}: {len(docs)} YAML document(s)")
                n += 1
            except yaml.YAMLError as e:
                err(f"{path.relative_to(ROOT)}: {e}")
        elif path.suffix == ".json":
            try:
                json.loads(path.read_text())
                print(f"  {path.relative_to(ROOT)}: JSON ok")
                n += 1
            except json.JSONDecodeError as e:
                err(f"{path.relative_to(ROOT)}: {e}")
    if n == 0:
        err("no YAML or JSON files found")
    done()


# ---------------------------------------------------------------- the SPEC's metrics

def spec_metrics(spec: Path) -> dict[str, dict]:
    """{name: {"type": str, "labels": {label: set(values) or None}}} from SPEC.md's table."""
    text = spec.read_text()
    section = text.split("## Metrics", 1)
    if len(section) < 2:
        raise SystemExit(f"{spec}: no '## Metrics' section")
    metrics: dict[str, dict] = {}
    for line in section[1].split("\n## ", 1)[0].splitlines():
        m = re.match(r"\|\s*`([a-z_:]+)`\s*\|([^|]*)\|([^|]*)\|", line)
        if not m:
            continue
        name, mtype, labels_cell = m.group(1), m.group(2).strip(), m.group(3)
        labels: dict[str, set | None] = {}
        # split on commas outside parentheses: `outcome` (`sent`, `budget_exhausted`)
        depth, item, items = 0, "", []
        for ch in labels_cell:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                items.append(item)
                item = ""
            else:
                item += ch
        items.append(item)
        for it in items:
            names = re.findall(r"`([^`]+)`", it)
            if not names:
                continue
            values = set(names[1:]) if "(" in it else None
            labels[names[0]] = values
        metrics[name] = {"type": mtype, "labels": labels}
    if not metrics:
        raise SystemExit(f"{spec}: no metrics found in the Metrics table")
    return metrics


# ---------------------------------------------------------------- PromQL scanning

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "atan2"}
SCRAPE_LABELS = {"instance", "job"}


def substitute_grafana(expr: str) -> str:
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def scan_promql(expr: str) -> dict:
    """Metric names, label matchers and grouping labels of one PromQL expression."""
    matchers = []  # (metric or None, label, op, value)
    for m in re.finditer(r"([a-zA-Z_:][\w:]*)?\s*\{([^{}]*)\}", expr):
        for lm in re.finditer(r"(\w+)\s*(=~|!~|!=|=)\s*\"((?:[^\"\\]|\\.)*)\"", m.group(2)):
            matchers.append((m.group(1), lm.group(1), lm.group(2), lm.group(3)))
    stripped = re.sub(r"\{[^{}]*\}", " ", expr)
    stripped = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`", " ", stripped)
    stripped = re.sub(r"\[[^\]]*\]", " ", stripped)
    grouping = []
    for g in re.finditer(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", stripped):
        grouping += [x.strip() for x in g.group(2).split(",") if x.strip()]
    stripped = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", stripped)
    names = set()
    for t in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", stripped):
        if t.group(2) or t.group(1).lower() in KEYWORDS:
            continue
        names.add(t.group(1))
    return {"names": names, "matchers": matchers, "grouping": grouping}


def dashboard_queries(dash: dict) -> list[tuple[str, str]]:
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append((f"annotation {a.get('name')!r}", a["expr"]))
    return out


def dashboard_variable_queries(dash: dict) -> list[tuple[str, str]]:
    out = []
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            out.append((f"variable {v['name']!r}", q))
    return out


def alert_queries(rules: dict) -> list[tuple[str, str]]:
    out = []
    for g in rules["groups"]:
        for r in g["rules"]:
            out.append((f"rule {r.get('alert') or r.get('record')!r}", r["expr"]))
    return out


def check_expr(where: str, expr: str, spec: dict, used: set) -> None:
    info = scan_promql(substitute_grafana(expr))
    in_expr = {}
    for n in info["names"]:
        base = n
        for suffix in ("_bucket", "_sum", "_count"):
            if n.endswith(suffix) and n[: -len(suffix)] in spec and spec[n[: -len(suffix)]]["type"] == "histogram":
                base = n[: -len(suffix)]
        if base == "up":
            in_expr[base] = {"labels": {"job": None, "instance": None}}
            continue
        if base not in spec:
            err(f"{where}: metric {n!r} is not in the SPEC's metrics table")
            continue
        used.add(base)
        labels = in_expr.setdefault(base, {"labels": dict(spec[base]["labels"])})["labels"]
        if base != n and n.endswith("_bucket"):
            labels["le"] = None
    allowed: dict[str, set | None] = {k: None for k in SCRAPE_LABELS}
    for v in in_expr.values():
        for label, values in v["labels"].items():
            allowed.setdefault(label, values)
    for label in info["grouping"]:
        if label not in allowed:
            err(f"{where}: groups by label {label!r}, which none of {sorted(in_expr)} has")
    for metric, label, op, value in info["matchers"]:
        if label == "__name__":
            continue
        pool = spec[metric]["labels"] if metric in spec else allowed
        if label not in pool and label not in SCRAPE_LABELS and not (label == "le" and "le" in allowed):
            err(f"{where}: matcher {label}{op}\"{value}\" names a label that {metric or 'the selector'} does not have")
            continue
        values = pool.get(label)
        if values and op in ("=", "=~") and ".*" not in value:
            ok = (value in values) if op == "=" else any(re.fullmatch(value, x) for x in values)
            if not ok:
                err(f"{where}: {label}{op}\"{value}\" matches none of the SPEC's values {sorted(values)}")


def cmd_metrics(spec_path: str) -> None:
    spec = spec_metrics(Path(spec_path))
    print(f"  SPEC metrics table: {len(spec)} metrics")
    dash = json.loads(DASHBOARD.read_text())
    rules = load_yaml_docs(ALERTS)[0]
    used_dash: set = set()
    used_rules: set = set()
    queries = dashboard_queries(dash) + dashboard_variable_queries(dash)
    for where, expr in queries:
        lv = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", expr)
        if lv:
            sel = lv.group(1) or ""
            check_expr(where, f"count by ({lv.group(2)}) ({sel})" if sel else "vector(0)", spec, used_dash)
        else:
            check_expr(where, expr, spec, used_dash)
    for where, expr in alert_queries(rules):
        check_expr(where, expr, spec, used_rules)
    # Names anywhere in the text (annotation templates, descriptions) must exist too.
    for path in (DASHBOARD, ALERTS):
        for n in set(re.findall(r"\bportcullis_[a-z_]+", path.read_text())):
            base = re.sub(r"_(bucket|sum|count)$", "", n) if n not in spec else n
            if base not in spec:
                err(f"{path.relative_to(ROOT)}: mentions {n!r}, which is not in the SPEC's metrics table")
    print(f"  dashboard: {len(queries)} queries over {len(used_dash)} metrics; "
          f"alert rules: {len(alert_queries(rules))} expressions over {len(used_rules)} metrics (+ up)")
    missing = sorted(set(spec) - used_dash)
    if missing:
        err(f"dashboard does not chart {missing}")
    done()


# ---------------------------------------------------------------- dashboard structure

def cmd_dashboard() -> None:
    d = json.loads(DASHBOARD.read_text())
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in d:
            err(f"missing top-level {key!r}")
    if not 36 <= d.get("schemaVersion", 0) <= 41:
        err(f"schemaVersion {d.get('schemaVersion')} is not a current one (36..41)")
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        err("no Prometheus datasource variable named 'datasource'")
    for name in ("cluster", "backend"):
        v = variables.get(name)
        if not v or v.get("type") != "query":
            err(f"no query variable {name!r}")
        elif not (v.get("multi") and v.get("includeAll")):
            err(f"variable {name!r} should be multi-value with All")
    ids, cells = set(), {}
    panels = d["panels"]
    for p in panels:
        title = p.get("title")
        if p["id"] in ids:
            err(f"duplicate panel id {p['id']}")
        ids.add(p["id"])
        g = p["gridPos"]
        if g["x"] < 0 or g["x"] + g["w"] > 24:
            err(f"panel {title!r} is outside the 24-column grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    err(f"panel {title!r} overlaps {cells[(x, y)]!r}")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            err(f"panel {title!r} does not use the $datasource variable")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                err(f"panel {title!r} target {t.get('refId')} does not use the $datasource variable")
            if "rate(" in t.get("expr", "") and "$__rate_interval" not in t["expr"]:
                err(f"panel {title!r}: rate() without $__rate_interval")
        if not p.get("targets"):
            err(f"panel {title!r} has no query")
    by_title = {p["title"]: p for p in panels}

    def find(word):
        return [p for p in panels if any(word in t.get("expr", "") for t in p.get("targets", []))]

    circuit = [p for p in find("portcullis_circuit_state") if p["type"] == "state-timeline"]
    if not circuit:
        err("no state-timeline panel for portcullis_circuit_state")
    for p in circuit:
        texts = {}
        for m in p["fieldConfig"]["defaults"].get("mappings", []):
            for k, v in m.get("options", {}).items():
                texts[k] = v.get("text")
        if texts != {"0": "closed", "1": "half-open", "2": "open"}:
            err(f"panel {p['title']!r}: circuit value mappings are {texts}")
    gen = [p for p in find("portcullis_generated_responses_total") if "cause" in json.dumps(p["targets"])]
    if not any(p["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"
               for p in gen if p["type"] == "timeseries"):
        err("no stacked panel of generated responses by cause")
    retries = find("portcullis_retries_total")
    if not any("budget_exhausted" in json.dumps(p["fieldConfig"]["overrides"]) for p in retries):
        err("retries panel does not highlight outcome budget_exhausted")
    for needle in ("portcullis_request_duration_seconds_bucket", "portcullis_upstream_duration_seconds_bucket"):
        exprs = [t["expr"] for p in find(needle) for t in p["targets"]]
        for q in ("0.5", "0.99"):
            if not any(f"histogram_quantile({q}," in e for e in exprs):
                err(f"no p{q.replace('0.', '')} of {needle}")
    print(f"  {len(panels)} panels ({sum(p['type'] == 'row' for p in panels)} rows), "
          f"variables {sorted(variables)}, schemaVersion {d['schemaVersion']}")
    del by_title
    done()


def cmd_promql_rules(out: str) -> None:
    """Every dashboard query as a recording rule, so `promtool check rules` parses it."""
    dash = json.loads(DASHBOARD.read_text())
    rules = []
    for i, (where, expr) in enumerate(dashboard_queries(dash)):
        rules.append({"record": f"dashboard:query_{i}", "expr": substitute_grafana(expr)})
    Path(out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))
    print(f"  {len(rules)} dashboard queries written to {out}")


def cmd_strip_annotations(src: str, out: str) -> None:
    doc = load_yaml_docs(Path(src))[0]
    for g in doc["groups"]:
        for r in g["rules"]:
            r.pop("annotations", None)
    Path(out).write_text(yaml.safe_dump(doc, sort_keys=False))


# ---------------------------------------------------------------- manifests

def k8s_objects() -> dict[str, list]:
    objs: dict[str, list] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_yaml_docs(path):
            objs.setdefault(doc["kind"], []).append(doc)
    return objs


def configmap_toml() -> tuple[str, str]:
    cm = k8s_objects()["ConfigMap"][0]
    (key, text), = cm["data"].items()
    return key, text


def cmd_extract_config(out: str) -> None:
    key, text = configmap_toml()
    Path(out).write_text(text)
    print(f"  ConfigMap key {key!r} -> {out}")


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def cmd_manifests() -> None:
    objs = k8s_objects()
    for kind in ("ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        if kind not in objs:
            err(f"kubernetes/: no {kind}")
    if errors:
        done()
    key, text = configmap_toml()
    cfg = tomllib.loads(text)
    drain = duration(cfg.get("server", {}).get("drain_timeout", "30s"))
    admin_addr = cfg["admin"]["address"]
    admin_port = port_of(admin_addr)
    listener_ports = {port_of(listener["address"]) for listener in cfg.get("listeners", [])}
    if not admin_addr.startswith("0.0.0.0:") and not admin_addr.startswith("[::]:"):
        err(f"ConfigMap admin.address {admin_addr} is not reachable from outside the pod (probes, Prometheus)")

    dep = objs["Deployment"][0]
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    spec = pod["spec"]
    (c,) = spec["containers"]
    if dep["spec"].get("replicas") != 2:
        err(f"Deployment replicas is {dep['spec'].get('replicas')}, expected 2")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    if ports.get("admin") != admin_port:
        err(f"container port 'admin' {ports.get('admin')} != admin.address port {admin_port}")
    if ports.get("http") not in listener_ports:
        err(f"container port 'http' {ports.get('http')} is not a listener port {sorted(listener_ports)}")

    args = c.get("args", [])
    cfg_path = args[args.index("-c") + 1] if "-c" in args else None
    if not cfg_path:
        err("container args do not pass -c PATH")
    cm_name = objs["ConfigMap"][0]["metadata"]["name"]
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    cm_vols = [n for n, v in vols.items() if v.get("configMap", {}).get("name") == cm_name]
    if not cm_vols:
        err(f"no volume from ConfigMap {cm_name}")
    for m in c.get("volumeMounts", []):
        if m["name"] in cm_vols:
            if "subPath" in m or "subPathExpr" in m:
                err("the config volume is mounted with subPath: ConfigMap updates would never reach the process")
            if cfg_path and str(Path(m["mountPath"]) / key) != cfg_path:
                err(f"-c {cfg_path} is not {m['mountPath']}/{key}")
            print(f"  config: ConfigMap {cm_name} mounted as a directory at {m['mountPath']} (no subPath)")

    rp, lp = c.get("readinessProbe", {}), c.get("livenessProbe", {})

    def probe_port(p):
        port = p.get("httpGet", {}).get("port")
        return ports.get(port, port)

    if rp.get("httpGet", {}).get("path") != "/readyz" or probe_port(rp) != admin_port:
        err("readinessProbe is not GET /readyz on the admin port")
    if lp.get("httpGet", {}).get("path") != "/healthz" or probe_port(lp) != admin_port:
        err("livenessProbe is not GET /healthz on the admin port")
    pre = c.get("lifecycle", {}).get("preStop", {})
    pre_sleep = pre.get("sleep", {}).get("seconds", 0)
    if not pre_sleep:
        err("no preStop sleep: endpoints may still route to a pod that stopped accepting")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace <= drain + pre_sleep:
        err(f"terminationGracePeriodSeconds {grace} <= drain_timeout {drain:g}s + preStop {pre_sleep}s")
    print(f"  termination: preStop {pre_sleep}s + drain_timeout {drain:g}s < grace {grace}s")
    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    if not psc.get("runAsNonRoot"):
        err("pod securityContext.runAsNonRoot is not true")
    if not csc.get("readOnlyRootFilesystem"):
        err("container readOnlyRootFilesystem is not true")
    if csc.get("allowPrivilegeEscalation") is not False:
        err("container allowPrivilegeEscalation is not false")
    if "ALL" not in csc.get("capabilities", {}).get("drop", []):
        err("container does not drop ALL capabilities")
    if not c.get("resources", {}).get("requests") or not c.get("resources", {}).get("limits"):
        err("container has no resource requests/limits")

    def selects(sel: dict) -> bool:
        return all(pod_labels.get(k) == v for k, v in sel.items())

    for svc in objs["Service"]:
        if not selects(svc["spec"]["selector"]):
            err(f"Service {svc['metadata']['name']} selector does not match the pod labels")
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort")
            if isinstance(tp, str) and tp not in ports:
                err(f"Service {svc['metadata']['name']} targetPort {tp!r} is not a container port name")
        if svc["spec"].get("type") == "LoadBalancer" and any(
                ports.get(p.get("targetPort"), p.get("targetPort")) == admin_port for p in svc["spec"]["ports"]):
            err(f"Service {svc['metadata']['name']} exposes the admin port through a LoadBalancer")
    pdb = objs["PodDisruptionBudget"][0]
    if not selects(pdb["spec"]["selector"]["matchLabels"]):
        err("PodDisruptionBudget selector does not match the pod labels")
    np = objs["NetworkPolicy"][0]
    if not selects(np["spec"]["podSelector"]["matchLabels"]):
        err("NetworkPolicy podSelector does not match the pod labels")
    admin_rules = [r for r in np["spec"]["ingress"] if any(p.get("port") == admin_port for p in r.get("ports", []))]
    if not admin_rules or any(not r.get("from") for r in admin_rules):
        err("NetworkPolicy does not restrict the admin port to named peers")
    open_rules = [r for r in np["spec"]["ingress"] if not r.get("from")]
    for r in open_rules:
        for p in r.get("ports", []) or [{"port": "ALL"}]:
            if p.get("port") not in listener_ports:
                err(f"NetworkPolicy opens port {p.get('port')} to everyone")

    # Container image: the user and ports agree with the Deployment and the baked-in config.
    dockerfile = (DEPLOY / "container" / "Dockerfile").read_text()
    user = re.findall(r"^USER\s+(\d+)", dockerfile, re.M)
    if not user or int(user[-1]) != psc.get("runAsUser"):
        err(f"Dockerfile USER {user} != pod runAsUser {psc.get('runAsUser')}")
    exposed = {int(x) for line in re.findall(r"^EXPOSE\s+(.+)$", dockerfile, re.M) for x in line.split()}
    if exposed != {admin_port} | listener_ports:
        err(f"Dockerfile EXPOSE {sorted(exposed)} != ports {sorted({admin_port} | listener_ports)}")
    image_cfg = tomllib.loads((DEPLOY / "container" / "portcullis.toml").read_text())
    image_ports = {port_of(image_cfg["admin"]["address"])} | {port_of(x["address"]) for x in image_cfg["listeners"]}
    if image_ports != exposed:
        err(f"container/portcullis.toml ports {sorted(image_ports)} != EXPOSE {sorted(exposed)}")

    # systemd: the stop timeout outlasts the drain.
    unit = (DEPLOY / "systemd" / "portcullis.service").read_text()
    settings: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            k, v = line.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    default_drain = duration(tomllib.loads((ROOT / "config" / "portcullis.toml").read_text())
                             .get("server", {}).get("drain_timeout", "30s"))
    stop = duration(settings.get("TimeoutStopSec", ["90s"])[-1])
    if stop <= default_drain:
        err(f"systemd TimeoutStopSec {stop:g}s <= drain_timeout {default_drain:g}s")
    if settings.get("ExecStart") != ["/usr/local/bin/portcullis run -c /etc/portcullis/portcullis.toml"]:
        err(f"systemd ExecStart is {settings.get('ExecStart')}")
    if "/bin/kill -HUP $MAINPID" not in settings.get("ExecReload", []):
        err("systemd ExecReload does not send SIGHUP")
    for k, v in {"Type": "exec", "KillSignal": "SIGTERM", "Restart": "on-failure", "NoNewPrivileges": "yes",
                 "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                 "ReadOnlyPaths": "/etc/portcullis", "AmbientCapabilities": "CAP_NET_BIND_SERVICE"}.items():
        if v not in settings.get(k, []):
            err(f"systemd {k} is {settings.get(k)}, expected {v}")
    if settings.get("User", ["root"])[-1] in ("root", "0"):
        err("systemd unit runs as root")
    print(f"  systemd: TimeoutStopSec {stop:g}s > drain_timeout {default_drain:g}s; "
          f"image: USER {user[-1] if user else '?'}, EXPOSE {sorted(exposed)}")
    done()


# ---------------------------------------------------------------- Docker build context

def dockerignore_patterns(path: Path) -> list[tuple[bool, str]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = line[1:] if neg else line
        out.append((neg, pat.strip("/").removeprefix("./")))
    return out


def ignored(rel: str, patterns: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    import fnmatch

    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for neg, pat in patterns:
        if any(fnmatch.fnmatchcase(p, pat) or (pat.startswith("**/") and fnmatch.fnmatchcase(p, pat[3:]))
               for p in prefixes):
            result = not neg
    return result


def cmd_docker_context(out: str) -> None:
    dockerfile = DEPLOY / "container" / "Dockerfile"
    patterns = dockerignore_patterns(DEPLOY / "container" / "Dockerfile.dockerignore")
    negations = [p for neg, p in patterns if neg]
    dest = Path(out)
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for d in dirnames:
            rel = f"{rel_dir}/{d}" if rel_dir else d
            # Prune an ignored directory unless a `!` pattern may re-include something in it.
            if ignored(rel, patterns) and not any(n == rel or n.startswith(rel + "/") for n in negations):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            rel = f"{rel_dir}/{f}" if rel_dir else f
            if ignored(rel, patterns):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target)
            files += 1
            size += (ROOT / rel).stat().st_size
    print(f"  build context: {files} files, {size / 1e6:.1f} MB (target/ and .git excluded)")
    for line in dockerfile.read_text().splitlines():
        m = re.match(r"COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+(\S+)$", line.strip())
        if m:
            for src in m.group(1).split():
                if not (dest / src).exists():
                    err(f"Dockerfile: COPY source {src!r} is not in the build context")
    for must in ("Cargo.toml", "Cargo.lock", "config/demo.toml"):
        if not (dest / must).exists():
            err(f"the build context lacks {must}")
    if any(p.name == "target" for p in dest.rglob("target")):
        err("a target/ directory is in the build context")
    done()


# ---------------------------------------------------------------- smoke test of the real binary

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0, headers: dict | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric_value(metrics: str, name: str, labels: str = "") -> float | None:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", metrics, re.M)
    return float(m.group(1)) if m else None


def swap_configmap(dirpath: Path, text: str, n: int) -> None:
    """Write `text` the way the kubelet updates a ConfigMap volume: a new timestamped
    directory, a new `..data` symlink renamed over the old one, the old one removed."""
    new = dirpath / f"..2025_01_01_00_00_0{n}.000000000"
    new.mkdir()
    (new / "portcullis.toml").write_text(text)
    old = os.readlink(dirpath / "..data") if (dirpath / "..data").is_symlink() else None
    tmp = dirpath / "..data_tmp"
    os.symlink(new.name, tmp)
    os.rename(tmp, dirpath / "..data")
    if not (dirpath / "portcullis.toml").is_symlink():
        os.symlink("..data/portcullis.toml", dirpath / "portcullis.toml")
    if old:
        shutil.rmtree(dirpath / old)


def start_origin():
    """A loopback origin: 200 for everything, except /drop, whose connection it closes."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    return predicate()


def cmd_smoke(binary: str) -> None:
    _, text = configmap_toml()
    data_port, admin_port = free_port(), free_port()
    text = text.replace('address = "0.0.0.0:8080"', f'address = "127.0.0.1:{data_port}"')
    text = text.replace('address = "0.0.0.0:9901"', f'address = "127.0.0.1:{admin_port}"')
    # Backend 0: a tiny origin on loopback (200, or a dropped connection on /drop);
    # backend 1: a loopback port where nothing listens.
    origin = start_origin()
    origin_port = origin.server_address[1]
    backends = iter([f"127.0.0.1:{origin_port}", f"127.0.0.1:{free_port()}"])
    text = re.sub(r'address = "app-\d\.[^"]+"', lambda m: f'address = "{next(backends)}"', text)
    if f"127.0.0.1:{admin_port}" not in text or f"127.0.0.1:{data_port}" not in text:
        err("could not rewrite the ConfigMap's addresses to loopback")
        done()
    admin = f"http://127.0.0.1:{admin_port}"
    with tempfile.TemporaryDirectory() as tmp:
        cfgdir = Path(tmp) / "etc-portcullis"
        cfgdir.mkdir()
        swap_configmap(cfgdir, text, 1)
        log = open(Path(tmp) / "portcullis.log", "w")
        proc = subprocess.Popen([binary, "run", "-c", str(cfgdir / "portcullis.toml")],
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            ready = wait_for(lambda: _status(f"{admin}/readyz") == 200, 10)
            print(f"  GET /readyz -> {_status(admin + '/readyz')}, GET /healthz -> {_status(admin + '/healthz')}")
            if not ready or _status(f"{admin}/healthz") != 200:
                err("the probes /readyz and /healthz do not answer 200")
                raise RuntimeError
            healthy = f'{{cluster="app",backend="127.0.0.1:{origin_port}"}}'
            if not wait_for(lambda: metric_value(http_get(f"{admin}/metrics")[1],
                                                 "portcullis_backend_healthy", healthy) == 1, 10):
                err("the origin never became healthy")
            # One proxied request, and one that Portcullis must answer itself.
            code, _ = http_get(f"http://127.0.0.1:{data_port}/")
            print(f"  GET / -> {code} (proxied)")
            if code != 200:
                err(f"expected 200 from the origin, got {code}")
            code, body = http_get(f"http://127.0.0.1:{data_port}/drop", headers={"Accept": "application/json"})
            print(f"  GET /drop -> {code} {body.strip()[:110]}")
            if code < 500 or '"cause"' not in body:
                err(f"expected a generated 5xx naming its cause, got {code}")
            _, metrics = http_get(f"{admin}/metrics")
            exported = {re.sub(r"_(bucket|sum|count)$", "", m)
                        for m in re.findall(r"^(portcullis_\w+)[{ ]", metrics, re.M)}
            wanted = set(re.findall(r"\bportcullis_[a-z_]+", DASHBOARD.read_text() + ALERTS.read_text()))
            wanted = {re.sub(r"_(bucket|sum|count)$", "", m) for m in wanted}
            missing = sorted(wanted - exported)
            print(f"  /metrics exports {len(exported)} portcullis_* metrics; dashboard + rules use {len(wanted)}")
            if missing:
                err(f"/metrics does not export {missing}, which the dashboard or rules use")
            gen0 = metric_value(metrics, "portcullis_config_generation")

            # A ConfigMap-style `..data` swap with a valid change: reloaded.
            swap_configmap(cfgdir, text.replace('slow_start = "30s"', 'slow_start = "10s"'), 2)
            t0 = time.monotonic()
            ok = wait_for(lambda: metric_value(http_get(f"{admin}/metrics")[1], "portcullis_config_generation")
                          == (gen0 or 0) + 1, 5)
            gen1 = metric_value(http_get(f"{admin}/metrics")[1], "portcullis_config_generation")
            print(f"  ..data swap (valid): generation {gen0} -> {gen1} in {time.monotonic() - t0:.2f}s")
            if not ok:
                err("a ConfigMap ..data swap was not reloaded within 5s")

            # An invalid one: counted as a failure, the running config keeps serving.
            swap_configmap(cfgdir, text.replace('balance = "least_request"', 'balance = "fastest"'), 3)
            failed = wait_for(lambda: (metric_value(http_get(f"{admin}/metrics")[1], "portcullis_config_reloads_total",
                                                    '{result="failure"}') or 0) >= 1, 5)
            m2 = http_get(f"{admin}/metrics")[1]
            failures = metric_value(m2, "portcullis_config_reloads_total", '{result="failure"}')
            gen2 = metric_value(m2, "portcullis_config_generation")
            print(f"  ..data swap (invalid): reload failures {failures}, generation {gen2}, "
                  f"/readyz {_status(admin + '/readyz')}")
            if not failed:
                err("an invalid config was not counted in portcullis_config_reloads_total{result=\"failure\"}")
            if gen2 != (gen0 or 0) + 1 or _status(f"{admin}/readyz") != 200:
                err("an invalid config changed the generation or readiness")

            # SIGTERM: drain and exit 0 (systemd KillSignal, Kubernetes after preStop).
            proc.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
            try:
                rc = proc.wait(timeout=15)
                print(f"  SIGTERM -> exit {rc} after {time.monotonic() - t0:.1f}s")
                if rc != 0:
                    err(f"SIGTERM exit code {rc}, expected 0")
            except subprocess.TimeoutExpired:
                err("still running 15s after SIGTERM")
        except RuntimeError:
            pass
        finally:
            origin.shutdown()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            if errors:
                print("  --- portcullis log (tail) ---")
                print("".join(open(Path(tmp) / "portcullis.log").readlines()[-15:]))
    done()


def _status(url: str) -> int | None:
    try:
        return http_get(url, timeout=1)[0]
    except OSError:
        return None


def main(argv: list[str]) -> None:
    cmds = {"parse": cmd_parse, "metrics": cmd_metrics, "dashboard": cmd_dashboard,
            "promql-rules": cmd_promql_rules, "strip-annotations": cmd_strip_annotations,
            "extract-config": cmd_extract_config, "manifests": cmd_manifests,
            "docker-context": cmd_docker_context, "smoke": cmd_smoke}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
