"""End-to-end wall time of `relief solve` on the shipped default case.

Runs the installed `relief` command as a planner would (a new process each time, so
Python start-up, imports, loading, validation, build, both solve stages, the independent
check and printing are all counted), and compares with HiGHS's own solve time reported
in the JSON. Usage:  python benchmarks/solve_default.py [--runs 7] [--out FILE] [--extra "--reveal 2027"]
(`--extra`: more options for relief solve, e.g. the adaptive roadmap of issue 13:
python benchmarks/solve_default.py --extra "--reveal 2027" --out benchmarks/results/solve_reveal.json)
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--case", default=None, help="case to solve (default: the shipped default case)")
    ap.add_argument("--out", default="benchmarks/results/solve_default.json")
    ap.add_argument("--extra", default="", help='more options for relief solve, e.g. "--reveal 2027"')
    args = ap.parse_args()
    exe = shutil.which("relief") or str(Path(sys.executable).with_name("relief"))
    cmd = [exe, "solve", "--json"] + ([args.case] if args.case else []) + args.extra.split()
    walls, highs, terminal = [], [], []
    for i in range(args.runs + 1):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"relief failed ({p.returncode}): {p.stderr}")
        if i == 0:
            continue  # the first run warms the file cache and writes .pyc files
        walls.append(wall)
        highs.append(json.loads(p.stdout)["solve_seconds"])
        t0 = time.perf_counter()
        subprocess.run([c for c in cmd if c != "--json"], capture_output=True, text=True)
        terminal.append(time.perf_counter() - t0)
    summary = json.loads(p.stdout)
    result = {
        "command": " ".join(["relief", "solve", "--json"] + ([args.case] if args.case else []) + args.extra.split()),
        "runs": args.runs,
        "wall_seconds_median": statistics.median(walls),
        "wall_seconds_max": max(walls),
        "terminal_summary_wall_seconds_median": statistics.median(terminal),
        "highs_seconds_median": statistics.median(highs),
        # relief end to end against HiGHS alone on the same model (both stages)
        "ratio_wall_to_highs": statistics.median(walls) / max(statistics.median(highs), 1e-9),
        "status": summary["status"],
        "expected_relief": summary["expected_relief"],
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
