"""Plans that keep a margin (issue 13, item 5): case.yaml `tier_margin` and `relief solve --margin PCT`.

A tier counts only where the track score reaches threshold x (1 + tier_margin); tier_requirements'
min_score is not raised (docs/formulation.md, Tier choice). The model (build's `threshold` Param),
the evaluator (evaluate.best_tier) and the independent checker (tests/checker.py) each apply it.

The hand-worked case (`knife_edge`): one lever L, 10 points per module in pillar p, one stance,
one track whose tier `deal` needs 20 points and cuts the 25% rate on USD 10bn of exports to 0
(relief 2.5 a year). At margin 0 two modules reach 20 = 20: relief 2.5 for public spending 2.
At a 5% margin 20 < 21: two modules reach nothing; the plan that keeps the tier commits three
(30 >= 21), the same relief for one more module (spending 3). With a budget of 2 it cannot: 0.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from casegen import cases, frames, random_case, write_case
from checker import SpecCase, brute_force, check_plan, check_run_folder, close, plan_of_roadmap, relief_of
from cliutil import ENV, relief_exe
from hypothesis import HealthCheck, given, settings

from relief.model.core.case import Case, CaseError
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case
from relief.model.core.session import Session

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)


def knife_edge(margin: float | None = None, budget: float = 10.0) -> tuple[dict, dict]:
    meta = {"name": "knife-edge", "first_year": 2026, "last_year": 2026, "data_year": 2026, "discount_rate": 0.0}
    if margin is not None:
        meta["tier_margin"] = margin
    tables = {
        "levers": [
            {
                "lever": "L",
                "capex_per_module": 1.0,
                "public_share": 1.0,
                "lead_time_years": 0,
                "earliest_year": 2026,
                "min_modules": 0.0,
                "max_modules": 5.0,
                "max_modules_per_year": 5.0,
                "integer": True,
            }
        ],
        "contributions": [{"lever": "L", "pillar": "p", "score_per_module": 10.0}],
        "sectors": [{"sector": "j", "track": "r", "exports_usd_bn": 10.0, "growth_rate": 0.0}],
        "scenarios": [{"scenario": "s", "probability": 1.0, "commitment_credit": 0.0}],
        "pillar_weights": [{"scenario": "s", "track": "r", "pillar": "p", "weight": 1.0}],
        "tiers": [
            {"scenario": "s", "track": "r", "tier": "none", "threshold": 0.0},
            {"scenario": "s", "track": "r", "tier": "deal", "threshold": 20.0},
        ],
        "tariffs": [
            {"scenario": "s", "track": "r", "tier": "none", "sector": "j", "rate": 0.25},
            {"scenario": "s", "track": "r", "tier": "deal", "sector": "j", "rate": 0.0},
        ],
        "budget": [{"year": 2026, "public_budget_usd_bn": budget}],
    }
    return meta, tables


def _case(margin=None, budget=10.0) -> Case:
    meta, tables = knife_edge(margin, budget)
    return Case.from_tables(meta, frames(tables))


# ------------------------------------------------------------------ the hand-worked answer


def test_a_tier_at_exactly_its_threshold_is_lost_at_a_5pct_margin_and_kept_for_one_more_module():
    at_zero = run_case(_case(), OPTIONS)
    assert at_zero.status == "optimal"
    assert at_zero.evaluation.expected_relief == pytest.approx(2.5)
    assert at_zero.evaluation.portfolio["L"] == 2.0 and at_zero.evaluation.public_spend == pytest.approx(2.0)

    # the margin-0 plan, evaluated under a 5% margin: 20 < 21, the tier is lost
    lost = evaluate_plan(_case(0.05), {("L", 2026): 2.0})
    assert lost.expected_relief == 0.0
    assert lost.tiers.iloc[0]["tier"] == "none"

    # the plan that keeps the tier: one more module, the same relief
    kept = run_case(_case(0.05), OPTIONS)
    ev = kept.evaluation
    assert ev.expected_relief == pytest.approx(2.5)
    assert ev.portfolio["L"] == 3.0 and ev.public_spend == pytest.approx(3.0)
    row = ev.tiers.iloc[0]
    # tiers.csv keeps the official threshold, says the score required, and measures the margin
    # against the threshold: the slack a raised bar can take
    assert (row["tier"], row["score"], row["threshold"], row["required_score"]) == ("deal", 30.0, 20.0, 21.0)
    assert (row["margin"], row["margin_rel"], bool(row["thin"])) == (10.0, 0.5, False)
    assert kept.report()["tier_margin"] == 0.05

    # with a budget of 2 the third module cannot be paid: nothing is worth committing
    poor = run_case(_case(0.05, budget=2.0), OPTIONS)
    assert poor.status == "optimal" and poor.evaluation.expected_relief == 0.0
    assert poor.evaluation.public_spend == 0.0  # the spending stage commits nothing that buys nothing


def test_the_checker_agrees_on_the_hand_worked_case():
    for margin, best, spend in ((None, 2.5, 2.0), (0.0, 2.5, 2.0), (0.05, 2.5, 3.0), (2.0, 0.0, 0.0)):
        spec = SpecCase.from_tables(*knife_edge(margin))
        bf = brute_force(spec)
        assert bf.best_relief == pytest.approx(best) and bf.min_spend_at_best == pytest.approx(spend), margin
    assert relief_of(SpecCase.from_tables(*knife_edge(0.05)), {("L", 2026): 2.0})[0] == 0.0
    assert relief_of(SpecCase.from_tables(*knife_edge(0.0)), {("L", 2026): 2.0})[0] == pytest.approx(2.5)


def test_the_margin_is_exact_at_the_required_score():
    """Score 30 against 20 x 1.5 = 30: reached exactly at the required score, like a threshold."""
    ev = evaluate_plan(_case(0.5), {("L", 2026): 3.0})
    assert ev.expected_relief == pytest.approx(2.5)
    assert ev.tiers.iloc[0]["required_score"] == 30.0
    assert evaluate_plan(_case(0.51), {("L", 2026): 3.0}).expected_relief == 0.0
    assert relief_of(SpecCase.from_tables(*knife_edge(0.5)), {("L", 2026): 3.0})[0] == pytest.approx(2.5)
    assert relief_of(SpecCase.from_tables(*knife_edge(0.51)), {("L", 2026): 3.0})[0] == 0.0


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.05, "five"])
def test_a_bad_tier_margin_is_refused_naming_the_field(bad):
    meta, tables = knife_edge(bad)
    with pytest.raises(CaseError) as e:
        Case.from_tables(meta, frames(tables))
    text = str(e.value)
    assert "case.yaml" in text and "tier_margin" in text, text


def test_min_score_is_not_raised_by_the_margin():
    """A requirement of exactly 30 points in p is met by 3 modules at a 5% margin (the threshold,
    20 x 1.05 = 21, is; the min_score of 30 is not raised to 31.5)."""
    meta, tables = knife_edge(0.05)
    tables["tier_requirements"] = [{"scenario": "s", "track": "r", "tier": "deal", "pillar": "p", "min_score": 30.0}]
    res = run_case(Case.from_tables(meta, frames(tables)), OPTIONS)
    assert res.evaluation.expected_relief == pytest.approx(2.5) and res.evaluation.portfolio["L"] == 3.0
    assert brute_force(SpecCase.from_tables(meta, tables)).min_spend_at_best == pytest.approx(3.0)


# ------------------------------------------------------------------ margin 0 is today's answer


@pytest.mark.parametrize("seed", range(6))
def test_margin_zero_is_exactly_the_answer_without_the_field(seed):
    meta, tables = random_case(seed, min_plans=30, max_plans=3000)
    meta.pop("tier_margin", None)
    plain = run_case(Case.from_tables(meta, frames(tables)), OPTIONS)
    zero = run_case(Case.from_tables({**meta, "tier_margin": 0.0}, frames(tables)), OPTIONS)
    assert plain.status == zero.status
    if plain.evaluation is None:
        return
    a, b = plain.evaluation, zero.evaluation
    assert a.expected_relief == b.expected_relief and a.by_scenario == b.by_scenario
    assert a.public_spend == b.public_spend and a.committed == b.committed
    assert a.tiers.equals(b.tiers)
    assert (a.tiers["required_score"] == a.tiers["threshold"]).all()


# ------------------------------------------------------------------ a larger margin never raises relief

MARGINS = (0.0, 0.05, 0.1, 0.25, 0.5)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_levers=2, max_years=2))
def test_a_larger_margin_never_raises_relief_model_and_checker(mt):
    """On one session (the margin is a mutable Param: no rebuild), margins 0 .. 50%: the optimum
    never rises; each plan is feasible and worth, for the checker, what relief says; a plan kept
    at a margin is worth at least as much at any smaller margin."""
    meta, tables = mt
    base = Case.from_tables(meta, frames(tables))
    session = Session(base, OPTIONS)
    model = session.model
    prev = None
    for m in MARGINS:
        case = apply_overrides(base, [f"case.tier_margin={m}"])
        res = session.solve(case)
        assert session.model is model  # re-solved, not rebuilt
        if res.evaluation is None:
            assert res.status == "infeasible" and prev is None  # the margin moves no limit of the plans
            return
        ev = res.evaluation
        spec = SpecCase.from_tables({**meta, "tier_margin": m}, tables)
        plan = plan_of_roadmap(ev.roadmap)
        rep = check_plan(spec, plan)
        assert rep.feasible and close(rep.expected_relief, ev.expected_relief), (m, plan)
        if prev is not None:
            assert ev.expected_relief <= prev[0] + 1e-7 * max(1.0, abs(prev[0])), (m, ev.expected_relief, prev)
            # the plan kept at m, judged at the smaller margin before: worth at least as much there
            before = SpecCase.from_tables({**meta, "tier_margin": prev[1]}, tables)
            assert relief_of(before, plan)[0] >= rep.expected_relief - 1e-9
        prev = (ev.expected_relief, m)


@pytest.mark.parametrize("seed", range(4))
def test_brute_force_relief_never_rises_with_the_margin(seed):
    meta, tables = random_case(seed, min_plans=20, max_plans=1500)
    best = [brute_force(SpecCase.from_tables({**meta, "tier_margin": m}, tables)).best_relief for m in MARGINS]
    assert all(b is None for b in best) or all(a >= b - 1e-12 for a, b in zip(best, best[1:])), best


# ------------------------------------------------------------------ the CLI


def relief(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [relief_exe(), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout, check=False
    )


def test_solve_margin_json_shows_the_override_and_the_checker_reads_the_run(tmp_path):
    folder = write_case(tmp_path / "case", *knife_edge())
    p = relief("solve", folder, "--margin", "5%", "--json", "--out", tmp_path / "run")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["overrides"] == ["case.tier_margin=0.05"] and s["tier_margin"] == 0.05
    assert s["expected_relief"] == pytest.approx(2.5) and s["portfolio"] == {"L": 3.0}
    rep = check_run_folder(tmp_path / "run")  # the case as solved (case/case.yaml holds the margin)
    assert rep.feasible and rep.portfolio == {"L": 3.0}
    assert SpecCase.from_folder(tmp_path / "run" / "case").tier_margin == 0.05
    tiers = (tmp_path / "run" / "tiers.csv").read_text().splitlines()
    head = tiers[0].split(",")
    row = dict(zip(head, tiers[1].split(",")))
    assert (float(row["threshold"]), float(row["required_score"]), float(row["margin_rel"])) == (20.0, 21.0, 0.5)
    # the same margin written as a fraction; and the terminal says it
    q = relief("solve", folder, "--margin", "0.05")
    assert q.returncode == 0, q.stderr
    flat = " ".join(q.stdout.split())
    assert "Tiers count only with a 5% margin above their thresholds" in flat, q.stdout
    assert "as asked: --set case.tier_margin=0.05" in flat
    plain = relief("solve", folder)
    assert "margin above their thresholds" not in plain.stdout


@pytest.mark.parametrize("bad", ["5x", "100%", "-1%"])
def test_a_bad_margin_is_refused(bad, tmp_path):
    folder = write_case(tmp_path / "case", *knife_edge())
    p = relief("solve", folder, "--margin", bad)
    assert p.returncode == 2 and "--margin" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_a_case_yaml_margin_of_one_is_refused_with_file_and_field(tmp_path):
    folder = write_case(tmp_path / "case", *knife_edge(1.0))
    p = relief("validate", folder)
    assert p.returncode == 2, p.stdout + p.stderr
    out = p.stdout + p.stderr
    assert "case.yaml" in out and "tier_margin" in out and "below 1" in out, out


def test_analyses_take_the_margin_too(tmp_path):
    """--margin sits in the options every analysis shares with solve (the same set as
    --without-obligations): here `relief value`, whose plans all keep the margin."""
    folder = write_case(tmp_path / "case", *knife_edge(budget=2.0))
    p = relief("value", folder, "--margin", "5%", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["overrides"] == ["case.tier_margin=0.05"]
    assert s["recourse_problem"] == 0.0 and s["wait_and_see"] == 0.0  # 3 modules do not fit a budget of 2
    p0 = relief("value", folder, "--json")
    assert p0.returncode == 0, p0.stderr
    s0 = json.loads(p0.stdout)
    assert s0["overrides"] == [] and s0["recourse_problem"] == pytest.approx(2.5)


def test_frontier_draws_relief_against_the_margin(tmp_path):
    folder = write_case(tmp_path / "case", *knife_edge(budget=2.5))
    p = relief(
        "frontier", folder, "--param", "case.tier_margin", "--range", "0:0.1:5", "--out", tmp_path / "f", "--json"
    )
    assert p.returncode == 0, p.stderr
    import pandas as pd

    f = pd.read_csv(tmp_path / "f" / "frontier.csv")
    assert list(f["case.tier_margin"]) == pytest.approx([0, 0.025, 0.05, 0.075, 0.1])
    relief_ = list(f["expected_relief"])
    assert all(a >= b - 1e-9 for a, b in zip(relief_, relief_[1:])), relief_
    # by hand: 2 modules (score 20) meet 20 x 1.0 only; a third does not fit the budget of 2.5
    assert relief_ == pytest.approx([2.5, 0, 0, 0, 0])


def test_a_tier_the_margin_puts_out_of_reach_is_warned_about():
    """Two modules at most: 20 points reach the threshold 20, never 20 x 1.05 = 21."""
    from relief.model.core.checks import with_checks

    meta, tables = knife_edge()
    tables["levers"][0]["max_modules"] = 2.0
    plain = with_checks(Case.from_tables(meta, frames(tables))).warnings
    assert not [w for w in plain if "unreachable" in str(w)], plain
    raised = [str(w) for w in with_checks(Case.from_tables({**meta, "tier_margin": 0.05}, frames(tables))).warnings]
    assert any(
        "s/r/deal is unreachable" in w and "below the threshold 20 raised by the 0.05 tier_margin to 21" in w
        for w in raised
    ), raised


def test_a_case_without_a_margin_keeps_its_input_hash():
    """tier_margin 0 (or absent) leaves input_sha256 as it was before the field existed; a margin changes it."""
    meta, tables = knife_edge()
    plain = Case.from_tables(meta, frames(tables)).sha256()
    assert Case.from_tables({**meta, "tier_margin": 0.0}, frames(tables)).sha256() == plain
    assert Case.from_tables({**meta, "tier_margin": 0.05}, frames(tables)).sha256() != plain


def test_the_margin_frontier_defaults_to_0_to_20pct():
    """Without --range the frontier over case.tier_margin spans 0 to 20% (twice the case's own
    margin if that is more, never 1 or above): not 'twice the case's value', which is 0."""
    from relief.model.sweeps.frontier import default_high, frontier_definition

    assert default_high(_case(), "case.tier_margin") == 0.2
    assert default_high(_case(0.3), "case.tier_margin") == 0.6
    assert default_high(_case(0.9), "case.tier_margin") == 0.95
    defn, p = frontier_definition(_case(), "case.tier_margin", None)
    assert p.values[0] == 0 and p.values[-1] == pytest.approx(0.2) and len(p.values) == 21
