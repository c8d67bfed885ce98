"""Dated tariff rates (tariffs.csv from_year) and duty paid (sectors.csv current_rate), worked by hand.

examples/tiny in short (tests/test_known_answers.py has it in full): 2026-2027, no discounting,
no growth; autos (general track) 10, chip_exports (semis) 4; the optimum commits chips in 2026
and 2027, so deal holds general t1 in both years and semis s1 in 2027, hard holds semis s1 in
2027 only; probabilities deal 0.6, hard 0.4; optimum 2.2.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from casegen import cases, frames
from checker import SpecCase, check_run_folder, close, duty_of
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_known_answers import TINY

from relief.model.core.build import Structure, tier_relief
from relief.model.core.case import Case, CaseError, load_case
from relief.model.core.checks import with_checks
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
DATED_ROW = "deal,general,t1,autos,0.05,2027\n"  # deal's t1 rate on autos falls to 5% from 2027


def _tiny_copy(tmp_path, tariffs_extra: str = "", sectors: str | None = None, meta_extra: str = ""):
    """examples/tiny copied, with a from_year column (and rows) in tariffs.csv, optionally
    other sectors.csv text and more case.yaml lines."""
    case = tmp_path / "tiny"
    shutil.copytree(TINY, case)
    lines = (case / "tariffs.csv").read_text().splitlines()
    text = "\n".join(
        [lines[0].replace("rate,notes", "rate,from_year")] + [ln.rsplit(",", 1)[0] + "," for ln in lines[1:]]
    )
    (case / "tariffs.csv").write_text(text + "\n" + tariffs_extra)
    if sectors is not None:
        (case / "sectors.csv").write_text(sectors)
    if meta_extra:
        (case / "case.yaml").write_text((case / "case.yaml").read_text() + meta_extra)
    return case


CURRENT = "sector,track,exports_usd_bn,growth_rate,current_rate\nautos,general,10,0,0.15\nchip_exports,semis,4,0,0\n"


# ---------------------------------------------------------------- dated rates


def test_dated_rate_changes_relief_in_its_year_only(tmp_path):
    """V[deal, general, t, t1] = 10 x (0.25 - rate in force): 1.0 in 2026 (0.15) either way; in 2027
    1.0 without the dated row, 10 x (0.25 - 0.05) = 2.0 with it. Nothing else moves."""
    plain = load_case(_tiny_copy(tmp_path / "a"))
    dated = load_case(_tiny_copy(tmp_path / "b", DATED_ROW))
    v0, v1 = tier_relief(plain, Structure.of(plain)), tier_relief(dated, Structure.of(dated))
    assert v0[("deal", "general", 2026, "t1")] == pytest.approx(1.0)
    assert v1[("deal", "general", 2026, "t1")] == pytest.approx(1.0)
    assert v0[("deal", "general", 2027, "t1")] == pytest.approx(1.0)
    assert v1[("deal", "general", 2027, "t1")] == pytest.approx(2.0)
    assert {k for k in v0 if abs(v0[k] - v1[k]) > 1e-12} == {("deal", "general", 2027, "t1")}


def test_dated_rate_optimum_by_hand(tmp_path):
    """The dated row raises only deal/general/t1 in 2027, by 1.0, worth 0.6 in expectation; the old
    optimum (chips 2026 + 2027) already holds that tier, so it gains all of it: 2.2 + 0.6 = 2.8, and
    no plan can gain more than the 0.6 added. deal = 1.0 + 2.0 + 1.0 (semis 2027) = 4.0, hard 1.0.
    The tiers.csv rate change of 2027 shows the dated rate; the independent checker agrees."""
    case_dir = _tiny_copy(tmp_path, DATED_ROW)
    res = run_case(load_case(case_dir), OPTIONS)
    ev = res.evaluation
    assert ev.expected_relief == pytest.approx(2.8)
    assert ev.by_scenario == pytest.approx({"deal": 4.0, "hard": 1.0})
    changes = {(r["scenario"], r["track"], r["year"]): r["rate_changes"] for r in ev.tiers.to_dict("records")}
    assert changes[("deal", "general", 2026)] == "autos 0.25->0.15"
    assert changes[("deal", "general", 2027)] == "autos 0.25->0.05"
    spec = SpecCase.from_folder(case_dir)
    assert spec.values[("deal", "general", 2027, "t1")] == pytest.approx(2.0)


def test_dated_row_parameter_paths(tmp_path):
    """tariffs.S:R:K:J.rate names every year's row; S:R:K:J:YEAR one row (a blank from_year is first_year)."""
    case = load_case(_tiny_copy(tmp_path, DATED_ROW))

    def rates(c):
        t = c.table("tariffs")
        t = t[(t["scenario"] == "deal") & (t["tier"] == "t1") & (t["track"] == "general")]
        return sorted((0 if v is None or str(v) == "<NA>" else int(v), r) for v, r in zip(t["from_year"], t["rate"]))

    assert rates(case) == [(0, 0.15), (2027, 0.05)]
    assert rates(apply_overrides(case, ["tariffs.deal:general:t1:autos:2027.rate=0.1"])) == [(0, 0.15), (2027, 0.1)]
    assert rates(apply_overrides(case, ["tariffs.deal:general:t1:autos:2026.rate=0.2"])) == [(0, 0.2), (2027, 0.05)]
    assert rates(apply_overrides(case, ["tariffs.deal:general:t1:autos.rate*=2"])) == [(0, 0.3), (2027, 0.1)]


@pytest.mark.parametrize(
    "extra,row,words",
    [
        ("deal,general,t1,autos,0.05,2025\n", 10, ["from_year 2025 is outside the horizon 2026-2027"]),
        ("deal,general,t1,autos,0.05,2028\n", 10, ["from_year 2028 is outside the horizon"]),
        ("deal,general,t1,autos,0.05,2026\n", 10, ["a second rate", "from 2026", "row 3", "blank from_year"]),
    ],
)
def test_dated_rate_errors(tmp_path, extra, row, words):
    with pytest.raises(CaseError) as e:
        load_case(_tiny_copy(tmp_path, extra))
    p = next(p for p in e.value.problems if p.column == "from_year")
    assert p.file == "tariffs.csv" and p.row == row
    assert all(w in p.message for w in words), p.message


def test_a_rate_must_be_in_force_at_first_year(tmp_path):
    case = _tiny_copy(tmp_path)
    text = (case / "tariffs.csv").read_text().replace("deal,general,t1,autos,0.15,", "deal,general,t1,autos,0.15,2027")
    (case / "tariffs.csv").write_text(text)
    with pytest.raises(CaseError) as e:
        load_case(case)
    (p,) = [p for p in e.value.problems if p.column == "from_year"]
    assert (p.file, p.row) == ("tariffs.csv", 3)
    assert "no rate in force in first_year 2026" in p.message and "start in 2027" in p.message


def test_two_blank_from_years_are_a_duplicate_key(tmp_path):
    with pytest.raises(CaseError) as e:
        load_case(_tiny_copy(tmp_path, "deal,general,t1,autos,0.05,\n"))
    assert any("appears more than once" in p.message and (p.row, p.column) == (10, "sector") for p in e.value.problems)


def test_ladder_warning_compares_rates_year_by_year(tmp_path):
    """t1's rate rises above the baseline's only from 2027: warned, though the undated rates are fine."""
    case = with_checks(load_case(_tiny_copy(tmp_path, "hard,general,t1,autos,0.3,2027\n")))
    (w,) = [w for w in case.warnings if "hard/general/t1" in str(w)]
    assert "autos in 2027 0.3 > 0.25" in str(w) and w.row == 10
    assert not any("hard/general/t1" in str(w) for w in with_checks(load_case(_tiny_copy(tmp_path / "b"))).warnings)


# ---------------------------------------------------------------- duty paid


def test_duty_by_hand(tmp_path):
    """Current rates: autos 0.15, chip_exports 0. The optimum (chips 2026 + 2027):
    deal: autos 10 x 0.15 x 2 = 3.0, chips 4 x 0.25 (2026) + 0 (2027) = 1.0: paid 4.0;
    hard: autos 10 x 0.25 x 2 = 5.0, chips 1.0: paid 6.0; no delivery 7.0 in both;
    current 10 x 0.15 x 2 = 3.0 in both. Expected: paid 0.6 x 4 + 0.4 x 6 = 4.8, no delivery 7.0,
    relief 7.0 - 4.8 = 2.2 (the optimum), against current rates 3.0 - 4.8 = -1.8."""
    case = load_case(_tiny_copy(tmp_path, sectors=CURRENT, meta_extra="as_of: 2026-03-15\n"))
    res = run_case(case, OPTIONS)
    rep = res.report()
    assert rep["as_of"] == "2026-03-15"
    assert rep["expected_relief"] == pytest.approx(2.2)
    assert rep["expected_duty_paid"] == pytest.approx(4.8)
    assert rep["expected_duty_no_delivery"] == pytest.approx(7.0)
    assert rep["expected_duty_current"] == pytest.approx(3.0)
    assert rep["expected_relief_vs_current"] == pytest.approx(-1.8)
    assert rep["duty_by_scenario"] == {
        "deal": pytest.approx(
            {"duty_paid": 4.0, "duty_no_delivery": 7.0, "duty_current": 3.0, "relief": 3.0, "relief_vs_current": -1.0}
        ),
        "hard": pytest.approx(
            {"duty_paid": 6.0, "duty_no_delivery": 7.0, "duty_current": 3.0, "relief": 1.0, "relief_vs_current": -3.0}
        ),
    }
    duty = res.evaluation.duty
    row = duty[(duty["scenario"] == "deal") & (duty["year"] == 2027) & (duty["sector"] == "chip_exports")].iloc[0]
    assert (row["exports"], row["rate"], row["duty_paid"], row["duty_no_delivery"], row["duty_current"]) == (
        4.0,
        0.0,
        0.0,
        1.0,
        0.0,
    )


def test_without_current_rates_relief_vs_current_is_null():
    rep = run_case(load_case(TINY), OPTIONS).report()
    assert rep["expected_relief_vs_current"] is None and rep["expected_duty_current"] is None
    assert rep["expected_duty_paid"] == pytest.approx(4.8)
    assert rep["as_of"] is None


def test_current_rate_for_some_sectors_only_is_an_error(tmp_path):
    sectors = "sector,track,exports_usd_bn,growth_rate,current_rate\nautos,general,10,0,0.15\nchip_exports,semis,4,0,\n"
    with pytest.raises(CaseError) as e:
        load_case(_tiny_copy(tmp_path, sectors=sectors))
    (p,) = e.value.problems
    assert (p.file, p.row, p.column) == ("sectors.csv", 3, "current_rate")
    assert "chip_exports" in p.message


@pytest.mark.parametrize("value", ["2026-02-30", "15/03/2026", "soon"])
def test_as_of_must_be_a_date(tmp_path, value):
    with pytest.raises(CaseError) as e:
        load_case(_tiny_copy(tmp_path, meta_extra=f"as_of: '{value}'\n"))
    (p,) = e.value.problems
    assert (p.file, p.column) == ("case.yaml", "as_of") and "YYYY-MM-DD" in p.message


@st.composite
def case_and_plan(draw):
    meta, tables = draw(cases())
    years = range(meta["first_year"], meta["last_year"] + 1)
    plan = {
        (lv["lever"], t): float(draw(st.integers(0, int(lv["max_modules_per_year"]))))
        for lv in tables["levers"]
        for t in years
        if t >= lv["earliest_year"]
    }
    return meta, tables, plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_and_plan())
def test_duty_identities_in_every_stance(data):
    """On random cases (some with dated rates and current rates) and any plan, feasible or not:
    duty paid + relief against no delivery = duty under no delivery, and duty paid + relief
    against current rates = duty at current rates, in every stance; the relief is the stance's
    by_scenario; the expectations weigh the stances by probability; the checker agrees."""
    meta, tables, plan = data
    case = Case.from_tables(meta, frames(tables))
    ev = evaluate_plan(case, {k: v for k, v in plan.items() if v})
    by = ev.duty_summary["duty_by_scenario"]
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    for s, d in by.items():
        assert close(d["duty_paid"] + d["relief"], d["duty_no_delivery"])
        assert close(d["relief"], ev.by_scenario[s])
        if d["duty_current"] is not None:
            assert close(d["duty_paid"] + d["relief_vs_current"], d["duty_current"])
    assert close(ev.duty_summary["expected_duty_paid"], sum(prob[s] * d["duty_paid"] for s, d in by.items()))
    assert close(
        ev.expected_relief + ev.duty_summary["expected_duty_paid"], ev.duty_summary["expected_duty_no_delivery"]
    )
    spec = SpecCase.from_tables(meta, tables)
    from checker import relief_of

    _, _, tiers = relief_of(spec, {k: v for k, v in plan.items() if v})
    for s, d in duty_of(spec, tiers).items():
        for k, v in d.items():
            assert (v is None) == (by[s][k] is None)
            assert v is None or close(v, by[s][k])


# ---------------------------------------------------------------- the command line


def _relief(*args):
    return subprocess.run([relief_exe(), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=120)


def test_cli_duty_csv_json_and_summary_line(tmp_path):
    case = _tiny_copy(tmp_path, DATED_ROW, sectors=CURRENT, meta_extra="as_of: 2026-03-15\n")
    p = _relief("solve", case, "--json", "--mip-gap", "0")
    assert p.returncode == 0, p.stderr
    obj = json.loads(p.stdout)
    # dated: deal paid 10 x 0.15 + 10 x 0.05 + 1.0 = 3.0, hard 6.0 -> 0.6 x 3 + 0.4 x 6 = 4.2; current 3.0
    assert obj["expected_duty_paid"] == pytest.approx(4.2)
    assert obj["expected_relief_vs_current"] == pytest.approx(-1.2)
    assert obj["expected_relief"] == pytest.approx(2.8)
    assert set(obj["duty_by_scenario"]) == {"deal", "hard"}
    out = tmp_path / "run"
    p = _relief("solve", case, "--out", out, "--mip-gap", "0")
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())  # rich wraps long lines
    assert "Expected relief 2.80 against no delivery, -1.20 against current rates (as of 2026-03-15)" in text
    assert "expected duty paid 4.20 of 7.00 under no delivery, 3.00 at current rates" in text
    header = (out / "duty.csv").read_text().splitlines()[0]
    assert header == "scenario,year,track,sector,exports,rate,duty_paid,duty_no_delivery,duty_current"
    assert "deal,2027,general,autos,10.0,0.05,0.5,2.5,1.5" in (out / "duty.csv").read_text()
    check_run_folder(out)  # the independent checker recomputes the duty figures and duty.csv
    p = _relief("solve", out / "case", "--json")  # the case as solved reads back the same
    assert json.loads(p.stdout)["expected_duty_paid"] == pytest.approx(4.2)


def test_cli_bad_from_year_exits_2(tmp_path):
    p = _relief("solve", _tiny_copy(tmp_path, "deal,general,t1,autos,0.05,2031\n"))
    assert p.returncode == 2
    assert "tariffs.csv, row 10, column from_year" in p.stderr and "Traceback" not in p.stderr


def test_compare_and_report_read_runs_without_duty(tmp_path):
    """A run folder from before duty was reported (no duty.csv, no duty keys) still compares and reports."""
    new, old = tmp_path / "new", tmp_path / "old"
    # the two runs in-process; compare and report run through the console script
    assert run_in_process("solve", _tiny_copy(tmp_path, sectors=CURRENT), "--out", new).returncode == 0
    assert run_in_process("solve", TINY, "--out", old).returncode == 0
    (old / "duty.csv").unlink()
    summary = json.loads((old / "summary.json").read_text())
    for k in [k for k in summary if "duty" in k or k in ("expected_relief_vs_current", "as_of")]:
        del summary[k]
    (old / "summary.json").write_text(json.dumps(summary))
    p = _relief("compare", old, new, "--json")
    assert p.returncode == 0, p.stderr
    runs = {r["run"]: r for r in json.loads(p.stdout)["runs"]}
    assert runs["new"]["expected_relief_vs_current"] == pytest.approx(-1.8)
    assert runs["new"]["duty_paid_difference"] is None  # the old run has no duty figure
    p = _relief("compare", old, new)
    assert p.returncode == 0 and "vs current rates" in p.stdout
    p = _relief("report", new, old, "--out", tmp_path / "r.html")
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Expected relief against current rates" in html and "Duty paid, and relief against two references" in html


def test_expected_value_stance_of_dated_rates(tmp_path):
    """relief value's mean stance weighs the rates in force year by year: general t1 autos is
    0.6 x 0.15 + 0.4 x 0.20 = 0.17 in 2026 and 0.6 x 0.05 + 0.4 x 0.20 = 0.11 in 2027."""
    from relief.model.analyses.value import expected_value_case
    from relief.model.core.rates import yearly_rates

    ev, how = expected_value_case(load_case(_tiny_copy(tmp_path, DATED_ROW)))
    rate = yearly_rates(ev)
    assert how == "mean"
    assert rate[(ev.scenarios[0], "general", "t1", "autos", 2026)] == pytest.approx(0.17)
    assert rate[(ev.scenarios[0], "general", "t1", "autos", 2027)] == pytest.approx(0.11)
    assert rate[(ev.scenarios[0], "general", "base", "autos", 2027)] == pytest.approx(0.25)


def test_example_tiny_dated_by_hand():
    """examples/tiny-dated/README.md's table: the optimum 2.8, duty by stance and in expectation."""
    case = load_case(TINY.parent / "tiny-dated")
    rep = run_case(case, OPTIONS).report()
    assert rep["expected_relief"] == pytest.approx(2.8)
    assert rep["duty_by_scenario"]["deal"] == pytest.approx(
        {"duty_paid": 3.0, "duty_no_delivery": 7.0, "duty_current": 3.0, "relief": 4.0, "relief_vs_current": 0.0}
    )
    assert rep["duty_by_scenario"]["hard"] == pytest.approx(
        {"duty_paid": 1.414, "duty_no_delivery": 2.414, "duty_current": 3.0, "relief": 1.0, "relief_vs_current": 1.586}
    )
    assert (rep["expected_duty_paid"], rep["expected_duty_no_delivery"]) == pytest.approx((2.3656, 5.1656))
    assert rep["expected_relief_vs_current"] == pytest.approx(0.6344)
