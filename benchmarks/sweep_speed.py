"""Sweep speed against the raw-HiGHS floor, and the parallel speed-up.

The floor: the very model relief solves, passed once to a bare `highspy.Highs`; between
points only the changed row bound is updated, and both lexicographic stages run (max
relief, then min discounted spending at that relief). Its time per point is HiGHS's own.
relief: `run_sweep` on the same points in this process (one worker, every point solved
afresh: the like-for-like ratio), then with plan reuse, then with 2 worker processes, and
finally the full 1,000-point sweep with 2 workers and plan reuse, as a planner runs it.
All are timed on the same machine in the same run.

    python benchmarks/sweep_speed.py --points 200 [--param case.total_public_budget --low 50 --high 250]

Writes benchmarks/results/sweep_speed.json and the section "Sweep speed" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np

from relief.model.core.build import build_model
from relief.model.core.case import load_case
from relief.model.core.engine import INF, HighsEngine
from relief.model.core.options import RELIEF_TOLERANCE, RELIEF_TOLERANCE_ABS, SolveOptions
from relief.model.sweeps.runner import run_sweep
from relief.model.sweeps.spec import SweepDefinition, parse_vary

ROOT = Path(__file__).resolve().parent.parent


def floor(case, options, param: str, values) -> tuple[list[float], list[float]]:
    """Raw highspy: both stages per point, only the swept bound changed. Returns (seconds, relief) per point."""
    model = build_model(case)
    engine = HighsEngine(model, options)  # used only to get the same matrix, costs and row indices
    lp = engine.highs.getLp()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in engine._option_values().items():
        h.setOptionValue(k, v)
    h.passModel(lp)
    rows = _rows_of(engine, param)
    n = lp.num_col_
    cols = np.arange(n, dtype=np.int32)
    secs, reliefs = [], []
    for v in values:
        for i in rows:
            h.changeRowBounds(i, -INF, float(v))
        h.changeRowBounds(engine.relief_row, -INF, INF)
        h.changeColsCost(n, cols, engine.relief_cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.clearSolver()
        t0 = time.perf_counter()
        h.run()
        t1 = time.perf_counter() - t0
        r = h.getInfo().objective_function_value
        h.changeRowBounds(engine.relief_row, r - max(RELIEF_TOLERANCE * abs(r), RELIEF_TOLERANCE_ABS), INF)
        h.changeColsCost(n, cols, engine.spend_cost)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.clearSolver()
        t0 = time.perf_counter()
        h.run()
        secs.append(t1 + time.perf_counter() - t0)
        reliefs.append(r)
    return secs, reliefs


def _rows_of(engine, param: str) -> list[int]:
    if param == "case.total_public_budget":
        return [i for i, c in enumerate(engine.rows) if c.parent_component().name == "total_budget_limit"]
    raise SystemExit(f"the floor knows only case.total_public_budget, not {param}")


def relief_sweep(case, options, param, low, high, n, workers, reuse=False) -> tuple[float, list[dict]]:
    out = Path(tempfile.mkdtemp(prefix="relief-bench-"))
    try:
        defn = SweepDefinition(parameters=[parse_vary(f"{param}={low}:{high}:{n}")])
        t0 = time.perf_counter()
        store, points, _ = run_sweep(defn, case, options, out / "sweep", workers=workers, reuse=reuse)
        wall = time.perf_counter() - t0
        return wall, [store.done[p.id] for p in points]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def update_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the text between <!-- BEGIN name --> and <!-- END name -->."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--param", default="case.total_public_budget")
    ap.add_argument("--low", type=float, default=50.0)
    ap.add_argument("--high", type=float, default=250.0)
    ap.add_argument("--case", default=str(ROOT / "inputs" / "korea-2026"))
    ap.add_argument("--skip-parallel", action="store_true")
    ap.add_argument(
        "--full-points", type=int, default=1000, help="size of the full sweep timed with 2 workers and plan reuse"
    )
    args = ap.parse_args()
    case = load_case(args.case)
    options = SolveOptions.resolve(case.meta, time_limit=60.0)
    values = [float(v) for v in np.linspace(args.low, args.high, args.points)]

    f_secs, f_relief = floor(case, options, args.param, values)
    serial_wall, rows = relief_sweep(case, options, args.param, args.low, args.high, args.points, 1, reuse=False)
    r_relief = [float(r["expected_relief"]) for r in rows]
    mismatch = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(f_relief, r_relief))
    result = {
        "case": case.name,
        "sweep": f"{args.param}={args.low}:{args.high}:{args.points}",
        "points": args.points,
        "floor_seconds_per_point": sum(f_secs) / len(f_secs),
        "floor_seconds_per_point_median": statistics.median(f_secs),
        "floor_seconds_total": sum(f_secs),
        "relief_serial_wall_seconds": serial_wall,
        "relief_seconds_per_point": serial_wall / args.points,
        "relief_highs_seconds_per_point": sum(float(r["solve_seconds"]) for r in rows) / len(rows),
        "ratio_relief_to_floor": (serial_wall / args.points) / (sum(f_secs) / len(f_secs)),
        "max_relative_difference_in_relief": mismatch,
        "machine": f"{platform.machine()}, {platform.python_version()}, HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}",
    }
    reuse_wall, reuse_rows = relief_sweep(case, options, args.param, args.low, args.high, args.points, 1, reuse=True)
    result["relief_serial_with_reuse_wall_seconds"] = reuse_wall
    result["points_reused"] = sum(1 for r in reuse_rows if "reused" in r["message"])
    result["max_relative_difference_in_relief_with_reuse"] = max(
        abs(a - float(b["expected_relief"])) / max(1.0, abs(a)) for a, b in zip(f_relief, reuse_rows)
    )
    if not args.skip_parallel:
        par_wall, _ = relief_sweep(case, options, args.param, args.low, args.high, args.points, 2)
        result["relief_2_workers_wall_seconds"] = par_wall
        result["parallel_speedup_2_workers"] = serial_wall / par_wall
        full_wall, full_rows = relief_sweep(
            case, options, args.param, args.low, args.high, args.full_points, 2, reuse=True
        )
        result["full_sweep"] = f"{args.param}={args.low}:{args.high}:{args.full_points}"
        result["full_sweep_2_workers_with_reuse_wall_seconds"] = full_wall
        result["full_sweep_points_reused"] = sum(1 for r in full_rows if "reused" in r["message"])
        result["full_sweep_statuses"] = sorted({r["status"] for r in full_rows})
    out = ROOT / "benchmarks" / "results" / "sweep_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    lines = [
        "## Sweep speed against raw HiGHS",
        "",
        f"`python benchmarks/sweep_speed.py --points {args.points}` on {result['machine']}: the default case, "
        f"`{result['sweep']}`, per-point time limit 60 s, threads 1.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| raw-HiGHS floor, seconds per point (both stages; mean / median) | {result['floor_seconds_per_point']:.4f} / {result['floor_seconds_per_point_median']:.4f} |",
        f"| relief sweep, one worker, wall seconds per point | {result['relief_seconds_per_point']:.4f} |",
        f"| of which HiGHS | {result['relief_highs_seconds_per_point']:.4f} |",
        f"| ratio relief / floor | {result['ratio_relief_to_floor']:.3f} |",
        f"| largest relative difference in expected relief, relief vs floor | {mismatch:.2e} |",
        f"| relief, one worker, with plan reuse: wall seconds for {args.points} points ({result['points_reused']} reused) | {reuse_wall:.1f} |",
        f"| largest relative difference in expected relief, reuse vs floor | {result['max_relative_difference_in_relief_with_reuse']:.2e} |",
    ]
    if "parallel_speedup_2_workers" in result:
        lines += [
            f"| relief, 2 worker processes, no reuse: wall seconds for {args.points} points | {result['relief_2_workers_wall_seconds']:.1f} |",
            f"| parallel speed-up with 2 workers (no reuse) | {result['parallel_speedup_2_workers']:.2f}x |",
            f"| **{result['full_sweep']}, 2 workers, plan reuse: wall seconds** ({result['full_sweep_points_reused']} of {args.full_points} reused; statuses {', '.join(result['full_sweep_statuses'])}) | **{result['full_sweep_2_workers_with_reuse_wall_seconds']:.1f}** |",
        ]
    lines += [
        "",
        "The ratio compares like with like: every point solved afresh (no plan reuse) against raw HiGHS doing the same two solves. "
        "The full sweep is what a planner runs: `relief sweep --vary ... --workers 2` with plan reuse on (the default).",
    ]
    update_section(ROOT / "docs" / "benchmarks.md", "sweep-speed", "\n".join(lines))


if __name__ == "__main__":
    main()
