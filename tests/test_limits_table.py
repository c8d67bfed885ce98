"""The table of limits (model/core/limits.py) against the model, the evaluator and the schema.

Adding a constraint to build.py without a row in the table, a row without a checker in
evaluate.py, or a row whose case path is not a column of the schema fails here: before the
table, forgetting one of the eight places a constraint was named made the infeasibility
explanation, marginal values or plan reuse quietly worse.

And a property of the rows with a case path: tightening the limit below what the optimal
plan uses makes the evaluator (the constraint's twin) report a violation naming it.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest

from relief.model.analyses import marginal
from relief.model.core import diagnose, evaluate, limits
from relief.model.core.build import Structure, build_model, parameter_values
from relief.model.core.case import load_case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case
from relief.model.core.schema import CASE_FIELDS, TABLES
from relief.model.sweeps import runner

ROOT = Path(__file__).resolve().parents[1]
RICH = ROOT / "examples" / "metals-alliance"  # pools, relations, tier requirements, total budget
ENVELOPES = ROOT / "examples" / "two-envelopes"  # yearly budgets and a total per funding envelope


def _models():
    """The richest models: every option of build.py, each risk measure, forced and excluded levers."""
    case = load_case(RICH)
    levers = list(case.levers)
    out = []
    for risk in ("expected", "cvar", "worst"):
        c = apply_overrides(case, [f"case.risk_measure={risk}"])
        out.append((risk, build_model(c, force=levers[:1], exclude=levers[-1:])))
    return out


@pytest.fixture(scope="module")
def models():
    return _models()


def _constraints(m) -> set[str]:
    return {c.name for c in m.component_objects(pyo.Constraint)}


def test_the_rich_case_has_every_optional_block():
    case = load_case(RICH)
    for table in ("pools", "lever_pools", "relations", "tier_requirements"):
        assert len(case.table(table)), table
    assert case.meta.get("total_public_budget") is not None
    assert set(case.table("relations")["relation"]) == {"requires"}  # excludes: added below


def test_every_constraint_of_the_model_has_a_row(models):
    built = set()
    for risk, m in models:
        names = _constraints(m)
        built |= names
        missing = names - {r.component for r in limits.CONSTRAINTS}
        assert not missing, f"constraints with no row in model/core/limits.py ({risk}): {sorted(missing)}"
    # excludes: the rich case has only `requires` relations; one more row builds it
    case = load_case(RICH)
    rel = case.table("relations")
    two = list(case.levers)[:2]
    extra = rel.iloc[:1].assign(lever=two[0], relation="excludes", other=two[1])
    m = build_model(case.replaced(relations=pd.concat([rel, extra], ignore_index=True)))
    built |= _constraints(m)
    # obligations: the rich case has none; one row builds them
    owed = pd.DataFrame([{"lever": two[0], "by_year": case.meta["last_year"], "min_modules": 0.0}])
    built |= _constraints(build_model(case.replaced(obligations=owed)))
    # an adaptive roadmap: one block per branch, tied by non-anticipativity
    tree = build_model(case.replaced({**case.meta, "reveal_year": case.meta["first_year"] + 1}))
    local = {c.local_name for c in tree.component_objects(pyo.Constraint)}
    missing = local - {r.component for r in limits.CONSTRAINTS}
    assert not missing and "nonanticipativity" in local, sorted(missing)
    built |= local
    stale = {r.component for r in limits.CONSTRAINTS} - built
    assert not stale, f"rows of the table that no model builds: {sorted(stale)}"


def test_column_bounds_of_the_table_are_variables_of_the_model(models):
    _, m = models[0]
    for row in limits.LIMITS:
        if row.bound:
            assert isinstance(getattr(m, row.component, None), pyo.Var), row.component


def test_every_row_has_a_twin_in_the_evaluator():
    for row in limits.LIMITS:
        twin = getattr(evaluate, row.twin, None)
        assert inspect.isfunction(twin) and twin.__module__ == evaluate.__name__, (row.component, row.twin)


def test_every_case_path_is_a_column_of_the_schema():
    for row in limits.LIMITS:
        if row.source is None:
            continue
        table, column = row.source
        if table == "case":
            assert column in CASE_FIELDS, row
        else:
            assert table in TABLES and column in {c.name for c in TABLES[table].columns}, row


def test_rows_are_consistent():
    kinds = [r.kind for r in limits.LIMITS if r.kind != "model"]
    assert len(kinds) == len(set(kinds)), "one row per conflict kind"
    for row in limits.LIMITS:
        assert row.block.startswith("define_"), row
        if row.tightening_removes_plans:
            assert row.sense == "upper" and row.source is not None, row
        if row.relaxable:
            assert row.words is not None and row.words.relaxed, row
        if row.kind == "model":
            assert row.words is None and not row.relaxable and row.order is None, row
        else:
            assert row.order is not None and row.words is not None and row.violation, row
    # today's order of conflicts, and the penalties of the feasibility relaxation
    assert limits.KIND_ORDER == (
        "forced",
        "min_modules",
        "obligation",
        "requires",
        "excludes",
        "excluded",
        "year_budget",
        "envelope_budget",
        "total_budget",
        "envelope_total",
        "pool",
        "max_modules",
        "max_modules_per_year",
        "model",
    )
    assert limits.RELAXABLE == {
        "year_budget": 1.0,
        "total_budget_limit": 1.0,
        "envelope_year_budget": 1.0,
        "envelope_total_limit": 1.0,
        "pool_limit_row": 1.0,
        "build_min": 10.0,
        "obligation": 10.0,
        "requires": 100.0,
        "excludes": 100.0,
        "forced": 1000.0,
    }


def test_diagnose_explains_every_kind_of_the_table():
    for row in limits.LIMITS:
        if row.kind == "model":
            continue
        if row.bound:
            assert row.kind in diagnose._IIS_COLUMN, row.kind
        else:
            assert row.kind in diagnose._IIS_ROW, row.kind
            if row.relaxable:
                assert row.kind in diagnose._RELAXED_ROW, row.kind


def test_marginal_values_and_plan_reuse_read_the_table():
    for row in limits.MARGINAL:
        assert row.marginal.family in marginal.FAMILIES, row
        assert row.marginal.dual in ("row", "row_times_built", "column_bounds"), row
        assert row.source is not None and row.sense == "upper", row
    assert {
        ("case", "total_public_budget"),
        ("budget", "public_budget_usd_bn"),
        ("envelopes", "total_usd_bn"),
        ("pools", "limit"),
        ("levers", "max_modules"),
        ("levers", "max_modules_per_year"),
    } == runner.LIMITS


def test_coefficients_are_params_of_the_model_from_files_of_the_schema():
    case = load_case(RICH)
    values = parameter_values(case, Structure.of(case))
    files = {t.file for t in TABLES.values()}
    for c in limits.COEFFICIENTS:
        assert c.param in values, c
        assert c.file in files, c
    assert list(limits.coefficient_sources()) == [c.param for c in limits.COEFFICIENTS]


# --------------------------------------------------------------------------------------
# tightening a limit below what the optimal plan uses: its twin reports it
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved():
    case = load_case(RICH)
    result = run_case(case, SolveOptions(time_limit=60, threads=1, seed=0))
    assert result.evaluation is not None and result.evaluation.feasible
    return case, result.evaluation


def _tighten_each(case, ev, tried: set) -> None:
    for lim in marginal.limits_of(case, ev, all_levers=True):
        if lim.use <= 1e-6:
            continue
        tighter, _ = marginal.moved(case, lim, lim.use / 2)
        violations = evaluate.evaluate_plan(tighter, ev.plan).violations
        word = lim.row.violation
        assert any(word in v for v in violations), (lim.key, word, violations)
        tried.add(lim.row.component)


def test_tightening_an_upper_limit_makes_its_twin_report_it(solved):
    case, ev = solved
    tried: set = set()
    _tighten_each(case, ev, tried)
    # the envelopes' limits: the smelter uses the fund's total; with cash's 2026 budget raised,
    # two chip modules use the cash envelope's yearly budgets
    envelopes = load_case(ENVELOPES)
    for sets in ((), ("budget.cash:2026.public_budget_usd_bn=2",)):
        variant = apply_overrides(envelopes, sets)
        result = run_case(variant, SolveOptions(time_limit=60, threads=1, seed=0, mip_gap=0))
        _tighten_each(variant, result.evaluation, tried)
    assert tried == {r.component for r in limits.MARGINAL}, tried


def test_tightening_a_lower_limit_or_a_relation_makes_its_twin_report_it(solved):
    case, ev = solved
    rel = case.table("relations")
    related = set(zip(rel["lever"], rel["other"])) | set(zip(rel["other"], rel["lever"]))
    used = [l for l, v in ev.portfolio.items() if v > 0]
    a, b = next((a, b) for a in used for b in used if a != b and (a, b) not in related)
    bigger = ev.portfolio[a] + 1
    tighter = apply_overrides(case, [f"levers.{a}.max_modules={bigger!r}", f"levers.{a}.min_modules={bigger!r}"])
    assert any(limits.ROWS["build_min"].violation in v for v in evaluate.evaluate_plan(tighter, ev.plan).violations)
    assert any(limits.ROWS["y"].violation in v for v in evaluate.evaluate_plan(case, ev.plan, exclude=(a,)).violations)
    without = {k: v for k, v in ev.plan.items() if k[0] != b}  # the plan with lever b dropped
    forced = evaluate.evaluate_plan(case, without, force=(b,)).violations
    assert any(limits.ROWS["forced"].violation in v for v in forced)
    for relation, plan in (("excludes", ev.plan), ("requires", without)):
        extra = rel.iloc[:1].assign(lever=a, relation=relation, other=b)
        tighter = case.replaced(relations=pd.concat([rel, extra], ignore_index=True))
        violations = evaluate.evaluate_plan(tighter, plan).violations
        assert any(limits.ROWS[relation].violation in v for v in violations), (relation, violations)
