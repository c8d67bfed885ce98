"""Many stances, fast (issue 14): the goals measured end to end, as a planner runs relief.

Every figure is the wall time of the installed `relief` command in a new process (Python
start-up, imports, loading, validation, build, both solve stages, the independent check and
the output all counted), on cases written by benchmarks/family.py (the default case's
stances copied, thresholds and credit jittered +-25%, seed 1) and benchmarks/synthetic.py.

    python benchmarks/many_stances.py --label after                       # this checkout's relief
    python benchmarks/many_stances.py --label before --relief /path/to/old/venv/bin/relief

Results go to benchmarks/results/many_stances.json under the label (other labels kept), and
the table of every label to the section "many-stances" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from family import write_family  # noqa: E402
from synthetic import Size, generate, write_case  # noqa: E402

RESULTS = HERE / "results" / "many_stances.json"
SWEEP = "levers.us_fab_module.capex_per_module*=0.8:1.2:1000"  # a non-limit parameter (capex, spending)
GOALS = {
    "family 64 stances": 10.0,
    "family 256 stances": 60.0,
    "family 64 stances, --reveal 2027": 30.0,
    "1,000-point sweep, 2 workers": 60.0,
}


def solve(exe: str, case: Path, *extra: str) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([exe, "solve", str(case), "--json", *extra], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        d = {}
    return {
        "wall": wall,
        "exit": p.returncode,
        "status": d.get("status"),
        "highs": d.get("solve_seconds"),
        "gap": d.get("mip_gap"),
        "relief": d.get("expected_relief"),
        "bound": d.get("objective_bound"),
        "plan_source": d.get("plan_source", "solver" if d.get("expected_relief") is not None else None),
    }


def timed_solves(exe: str, case: Path, runs: int, *extra: str) -> dict:
    rows = [solve(exe, case, *extra) for _ in range(runs)]
    out = dict(rows[-1])
    out["wall"] = statistics.median(r["wall"] for r in rows)
    out["walls"] = [round(r["wall"], 2) for r in rows]
    return out


def sweep(exe: str, work: Path) -> dict:
    out = work / "sweep"
    t0 = time.perf_counter()
    p = subprocess.run(
        [exe, "sweep", "--vary", SWEEP, "--workers", "2", "--yes", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    d = json.loads(p.stdout) if p.returncode == 0 else {}
    highs = d.get("solve_seconds_mean")
    per_point = wall * 2 / 1000  # worker-seconds per point
    return {
        "wall": wall,
        "exit": p.returncode,
        "status": "finished {}/1000".format(d.get("finished")),
        "highs": highs,
        "ratio": per_point / highs if highs else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", required=True)
    ap.add_argument("--relief", default=shutil.which("relief") or str(Path(sys.executable).with_name("relief")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-sweep", action="store_true")
    args = ap.parse_args()
    exe = args.relief
    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in (16, 64, 256):
            write_family(work / f"fam{n}", n, seed=1)
        subprocess.run([exe, "solve", "--json"], capture_output=True)  # warm the file cache
        res["default case (5 stances)"] = timed_solves(exe, ROOT / "inputs" / "korea-2026", args.runs)
        for n in (16, 64, 256):
            res[f"family {n} stances"] = timed_solves(exe, work / f"fam{n}", args.runs if n < 256 else 1)
        res["family 64 stances, --reveal 2027"] = timed_solves(exe, work / "fam64", 1, "--reveal", "2027")
        if not args.skip_sweep:
            res["1,000-point sweep, 2 workers"] = sweep(exe, work)
        write_case(work / "syn30", *generate(Size(levers=30, scenarios=150, years=8), seed=0))
        write_case(work / "syn1000", *generate(Size(levers=10, scenarios=1000, years=8), seed=0))
        for case, limit in (("syn30", 3), ("syn30", 10), ("syn1000", 10), ("syn1000", 30)):
            r = solve(exe, work / case, "--time-limit", str(limit))
            r["allowed"] = limit + max(0.1 * limit, 2.0)
            res[f"--time-limit {limit} on {case}"] = r
    store = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    store[args.label] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "results": res,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(store, indent=1) + "\n")
    write_section(store)
    print(table(store))


CASES = {
    "syn30": "synthetic 30 levers x 150 stances (seed 0)",
    "syn1000": "synthetic 10 levers x 1,000 stances (seed 0)",
}


def _cell(r: dict) -> str:
    if r is None:
        return "-"
    s = f"{r['wall']:.1f} s"
    bits = [str(r.get("status"))]
    if r.get("highs") is not None:
        bits.append(f"HiGHS {r['highs']:.2f} s")
    if r.get("ratio") is not None:
        bits.append(f"ratio {r['ratio']:.2f}")
    if r.get("allowed") is not None:
        bits.append(f"allowed {r['allowed']:.0f} s")
        bits.append(f"plan: {r.get('plan_source') or 'none'}")
        if r.get("gap") is not None:
            bits.append(f"gap {r['gap']:.0%}")
        bits.append(f"exit {r['exit']}")
    return f"{s} ({', '.join(bits)})"


def table(store: dict) -> str:
    labels = list(store)
    keys = list(dict.fromkeys(k for lab in labels for k in store[lab]["results"]))
    lines = ["| measure | goal | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for k in keys:
        name = k
        for short, long in CASES.items():
            name = name.replace(short, long)
        goal = f"<= {GOALS[k]:.0f} s" if k in GOALS else ("T + max(10%, 2 s)" if k.startswith("--time") else "")
        lines.append(f"| {name} | {goal} | " + " | ".join(_cell(store[lab]["results"].get(k)) for lab in labels) + " |")
    return "\n".join(lines)


def write_section(store: dict) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8")
    machines = "; ".join(f"{lab}: {v['machine']}, {v['date']}" for lab, v in store.items())
    body = (
        "<!-- BEGIN many-stances -->\n## Many stances, fast (issue 14)\n\n"
        "`python benchmarks/many_stances.py --label LABEL [--relief EXE]`: wall seconds of the `relief` command "
        "end to end (a new process each time; the median of 3 runs where a list is shown), on the family of "
        "benchmarks/family.py (the default case's stances copied, thresholds and credit jittered +-25%, seed 1) "
        f"and synthetic cases. {machines}.\n\n" + table(store) + "\n<!-- END many-stances -->"
    )
    start, end = text.find("<!-- BEGIN many-stances -->"), text.find("<!-- END many-stances -->")
    if start >= 0:
        text = text[:start] + body + text[end + len("<!-- END many-stances -->") :]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
