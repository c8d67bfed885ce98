"""Wall time and estimates of `relief solve --sample` (the MRP) on the shipped default case.

Runs the installed `relief` command as a planner would (a new process each time: start-up,
imports, the M + 1 sampled solves, the evaluation sample and printing all counted) with 1
and 2 workers, and writes the median wall time, the user CPU of the process and its
children, the machine's load average before each run, and the MRP's estimates (identical
whatever the workers: checked). Usage:

    python benchmarks/sample_mrp.py [--runs 3] [--n 20] [--replications 10] [--seed 1]
        [--out benchmarks/results/sample_mrp.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def one_run(cmd: list[str]) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"relief failed ({p.returncode}): {p.stderr}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before, json.loads(p.stdout)["sample"]


def numbers(sample: dict) -> dict:
    return {k: sample[k] for k in ("candidate_relief", "gap", "replication_optimum", "replication_bound")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results/sample_mrp.json")
    args = ap.parse_args()
    exe = shutil.which("relief") or str(Path(sys.executable).with_name("relief"))
    base = [exe, "solve", "--json", "--sample", str(args.n), "--replications", str(args.replications)]
    base += ["--seed", str(args.seed)]
    out: dict = {"python": platform.python_version(), "machine": platform.machine(), "cores": os.cpu_count()}
    first = None
    for workers in (1, 2):
        walls, cpus, loads = [], [], []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            wall, cpu, sample = one_run([*base, "--workers", str(workers)])
            walls.append(wall)
            cpus.append(cpu)
            first = first or numbers(sample)
            if numbers(sample) != first:
                sys.exit(f"--workers {workers} gave other numbers than the first run")
        out[f"workers_{workers}"] = {
            "wall_median_s": statistics.median(walls),
            "walls_s": walls,
            "user_cpu_median_s": statistics.median(cpus),
            "load_average_before": loads,
        }
    gap, rel = first["gap"], first["candidate_relief"]
    out["estimates"] = {"candidate_relief": rel, "gap": gap}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print("| workers | wall median s (runs) | user CPU median s | load average before |")
    print("|---|---|---|---|")
    for w in (1, 2):
        r = out[f"workers_{w}"]
        walls = ", ".join(f"{x:.1f}" for x in r["walls_s"])
        loads = ", ".join(f"{x:.1f}" for x in r["load_average_before"])
        print(f"| {w} | {r['wall_median_s']:.1f} ({walls}) | {r['user_cpu_median_s']:.1f} | {loads} |")
    print(
        f"candidate's relief {rel['estimate']:.3f} ± {rel['half_width']:.3f} ({rel['evaluation_stances']} stances); "
        f"gap estimate {gap['estimate']:.4f} (sd {gap['sd']:.4f}), upper bound {gap['ci_upper']:.4f} "
        f"({gap['ci_upper_share_of_relief']:.2%} of relief)"
    )


if __name__ == "__main__":
    main()
