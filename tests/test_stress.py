"""`relief stress RUN`: a solved roadmap re-evaluated, never re-solved, under perturbations.

Known answers on examples/tiny with the smelter's lead time at 1 year (worked by hand below), the
as-planned row reproducing the run exactly (the default case and the tiny case, folder and workbook),
an adaptive roadmap.csv (a `scenario` column) made by hand, hypothesis properties on random tiny
cases (a slip, a raise of the thresholds, less credit never raise relief), the CLI through the
console script with --json and --out, and the one-line errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest
from casegen import cases, frames
from cliutil import ENV, relief_exe
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from relief.model.analyses.stress import (
    Perturbation,
    StressError,
    parse_slip,
    perturbed,
    plans_of,
    stress_test,
    value_plans,
)
from relief.model.core.case import Case, load_case
from relief.model.core.rates import yearly_rates

TINY = "examples/tiny"
LEAD1 = "levers.chips.lead_time_years=1"  # examples/tiny's optimum is then the smelter alone, lead 1


def relief(*args, cwd=None):
    return subprocess.run([relief_exe(), *map(str, args)], capture_output=True, text=True, env=ENV, cwd=cwd)


def solved(folder, *args):
    r = relief("solve", *args, "--out", folder)
    assert r.returncode == 0, r.stderr
    return folder


@pytest.fixture(scope="module")
def tiny1(tmp_path_factory):
    """examples/tiny with chips' lead time 1, solved: the smelter (lead 1) committed in 2026.

    By hand (deal: p 0.6, credit 0.5; hard: p 0.4, credit 0; general's t1 at 5; no discounting):
    minerals = 10 x ((1 - k) O + k C). deal: C = 1 from 2026, O = 1 from 2027: 5 then 10, t1 both
    years (autos 10 x (0.25 - 0.15) = 1.0 a year): 2.0. hard: O only, 0 then 10: t1 in 2027
    (10 x (0.25 - 0.20) = 0.5): 0.5. Expected 0.6 x 2.0 + 0.4 x 0.5 = 1.4."""
    return solved(tmp_path_factory.mktemp("stress") / "tiny1", TINY, "--set", LEAD1)


def run_test(folder, asked=None):
    run_case = load_case(folder / "case")
    summary = json.loads((folder / "summary.json").read_text())
    return stress_test(run_case, pd.read_csv(folder / "roadmap.csv"), summary["expected_relief"], asked).report()


def one(folder, **kw):
    rep = run_test(folder, [Perturbation(**kw)])
    assert rep["rows"][0]["perturbation"] == "as planned"
    return rep["rows"][1]


def test_as_planned_reproduces_the_tiny_run(tiny1):
    rep = run_test(tiny1, [])
    assert rep["rows"][0]["expected_relief"] == 1.4
    assert rep["rows"][0]["by_scenario"] == {"deal": 2.0, "hard": 0.5}


def test_a_slip_of_a_lever_with_lead_1_by_hand(tiny1):
    """The smelter operates from 2028 (lead 2): hard's score stays 0 in both years, its t1 of 2027 is
    lost (0.5); deal keeps t1 by its credit (0.5 x 10 = 5 from 2026). Lost: 0.4 x 0.5 = 0.2."""
    row = one(tiny1, slips=(("smelter", 1),))
    assert row["expected_relief"] == pytest.approx(1.2, abs=1e-12)
    assert row["relief_lost"] == pytest.approx(0.2, abs=1e-12)
    assert row["lost_by_scenario"] == {"deal": 0.0, "hard": 0.5}
    assert row["tiers_lost"] == [
        {"scenario": "hard", "track": "general", "year": 2027, "tier": "t1", "now": "base", "relief_lost": 0.5}
    ]


def test_credit_and_thresholds_by_hand(tiny1):
    """Credit x0.5: deal's 2026 score 0.25 x 10 = 2.5 < 5: t1 lost in 2026 (1.0): 1.4 - 0.6 = 0.8.
    Thresholds +5% (t1 at 5.25): deal's 2026 score 5 misses it the same way: 0.8."""
    for kw in ({"credit": 0.5}, {"raise_thresholds": 0.05}):
        row = one(tiny1, **kw)
        assert row["expected_relief"] == pytest.approx(0.8, abs=1e-12), kw
        assert [(x["scenario"], x["year"], x["tier"], x["now"]) for x in row["tiers_lost"]] == [
            ("deal", 2026, "t1", "base")
        ]


def test_options_together_are_one_perturbation(tiny1):
    """Slip and credit x0.5 together: deal 0.25 x 10 = 2.5 in both years (O = 0 in the horizon): no
    tier; hard nothing: 0, all 1.4 lost; each alone loses less (0.2, 0.6)."""
    row = one(tiny1, slips=(("smelter", 1),), credit=0.5)
    assert row["perturbation"] == "slip smelter +1y; credit x0.5"
    assert row["expected_relief"] == 0.0 and row["relief_lost"] == 1.4
    assert len(row["tiers_lost"]) == 3


def test_the_battery_and_what_breaks_first(tiny1):
    rep = run_test(tiny1)
    labels = [r["perturbation"] for r in rep["rows"]]
    assert labels == ["as planned", "slip smelter +1y", "thresholds +5%", "thresholds +10%", "credit x0.8"]
    fb = rep["first_break"]
    # credit x0.8: deal's 2026 score 0.4 x 10 = 4 < 5: 0.6 lost, as the raises; the first of the ties
    assert fb["most_relief_lost"] == {"perturbation": "thresholds +5%", "relief_lost": 0.6, "tiers_lost_count": 1}
    assert fb["perturbation"] == "thresholds +5%"  # the headline
    assert fb["mildest_tier_lost"]["perturbation"] == "slip smelter +1y"
    assert fb["threshold_break"]["raise"] == 0.0  # deal's 2026 t1 is reached exactly at 5
    assert (fb["threshold_break"]["scenario"], fb["threshold_break"]["year"]) == ("deal", 2026)


def test_set_perturbs_any_number_and_reports_broken_limits(tiny1):
    """--set of a tariff: hard's t1 rate 0.25 (no relief): 0.4 x 0.5 = 0.2 lost, no tier changes;
    a budget cut the plan now breaks is reported, not fatal."""
    row = one(tiny1, overrides=("tariffs.hard:general:t1:autos.rate=0.25",))
    assert row["relief_lost"] == pytest.approx(0.2, abs=1e-12) and row["tiers_lost"] == []
    row = one(tiny1, overrides=("budget.2026.public_budget_usd_bn=1",), slips=(("smelter", 1),))
    assert row["relief_lost"] == pytest.approx(0.2, abs=1e-12)
    assert any("2026" in v and "budget" in v for v in row["violations"])
    assert one(tiny1, slips=(("smelter", 1),))["violations"] == []  # a slip moves no money


def test_a_run_whose_case_changed_is_refused(tiny1, tmp_path):
    run = shutil.copytree(tiny1, tmp_path / "edited")
    t = pd.read_csv(run / "case" / "tariffs.csv")
    t.loc[t["rate"] == 0.20, "rate"] = 0.22
    t.to_csv(run / "case" / "tariffs.csv", index=False)
    with pytest.raises(StressError, match="was changed after it was solved"):
        run_test(run)
    r = relief("stress", run)
    assert r.returncode == 2 and "changed after it was solved" in r.stderr and "Traceback" not in r.stderr


def test_parse_slip():
    assert parse_slip("us_fab_module:2") == ("us_fab_module", 2)
    assert parse_slip("all:1") == ("all", 1)
    for bad in ("fab", "fab:0", "fab:x", ":1", "fab:-1"):
        with pytest.raises(StressError):
            parse_slip(bad)


# ---------------------------------------------------------------- an adaptive roadmap


def test_an_adaptive_roadmap_values_each_stance_with_its_own_plan(tiny1, tmp_path):
    """roadmap.csv with a scenario column, by hand: deal keeps the smelter in 2026 (2.0 as above);
    hard commits chips 1 in 2026 and 1 in 2027 instead (lead 1: semis score 0 then 5 < 10, and hard's
    general weighs minerals only): 0. Expected 0.6 x 2.0 = 1.2 (the static plan gives 1.4: hard
    would get 0.5). Credit x0.5 costs deal its 2026 t1 only (1.0): hard's plan has no credit anyway."""
    run = shutil.copytree(tiny1, tmp_path / "adaptive")
    rm = pd.read_csv(run / "roadmap.csv")
    deal = rm.assign(scenario="deal")
    hard = rm.assign(scenario="hard", committed=0.0)
    hard.loc[hard["lever"].eq("chips") & hard["year"].isin([2026, 2027]), "committed"] = 1.0
    pd.concat([deal, hard]).to_csv(run / "roadmap.csv", index=False)
    summary = json.loads((run / "summary.json").read_text())
    summary["expected_relief"] = 1.2
    (run / "summary.json").write_text(json.dumps(summary))
    rep = run_test(run, [Perturbation(credit=0.5)])
    assert rep["adaptive"] is True
    planned, row = rep["rows"]
    assert planned["by_scenario"] == {"deal": 2.0, "hard": 0.0}
    assert planned["expected_relief"] == pytest.approx(1.2, abs=1e-12)
    assert row["by_scenario"] == {"deal": 1.0, "hard": 0.0}
    assert row["expected_relief"] == pytest.approx(0.6, abs=1e-12)
    # the battery slips the levers of every branch's plan
    labels = [r["perturbation"] for r in run_test(run)["rows"]]
    assert "slip smelter +1y" in labels and "slip chips +1y" in labels
    r = relief("stress", run, "--credit", "0.5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"][1]["by_scenario"] == {"deal": 1.0, "hard": 0.0}
    # a stance without rows in an adaptive roadmap is refused
    with pytest.raises(StressError, match="no rows for stance"):
        plans_of(pd.concat([deal]), ["deal", "hard"])


# ---------------------------------------------------------------- properties on random tiny cases

PROPS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def monotone(case: Case) -> bool:
    """Every ladder monotone: along each (stance, track) ladder by ascending threshold, no sector's
    rate rises, in any year (dated rates included)."""
    rate = yearly_rates(case)
    sectors = case.table("sectors")
    for (s, r), lad in case.table("tiers").groupby(["scenario", "track"]):
        tiers = list(lad.sort_values("threshold")["tier"])
        for j in sectors.loc[sectors["track"] == r, "sector"]:
            for t in case.years:
                rates = [rate[(s, r, k, j, t)] for k in tiers]
                if any(b > a for a, b in zip(rates, rates[1:])):
                    return False
    return True


@st.composite
def case_and_plan(draw):
    meta, tables = draw(cases())
    case = Case.from_tables(meta, frames(tables))
    plan = {}
    for r in case.table("levers").to_dict("records"):
        for t in case.years:
            v = draw(st.integers(0, int(r["max_modules_per_year"])))
            if v:
                plan[(r["lever"], t)] = float(v)
    return case, plan


@PROPS
@given(case_and_plan(), st.sampled_from([1, 2]), st.sampled_from([0.05, 0.5]), st.sampled_from([0.0, 0.5, 0.8]))
def test_perturbations_never_raise_relief(cp, years, share, factor):
    """Monotone ladders: a slip of every lever, a raise of the thresholds, credit x factor < 1 never
    raise any stance's relief (nor the expected relief); and a tier lost is relief lost."""
    case, plan = cp
    assume(monotone(case))
    plans = dict.fromkeys(case.scenarios, plan)
    planned = value_plans(case, plans)
    for p in (Perturbation(slips=(("all", years),)), Perturbation(raise_thresholds=share), Perturbation(credit=factor)):
        now = value_plans(perturbed(case, p), plans)
        for s in case.scenarios:
            assert now.by_scenario[s] <= planned.by_scenario[s] + 1e-9, (p.label(), s)
        assert now.expected_relief <= planned.expected_relief + 1e-9, p.label()
        for key, (tier, rel) in planned.tiers.items():
            if now.tiers[key][0] != tier:
                assert now.tiers[key][1] <= rel + 1e-12, (p.label(), key)


def test_the_property_cases_are_not_trivial():
    """On seeded cases of the same generator, the perturbations do lose relief now and then (so the
    property above could fail), and about half the ladders are monotone (so `assume` keeps many)."""
    from casegen import random_case

    drops = kept = 0
    for seed in range(20):
        meta, tables = random_case(seed)
        case = Case.from_tables(meta, frames(tables))
        kept += monotone(case)
        plan = {(r["lever"], t): r["max_modules_per_year"] for r in tables["levers"] for t in case.years}
        plans = dict.fromkeys(case.scenarios, {k: v for k, v in plan.items() if v})
        planned = value_plans(case, plans).expected_relief
        for p in (Perturbation(slips=(("all", 1),)), Perturbation(raise_thresholds=0.5), Perturbation(credit=0.5)):
            drops += value_plans(perturbed(case, p), plans).expected_relief < planned - 1e-9
    assert drops >= 3 and kept >= 5, (drops, kept)


def test_a_slip_that_delays_nothing_changes_nothing():
    """A slip of a lever the plan does not use loses nothing (examples/tiny: lng is never committed)."""
    case = load_case(TINY)
    plans = dict.fromkeys(case.scenarios, {("chips", 2026): 1.0, ("chips", 2027): 1.0})
    a, b = value_plans(case, plans), value_plans(perturbed(case, Perturbation(slips=(("lng", 3),))), plans)
    assert (a.expected_relief, a.by_scenario, a.tiers) == (b.expected_relief, b.by_scenario, b.tiers)


# ---------------------------------------------------------------- the CLI, through the console script


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return solved(tmp_path_factory.mktemp("stress") / "base")


def test_cli_default_case_battery_json_and_out(default_run, tmp_path):
    """The default case: as planned is the run's relief exactly; the battery finds the knife edge
    (a tier reached exactly at its threshold: any raise loses it) and a slip that loses a tier."""
    expected = json.loads((default_run / "summary.json").read_text())["expected_relief"]
    out = tmp_path / "stress"
    r = relief("stress", default_run, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "What breaks the roadmap first" in r.stdout and "as planned" in r.stdout
    rep = json.loads((out / "summary.json").read_text())  # what --json prints (tested on the workbook below)
    assert rep["analysis"] == "stress" and rep["run"] == str(default_run) and rep["battery"] is True
    assert rep["rows"][0]["perturbation"] == "as planned"
    assert rep["rows"][0]["expected_relief"] == expected
    labels = [x["perturbation"] for x in rep["rows"]]
    assert labels[-3:] == ["thresholds +5%", "thresholds +10%", "credit x0.8"]
    assert all(x["relief_lost"] >= 0 for x in rep["rows"])
    assert rep["first_break"]["threshold_break"]["raise"] == 0.0
    assert rep["first_break"]["mildest_tier_lost"]["tiers_lost_count"] >= 1
    stress = pd.read_csv(out / "stress.csv")
    assert len(stress) == len(rep["rows"]) * len(rep["probability"])
    lost = pd.read_csv(out / "tiers_lost.csv")
    assert len(lost) == sum(x["tiers_lost_count"] for x in rep["rows"])
    assert list(lost.columns) == ["perturbation", "scenario", "track", "year", "tier", "now", "relief_lost"]
    html = tmp_path / "report.html"
    r = relief("report", default_run, "--analysis", out, "--out", html)
    assert r.returncode == 0, r.stderr
    text = html.read_text()
    assert "Stress test of the roadmap" in text and "thresholds +10%" in text


def test_cli_a_run_workbook(tmp_path):
    book = tmp_path / "run.xlsx"
    r = relief("solve", TINY, "--set", LEAD1, "--out", book)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "stress"
    r = relief("stress", book, "--slip", "smelter:1", "--json", "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads((out / "summary.json").read_text())
    rows = json.loads(r.stdout)["rows"]
    assert rows[0]["expected_relief"] == 1.4 and rows[1]["relief_lost"] == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize(
    "args, words",
    [
        (["nowhere"], "is not a run folder"),
        (["{run}", "--slip", "smelter"], "write LEVER:YEARS"),
        (["{run}", "--slip", "fab:1"], "no such lever"),
        (["{run}", "--set", "levers.nope.lead_time_years=2"], "--set"),
        (["examples/tiny"], "is not a run folder"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tiny1, args, words):
    r = relief("stress", *[a.format(run=tiny1) for a in args])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr and "Traceback" not in r.stderr
