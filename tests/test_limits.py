"""Hard instances, time limits and determinism (issue 5, item 4).

* A time limit that stops HiGHS after it has a plan but before it has proved it optimal:
  exit 0, status `time_limit`, the plan with its bound and gap, and a warning saying so.
  A time limit that stops HiGHS before it has any plan: exit 4, "no plan".
  The cases are synthetic (benchmarks/synthetic.py), measured on a 2-core machine:
  L20-S8-T10-R6-K5 has a plan within 0.3 s and still a 42% gap after 8 s (limit 2 s
  here); L40-S8-T12-R8-K6 has no plan after 0.3 s (limit 0.05 s here).
* The same inputs and options give byte-identical files. The only values that vary are
  wall-clock times: `solve_seconds` in a run's summary.json; in a sweep, the
  `solve_seconds` column of points.csv and `wall_seconds`, `solve_seconds_mean`,
  `solve_seconds_max` of its summary.json (docs/reliability.md).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import Size, generate, write_case  # noqa: E402

TIMINGS_RUN = ("solve_seconds",)
TIMINGS_SWEEP = ("wall_seconds", "solve_seconds_mean", "solve_seconds_max")


from cliutil import relief_exe as _relief_exe  # noqa: E402

RELIEF = _relief_exe()
ENV = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")


def relief(*args, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([RELIEF, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


def synthetic(folder: Path, size: Size, seed: int = 0) -> Path:
    meta, tables = generate(size, seed)
    return write_case(folder, meta, tables)


# ----------------------------------------------------------------------------------
# time limits
# ----------------------------------------------------------------------------------


def test_time_limit_returns_the_best_plan_with_its_bound_and_gap(tmp_path):
    case = synthetic(tmp_path / "hard", Size(levers=20, scenarios=8, years=10, tracks=6, tiers=5))
    # 8 s from the command's start (loading and building included, issue 14): HiGHS finds a plan
    # in about 1 s of it on a quiet machine (4 s was too short on a machine three times
    # oversubscribed), and does not prove it optimal in 30 s (a 33% gap)
    r = relief("solve", case, "--time-limit", "8", "--json", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["status"] == "time_limit"
    relief_, bound, gap = obj["expected_relief"], obj["objective_bound"], obj["mip_gap"]
    assert relief_ is not None and relief_ > 0 and obj["portfolio"] and obj["plan_source"] == "solver"
    assert bound >= relief_ and gap > 0.01
    assert gap == pytest.approx((bound - relief_) / relief_)  # the gap of the plan reported
    assert "warning: status time_limit" in r.stderr and "best plan found" in r.stderr and "Traceback" not in r.stderr
    assert f"{bound:.4g}" in r.stderr
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["status"] == "time_limit" and written["expected_relief"] == relief_
    assert (tmp_path / "run" / "roadmap.csv").is_file()


def test_time_limit_before_any_plan_reports_the_empty_plan(tmp_path):
    """Issue 14: a limit too short for HiGHS to find a plan still returns one when one exists:
    nothing is owed here, so the empty plan, checked, with the tables' bound and a 100% gap,
    exit 0. (Exit 4 when no plan can be found: tests/test_time_limit.py.)"""
    case = synthetic(tmp_path / "harder", Size(levers=40, scenarios=8, years=12, tracks=8, tiers=6))
    r = relief("solve", case, "--time-limit", "0.05", "--json", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["status"] == "time_limit" and obj["expected_relief"] == 0.0 and obj["mip_gap"] == 1.0
    assert obj["plan_source"] == "the empty plan (nothing committed)"
    assert not any(obj["portfolio"].values()) and obj["objective_bound"] > 0
    assert "reported instead: the empty plan" in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------------
# determinism
# ----------------------------------------------------------------------------------


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def without_keys(text: bytes, keys) -> bytes:
    """summary.json (indent 2, one key a line) with the lines of `keys` taken out."""
    pattern = re.compile(rb'^\s*"(%s)": .*\n' % b"|".join(k.encode() for k in keys), re.M)
    return pattern.sub(b"", text)


def without_column(text: bytes, column: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.decode())))
    i = rows[0].index(column)
    return [r[:i] + r[i + 1 :] for r in rows]


def assert_same_run(a: Path, b: Path) -> None:
    fa, fb = files_of(a), files_of(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        if name == "summary.json":
            # exactly the timing lines may differ, nothing else (not even key order or formatting)
            assert without_keys(fa[name], TIMINGS_RUN) == without_keys(fb[name], TIMINGS_RUN), name
            assert fa[name].count(b"\n") == fb[name].count(b"\n")
        else:
            assert fa[name] == fb[name], f"{name} differs between two identical runs"


@pytest.mark.parametrize(
    "case",
    [None, "examples/tiny", "examples/metals-alliance", "examples/tight-budget"],
    ids=["default", "tiny", "metals-alliance", "tight-budget"],
)
def test_same_inputs_give_identical_files(tmp_path, case):
    args = [ROOT / case] if case else []
    for out in ("A", "B"):
        r = relief("solve", *args, "--out", out, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    assert_same_run(tmp_path / "A", tmp_path / "B")
    if case == "examples/tiny":  # and a run folder rewritten in place is the same again
        r = relief("solve", *args, "--out", "A", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert_same_run(tmp_path / "A", tmp_path / "B")


def test_same_sweep_gives_identical_files(tmp_path):
    shutil.copytree(ROOT / "examples" / "tiny", tmp_path / "tiny")
    vary = ["--vary", "case.total_public_budget=0:6:7", "--vary", "levers.chips.capex_per_module*=0.5,1"]
    for out in ("A", "B"):
        r = relief("sweep", "tiny", *vary, "--out", out, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    fa, fb = files_of(tmp_path / "A"), files_of(tmp_path / "B")
    assert sorted(fa) == sorted(fb) and "lever_frequency.png" in fa  # charts too
    for name in fa:
        if name == "points.csv":
            assert without_column(fa[name], "solve_seconds") == without_column(fb[name], "solve_seconds")
        elif name == "summary.json":
            assert without_keys(fa[name], TIMINGS_SWEEP) == without_keys(fb[name], TIMINGS_SWEEP)
        else:
            assert fa[name] == fb[name], f"{name} differs between two identical sweeps"
