"""Properties every optimum must have, on hypothesis-generated tiny cases.

Each property compares two exact solves (mip_gap 0) of related cases; relief values
are compared with a 1e-6 relative tolerance. Cases come from tests/casegen.py.
"""

from __future__ import annotations

import math

import pytest
from casegen import cases, frames
from checker import SpecCase, check_plan, close, plan_of_roadmap, tol
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relief.model.core.case import Case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.run import run_case

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
PROPS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
CASES = cases()
REL = 1e-6


def to_case(meta, tables) -> Case:
    return Case.from_tables(meta, frames(tables))


def solve(case, **kw):
    """The run result; status must be optimal (or infeasible, when force is given)."""
    res = run_case(case, OPTIONS, **kw)
    if kw.get("force") and res.status == "infeasible":
        return res
    assert res.status == "optimal", res.status
    return res


def relief(res) -> float | None:
    return res.evaluation.expected_relief if res.evaluation is not None else None


def at_least(a: float, b: float) -> bool:
    """a >= b up to the relative tolerance."""
    return a >= b - REL * max(1.0, abs(a), abs(b))


@PROPS
@given(CASES, st.sampled_from([1.5, 2.0, 10.0]))
def test_more_budget_never_lowers_relief(mt, factor):
    meta, tables = mt
    case = to_case(meta, tables)
    paths = [f"budget.*:*.public_budget_usd_bn*={factor}"]  # every envelope's yearly budgets
    if len(case.table("envelopes")):
        paths.append(f"envelopes.*.total_usd_bn*={factor}")
    if case.meta["total_public_budget"] is not None:
        paths.append(f"case.total_public_budget*={factor}")
    richer = apply_overrides(case, paths)
    base, more = relief(solve(case)), relief(solve(richer))
    assert at_least(more, base), (base, more)


@PROPS
@given(CASES, st.data())
def test_excluding_a_lever_never_raises_relief(mt, data):
    case = to_case(*mt)
    lever = data.draw(st.sampled_from(case.levers), label="excluded")
    base = solve(case)
    res = solve(case, exclude=(lever,))
    assert at_least(relief(base), relief(res))
    assert res.evaluation.portfolio[lever] == 0


@PROPS
@given(CASES, st.data())
def test_forcing_a_lever_never_raises_relief(mt, data):
    case = to_case(*mt)
    lever = data.draw(st.sampled_from(case.levers), label="forced")
    base = solve(case)
    res = solve(case, force=(lever,))
    if res.status == "infeasible":
        return
    assert at_least(relief(base), relief(res))
    lv = case.table("levers").set_index("lever")
    assert res.evaluation.portfolio[lever] >= max(lv.at[lever, "min_modules"], 1.0) - 1e-9


@PROPS
@given(CASES, st.data())
def test_row_order_changes_nothing(mt, data):
    """Shuffling the rows of every table (scenarios, levers, tiers, ...) keeps the
    optimal relief, the least discounted public spending at that relief, and the
    case's input hash."""
    meta, tables = mt
    shuffled = {name: data.draw(st.permutations(rows), label=name) for name, rows in tables.items()}
    a, b = to_case(meta, tables), to_case(meta, shuffled)
    assert a.sha256() == b.sha256()
    ra, rb = solve(a), solve(b)
    assert close(relief(ra), relief(rb), REL), (relief(ra), relief(rb))
    assert close(ra.evaluation.discounted_public_spend, rb.evaluation.discounted_public_spend, REL)
    assert close(ra.evaluation.public_spend, rb.evaluation.public_spend, REL)


@PROPS
@given(CASES, st.data())
def test_plan_never_spends_beyond_a_budget(mt, data):
    """The independent checker finds relief's plan within every yearly budget, the
    total public budget (spending after the horizon included) and every other limit,
    and worth what relief says; also when a lever is forced."""
    meta, tables = mt
    case = to_case(meta, tables)
    spec = SpecCase.from_tables(meta, tables)
    force = data.draw(st.sampled_from([()] + [(l,) for l in case.levers]), label="force")
    res = solve(case, force=force)
    if res.status == "infeasible":
        return
    plan = plan_of_roadmap(res.evaluation.roadmap)
    rep = check_plan(spec, plan, force=force)
    assert rep.feasible, rep.violations
    for (e, t), cap in spec.budget.items():  # where every lever draws on one envelope, all spending is its
        if t in spec.years and all(r["envelope"] == e for r in spec.levers.values()):
            assert rep.public_by_year.get(t, 0.0) <= cap + tol(cap)
    if spec.total_public_budget is not None:
        assert rep.public_spend <= spec.total_public_budget + tol(spec.total_public_budget)
    assert close(rep.expected_relief, relief(res))
    assert close(rep.public_spend, res.evaluation.public_spend)


@PROPS
@given(CASES, st.data())
def test_more_commitment_credit_never_lowers_relief(mt, data):
    """Scores and weights are >= 0 and committed >= operating, so crediting committed
    capacity more raises every pillar score: relief cannot fall."""
    meta, tables = mt
    grid = [0.0, 0.25, 0.5, 1.0]
    raised = [
        dict(
            r,
            commitment_credit=data.draw(
                st.sampled_from([k for k in grid if k >= r["commitment_credit"]]), label=r["scenario"]
            ),
        )
        for r in tables["scenarios"]
    ]
    base = relief(solve(to_case(meta, tables)))
    more = relief(solve(to_case(meta, dict(tables, scenarios=raised))))
    assert at_least(more, base), (base, more)


@PROPS
@given(CASES, st.data())
def test_setting_one_probability_keeps_sum_one(mt, data):
    """`scenarios.S.probability=P` sets S to P and rescales the others proportionally
    so all still sum to 1; when that is impossible (no other scenario with weight),
    it is refused, unless P is already 1."""
    case = to_case(*mt)
    sc = case.table("scenarios").set_index("scenario")["probability"]
    s = data.draw(st.sampled_from(list(sc.index)), label="scenario")
    p = data.draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0, 1)), label="p")
    rest = float(sc.drop(s).sum())
    if rest <= 0 and not math.isclose(p, 1.0, abs_tol=1e-9):
        with pytest.raises(OverrideError):
            apply_overrides(case, [f"scenarios.{s}.probability={p!r}"])
        return
    new = apply_overrides(case, [f"scenarios.{s}.probability={p!r}"])
    got = new.table("scenarios").set_index("scenario")["probability"]
    assert math.isclose(float(got.sum()), 1.0, abs_tol=1e-9)
    assert got[s] == pytest.approx(p, abs=1e-12)
    for o in sc.index:
        if o != s:
            want = sc[o] * (1 - p) / rest if rest > 0 else 0.0
            assert got[o] == pytest.approx(want, abs=1e-12)
    assert list(got.index) == list(sc.index)
    res = solve(new)
    ev = res.evaluation
    assert close(ev.expected_relief, sum(got[o] * ev.by_scenario[o] for o in got.index))
