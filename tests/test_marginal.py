"""`relief marginal`: finite differences of relief against hand arithmetic, and the LP duals
of the spending stage against finite differences where the integer decisions do not change.

The claim tested: marginal values agree with finite differences where the optimal integer
decisions do not change. For discounted public spending at the optimal relief, the LP dual
(integer decisions fixed) equals the derivative found by re-solving the whole MILP with the
limit moved by 0.001 either way, to 1e-6 relative, whenever the re-solve keeps every
integer decision (checked). For relief, the same re-solves leave relief unchanged (0), and
the relief-stage LP dual is 0: both say that relief moves only when an integer decision does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from relief.cli.main import main
from relief.model.analyses.marginal import (
    CHECK_STEP,
    FixedIntegers,
    fixed_integer_duals,
    limits_of,
    marginal_values,
    moved,
    relief_words,
    spend_words,
)
from relief.model.core.case import Case, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.session import Session as Resolver

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
DEFAULT = ROOT / "inputs" / "korea-2026"
# The pre-issue-12 default case with 5, then 13 a year of public money: see `default` below.
TIGHT = ROOT / "examples" / "tight-budget"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
AGREE = 1e-6


def close(a, b, rel=AGREE):
    return abs(a - b) <= rel * max(1.0, abs(b))


def by_key(m):
    return {v.limit.key: v for v in m.values}


# ----------------------------------------------------------------------------------------
# Finite differences of relief: hand-worked known answers on examples/tiny
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    return marginal_values(load_case(TINY), OPTIONS, milp_check=True)


def test_tiny_relief_finite_differences_by_hand(tiny):
    """examples/tiny (README): budgets 3 a year and 5 in all; the optimum is one chip module in
    2026 and one in 2027, 2.2 (deal 3.0, hard 1.0), public spending 4.

    - Public budget 2026 +1 (to 4): both chip modules fit in 2026 (public 4 <= 4, total 4 <= 5).
      Chips have no lead time, so semis is 10 from 2026: `deal` gets general t1 in both years
      (2.0) and semis s1 in both years (2.0) = 4.0; `hard` gets semis s1 in both years = 2.0.
      Expected 0.6 x 4.0 + 0.4 x 2.0 = 3.2: +1.0 per USD bn. The smelter cannot join (total 6 > 5).
    - Public budget 2026 -1 (to 2): the chip of 2026 (public 2) still fits: 0.
    - Public budget 2027 +1 or the total budget +1 (to 6): a second module in 2027 is useless
      (chips max 2) and smelter + two chips needs 4 in one year; the README's candidates are
      unchanged: 0.
    - Chips max_modules -1 (to 1): the best plan is the smelter in 2026 alone, 1.4 (README):
      -0.8 per module. (Smelter 2026 + chip 2027 also gives 1.4 but costs 4 instead of 2.)
    """
    v = by_key(tiny)
    assert set(v) == {"budget:2026", "budget:2027", "total_budget", "max_modules:chips"}
    assert tiny.base.evaluation.expected_relief == pytest.approx(2.2, abs=1e-9)
    assert v["budget:2026"].fd_up == pytest.approx(1.0, abs=1e-9)
    assert v["budget:2026"].integers_changed(v["budget:2026"].up)
    assert v["budget:2026"].up.point.evaluation.portfolio["chips"] == 2
    assert v["budget:2026"].fd_down == 0 and v["budget:2026"].down.point.reused
    for key in ("budget:2027", "total_budget"):
        assert v[key].fd_up == 0 and v[key].fd_down == 0
        assert not v[key].integers_changed(v[key].up)
    chips = v["max_modules:chips"]
    assert chips.fd_up == 0
    assert chips.fd_down == pytest.approx(-0.8, abs=1e-9)
    assert chips.down.point.evaluation.portfolio == {"smelter": 1.0, "chips": 0.0, "lng": 0.0}
    assert chips.dual_spend is None  # whole-module lever: its modules are integers, fixed in the LP
    assert "+1.00 of expected relief" in relief_words(v["budget:2026"], +1)
    assert "finite difference (MILP re-solved)" in relief_words(chips, -1)


def test_tiny_duals_agree_with_the_milp_re_solved(tiny):
    """Every limit of tiny has slack, and all levers are whole-module: the spending LP's duals are
    0, and so is the MILP's finite difference at +-0.001 (integers unchanged); relief's LP duals are 0."""
    for v in tiny.values:
        if v.dual_spend is None:
            continue
        assert v.dual_spend == 0 and v.dual_relief == 0 and v.dual_verified
        check = v.milp_check
        for side in ("up", "down"):
            assert check[side]["integers_unchanged"] and check[side]["agrees_with_dual"]
            assert check[side]["relief_change"] == 0


# ----------------------------------------------------------------------------------------
# A hand-computed spending dual
# ----------------------------------------------------------------------------------------


def two_sources() -> Case:
    """One year; tier t1 of track general needs score 3 (exports 10, 25% -> 15%: relief 1.0).
    Two divisible levers score 1 a module: D costs 1 of public money a module, at most 2
    modules; E costs 2, at most 10. Budget 10.

    Relief 1.0 needs D 2 + E 1: least spending 2 x 1 + 1 x 2 = 4. With the tier fixed, each
    more module allowed of D replaces a module of E: d(spend)/d(max_modules D) = 1 - 2 = -1,
    until E is down to its least size in the plan: its build indicator y_E = 1 is fixed with
    the integers, and a divisible lever in the plan has at least 0.001 modules
    (docs/formulation.md), so the dual holds up to max_modules 3 - 0.001 = 2.999. E's limit
    and the budget have slack: 0."""
    meta = {"name": "two_sources", "first_year": 2026, "last_year": 2026, "data_year": 2026, "discount_rate": 0.0}
    lever = {
        "capex_per_module": 1.0,
        "lead_time_years": 0,
        "earliest_year": 2026,
        "min_modules": 0,
        "integer": False,
        "max_modules_per_year": 10.0,
    }
    tables = {
        "levers": [
            {"lever": "D", "public_share": 1.0, "max_modules": 2.0, **lever},
            {"lever": "E", "public_share": 1.0, "max_modules": 10.0, **{**lever, "capex_per_module": 2.0}},
        ],
        "budget": [{"year": 2026, "public_budget_usd_bn": 10.0}],
        "contributions": [
            {"lever": "D", "pillar": "p", "score_per_module": 1.0},
            {"lever": "E", "pillar": "p", "score_per_module": 1.0},
        ],
        "scenarios": [{"scenario": "s", "probability": 1.0, "commitment_credit": 0.0}],
        "sectors": [{"sector": "x", "track": "general", "exports_usd_bn": 10.0, "growth_rate": 0.0}],
        "tiers": [
            {"scenario": "s", "track": "general", "tier": "base", "threshold": 0.0},
            {"scenario": "s", "track": "general", "tier": "t1", "threshold": 3.0},
        ],
        "tariffs": [
            {"scenario": "s", "track": "general", "tier": "base", "sector": "x", "rate": 0.25},
            {"scenario": "s", "track": "general", "tier": "t1", "sector": "x", "rate": 0.15},
        ],
        "pillar_weights": [{"scenario": "s", "track": "general", "pillar": "p", "weight": 1.0}],
    }
    return Case.from_tables(meta, tables)


def test_spending_dual_by_hand():
    m = marginal_values(two_sources(), OPTIONS, all_levers=True, milp_check=True)
    v = by_key(m)
    assert m.base.evaluation.expected_relief == pytest.approx(1.0)
    assert m.base.evaluation.discounted_public_spend == pytest.approx(4.0)
    d = v["max_modules:D"]
    assert d.dual_spend == pytest.approx(-1.0, abs=1e-9) and d.dual_verified
    assert d.dual_range[1] == pytest.approx(2.999, abs=1e-9)
    assert d.fd_spend_up == pytest.approx(-1.0, abs=1e-9)  # +0.2 of D: spending 3.8, same relief
    assert d.fd_up == 0 and not d.integers_changed(d.up)
    assert d.milp_check["up"]["agrees_with_dual"] and d.milp_check["down"]["agrees_with_dual"]
    assert v["max_modules:E"].dual_spend == 0 and v["budget:2026"].dual_spend == 0
    assert v["budget:2026"].dual_relief == 0 and d.dual_relief == 0
    words = spend_words(d)
    assert "save USD 1bn" in words and "up to 2.999" in words and "LP dual (integer decisions fixed)" in words


# ----------------------------------------------------------------------------------------
# A full-size case (examples/tight-budget): duals against the MILP re-solved at a small step
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default():
    """A full-size case with binding yearly budgets whose spending duals are real.

    Since issue 12 the default case (inputs/korea-2026) pays MASGA, defence and the LNG premium
    from their own envelopes, which have no yearly budgets, and its MOU cash is slack (10.32 of
    200; every budget, envelope and pool has a spending dual of 0, measured with
    `fixed_integer_duals`; only the max_per_year column bounds of MASGA, LNG and defence have
    one, and no range). examples/tight-budget is the pre-issue-12 default case with 5, then 13 a
    year: budget:2026 binds with a dual of -13.47 (range 4.92 to 5.10), budget:2027 -0.046,
    max_modules:lng_purchases -0.137 (range 6 to 9.00), max_per_year:lng_purchases -11.26, the
    pool masga is slack (measured the same way); the same kinds of limit the test checked on the
    old default case."""
    case = load_case(TIGHT)
    solver = Resolver(case, OPTIONS)
    base = solver.solve(case)
    limits = {l.key: l for l in limits_of(case, base.evaluation)}
    duals = fixed_integer_duals(solver, case, base, list(limits.values()))
    return case, solver, base, limits, duals


# a row dual that binds, a row with slack, a pool, a lever limit on a row times y, and one
# on the upper bounds of many columns
CHECKED = {
    "budget:2026": (+1, -1),
    "budget:2027": (+1,),
    "pool:masga": (+1,),
    # upward only: on examples/tight-budget its dual's range is 6 to 9.00, so 6 (the value) is
    # where the basis changes and below it the derivative is another (-5.77, measured)
    "max_modules:lng_purchases": (+1,),
    # downward only on examples/tight-budget: 3 a year is a breakpoint, raising it changes
    # nothing (MILP derivative 0), lowering it agrees with the dual -11.26 (measured)
    "max_per_year:lng_purchases": (-1,),
}


def test_default_case_duals_agree_with_the_milp_re_solved(default):
    case, solver, base, limits, duals = default
    ev = base.evaluation
    assert duals.spend["budget:2026"] < -1  # a binding budget with a real dual: the test has teeth
    for key, sides in CHECKED.items():
        lim = limits[key]
        assert duals.relief[key] == 0, key  # relief's LP dual with the integers fixed
        for sign in sides:
            point = solver.solve(moved(case, lim, lim.value + sign * CHECK_STEP)[0])
            assert point.status == "optimal"
            assert np.array_equal(point.integers, base.integers), f"{key} {sign:+d}: the integer decisions changed"
            assert point.evaluation.expected_relief == ev.expected_relief, key  # relief's finite difference: 0
            derivative = (point.evaluation.discounted_public_spend - ev.discounted_public_spend) / (sign * CHECK_STEP)
            assert close(derivative, duals.spend[key]), (
                f"{key} {sign:+d}: MILP {derivative:.10g} vs LP dual {duals.spend[key]:.10g}"
            )


def test_default_case_dual_signs_and_ranges(default):
    """HiGHS's duals are d(objective)/d(active bound) for a min problem: loosening a binding
    budget can only lower the least spending, so its dual is <= 0 (verified above by finite
    difference, here its range): inside the range the LP's objective moves linearly with the
    dual, checked at 99% of the way to each end."""
    case, solver, base, limits, duals = default
    for key, dual in duals.spend.items():
        if dual is not None:
            assert dual <= 1e-9, key
    lim = limits["budget:2026"]
    lo, hi = duals.ranges["budget:2026"]
    assert lo < lim.value < hi
    with FixedIntegers(solver, base.integers) as lp:
        for end in (lo, hi):
            value = lim.value + 0.99 * (end - lim.value)
            solver.set_case(moved(case, lim, value)[0])
            lp.refix()
            _, obj, _ = lp.solve(len(solver.engine.stages) - 1)
            assert close(obj, duals.spend_objective + duals.spend["budget:2026"] * (value - lim.value))
        solver.set_case(case)


def test_engine_is_restored_after_the_duals(default):
    case, solver, base, limits, duals = default
    again = solver.solve(case)
    assert np.array_equal(again.integers, base.integers)
    assert again.evaluation.expected_relief == pytest.approx(base.evaluation.expected_relief, rel=1e-12)
    assert again.evaluation.discounted_public_spend == pytest.approx(base.evaluation.discounted_public_spend, rel=1e-9)


# ----------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------


def test_cli_json_and_out(tmp_path):
    """One subprocess of the installed script: stdout is exactly one JSON object (HiGHS writes
    to file descriptor 1), and --out writes marginal.csv and summary.json."""
    exe = Path(sys.executable).parent / "relief"
    env = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [str(exe), "marginal", str(TINY), "--json", "--out", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["base"]["expected_relief"] == pytest.approx(2.2)
    rows = {r["limit"]: r for r in out["limits"]}
    assert rows["budget:2026"]["fd_up"] == pytest.approx(1.0)
    assert rows["budget:2026"]["method_relief"] == "finite difference (MILP re-solved)"
    assert rows["budget:2026"]["method_spend"] == "LP dual (integer decisions fixed)"
    assert "schedule_up" in rows["budget:2026"]
    import pandas as pd

    csv = pd.read_csv(tmp_path / "m" / "marginal.csv")
    for col in (
        "limit",
        "kind",
        "value",
        "binding",
        "step",
        "fd_up",
        "fd_down",
        "integers_changed_up",
        "integers_changed_down",
        "dual_spend",
        "method_relief",
        "method_spend",
    ):
        assert col in csv.columns
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["limits"] == out["limits"]


def test_cli_terminal_labels_every_number():
    run = CliRunner().invoke(main, ["marginal", str(TINY), "--limits", "budget"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert "finite differences (MILP re-solved)" in run.output
    assert "LP duals (integer decisions fixed)" in run.output
    assert "budget:2026" in run.output and "total_budget" not in run.output.split("In planner's words")[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--limits", "budgets"], "unknown kind"),
        (["--exclude", "nope"], "unknown lever"),
        (["--set", "budget.2026.nope=1"], "--set"),
    ],
)
def test_cli_bad_input_exits_2(args, words):
    run = CliRunner().invoke(main, ["marginal", str(TINY), *args])
    assert run.exit_code == 2
    assert words in run.output


def test_cli_infeasible_case_exits_3():
    run = CliRunner().invoke(main, ["marginal", str(TINY), "--force", "smelter", "--set", "case.total_public_budget=1"])
    assert run.exit_code == 3, run.output
    assert "no optimal plan" in run.output


def test_cli_help_has_examples():
    run = CliRunner().invoke(main, ["marginal", "--help"])
    assert run.exit_code == 0 and "Example" in run.output and "relief marginal" in run.output
