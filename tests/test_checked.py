"""Every answer verified (issue 5, item 3): whatever reports or writes a plan (solve,
sweep points, compare --case variants, frontier) goes through the independent evaluator
and `check` first. Here the evaluator or the solver's plan is made wrong on purpose
(monkeypatched, in-process through click's runner): every command exits 4 with a
message, prints no numbers, and writes no plan.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from relief.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def wrong_relief(monkeypatch):
    """The evaluator adds 0.5 to the expected relief: above the solver's bound."""
    import relief.model.core.result as run_mod

    real = run_mod.evaluate_plan

    def wrong(case, plan, **kw):
        ev = real(case, plan, **kw)
        ev.expected_relief += 0.5
        return ev

    monkeypatch.setattr(run_mod, "evaluate_plan", wrong)


@pytest.fixture
def wrong_plan(monkeypatch):
    """The solver's plan gains one module of its first lever and year: it breaks a limit."""
    from relief.model.core.engine import HighsEngine

    real = HighsEngine.plan

    def wrong(self):
        plan = real(self)
        first = next(iter(plan))
        plan[first] += 1
        return plan

    monkeypatch.setattr(HighsEngine, "plan", wrong)


@pytest.fixture
def wrong_spend(monkeypatch):
    """The evaluator's discounted public spending is off by 0.1: it disagrees with the spending stage."""
    import relief.model.core.result as run_mod

    real = run_mod.evaluate_plan

    def wrong(case, plan, **kw):
        ev = real(case, plan, **kw)
        ev.discounted_public_spend += 0.1
        return ev

    monkeypatch.setattr(run_mod, "evaluate_plan", wrong)


def assert_check_failure(res, *words):
    assert res.exit_code == 4, (res.exit_code, res.stdout, res.stderr)
    assert "check" in res.stderr and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, res.stderr


@pytest.mark.parametrize(
    "fixture,words",
    [("wrong_relief", ["above the solver's bound"]), ("wrong_plan", ["breaks limits"]), ("wrong_spend", ["spending"])],
)
def test_solve_exits_4_and_writes_nothing(request, tmp_path, fixture, words):
    request.getfixturevalue(fixture)
    for fmt in ([], ["--json"]):
        res = invoke("solve", TINY, "--out", tmp_path / "run", *fmt)
        assert_check_failure(res, *words)
        assert res.stdout == ""  # no numbers at all, not even the JSON
        assert not (tmp_path / "run").exists()
        assert [p.name for p in tmp_path.iterdir()] == []  # no half-written sibling either
    res = invoke("solve", TINY, "--out", tmp_path / "run.xlsx")
    assert_check_failure(res)
    assert not (tmp_path / "run.xlsx").exists()


def test_solve_keeps_the_previous_run_folder(tmp_path, monkeypatch):
    assert invoke("solve", TINY, "--out", tmp_path / "run").exit_code == 0
    before = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    import relief.model.core.result as run_mod

    real = run_mod.evaluate_plan

    def wrong(case, plan, **kw):
        ev = real(case, plan, **kw)
        ev.expected_relief -= 0.5  # below the solver's incumbent
        return ev

    monkeypatch.setattr(run_mod, "evaluate_plan", wrong)
    res = invoke("solve", TINY, "--out", tmp_path / "run", "--set", "case.total_public_budget=4")
    assert_check_failure(res, "below the solver's")
    after = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert after == before


def test_compare_variants_exit_4(wrong_relief, tmp_path):
    res = invoke("compare", "--case", TINY, "--variant", "no-chips: --exclude chips", "--out", tmp_path / "cmp")
    assert_check_failure(res)
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("command", ["sweep", "frontier"])
def test_sweep_and_frontier_record_failed_points_and_exit_4(wrong_plan, tmp_path, command):
    """A sweep keeps going (its other points may be fine), but a point whose plan fails the
    check carries no numbers, and the command exits 4 saying so."""
    args = ["--vary", "case.total_public_budget=2:6:3"] if command == "sweep" else ["--range", "2:6:3"]
    res = invoke(command, TINY, *args, "--out", tmp_path / "s", "--no-reuse", "--json")
    assert res.exit_code == 4, (res.stdout, res.stderr)
    assert "3 point(s) failed relief's independent check" in res.stderr
    assert json.loads(res.stdout)["counts"] == {"check_failed": 3}
    with open(tmp_path / "s" / "points.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["check_failed"] * 3
    for r in rows:
        assert r["expected_relief"] == "" and r["public_spend"] == "" and r["smelter"] == ""
        assert "breaks limits" in r["message"]
    if command == "frontier":
        with open(tmp_path / "s" / "frontier.csv", newline="") as f:
            assert list(csv.DictReader(f)) == []


def test_reused_plan_must_keep_its_relief():
    """A looser point's plan is reused only if it is still worth what it was worth there
    (limits do not change a plan's value); otherwise the point is solved."""
    from relief.model.core.case import load_case
    from relief.model.core.options import SolveOptions
    from relief.model.sweeps.runner import SweepWorker

    tiny = load_case(TINY)
    worker = SweepWorker(tiny, SolveOptions())
    plan = {("chips", 2026): 1.0, ("chips", 2027): 1.0}  # the optimum, relief 2.2 (examples/tiny/README.md)
    good = worker.run(1, [], candidate=(0, {"status": "optimal", "mip_gap": 0.0, "plan": plan, "expected_relief": 2.2}))
    assert "reused" in good["message"] and good["expected_relief"] == pytest.approx(2.2)
    bad = worker.run(1, [], candidate=(0, {"status": "optimal", "mip_gap": 0.0, "plan": plan, "expected_relief": 2.5}))
    assert "reused" not in bad["message"] and bad["solve_seconds"] > 0
    assert bad["status"] == "optimal" and bad["expected_relief"] == pytest.approx(2.2)
