"""`relief solve --decompose ph` (mpi-sppy progressive hedging, model/core/decompose.py).

On a synthetic case of 6 stances small enough for the monolithic solve, whose wait-and-see
bound is 5.6% above the optimum (so PH's bound is not trivially tight): the plan that PH
reports passes relief's evaluator and the independent checker, its relief is at most the
monolithic optimum and the outer bound at least it; under a real `mpiexec -n 2` (the
mpich wheel's, installed with the project: missing, the test fails) through the console
script, with a Lagrangian bounder on the second rank; refusals of what PH cannot do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import checker
import pytest
from cliutil import ENV, relief_exe, run_in_process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic import Size, generate, write_case  # noqa: E402

SIZE = Size(levers=5, scenarios=6, years=4, tracks=2, tiers=3, pillars=3)
OPTIMUM = 11.6534596617  # the monolithic optimum (relief solve --mip-gap 0), re-checked below
WAIT_AND_SEE = 12.3014953276  # sum over stances of probability x that stance's own optimum
TOL = 1e-6


@pytest.fixture(scope="module")
def syn6(tmp_path_factory) -> Path:
    meta, tables = generate(SIZE, seed=0)
    return write_case(tmp_path_factory.mktemp("syn6") / "case", meta, tables)


def mpiexec() -> str:
    exe = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    if exe is None:  # the project installs it (pyproject.toml: mpich): its absence is a failure
        pytest.fail("mpiexec is not installed next to this Python (pip install -e '.[test]' installs mpich)")
    return exe


def assert_brackets(summary: dict, case_dir: Path) -> None:
    """The plan is feasible and worth what is said (independent checker); plan <= optimum <= bound."""
    ph = summary["decompose"]
    plan = {(l, int(t)): v for l, years in summary["schedule"].items() for t, v in years.items()}
    rep = checker.check_plan(checker.SpecCase.from_folder(case_dir), plan)
    assert rep.feasible, rep.violations
    assert rep.expected_relief == pytest.approx(summary["expected_relief"], rel=1e-6)
    assert ph["inner_bound"] == pytest.approx(summary["expected_relief"], rel=1e-9)
    assert summary["expected_relief"] <= OPTIMUM + TOL
    assert ph["outer_bound"] >= OPTIMUM - TOL
    assert summary["objective_bound"] == ph["outer_bound"]
    assert ph["gap"] == pytest.approx((ph["outer_bound"] - ph["inner_bound"]) / ph["inner_bound"], abs=1e-12)


def test_monolithic_reference(syn6):
    """The reference figures are what relief's exact solve gives for this case."""
    r = run_in_process("solve", syn6, "--mip-gap", "0", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["expected_relief"] == pytest.approx(OPTIMUM, rel=1e-9)


def test_one_rank_plan_and_bounds(syn6, tmp_path):
    """Without mpiexec: one rank, the PH hub alone; its bound is the wait-and-see bound."""
    out = tmp_path / "run"
    r = run_in_process(
        "solve", syn6, "--decompose", "ph", "--ph-bundle", "1", "--ph-iterations", "4", "--mip-gap", "0", "--json",
        "--out", out,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert_brackets(s, syn6)
    ph = s["decompose"]
    assert (ph["ranks"], ph["cylinders"], ph["subproblems"]) == (1, ["ph"], 6)
    assert ph["outer_bound"] == pytest.approx(WAIT_AND_SEE, rel=1e-6)
    assert s["status"] == "iteration_limit" and ph["gap"] > 0.05  # a gap remains: said, exit 0
    assert "second stage" in r.stderr and "not run" in r.stderr
    assert json.loads((out / "summary.json").read_text())["decompose"] == ph
    assert checker.check_run_folder(out, syn6).feasible


def test_gap_reached_is_optimal(syn6):
    """At a gap wider than the wait-and-see bound's, PH stops after iteration 0: status optimal."""
    r = run_in_process("solve", syn6, "--decompose", "ph", "--ph-bundle", "2", "--mip-gap", "0.1", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert_brackets(s, syn6)
    assert s["status"] == "optimal" and s["decompose"]["stopped_by"] == "gap"
    assert s["decompose"]["iterations"] == 1


def test_mpiexec_two_ranks(syn6):
    """Real MPI through the console script: rank 0 alone prints one JSON object; the second rank
    runs the Lagrangian bounder, whose bound is below the wait-and-see bound yet valid."""
    cmd = [mpiexec(), "-n", "2", relief_exe(), "solve", str(syn6), "--decompose", "ph"]
    cmd += ["--ph-bundle", "1", "--ph-iterations", "6", "--mip-gap", "0", "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)  # exactly one JSON object: no mpi-sppy chatter, no second rank's output
    assert_brackets(s, syn6)
    ph = s["decompose"]
    assert (ph["ranks"], ph["cylinders"]) == (2, ["ph", "lagrangian"])
    assert ph["outer_bound"] < WAIT_AND_SEE - 1e-3
    assert p.stderr.count("second stage") == 1  # rank 1 says nothing


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--risk", "worst"], "risk measure"),
        (["--reveal", "2027"], "adaptive roadmap"),
        (["--ph-spokes", "lagrangian"], "needs at least 2 MPI processes"),
    ],
)
def test_refusals(extra, words):
    r = run_in_process("solve", ROOT / "examples" / "tiny", "--decompose", "ph", *extra)
    assert r.returncode == 2
    assert words in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_time_limit_gives_the_plan_with_its_bound(syn6):
    """At --time-limit PH stops between iterations: status time_limit, the plan, its bound and gap, exit 0."""
    r = run_in_process(
        "solve", syn6, "--decompose", "ph", "--ph-bundle", "1", "--ph-iterations", "1000", "--mip-gap", "0",
        "--time-limit", "1", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["status"] == "time_limit" and s["decompose"]["stopped_by"] == "time_limit"
    assert 1 <= s["decompose"]["iterations"] < 1000
    assert_brackets(s, syn6)
    assert "time limit" in r.stderr and f"{s['mip_gap']:.2%}" in r.stderr
