"""`relief value`: wait-and-see, EVPI and VSS against hand computations."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from casegen import frames, random_case
from click.testing import CliRunner

from relief.cli.main import main
from relief.model.analyses.value import expected_value_case, value_of_information
from relief.model.core.case import Case, load_case
from relief.model.core.options import SolveOptions

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
TINY = "examples/tiny"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def micro() -> Case:
    """One year, two levers, a budget for one of them; two equally likely stances that
    each reward one lever (tier t1 at score 1; exports 100 at 25%):

    - s1 weights pillar a (lever A, score 2): t1 cuts the rate to 15%: relief 10;
    - s2 weights pillar b (lever B, score 2): t1 cuts the rate to 19%: relief 6.
    A costs 1.0 of public money, B 0.9; the budget is 1.

    RP: A is worth 0.5 x 10 = 5, B 0.5 x 6 = 3: RP = 5 (plan A).
    WS: s1 alone takes A (10), s2 alone takes B (6): WS = 0.5 x 10 + 0.5 x 6 = 8, EVPI = 3.
    EV stance: weights a 0.5, b 0.5, rate 0.17 at t1 (relief 8); A and B both score
    0.5 x 2 = 1 >= 1, so both give 8 and the cheaper B is chosen: EEV = value of B
    over both stances = 3, VSS = 5 - 3 = 2."""
    meta = {"name": "micro", "first_year": 2026, "last_year": 2026, "data_year": 2026, "discount_rate": 0.0}
    lever = {
        "capex_per_module": 1.0,
        "lead_time_years": 0,
        "earliest_year": 2026,
        "min_modules": 0,
        "max_modules": 1,
        "max_modules_per_year": 1,
        "integer": True,
    }
    tables = {
        "levers": [{"lever": "A", "public_share": 1.0, **lever}, {"lever": "B", "public_share": 0.9, **lever}],
        "budget": [{"year": 2026, "public_budget_usd_bn": 1.0}],
        "contributions": [
            {"lever": "A", "pillar": "a", "score_per_module": 2.0},
            {"lever": "B", "pillar": "b", "score_per_module": 2.0},
        ],
        "scenarios": [
            {"scenario": "s1", "probability": 0.5, "commitment_credit": 1.0},
            {"scenario": "s2", "probability": 0.5, "commitment_credit": 1.0},
        ],
        "sectors": [{"sector": "x", "track": "general", "exports_usd_bn": 100.0, "growth_rate": 0.0}],
        "tiers": [
            {"scenario": s, "track": "general", "tier": k, "threshold": th}
            for s in ("s1", "s2")
            for k, th in (("base", 0), ("t1", 1))
        ],
        "tariffs": [
            {"scenario": "s1", "track": "general", "tier": "base", "sector": "x", "rate": 0.25},
            {"scenario": "s1", "track": "general", "tier": "t1", "sector": "x", "rate": 0.15},
            {"scenario": "s2", "track": "general", "tier": "base", "sector": "x", "rate": 0.25},
            {"scenario": "s2", "track": "general", "tier": "t1", "sector": "x", "rate": 0.19},
        ],
        "pillar_weights": [
            {"scenario": "s1", "track": "general", "pillar": "a", "weight": 1.0},
            {"scenario": "s2", "track": "general", "pillar": "b", "weight": 1.0},
        ],
    }
    return Case.from_tables(meta, tables)


def test_micro_case_by_hand():
    v = value_of_information(micro(), OPTIONS)
    assert v.rp == pytest.approx(5.0)
    assert v.alone == pytest.approx({"s1": 10.0, "s2": 6.0})
    assert v.ws == pytest.approx(8.0) and v.evpi == pytest.approx(3.0)
    assert v.ev_how == "mean"
    assert v.ev_objective == pytest.approx(8.0)
    assert v.portfolio["ev"] == {"A": 0.0, "B": 1.0}
    assert v.eev == pytest.approx(3.0) and v.vss == pytest.approx(2.0)
    assert v.values["stochastic"] == pytest.approx({"s1": 10.0, "s2": 0.0})


def test_tiny_expected_value_stance_by_hand():
    """examples/tiny (README): deal p 0.6 credit 0.5, hard p 0.4 credit 0. The mean stance has
    credit 0.3, weight 0.6 on semis in general (deal only), t1 rate 0.6 x 0.15 + 0.4 x 0.20
    = 0.17 (relief 0.8 a year). Two chip modules (2026, 2027): general score 3 then 6, so t1
    in 2027 only (0.8), and semis s1 in 2027 (1.0): 1.8, the best in the mean stance.
    Valued over both stances that plan is the optimum 2.2, so VSS = 0. Each stance alone
    also picks two chips (deal 3.0, hard 1.0; README), so WS = 0.6 x 3 + 0.4 x 1 = 2.2 and
    EVPI = 0."""
    case = load_case(TINY)
    ev, how = expected_value_case(case)
    assert how == "mean"
    sc = ev.table("scenarios")
    assert float(sc["commitment_credit"].iloc[0]) == pytest.approx(0.3)
    w = ev.table("pillar_weights").set_index(["track", "pillar"])["weight"]
    assert w[("general", "semis")] == pytest.approx(0.6) and w[("general", "minerals")] == pytest.approx(1.0)
    r = ev.table("tariffs").set_index(["track", "tier", "sector"])["rate"]
    assert r[("general", "t1", "autos")] == pytest.approx(0.17)
    v = value_of_information(case, OPTIONS)
    assert v.ev_objective == pytest.approx(1.8)
    assert v.alone == pytest.approx({"deal": 3.0, "hard": 1.0})
    assert v.rp == pytest.approx(2.2) and v.ws == pytest.approx(2.2) and v.eev == pytest.approx(2.2)
    assert v.evpi == pytest.approx(0.0, abs=1e-9) and v.vss == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_bounds_on_random_cases(seed):
    """EEV <= RP <= WS always; every scenario's alone-optimum bounds every plan in it."""
    meta, tables = random_case(seed, min_plans=10, max_plans=2000, accept=lambda m, t: len(t["scenarios"]) >= 2)
    try:
        v = value_of_information(Case.from_tables(meta, frames(tables)), OPTIONS)
    except Exception as e:  # an infeasible random case has no value of information
        assert "no plan" in str(e)
        return
    assert v.evpi >= -1e-7 and v.vss >= -1e-7
    for lab, by in v.values.items():
        for s, r in by.items():
            assert r <= v.alone[s] + 1e-6 * max(1, abs(r)), (lab, s)


def test_default_case_cli(tmp_path):
    out = tmp_path / "v"
    r = cli("value", "--json", "--out", out)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    # measured with `relief value --json` on the case of issue 12 (README of korea-2026: 71.54);
    # the roadmap is now each stance's own optimum at once (WS = RP, EVPI 0), and planning for
    # the modal stance alone loses VSS 5.95 (EEV 65.59)
    assert d["recourse_problem"] == pytest.approx(71.5367706, rel=1e-6)
    assert d["evpi"] >= 0 and d["vss"] >= 0
    assert d["evpi"] == pytest.approx(0.0, abs=1e-6)
    assert d["expected_value_solution"] == pytest.approx(65.5892748, rel=1e-6)
    # the default stances' ladders differ (an ally quota only under alliance_first):
    # no mean stance exists, the most probable stance stands in, and the output says so
    assert d["expected_value_scenario"] == "modal: deal_restored"
    assert d["wait_and_see"] == pytest.approx(sum(d["probability"][s] * d["alone"][s] for s in d["probability"]))
    t = pd.read_csv(out / "value.csv")
    assert set(t["plan"]) == {
        "stochastic",
        "ev",
        "deal_restored",
        "hardline_301",
        "alliance_first",
        "chip_phase2",
        "lapse",
    }
    exp = t[(t["plan"] == "stochastic") & (t["scenario"] == "expected")]["relief"].iloc[0]
    assert exp == pytest.approx(d["recourse_problem"], rel=1e-9)
    assert (out / "portfolio.csv").is_file() and (out / "plans.csv").is_file()
