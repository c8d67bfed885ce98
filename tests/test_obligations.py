"""Obligations (obligations.csv): what Korea owes, worked by hand on examples/pledges (examples/tiny
with two obligations; its README works every number), validated, explained when they cannot
be met, brute-forced on random cases, priced by `relief obligations`, and read from a workbook.

By hand (examples/pledges/README.md): without obligations the optimum is one chip module in
2026 and one in 2027, relief 2.2, public spending 4.0. `lng 2 by 2027` binds (LNG buys no
relief) and adds 1.0 of spending; `chips 1 by 2027` does not bind (the optimum commits 2).
`smelter 1 by 2027` costs relief: the smelter (public 2) and two chip modules (4) do not fit
the total budget of 5, and the best plan with the smelter gives 1.4 (smelter in 2026 alone).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from casegen import SeededChooser, cases, frames, generate, plan_count, write_case
from checker import SpecCase, brute_force, check_plan, close, plan_of_roadmap
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import HealthCheck, given, settings

from relief.model.analyses.obligations import keep_only, price_obligations
from relief.model.core.case import Case, CaseError, load_case
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
PLEDGES = ROOT / "examples" / "pledges"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)


def relief(*args):
    return subprocess.run([relief_exe(), *map(str, args)], capture_output=True, text=True, env=ENV)


@pytest.fixture(scope="module")
def pledges():
    return load_case(PLEDGES)


def with_obligations(case, rows) -> Case:
    return case.replaced(obligations=pd.DataFrame(rows, columns=["lever", "by_year", "min_modules"]))


# ------------------------------------------------------------------ known answers by hand


def test_pledges_by_hand(pledges):
    res = run_case(pledges, OPTIONS)
    ev = res.evaluation
    assert res.status == "optimal"
    assert ev.expected_relief == pytest.approx(2.2)
    assert ev.public_spend == pytest.approx(5.0)  # 4.0 of chips + 2 x 0.5 of LNG
    assert ev.portfolio["lng"] == 2 and ev.portfolio["chips"] == 2
    by = {(o["lever"], o["by_year"]): o for o in res.report()["obligations"]}
    assert by[("lng", 2027)] == {
        "lever": "lng",
        "by_year": 2027,
        "min_modules": 2.0,
        "committed_by_year": 2.0,
        "met": True,
        "binding": True,
    }
    assert by[("chips", 2027)]["committed_by_year"] == 2.0
    assert by[("chips", 2027)]["met"] and not by[("chips", 2027)]["binding"]


def test_without_obligations_is_the_tiny_optimum(pledges):
    res = run_case(pledges.without_obligations(), OPTIONS)
    assert res.evaluation.expected_relief == pytest.approx(2.2)
    assert res.evaluation.public_spend == pytest.approx(4.0)
    assert res.evaluation.portfolio["lng"] == 0
    assert res.report()["obligations"] == []


def test_an_obligation_that_costs_relief(pledges):
    case = with_obligations(pledges, [{"lever": "smelter", "by_year": 2027, "min_modules": 1}])
    ev = run_case(case, OPTIONS).evaluation
    assert ev.expected_relief == pytest.approx(1.4)  # smelter in 2026: deal 2.0, hard 0.5
    assert ev.public_spend == pytest.approx(2.0)
    assert ev.portfolio["smelter"] == 1


def test_an_obligation_is_cumulative_up_to_its_year(pledges):
    """lng 3 by 2026 with at most 2 a year: refused by validation; lng 3 by 2027 is 2 + 1 (or 1 + 2)."""
    with pytest.raises(CaseError, match=r"obligations.csv, row 2, column min_modules: lng cannot have 3 modules"):
        with_obligations(pledges, [{"lever": "lng", "by_year": 2026, "min_modules": 3}])
    case = with_obligations(pledges, [{"lever": "lng", "by_year": 2027, "min_modules": 3}])
    ev = run_case(case, OPTIONS).evaluation
    assert ev.portfolio["lng"] == 3


def test_set_moves_an_obligation(pledges):
    """--set obligations.LEVER:BY_YEAR.min_modules: lng 4 by 2027 leaves room for one chip module only."""
    case = apply_overrides(pledges, ["obligations.lng:2027.min_modules=4"])
    ev = run_case(case, OPTIONS).evaluation
    assert ev.portfolio["lng"] == 4 and ev.portfolio["chips"] == 1
    assert ev.expected_relief == pytest.approx(1.2)  # chip in 2026: deal t1 both years = 2.0; hard 0
    with pytest.raises(OverrideError, match="lng cannot have 9 modules committed by 2027: its max_modules is 4"):
        apply_overrides(pledges, ["obligations.lng:2027.min_modules=9"])


def test_the_evaluator_reports_a_plan_short_of_an_obligation(pledges):
    ev = evaluate_plan(pledges, {("chips", 2026): 1, ("chips", 2027): 1, ("lng", 2027): 1})
    assert any("short of the obligation" in v for v in ev.violations), ev.violations
    assert [o["met"] for o in ev.obligations] == [False, True]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (
            {"lever": "lng", "by_year": 2028, "min_modules": 1},
            "by_year",
            "by_year 2028 is outside the horizon 2026-2027",
        ),
        ({"lever": "lng", "by_year": 2025, "min_modules": 1}, "by_year", "outside the horizon"),
        ({"lever": "gas", "by_year": 2027, "min_modules": 1}, "lever", "unknown lever 'gas'"),
        ({"lever": "lng", "by_year": 2027, "min_modules": -1}, "min_modules", ""),
        ({"lever": "smelter", "by_year": 2027, "min_modules": 2}, "min_modules", "its max_modules is 1"),
        ({"lever": "lng", "by_year": 2026, "min_modules": 3}, "min_modules", "max_modules_per_year"),
    ],
)
def test_bad_obligations_name_file_row_and_column(pledges, row, column, words):
    with pytest.raises(CaseError) as e:
        with_obligations(pledges, [row])
    text = str(e.value)
    assert f"obligations.csv, row 2, column {column}" in text and words in text, text


def test_an_obligation_before_the_lever_can_start_is_refused(pledges):
    case = apply_overrides(pledges.without_obligations(), ["levers.chips.earliest_year=2027"])
    with pytest.raises(CaseError, match="chips cannot have 1 modules committed by 2026"):
        with_obligations(case, [{"lever": "chips", "by_year": 2026, "min_modules": 1}])
    with_obligations(case, [{"lever": "chips", "by_year": 2026, "min_modules": 0}])  # owing nothing is fine


# ------------------------------------------------------------------ infeasible


def test_an_obligation_on_an_excluded_lever_is_explained(pledges):
    res = run_case(pledges, OPTIONS, exclude=("lng",))
    assert res.status == "infeasible"
    kinds = {c.kind for c in res.diagnosis.conflicts}
    assert {"obligation", "excluded"} <= kinds, res.conflicts
    text = " ".join(res.conflicts)
    assert "obligation to commit at least 2 modules of lng by 2027" in text
    assert "lng is excluded" in text


def test_an_obligation_beyond_the_budget_is_explained(pledges):
    case = apply_overrides(
        pledges,
        ["obligations.lng:2027.min_modules=4", "obligations.chips:2027.min_modules=0", "case.total_public_budget=1.5"],
    )
    res = run_case(case, OPTIONS)
    assert res.status == "infeasible"
    kinds = {c.kind for c in res.diagnosis.conflicts}
    assert "obligation" in kinds and "total_budget" in kinds, res.conflicts
    ob = next(c for c in res.diagnosis.conflicts if c.kind == "obligation")
    assert ob.name == "lng by 2027" and ob.limit == 4 and ob.needed == pytest.approx(3)  # 1.5 / 0.5
    assert any("obligation on lng by 2027" in line for line in res.conflicts)


# ------------------------------------------------------------------ brute force and properties


def _obliged_case(seed: int):
    """A seeded random case with obligations whose plans can be enumerated."""
    for attempt in range(2000):
        meta, tables = generate(SeededChooser(seed * 7919 + attempt), obligations=True)
        owed = any(o["min_modules"] > 0 for o in tables.get("obligations", ()))
        if owed and 20 <= plan_count(meta, tables) <= 3000:
            meta["name"] = f"oblig-{seed}"
            return meta, tables
    raise RuntimeError(seed)


@pytest.mark.parametrize("seed", range(12))
def test_obligations_equal_brute_force(seed, tmp_path):
    meta, tables = _obliged_case(seed)
    case = load_case(write_case(tmp_path / "c", meta, tables)) if seed % 2 else Case.from_tables(meta, frames(tables))
    spec = SpecCase.from_tables(meta, tables)
    bf = brute_force(spec)
    res = run_case(case, OPTIONS)
    if bf.best_relief is None:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    ev = res.evaluation
    assert close(ev.expected_relief, bf.best_relief), (ev.expected_relief, bf.best_relief)
    plan = plan_of_roadmap(ev.roadmap)
    rep = check_plan(spec, plan)
    assert rep.feasible, rep.violations
    assert close(rep.discounted_public_spend, bf.min_spend_at_best)
    assert all(o["met"] for o in res.report()["obligations"])


def test_brute_force_cases_are_not_trivial():
    """Guard: the obligations of the cases above change the optimum of some of them."""
    changed = 0
    for seed in range(12):
        meta, tables = _obliged_case(seed)
        without = {k: v for k, v in tables.items() if k != "obligations"}
        a, b = brute_force(SpecCase.from_tables(meta, tables)), brute_force(SpecCase.from_tables(meta, without))
        changed += a.best_relief != b.best_relief or a.min_spend_at_best != b.min_spend_at_best
    assert changed >= 3, changed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_levers=3, max_years=3, obligations=True))
def test_dropping_an_obligation_never_lowers_relief(generated):
    meta, tables = generated
    case = Case.from_tables(meta, frames(tables))
    n = len(case.table("obligations"))
    if n == 0:
        return
    with_all = run_case(case, OPTIONS)
    for i in range(n):
        fewer = run_case(keep_only(case, [j for j in range(n) if j != i]), OPTIONS)
        if with_all.status == "optimal":
            assert fewer.status == "optimal"
            assert fewer.evaluation.expected_relief >= with_all.evaluation.expected_relief - 1e-6
    none = run_case(case.without_obligations(), OPTIONS)
    if with_all.status == "optimal":
        assert none.evaluation.expected_relief >= with_all.evaluation.expected_relief - 1e-6


# ------------------------------------------------------------------ relief obligations


def test_price_of_each_obligation_by_hand(pledges):
    rep = price_obligations(pledges, OPTIONS).report()
    assert rep["none"]["expected_relief"] == pytest.approx(2.2) and rep["none"]["discounted_public_spend"] == 4.0
    assert rep["all"]["expected_relief"] == pytest.approx(2.2) and rep["all"]["discounted_public_spend"] == 5.0
    assert rep["relief_cost_all"] == 0 and rep["spend_cost_all"] == 1.0
    lng, chips = rep["obligations"]
    assert (lng["relief_cost_alone"], lng["spend_cost_alone"], lng["spend_cost_last"]) == (0, 1.0, 1.0)
    assert lng["binds_alone"] and lng["committed_without_obligations"] == 0
    assert (chips["relief_cost_alone"], chips["spend_cost_alone"], chips["spend_cost_last"]) == (0, 0, 0)
    assert not chips["binds_alone"] and chips["committed_without_obligations"] == 2


def test_price_of_an_obligation_that_costs_relief(pledges):
    case = with_obligations(
        pledges,
        [{"lever": "lng", "by_year": 2027, "min_modules": 2}, {"lever": "smelter", "by_year": 2027, "min_modules": 1}],
    )
    rep = price_obligations(case, OPTIONS).report()
    lng, smelter = rep["obligations"]
    # smelter alone: 1.4 at 2.0 (against 2.2 at 4.0); with lng too: smelter 2026 + 2 LNG, 1.4 at 3.0
    assert smelter["relief_cost_alone"] == pytest.approx(0.8) and smelter["spend_cost_alone"] == pytest.approx(-2.0)
    assert smelter["relief_cost_last"] == pytest.approx(0.8) and smelter["spend_cost_last"] == pytest.approx(-2.0)
    assert lng["relief_cost_last"] == 0 and lng["spend_cost_last"] == pytest.approx(1.0)
    assert rep["all"]["expected_relief"] == pytest.approx(1.4) and rep["all"]["discounted_public_spend"] == 3.0


def test_cli_without_obligations_and_obligations_json_out(tmp_path):
    p = relief("solve", PLEDGES, "--json", "--without-obligations")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["without_obligations"] is True and rep["obligations"] == [] and rep["public_spend"] == 4.0
    p = relief("solve", PLEDGES)
    assert p.returncode == 0, p.stderr
    assert "Obligations: 2 of 2 met" in p.stdout and "binding (exactly what is owed): lng 2 by 2027" in p.stdout
    p = relief("solve", PLEDGES, "--without-obligations")
    assert "--without-obligations" in p.stdout and "Obligations dropped" in p.stdout
    p = relief("solve", PLEDGES, "--exclude", "lng")
    said = " ".join(p.stderr.split())
    assert p.returncode == 3 and "obligation to commit at least 2 modules of lng by 2027" in said, p.stderr
    assert "lng is excluded (--exclude lng)" in said
    assert "Traceback" not in p.stderr

    out = tmp_path / "obl"
    p = relief("obligations", PLEDGES, "--json", "--out", out)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["analysis"] == "obligations" and rep["count"] == 2
    assert json.loads((out / "summary.json").read_text())["obligations"] == rep["obligations"]
    table = pd.read_csv(out / "obligations.csv")
    assert list(table["lever"]) == ["lng", "chips"] and list(table["spend_cost_alone"]) == [1.0, 0.0]
    p = relief("obligations", ROOT / "examples" / "tiny")
    assert p.returncode == 0 and "no obligations" in p.stdout
    report = tmp_path / "report.html"
    p = relief("report", "--case", PLEDGES, "--analysis", out, "--out", report)
    assert p.returncode == 0, p.stderr
    html = report.read_text(encoding="utf-8")
    assert "The price of each obligation" in html
    assert "2 of 2 met; binding: lng 2 by 2027" in html  # the run's key figure


def test_obligations_round_trip_through_a_workbook(tmp_path):
    book = tmp_path / "pledges.xlsx"
    p = relief("template", PLEDGES, "--out", book)
    assert p.returncode == 0, p.stderr
    import openpyxl

    assert "obligations" in openpyxl.load_workbook(book, read_only=True).sheetnames
    a = json.loads(run_in_process("solve", PLEDGES, "--json").stdout)  # the reference, in-process
    b = json.loads(relief("solve", book, "--json").stdout)
    assert b["input_sha256"] == a["input_sha256"] and b["obligations"] == a["obligations"]


def test_a_sweep_over_an_obligation(tmp_path):
    out = tmp_path / "sweep"
    p = relief("sweep", PLEDGES, "--vary", "obligations.lng:2027.min_modules=0,2,4", "--out", out)
    assert p.returncode == 0, p.stderr
    points = pd.read_csv(out / "points.csv").sort_values("obligations.lng:2027.min_modules")
    assert list(points["status"]) == ["optimal"] * 3
    assert list(points["expected_relief"]) == pytest.approx([2.2, 2.2, 1.2])
    assert list(points["public_spend"]) == pytest.approx([4.0, 5.0, 4.0])
    assert list(points["lng"]) == [0, 2, 4]


def test_compare_shows_the_obligations_of_each_run(tmp_path):
    for name, extra in (("with", ()), ("without", ("--without-obligations",))):  # the runs, in-process
        p = run_in_process("solve", PLEDGES, "--out", tmp_path / name, *extra)
        assert p.returncode == 0, p.stderr
    p = relief("compare", tmp_path / "with", tmp_path / "without", "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert [(o["run"], o["lever"], o["committed_by_year"], o["met"]) for o in rep["obligations"]] == [
        ("with", "lng", 2.0, True),
        ("with", "chips", 2.0, True),
    ]
    p = relief("compare", tmp_path / "with", tmp_path / "without")
    assert "lng 2 by 2027" in p.stdout and "Obligations" in p.stdout


def test_an_obligation_infeasible_only_in_whole_modules_is_named(pledges):
    """chips at least 2 once used (public 4) against a total budget of 3, owing 1 chip module by 2027:
    the LP relaxation fits (half a lever), whole modules do not; the feasibility relaxation says the
    budget would have to be 4, and the explanation says what is owed."""
    case = apply_overrides(
        pledges,
        ["levers.chips.min_modules=2", "case.total_public_budget=3", "obligations.lng:2027.min_modules=0"],
    )
    res = run_case(case, OPTIONS)
    assert res.status == "infeasible" and res.diagnosis.method == "feasibility_relaxation"
    assert "owing 1 of chips by 2027" in res.diagnosis.note
    budget = next(c for c in res.diagnosis.conflicts if c.kind == "total_budget")
    assert budget.needed == pytest.approx(4.0)
