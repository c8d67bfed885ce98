"""Cost of delay (`relief delay`, relief.model.analyses.delay): hand-worked on
examples/tiny, properties on generated cases, the default case, and the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from casegen import cases, frames
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import HealthCheck, given, settings

from relief.model.analyses.delay import cost_of_delay, delay_case, levers_out_of_reach
from relief.model.core.case import Case, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
EXE = relief_exe()


def relief(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def tiny() -> Case:
    return load_case(TINY)


@pytest.fixture(scope="module")
def tiny_report(tiny):
    return cost_of_delay(tiny, OPTIONS, [1, 2]).report()


# ----------------------------------------------------------------------------------
# examples/tiny by hand
# ----------------------------------------------------------------------------------


def test_tiny_one_year_delay_by_hand(tiny_report):
    """A one-year delay on examples/tiny costs 1.6 of its 2.2 (README: the optimum).

    Acting now: chips in 2026 and 2027, expected 2.2 (deal 3.0, hard 1.0).
    Nothing before 2027 leaves one year, with its budget of 3 (and 5 in all):
    - smelter in 2027 (public 2): deal, committed at credit 0.5, minerals 5 -> general t1 in 2027
      = 1.0; hard gives no credit and it operates only in 2028 -> 0. Expected 0.6 x 1.0 = 0.6.
    - one chip module in 2027 (public 2): deal semis 5 -> general t1 = 1.0, semis needs 10 -> 0;
      hard weighs minerals only on general -> 0. Expected 0.6.
    - two chips, or chip + smelter: public 4 > 3 in 2027. LNG buys nothing.
    So 0.6: lost 2.2 - 0.6 = 1.6 (73%).
    By scenario: deal 3.0 -> 1.0 (lost 2.0), hard 1.0 -> 0 (lost 1.0): 0.6 x 2.0 + 0.4 x 1.0 = 1.6.
    By track (expected): general 0.6 x 2.0 = 1.2 -> 0.6 x 1.0 = 0.6, lost 0.6;
    semis 0.6 x 1.0 + 0.4 x 1.0 = 1.0 -> 0, lost 1.0. 0.6 + 1.0 = 1.6.
    """
    rep = tiny_report
    assert rep["now"]["expected_relief"] == pytest.approx(2.2, abs=1e-9)
    d1 = rep["delays"][0]
    assert (d1["delay_years"], d1["start_year"], d1["status"]) == (1, 2027, "optimal")
    assert d1["expected_relief"] == pytest.approx(0.6, abs=1e-9)
    assert d1["relief_lost"] == pytest.approx(1.6, abs=1e-9)
    assert d1["share_lost"] == pytest.approx(1.6 / 2.2, abs=1e-9)
    assert d1["lost_by_scenario"] == pytest.approx({"deal": 2.0, "hard": 1.0}, abs=1e-9)
    assert d1["lost_by_track"] == pytest.approx({"general": 0.6, "semis": 1.0}, abs=1e-9)
    assert d1["public_spend"] == pytest.approx(2.0, abs=1e-9)
    # one module of the smelter or of chips in 2027 (a tie at 0.6 and public 2): chips drop or shrink
    assert sum(d1["portfolio"].values()) == pytest.approx(1.0)
    assert all(t == 2027 for sched in d1["schedule"].values() for t in sched)
    assert "chips" in d1["changes"]["dropped"] + d1["changes"]["resized"]
    assert not d1["out_of_reach"]
    cells = [x for x in rep["relief_lost"] if x["delay_years"] == 1]
    assert sum(x["expected_lost"] for x in cells) == pytest.approx(1.6, abs=1e-9)
    semis_deal = next(x for x in cells if (x["scenario"], x["track"]) == ("deal", "semis"))
    assert (semis_deal["relief_now"], semis_deal["relief_delayed"]) == pytest.approx((1.0, 0.0))


def test_tiny_two_year_delay_loses_everything(tiny_report):
    """Nothing before 2028 on a 2026-2027 horizon: no lever can be committed, relief 0,
    and every lever is reported out of reach (earliest year after the horizon)."""
    d2 = tiny_report["delays"][1]
    assert d2["expected_relief"] == pytest.approx(0.0, abs=1e-12)
    assert d2["relief_lost"] == pytest.approx(2.2, abs=1e-9)
    assert {r["lever"] for r in d2["out_of_reach"]} == {"smelter", "chips", "lng"}
    assert all("after the horizon" in r["reason"] and not r["forced"] for r in d2["out_of_reach"])


def test_delay_case_is_a_pure_transformation(tiny):
    late = delay_case(tiny, 1)
    assert list(late.table("levers")["earliest_year"]) == [2027, 2027, 2027]
    assert list(tiny.table("levers")["earliest_year"]) == [2026, 2026, 2026]  # the input is untouched
    assert late.table("budget").equals(tiny.table("budget")) and late.years == tiny.years
    later = apply_overrides(tiny, ["levers.lng.earliest_year=2027"])
    assert list(delay_case(later, 0).table("levers")["earliest_year"]) == [2026, 2026, 2027]  # max(), not a shift


def test_forced_lever_pushed_out_of_the_horizon_is_reported_infeasible(tiny):
    """--force smelter: now 1.4 (smelter 2026, README). One year late the smelter goes in
    2027 (deal 1.0, hard 0: 0.6) and leaves 1 of 2027's budget, too little for a chip:
    lost 0.8. Two years late the forced smelter cannot be committed at all: infeasible,
    said plainly, and the analysis still reports the one-year delay."""
    rep = cost_of_delay(tiny, OPTIONS, [1, 2], force=("smelter",)).report()
    assert rep["now"]["expected_relief"] == pytest.approx(1.4, abs=1e-9)
    d1, d2 = rep["delays"]
    assert d1["expected_relief"] == pytest.approx(0.6, abs=1e-9) and d1["relief_lost"] == pytest.approx(0.8, abs=1e-9)
    assert d1["portfolio"] == {"smelter": 1.0} and d1["changes"]["later"] == ["smelter"]
    assert d2["status"] == "infeasible" and d2["expected_relief"] is None and d2["relief_lost"] is None
    forced = [r for r in d2["out_of_reach"] if r["forced"]]
    assert [r["lever"] for r in forced] == ["smelter"] and "infeasible" in forced[0]["reason"]
    assert rep["status"] == "infeasible"


def test_minimum_size_out_of_reach_after_a_delay(tiny):
    """chips with min_modules 2 and at most 1 a year: now 2026 + 2027 (2.2 as before); one
    year late only 1 module fits before the horizon ends, so chips drop out of every plan."""
    case = apply_overrides(tiny, ["levers.chips.min_modules=2", "levers.chips.max_modules_per_year=1"])
    assert levers_out_of_reach(case) == []
    rep = cost_of_delay(case, OPTIONS, [1]).report()
    assert rep["now"]["expected_relief"] == pytest.approx(2.2, abs=1e-9)
    (d1,) = rep["delays"]
    (row,) = d1["out_of_reach"]
    assert row["lever"] == "chips" and row["reachable"] == 1 and row["smallest"] == 2
    assert "drops out" in row["reason"]
    assert d1["expected_relief"] == pytest.approx(0.6, abs=1e-9) and d1["portfolio"] == {"smelter": 1.0}


def test_bad_delays_are_refused(tiny):
    for bad in ([], [0], [-1]):
        with pytest.raises(ValueError):
            cost_of_delay(tiny, OPTIONS, bad)


# ----------------------------------------------------------------------------------
# properties on generated cases
# ----------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(safe_requires=True))
def test_delay_never_raises_relief_and_relief_falls_with_the_delay(generated):
    """The delayed case only removes commitments (earliest years move later), so its optimum
    is at most the optimum now, and at most that of any shorter delay; a delay of 0 is now."""
    meta, tables = generated
    case = Case.from_tables(meta, frames(tables))
    now = run_case(case, OPTIONS)
    if now.status != "optimal":
        return
    zero = run_case(delay_case(case, 0), OPTIONS)
    assert zero.evaluation.expected_relief == pytest.approx(now.evaluation.expected_relief, rel=1e-6, abs=1e-9)
    rep = cost_of_delay(case, OPTIONS, [1, 2, 3]).report()
    values = [rep["now"]["expected_relief"]] + [d["expected_relief"] for d in rep["delays"]]
    assert all(d["status"] == "optimal" for d in rep["delays"])
    for a, b in zip(values, values[1:]):
        assert b <= a + 1e-6 * max(1.0, abs(a))
    for d in rep["delays"]:
        assert d["relief_lost"] == pytest.approx(values[0] - d["expected_relief"], abs=1e-9)
        assert sum(d["lost_by_track"].values()) == pytest.approx(d["relief_lost"], abs=1e-7)


# ----------------------------------------------------------------------------------
# the default case and the command line
# ----------------------------------------------------------------------------------


def test_default_case_cost_of_delay():
    """Stored values (HiGHS 1.16, gap 0; measured with `relief delay --json` on the case of
    issue 12, obligations falling due as many years later): acting now 71.5368 (README of
    korea-2026); a year late 64.9819 (lost 6.55, 4.61 of it on the general track), two years
    late 53.9280 (lost 17.61, 11.26 on the general track). Every stance loses by the delay."""
    r = relief("delay", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["now"]["expected_relief"] == pytest.approx(71.5368, abs=1e-4)
    d1, d2 = rep["delays"]
    assert d1["expected_relief"] == pytest.approx(64.9819, abs=1e-3)
    assert d2["expected_relief"] == pytest.approx(53.9280, abs=1e-3)
    assert max(d1["lost_by_track"], key=d1["lost_by_track"].get) == "general"
    assert all(v >= -1e-9 for d in (d1, d2) for v in d["lost_by_scenario"].values())


def test_cli_delay_json_and_out(tmp_path):
    out = tmp_path / "delay"
    r = relief("delay", TINY, "--years", "1,2", "--mip-gap", "0", "--json", "--out", out)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert {
        "analysis",
        "case",
        "input_sha256",
        "solver",
        "status",
        "now",
        "delays",
        "relief_lost",
        "plans",
        "roadmap",
        "spending",
        "out_of_reach",
    } <= set(rep)
    assert rep["analysis"] == "delay" and [d["delay_years"] for d in rep["delays"]] == [1, 2]
    assert {
        "expected_relief",
        "relief_lost",
        "lost_by_scenario",
        "lost_by_track",
        "portfolio",
        "schedule",
        "out_of_reach",
        "changes",
        "status",
    } <= set(rep["delays"][0])
    files = {
        "summary.json",
        "delays.csv",
        "relief_lost.csv",
        "plans.csv",
        "roadmap.csv",
        "spending.csv",
        "out_of_reach.csv",
    }
    assert files <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((out / "summary.json").read_text()) == rep
    delays = pd.read_csv(out / "delays.csv")
    assert list(delays["relief_lost"]) == pytest.approx([1.6, 2.2])
    lost = pd.read_csv(out / "relief_lost.csv")
    assert lost[lost["delay_years"] == 1]["expected_lost"].sum() == pytest.approx(1.6)
    assert set(pd.read_csv(out / "plans.csv")["delay_years"]) == {0, 1, 2}
    assert len(pd.read_csv(out / "out_of_reach.csv")) == 3


def test_cli_delay_rich_view():
    r = relief("delay", TINY, "--years", "1")
    assert r.returncode == 0, r.stderr
    for words in ("cost of delay", "delay 1y", "1.60", "Expected relief lost by track", "Plans side by side"):
        assert words in r.stdout


DELAY_ERRORS = [
    (("--years", "0"), 2, "years"),
    (("--years", "one"), 2, "years"),
    (("--force", "nope"), 2, "unknown lever"),
    (("--set", "levers.chips.capex=1"), 2, "no settable column"),
    (("--force", "smelter", "--set", "case.total_public_budget=1"), 3, "infeasible"),
]


@pytest.mark.parametrize("args,code,word", DELAY_ERRORS)
def test_cli_delay_errors(args, code, word):
    # the first variant through the console script, the others in-process (the same messages)
    r = (relief if (args, code, word) == DELAY_ERRORS[0] else run_in_process)("delay", TINY, *args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert word in r.stderr.lower() and "Traceback" not in r.stderr


def test_cli_delay_of_a_forced_lever_beyond_the_horizon_is_reported_not_fatal():
    r = relief("delay", TINY, "--years", "2", "--force", "smelter")
    assert r.returncode == 0, r.stderr
    assert "infeasible" in r.stdout and "smelter" in r.stdout


def test_same_answer_whatever_the_hash_seed(tmp_path):
    """The losses by track and the rows of relief_lost.csv do not depend on the order of a
    set (Python's hash seed changes it from process to process): byte-identical files."""
    outs = []
    for seed in ("1", "3"):  # two seeds whose set orders gave different last bits before the fix
        out = tmp_path / f"seed{seed}"
        subprocess.run(
            [relief_exe(), "delay", "--years", "1", "--out", str(out)],
            env={**ENV, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        outs.append(out)
    for name in ("relief_lost.csv", "delays.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    one, two = (json.loads((o / "summary.json").read_text()) for o in outs)
    assert [d["lost_by_track"] for d in one["delays"]] == [d["lost_by_track"] for d in two["delays"]]
    assert [d["relief_lost"] for d in one["delays"]] == [d["relief_lost"] for d in two["delays"]]
