"""The re-solve session (model/core/session.py): one model and engine re-solved for many cases.

The claims tested: a session that solved case A and then solves case B gives exactly what a
fresh `run_case(B)` gives (the same plan, relief and spending, to the last bit), whatever
it solved before; a case of another structure (a later earliest year, another horizon)
falls back to a model of its own and still agrees with `run_case`; and plan reuse returns
a plan only when it meets every limit of the new case and keeps its relief.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from casegen import frames, random_case

from relief.model.core.case import Case, load_case
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.options import SolveOptions, SolveOutcome
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case
from relief.model.core.session import Session

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
TINY_PLAN = {("chips", 2026): 1.0, ("chips", 2027): 1.0}  # the optimum, relief 2.2 (examples/tiny/README.md)


def assert_same(got, want):
    """Two runs agree exactly: status, plan, relief (and by scenario) and spending."""
    assert got.status == want.status
    assert (got.evaluation is None) == (want.evaluation is None)
    if want.evaluation is None:
        return
    a, b = got.evaluation, want.evaluation
    assert a.plan == b.plan
    assert a.expected_relief == b.expected_relief
    assert dict(a.by_scenario) == dict(b.by_scenario)
    assert a.public_spend == b.public_spend
    assert a.discounted_public_spend == b.discounted_public_spend
    assert got.outcome.objective == want.outcome.objective


def variants(case: Case) -> list[Case]:
    """Cases of the same structure: budgets scaled down and up, one lever's size limit lowered."""
    first = str(case.table("levers")["lever"].iloc[0])
    sets = [
        ["budget.*.public_budget_usd_bn*=0.5"],
        ["budget.*.public_budget_usd_bn*=1.5"],
        [f"levers.{first}.max_modules=1", f"levers.{first}.min_modules=0"],
    ]
    return [apply_overrides(case, s) for s in sets]


@pytest.mark.parametrize("seed", range(4))
def test_resolving_another_case_equals_a_fresh_run(seed):
    meta, tables = random_case(seed, min_plans=20, max_plans=2000)
    base = Case.from_tables(meta, frames(tables))
    session = Session(base, OPTIONS)
    assert_same(session.solve(base), run_case(base, OPTIONS))
    for case in variants(base):
        assert_same(session.solve(case), run_case(case, OPTIONS))
    # and back: what the session solved before leaves no trace
    assert_same(session.solve(base), run_case(base, OPTIONS))


def test_resolving_tiny_equals_a_fresh_run():
    tiny = load_case(TINY)
    session = Session(tiny, OPTIONS)
    cases = [*variants(tiny), apply_overrides(tiny, ["case.total_public_budget=4"]), tiny]
    for case in cases:
        assert_same(session.solve(case), run_case(case, OPTIONS))
    assert session.seconds > 0
    assert session.integers().shape == session.integer_cols.shape


def test_a_structure_change_falls_back_to_a_model_of_its_own():
    tiny = load_case(TINY)
    session = Session(tiny, OPTIONS)
    for sets in (["levers.chips.earliest_year=2027"], ["case.last_year=2026"]):
        late = apply_overrides(tiny, sets)
        assert_same(session.solve(late), run_case(late, OPTIONS))
        assert session.last_engine is not session.engine  # built for that case, not the session's
        assert_same(session.solve(tiny), run_case(tiny, OPTIONS))  # the session's model is untouched
        assert session.last_engine is session.engine


@pytest.mark.parametrize("seed", range(4))
def test_a_structure_change_on_random_cases(seed):
    meta, tables = random_case(seed, min_plans=20, max_plans=2000)
    base = Case.from_tables(meta, frames(tables))
    first = str(base.table("levers")["lever"].iloc[0])
    late = apply_overrides(base, [f"levers.{first}.earliest_year={base.meta['last_year']}"])
    session = Session(base, OPTIONS)
    assert_same(session.solve(late), run_case(late, OPTIONS))
    assert_same(session.solve(base), run_case(base, OPTIONS))


def _optimal() -> SolveOutcome:
    return SolveOutcome(status="optimal", has_solution=True, mip_gap=0.0)


def test_plan_reuse_keeps_a_plan_that_still_fits_and_its_value():
    """The tiny optimum spends 4.0 of public money: a total budget of 4 keeps it, and the
    solve at that budget finds a plan of the same relief."""
    tiny = load_case(TINY)
    session = Session(tiny, OPTIONS)
    tighter = apply_overrides(tiny, ["case.total_public_budget=4"])
    reused = session.reuse(tighter, TINY_PLAN, 2.2, _optimal())
    assert reused is not None and reused.case is tighter
    assert reused.evaluation.expected_relief == pytest.approx(2.2)
    assert not reused.evaluation.violations
    assert reused.evaluation.expected_relief == evaluate_plan(tighter, TINY_PLAN).expected_relief
    solved = run_case(tighter, OPTIONS)
    assert solved.evaluation.expected_relief == pytest.approx(reused.evaluation.expected_relief, abs=1e-9)
    assert solved.evaluation.discounted_public_spend == pytest.approx(reused.evaluation.discounted_public_spend)


def test_plan_reuse_refuses_a_plan_that_breaks_a_limit_or_changes_value():
    tiny = load_case(TINY)
    session = Session(tiny, OPTIONS)
    too_tight = apply_overrides(tiny, ["case.total_public_budget=3"])
    assert evaluate_plan(too_tight, TINY_PLAN).violations
    assert session.reuse(too_tight, TINY_PLAN, 2.2, _optimal()) is None
    tighter = apply_overrides(tiny, ["case.total_public_budget=4"])
    assert session.reuse(tighter, TINY_PLAN, 2.5, _optimal()) is None  # not worth what it was: solve instead
    assert session.reuse(tighter, TINY_PLAN, None, _optimal()) is None


@pytest.mark.parametrize("seed", range(4))
def test_reused_plans_agree_with_the_solve(seed):
    """Wherever reuse accepts the optimum of the looser case, the tighter case's own solve
    is worth the same (relief, then spending)."""
    meta, tables = random_case(seed, min_plans=20, max_plans=2000)
    base = Case.from_tables(meta, frames(tables))
    session = Session(base, OPTIONS)
    best = session.solve(base)
    if best.evaluation is None:
        return
    ev = best.evaluation
    for factor in (0.9, 0.7, 0.5):
        tighter = apply_overrides(base, [f"budget.*.public_budget_usd_bn*={factor}"])
        reused = session.reuse(tighter, ev.plan, ev.expected_relief, best.outcome)
        solved = run_case(tighter, OPTIONS)
        if reused is None:
            assert evaluate_plan(tighter, ev.plan).violations
            continue
        assert not reused.evaluation.violations
        assert solved.evaluation.expected_relief == pytest.approx(reused.evaluation.expected_relief, abs=1e-6)
        assert solved.evaluation.discounted_public_spend == pytest.approx(
            reused.evaluation.discounted_public_spend, abs=1e-6
        )
