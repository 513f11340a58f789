#!/usr/bin/env python3
"""Checks a Grafana dashboard against a live Prometheus: every panel query must return data.

    python3 deploy/check_dashboard.py --prometheus=http://127.0.0.1:9090 \
        --dashboard=deploy/grafana/dashboards/cloze.json \
        --datasources=deploy/grafana/provisioning/datasources/prometheus.yml --var run=my-run

First, without Prometheus: every panel has targets with a PromQL `expr`, refIds are unique in
a panel, panel ids are unique, and every data source uid is the provisioned one. Then, until
--timeout: each panel query (template variables replaced by --var values, Grafana's
$__rate_interval and friends by fixed windows), each --expect expression and each template
variable's label_values() query is sent to Prometheus; every one must return data (an instant
vector or matrix with at least one series; a label_values() list holding the --var value).
With --rules, every alerting and recording rule must also be evaluated without error.

Exits 0 when all pass, 1 with the failing queries listed otherwise. Standard library only.
"""
import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Grafana's built-in interval variables, as fixed windows long enough for a 1-5 s scrape.
BUILTIN_VARIABLES = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}


def substitute(expr, variables):
    """Replaces $name, ${name} and [[name]] as Grafana does; returns (text, unknown names)."""
    unknown = []

    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name in variables:
            return variables[name]
        unknown.append(name)
        return match.group(0)

    text = re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", replace, expr)
    return text, unknown


def static_problems(dashboard, datasource_uid):
    problems = []
    panel_ids = set()
    panels = [p for p in dashboard.get("panels", []) if p.get("type") != "row"]
    if not panels:
        problems.append("the dashboard has no panels")
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("id") in panel_ids:
            problems.append(f"panel {title!r}: duplicate id {panel.get('id')}")
        panel_ids.add(panel.get("id"))
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r}: no targets")
        ref_ids = [t.get("refId") for t in targets]
        if len(set(ref_ids)) != len(ref_ids):
            problems.append(f"panel {title!r}: duplicate refIds {ref_ids}")
        for source in [panel.get("datasource")] + [t.get("datasource") for t in targets]:
            if source is not None and source.get("uid") != datasource_uid:
                problems.append(f"panel {title!r}: data source uid {source.get('uid')!r}, "
                                f"provisioned is {datasource_uid!r}")
        for t in targets:
            if not t.get("expr", "").strip():
                problems.append(f"panel {title!r} target {t.get('refId')}: no expr")
    return problems


def panel_queries(dashboard):
    """(description, expr) for every target of every panel, rows' nested panels included."""
    queries = []

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            for t in panel.get("targets") or []:
                legend = t.get("legendFormat", "")
                queries.append((f"{panel.get('title')} / {t.get('refId')} {legend}".strip(), t.get("expr", "")))

    walk(dashboard.get("panels", []))
    return queries


def get(base, path, params):
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body["data"]


def has_data(data):
    if data["resultType"] in ("vector", "matrix"):
        return len(data["result"]) > 0
    return True  # a scalar or string always has a value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", required=True, help="base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--datasources", required=True, help="Grafana data source provisioning file")
    parser.add_argument("--var", action="append", default=[], help="NAME=VALUE for a template variable")
    parser.add_argument("--expect", action="append", default=[], help="another PromQL query that must return data")
    parser.add_argument("--rules", action="store_true", help="require every rule to evaluate without error")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for all queries to pass")
    args = parser.parse_args()

    with open(args.dashboard) as f:
        dashboard = json.load(f)
    with open(args.datasources) as f:
        uids = re.findall(r"^\s*uid:\s*(\S+)\s*$", f.read(), re.M)
    if len(uids) != 1:
        print(f"FAIL: expected one data source uid in {args.datasources}, found {uids}")
        return 1
    problems = static_problems(dashboard, uids[0])

    variables = dict(BUILTIN_VARIABLES)
    for assignment in args.var:
        name, _, value = assignment.partition("=")
        variables[name] = value
    checks = []  # (description, kind, query)
    for description, expr in panel_queries(dashboard) + [(f"expect {e}", e) for e in args.expect]:
        text, unknown = substitute(expr, variables)
        if unknown:
            problems.append(f"{description}: no value for template variable(s) {unknown} (use --var)")
        checks.append((description, "query", text))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else (query or "")
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query)
        if variable.get("type") == "query" and match:
            wanted = variables.get(variable["name"])
            checks.append((f"variable ${variable['name']} holds {wanted!r}", "label_values",
                           (match.group(1), match.group(2), wanted)))
    if problems:
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1

    deadline = time.monotonic() + args.timeout
    while True:
        failing = []
        for description, kind, query in checks:
            try:
                if kind == "query":
                    ok = has_data(get(args.prometheus, "/api/v1/query", {"query": query}))
                else:
                    selector, label, wanted = query
                    ok = wanted in get(args.prometheus, f"/api/v1/label/{label}/values", {"match[]": selector})
            except (urllib.error.URLError, OSError, RuntimeError) as e:
                ok, query = False, f"{query} ({e})"
            if not ok:
                failing.append(f"{description}: {query}")
        if args.rules:
            try:
                for group in get(args.prometheus, "/api/v1/rules", {})["groups"]:
                    for rule in group["rules"]:
                        if rule.get("health") != "ok":
                            failing.append(f"rule {rule['name']}: health {rule.get('health')} {rule.get('lastError', '')}")
            except (urllib.error.URLError, OSError, RuntimeError) as e:
                failing.append(f"rules: {e}")
        if not failing:
            print(f"all {len(checks)} queries return data" + (", all rules evaluate" if args.rules else ""))
            return 0
        if time.monotonic() > deadline:
            for failure in failing:
                print(f"FAIL: {failure}")
            print(f"{len(failing)} failing after {args.timeout:.0f} s")
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
