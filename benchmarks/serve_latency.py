"""How fast `relief serve` answers a control move: 200 random moves driven over HTTP.

Starts `relief serve` on the default case (or CASE) on a free port, then POSTs to Dash's
`/_dash-update-component` what the browser sends when a planner moves a control: the
page's one callback with every control's value, the moved one named in changedPropIds.
Each move changes one control at random (budget scale, one stance's probability, one
lever's capex multiplier, one excluded lever, the risk attitude) from the previous state.
The time is the whole round trip (settings checked, overrides applied, the re-solve on the
persistent session, the independent evaluation, the page's figures, JSON over HTTP).

    python benchmarks/serve_latency.py --moves 200 --seed 1 [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "inputs" / "korea-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def wildcard(kind: str, names, values) -> list:
    return [{"id": {"index": n, "type": kind}, "property": "value", "value": v} for n, v in zip(names, values)]


def body(dep: dict, d: dict, state: dict, moved: str) -> dict:
    from relief.cli.serve import CONTROLS, PER_NAME, VIEWS

    stances, levers = list(d["probability"]), d["levers"]
    values = {
        "budget": state["budget"],
        "budget-box": state["budget"],
        "part": None,
        "part-scale": 1,
        "total": d["total"],
        "force": [],
        "exclude": state["exclude"],
        "risk": state["risk"],
        "alpha": 0.8,
        "weight": 0.5,
        "reveal": "",
        "margin": d["margin"],
    }
    per_name = {
        "p": (stances, [state["p"].get(s, d["probability"][s]) for s in stances]),
        "credit": (stances, [d["credit"][s] for s in stances]),
        "capex": (levers, [state["capex"].get(l, 1) for l in levers]),
    }
    controls = []
    for c, _ in CONTROLS:
        if c in PER_NAME:
            controls.append(wildcard(c, *per_name[c]))
        else:
            controls.append({"id": c, "property": "value", "value": values[c]})
    resets = [{"id": {"index": "budget", "type": "reset"}, "property": "n_clicks", "value": None}]
    inputs = [
        {"id": "url", "property": "search", "value": ""},
        {"id": "reset", "property": "n_clicks", "value": 0},
        resets,
        *controls,
    ]

    def strip(x):
        return [strip(y) for y in x] if isinstance(x, list) else {"id": x["id"], "property": x["property"]}

    figures = ("timeline", "stances", "tracks", "spending")
    outputs = [{"id": "url", "property": "search"}, *map(strip, controls)]
    outputs += [{"id": v, "property": "figure" if v in figures else "children"} for v in VIEWS]
    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": [moved],
        "parsedChangedPropsIds": [moved],
        "state": [
            {"id": "url", "property": "search", "value": ""},
            {"id": "sid", "property": "data", "value": "benchmark"},
        ],
    }


def move(rng: random.Random, d: dict, state: dict) -> str:
    """Change one control of `state` at random; the changed prop id, as Dash names it."""
    kind = rng.choice(["budget", "budget", "p", "capex", "exclude", "risk"])
    if kind == "budget":
        state["budget"] = round(rng.uniform(0.02, 1.5), 2)
        return "budget.value"
    if kind == "p":
        s = rng.choice(list(d["probability"]))
        state["p"] = {s: round(rng.uniform(0.02, 0.6), 3)}  # one stance moved, the others rescale
        return json.dumps({"index": s, "type": "p"}, separators=(",", ":")) + ".value"
    if kind == "capex":
        l = rng.choice(d["levers"])
        state["capex"] = {l: round(rng.uniform(0.5, 2.0), 2)}
        return json.dumps({"index": l, "type": "capex"}, separators=(",", ":")) + ".value"
    if kind == "exclude":
        state["exclude"] = [] if state["exclude"] else [rng.choice(["us_steel_mill", "hbm_packaging", "lng_purchases"])]
        return "exclude.value"
    state["risk"] = rng.choice(["expected", "worst"])
    return "risk.value"


def run(case: Path, moves: int, seed: int) -> dict:
    from relief.model.analyses.whatif import WhatIf
    from relief.model.core.case import load_case

    d = WhatIf(load_case(case)).defaults()
    port = free_port()
    exe = shutil.which("relief", path=str(Path(sys.executable).parent)) or "relief"
    proc = subprocess.Popen([exe, "serve", str(case), "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        while "relief serve: http" not in proc.stderr.readline():
            pass
        base = f"http://127.0.0.1:{port}"
        time.sleep(0.5)
        urllib.request.urlopen(base + "/", timeout=30).read()
        deps = json.loads(urllib.request.urlopen(base + "/_dash-dependencies", timeout=30).read())
        dep = next(x for x in deps if x["output"].startswith("..url.search"))  # the page's re-solve
        rng = random.Random(seed)
        state = {"budget": 1.0, "p": {}, "capex": {}, "exclude": [], "risk": "expected"}
        post(base + "/_dash-update-component", body(dep, d, state, "url.search"))  # the first load
        times, failed, infeasible = [], 0, 0
        for _ in range(moves):
            moved = move(rng, d, state)
            t = time.perf_counter()
            out = post(base + "/_dash-update-component", body(dep, d, state, moved))
            times.append(time.perf_counter() - t)
            text = json.dumps(out)
            infeasible += "No plan meets every limit" in text
            failed += "expected-relief" not in text and "No plan meets every limit" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    times.sort()
    return {
        "moves": moves,
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
        "infeasible": infeasible,
        "errors": failed,
    }


def markdown(r: dict, case: Path) -> str:
    return (
        "## relief serve: a re-solve after a control move\n\n"
        f"`python benchmarks/serve_latency.py --moves {r['moves']} --seed 1` on {case.name}: "
        f"{r['moves']} random moves (budget scale, one stance's probability, one lever's capex multiplier, "
        "excluding a lever, the risk attitude), each POSTed to the running app's `/_dash-update-component` "
        "as the browser does; the time is the whole HTTP round trip (checks, re-solve on the persistent "
        f"session, evaluation, the page's figures). Machine: {platform.machine()}, {platform.python_version()}, "
        "2 cores shared with other work.\n\n"
        "| moves | p50 (s) | p95 (s) | max (s) | infeasible (explained inline) | errors |\n|---|---|---|---|---|---|\n"
        f"| {r['moves']} | {r['p50']:.3f} | {r['p95']:.3f} | {r['max']:.3f} | {r['infeasible']} | {r['errors']} |\n"
    )


def write_section(path: Path, text: str, name: str = "serve-latency") -> None:
    doc = path.read_text()
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{text}{end}"
    if begin in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--moves", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", type=Path, help="put the results in this markdown file's serve-latency section")
    a = ap.parse_args()
    r = run(a.case, a.moves, a.seed)
    text = markdown(r, a.case)
    print(text)
    if a.write:
        write_section(a.write, text)


if __name__ == "__main__":
    main()
