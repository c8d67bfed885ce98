"""`relief solve --decompose ph` (mpi-sppy progressive hedging) against the monolithic solve.

For each size of the many-stance family (benchmarks/family.py, seed 1): the monolithic
`relief solve CASE --json` (with --time-limit, default 300 s: at 1,000 stances it may not
finish) and `relief solve CASE --decompose ph --json` on K = 1 process and under
`mpiexec -n K` for each other K. Each run is a fresh process, timed end to end (load, build,
solve, check). Recorded: status, the plan's expected relief (relief's evaluator), the bound,
the gap, PH's iterations and cylinders; and each PH plan's relief against the monolithic's.

    python benchmarks/decompose.py --stances 1000 --runs 1:auto 2:none 2:auto [--mono-limit 300] [--reuse-mono]

A run K:SPOKES is `mpiexec -n K relief solve CASE --decompose ph --ph-spokes SPOKES` (K = 1: no
mpiexec). --reuse-mono keeps the monolithic figures of a previous run of the same size.

Writes benchmarks/results/decompose.json (merged by number of stances).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from family import write_family  # noqa: E402

RESULTS = HERE / "results" / "decompose.json"
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> dict:
    """Run `cmd` (a relief --json command); its JSON's key figures and the wall time."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    out = {"command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), "exit": p.returncode}
    out["wall_seconds"] = round(wall, 2)
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        out["stderr"] = p.stderr[-500:]
        return out
    out.update(
        status=d["status"],
        expected_relief=d["expected_relief"],
        bound=d.get("objective_bound"),
        gap=d.get("mip_gap"),
        public_spend=d["public_spend"],
    )
    if "decompose" in d:
        ph = d["decompose"]
        out.update({k: ph[k] for k in ("ranks", "cylinders", "iterations", "subproblems", "stopped_by", "seconds")})
    return out


def run(stances: int, runs: list[str], iterations: int, mono_limit: float, bundle: int, mono=None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="relief-decompose-"))
    try:
        case = write_family(work / "case", stances=stances, seed=1)
        relief = str(BIN / "relief")
        row: dict = {"stances": stances, "seed": 1}
        row["monolithic"] = mono or timed([relief, "solve", str(case), "--json", "--time-limit", str(mono_limit)])
        row["ph"] = []
        for spec in runs:
            k, spokes = int(spec.split(":")[0]), spec.split(":")[1]
            cmd = [relief, "solve", str(case), "--decompose", "ph", "--json", "--ph-iterations", str(iterations)]
            cmd += ["--ph-bundle", str(bundle), "--ph-spokes", spokes, "--time-limit", "900"]
            if k > 1:
                cmd = [str(BIN / "mpiexec"), "-n", str(k), *cmd]
            r = timed(cmd)
            mono = row["monolithic"].get("expected_relief")
            if mono and r.get("expected_relief") is not None:
                r["relief_vs_monolithic"] = round(r["expected_relief"] / mono - 1, 6)
                if row["monolithic"].get("status") == "optimal" and r.get("bound") is not None:
                    r["bound_valid"] = r["bound"] >= mono - 1e-6 * abs(mono)
            row["ph"].append(r)
            print(json.dumps(r), flush=True)
        print(json.dumps(row["monolithic"]), flush=True)
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stances", type=int, nargs="+", default=[1000])
    ap.add_argument("--runs", nargs="+", default=["1:auto", "2:none", "2:auto"])
    ap.add_argument("--reuse-mono", action="store_true")
    ap.add_argument("--ph-iterations", type=int, default=20)
    ap.add_argument("--ph-bundle", type=int, default=4)
    ap.add_argument("--mono-limit", type=float, default=300.0)
    a = ap.parse_args()
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows = {r["stances"]: r for r in old.get("rows", [])}
    for n in a.stances:
        mono = rows[n]["monolithic"] if a.reuse_mono and n in rows else None
        rows[n] = run(n, a.runs, a.ph_iterations, a.mono_limit, a.ph_bundle, mono)
    out = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "note": "family: benchmarks/family.py seed 1; wall seconds end to end, fresh processes",
        "rows": [rows[n] for n in sorted(rows)],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
