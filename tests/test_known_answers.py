"""Known answers, worked by hand, on examples/tiny (and one hand-made case).

examples/tiny in short (2026-2027, no discounting, data_year 2026, no growth):

* levers: smelter (capex 4, public 50%, lead 1, exactly 1 module, 10 minerals),
  chips (capex 2, public 100%, lead 0, <= 2 modules, <= 2 a year, 5 semis),
  lng (capex 0.5, public 100%, lead 0, <= 4, <= 2 a year, 3 energy);
* budget 3 a year, total_public_budget 5;
* scenarios: deal (p 0.6, commitment_credit 0.5), hard (p 0.4, credit 0);
* weights: deal/general = minerals + semis, deal/semis = semis,
  hard/general = minerals, hard/semis = semis; nobody weights energy;
* ladders: general t1 at 5, semis s1 at 10; rate cuts: deal/general autos
  25% -> 15% on 10 = 1.0 a year, hard/general 25% -> 20% on 10 = 0.5 a year,
  semis (both) chip_exports 25% -> 0 on 4 = 1.0 a year.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from checker import SpecCase, brute_force, check_plan, check_run_folder, close, plan_of_roadmap

from relief.model.core.case import Case, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "examples" / "tiny"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)


@pytest.fixture(scope="module")
def tiny():
    return load_case(TINY)


@pytest.fixture(scope="module")
def spec():
    return SpecCase.from_folder(TINY)


def _solve(case, **kw):
    res = run_case(case, OPTIONS, **kw)
    assert res.status == "optimal", res.status
    return res, plan_of_roadmap(res.evaluation.roadmap)


def _assert_checked(spec, res, plan, **kw):
    """The independent checker finds the plan feasible and worth what relief says."""
    rep = check_plan(spec, plan, **kw)
    assert rep.feasible, rep.violations
    assert close(rep.expected_relief, res.evaluation.expected_relief)
    assert close(rep.public_spend, res.evaluation.public_spend)
    for s, v in rep.by_scenario.items():
        assert close(v, res.evaluation.by_scenario[s])


def test_tiny_optimum(tiny, spec):
    """Optimum 2.2: chips 1 module in 2026 and 1 in 2027.

    Chips have lead 0, so operating = committed: semis score 5 in 2026, 10 in 2027.
    deal: general (minerals + semis) 5 >= 5 in both years -> t1, 1.0 + 1.0;
          semis reaches s1 (10) only in 2027 -> 1.0.  deal = 3.0.
    hard: general weights only minerals -> 0; semis s1 in 2027 -> 1.0.  hard = 1.0.
    expected = 0.6 * 3.0 + 0.4 * 1.0 = 2.2; public spend 2 + 2 = 4.0 (<= 3 a year, <= 5).
    Better schedules break a limit: both chips in 2026 spend 4 > 3 in 2026; the
    smelter (2.0 public) with 2 chips (4.0) spends 6 > 5 in all.
    """
    res, plan = _solve(tiny)
    ev = res.evaluation
    assert close(ev.expected_relief, 2.2)
    assert close(ev.by_scenario["deal"], 3.0) and close(ev.by_scenario["hard"], 1.0)
    assert close(ev.public_spend, 4.0)
    assert plan == {("chips", 2026): 1.0, ("chips", 2027): 1.0}
    _assert_checked(spec, res, plan)


def test_tiny_force_smelter(tiny, spec):
    """--force smelter: 1.4, smelter committed in 2026, no chips, no lng; spend 2.0.

    Smelter in 2026 (lead 1: operating from 2027), 10 minerals per module.
    deal (credit 0.5): general 0.5*10 = 5 in 2026 (committed), 10 in 2027 -> t1 both, 2.0.
    hard (credit 0): general 0 in 2026, 10 in 2027 -> t1 in 2027, 0.5.
    expected = 0.6 * 2.0 + 0.4 * 0.5 = 1.4; public 4 * 0.5 = 2.0.
    Chips cannot add relief: the total budget leaves 5 - 2 = 3, one chips module (2),
    semis 5 < 10, and deal/general is already at t1. Stage 2 drops what buys nothing.
    (Smelter in 2027 only: deal 1.0 in 2027, hard 0 -> 0.6 < 1.4.)
    """
    res, plan = _solve(tiny, force=("smelter",))
    ev = res.evaluation
    assert close(ev.expected_relief, 1.4)
    assert close(ev.by_scenario["deal"], 2.0) and close(ev.by_scenario["hard"], 0.5)
    assert close(ev.public_spend, 2.0)
    assert plan == {("smelter", 2026): 1.0}
    _assert_checked(spec, res, plan, force=("smelter",))


def test_tiny_exclude_chips(tiny, spec):
    """--exclude chips: 1.4, the smelter in 2026 alone (as with --force smelter:
    0.6 * 2.0 + 0.4 * 0.5 = 1.4, public 2.0); lng buys nothing."""
    res, plan = _solve(tiny, exclude=("chips",))
    assert close(res.evaluation.expected_relief, 1.4)
    assert close(res.evaluation.public_spend, 2.0)
    assert plan == {("smelter", 2026): 1.0}
    _assert_checked(spec, res, plan, exclude=("chips",))


def test_tiny_force_smelter_total_budget_1_is_infeasible(tiny):
    """--force smelter with case.total_public_budget=1: the smelter alone needs
    4 * 0.5 = 2.0 > 1 of public money, so no plan exists: status infeasible."""
    small = apply_overrides(tiny, ["case.total_public_budget=1"])
    assert small.meta["total_public_budget"] == 1
    res = run_case(small, OPTIONS, force=("smelter",))
    assert res.status == "infeasible"
    assert res.evaluation is None
    # Without the force: a chips module (2) or the smelter (2) do not fit either and
    # lng (0.5) buys nothing, so the best plan is to do nothing: 0 relief, 0 spent.
    res0, plan0 = _solve(small)
    assert plan0 == {} and res0.evaluation.expected_relief == 0 and res0.evaluation.public_spend == 0


@pytest.mark.parametrize(
    "overrides, force, exclude",
    [
        ((), (), ()),
        ((), ("smelter",), ()),
        ((), (), ("chips",)),
        ((), (), ("smelter",)),
        (("budget.*.public_budget_usd_bn*=10", "case.total_public_budget*=10"), (), ()),
        (("case.total_public_budget=3",), (), ()),
    ],
)
def test_tiny_lng_never_chosen(tiny, overrides, force, exclude):
    """lng scores only in energy, which no track weights: it never buys relief, and
    its public spending (0.5 a module) is removed by the spending stage, whatever the
    budget, force or exclusion."""
    case = apply_overrides(tiny, list(overrides))
    res, plan = _solve(case, force=force, exclude=exclude)
    assert res.evaluation.portfolio["lng"] == 0
    assert not any(l == "lng" for l, _ in plan)


def test_tiny_budget_tenfold(tiny, spec):
    """With every budget x10 (30 a year, 60 in all): 3.4 = the upper bound.

    Chips 2 and smelter 1, all in 2026 (public 4 + 2 = 6):
    deal: general >= 5 and semis 10 in both years -> 4 * 1.0 = 4.0;
    hard: semis 10 both years -> 2.0; general from the smelter operating in 2027 -> 0.5.
    expected = 0.6 * 4.0 + 0.4 * 2.5 = 3.4, every tier reached whenever reachable;
    no cheaper plan reaches it, so public spend is 6.0.
    """
    case = apply_overrides(tiny, ["budget.*.public_budget_usd_bn*=10", "case.total_public_budget*=10"])
    res, plan = _solve(case)
    assert close(res.evaluation.expected_relief, 3.4)
    assert close(res.evaluation.public_spend, 6.0)
    assert plan == {("smelter", 2026): 1.0, ("chips", 2026): 2.0}


# ----------------------------------------------------------------------------------
# The checker itself, on hand-known plans of tiny (it is the oracle of the brute force)
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan, broken",
    [
        ({("chips", 2026): 2}, "2026 above the budget"),  # 4 > 3
        ({("smelter", 2026): 1, ("chips", 2026): 1, ("chips", 2027): 1}, "total_public_budget"),  # 2 + 4 > 5
        ({("lng", 2026): 3}, "max_modules_per_year"),
        ({("smelter", 2026): 1, ("smelter", 2027): 1}, "max_modules"),
        ({("chips", 2025): 1}, "outside the horizon"),
        ({("chips", 2026): 0.5}, "fractional"),
    ],
)
def test_checker_catches_broken_limits(spec, plan, broken):
    rep = check_plan(spec, plan)
    assert not rep.feasible
    assert any(broken in v for v in rep.violations), rep.violations


def test_checker_values_and_brute_force_on_tiny(spec):
    """The checker reproduces the hand arithmetic above and brute force finds 2.2."""
    rep = check_plan(spec, {("chips", 2026): 1, ("chips", 2027): 1})
    assert rep.feasible and close(rep.expected_relief, 2.2) and close(rep.public_spend, 4.0)
    assert rep.by_scenario == pytest.approx({"deal": 3.0, "hard": 1.0})
    rep = check_plan(spec, {("smelter", 2026): 1}, force=("smelter",))
    assert rep.feasible and close(rep.expected_relief, 1.4)
    assert not check_plan(spec, {}, force=("smelter",)).feasible
    assert not check_plan(spec, {("chips", 2026): 1}, exclude=("chips",)).feasible
    bf = brute_force(spec)
    assert close(bf.best_relief, 2.2) and close(bf.min_spend_at_best, 4.0)


# ----------------------------------------------------------------------------------
# Through the command line
# ----------------------------------------------------------------------------------


def _relief_exe() -> list[str]:
    exe = Path(sys.executable).with_name("relief")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("relief")
    assert found, "the relief console script is not installed"
    return [found]


def test_cli_solve_tiny_run_folder(tmp_path):
    """`relief solve examples/tiny --mip-gap 0 --json --out DIR`: exit 0, the JSON on
    stdout is summary.json, and the run folder passes the independent check."""
    out = tmp_path / "run"
    proc = subprocess.run(
        _relief_exe() + ["solve", str(TINY), "--mip-gap", "0", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    summary = json.loads((out / "summary.json").read_text())
    assert printed["expected_relief"] == summary["expected_relief"]
    assert printed["status"] == "optimal"
    assert close(summary["expected_relief"], 2.2)
    assert close(summary["public_spend"], 4.0)
    assert summary["by_scenario"] == pytest.approx({"deal": 3.0, "hard": 1.0})
    rep = check_run_folder(out, case_dir=TINY)  # against the shipped case files
    assert rep.portfolio == {"smelter": 0.0, "chips": 2.0, "lng": 0.0}
    check_run_folder(out)  # and against the case copy written into the run folder


def test_cli_force_smelter_run_folder(tmp_path):
    """`--force smelter --out DIR`: 1.4, and the run folder checks with the force."""
    out = tmp_path / "run"
    proc = subprocess.run(
        _relief_exe() + ["solve", str(TINY), "--mip-gap", "0", "--force", "smelter", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rep = check_run_folder(out, case_dir=TINY, force=("smelter",))
    assert close(rep.expected_relief, 1.4) and close(rep.public_spend, 2.0)


def test_cli_infeasible_exit_code(tmp_path):
    """Forcing the smelter under a total public budget of 1 (it needs 2.0): exit 3."""
    proc = subprocess.run(
        _relief_exe() + ["solve", str(TINY), "--force", "smelter", "--set", "case.total_public_budget=1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------------
# A bug found by the brute force (tests/test_bruteforce.py), reduced by hand
# ----------------------------------------------------------------------------------


def _requires_case() -> Case:
    """Two levers, 2026 only. A (free: capex 0) scores 1 in pillar p; B costs 1 public,
    scores nothing, min_modules 0. Relation: A requires B. Track r weights p; tier t1
    at threshold 1 cuts 10% on exports of 1: 0.1 of relief."""
    lever = dict(
        public_share=1.0,
        lead_time_years=0,
        earliest_year=2026,
        min_modules=0,
        max_modules=1,
        max_modules_per_year=1,
        integer=True,
    )
    return Case.from_tables(
        {"name": "requires", "first_year": 2026, "last_year": 2026, "data_year": 2026},
        {
            "levers": [dict(lever, lever="A", capex_per_module=0.0), dict(lever, lever="B", capex_per_module=1.0)],
            "contributions": [{"lever": "A", "pillar": "p", "score_per_module": 1}],
            "sectors": [{"sector": "j", "track": "r", "exports_usd_bn": 1, "growth_rate": 0}],
            "scenarios": [{"scenario": "s", "probability": 1, "commitment_credit": 0}],
            "pillar_weights": [{"scenario": "s", "track": "r", "pillar": "p", "weight": 1}],
            "tiers": [
                {"scenario": "s", "track": "r", "tier": "base", "threshold": 0},
                {"scenario": "s", "track": "r", "tier": "t1", "threshold": 1},
            ],
            "tariffs": [
                {"scenario": "s", "track": "r", "tier": "base", "sector": "j", "rate": 0.1},
                {"scenario": "s", "track": "r", "tier": "t1", "sector": "j", "rate": 0.0},
            ],
            "budget": [{"year": 2026, "public_budget_usd_bn": 5}],
            "relations": [{"lever": "A", "relation": "requires", "other": "B"}],
        },
    )


def test_requires_means_the_other_lever_is_in_the_plan():
    """A requires B: using A (1 score >= threshold 1 -> relief 0.1) needs B in the plan
    (1 module, 1.0 of public money, budget 5). Optimum: A 1 + B 1, relief 0.1, spend 1.0."""
    res, plan = _solve(_requires_case())
    assert close(res.evaluation.expected_relief, 0.1)
    assert plan == {("A", 2026): 1.0, ("B", 2026): 1.0}
    assert close(res.evaluation.public_spend, 1.0)
