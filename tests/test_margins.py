"""Tier margins, numbers written at the solver's tolerance, and the baseline's own name
(issue 11: items 3 and 4, and the baseline tier called one name everywhere).

The default case's optimum holds some tiers exactly at their thresholds (measured with
`relief solve inputs/korea-2026 --out DIR` on the case of issue 12: chip_phase2/general
deal_plus in 2027 at 130 against 130, chip_phase2/semiconductors offset_full in 2027-2030 at
16 against 16; before issue 12 it was deal_restored/general deal_plus 2028 and hardline_301's
general and autos deal 2029): a planner must see them flagged, and no written number may seem
to break a limit the checker accepted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from casegen import frames, random_case
from cliutil import ENV, relief_exe

from relief.model.core.case import Case
from relief.model.core.evaluate import tidy
from relief.model.core.options import SolveOptions
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "inputs" / "korea-2026"
KNIFE_EDGE = {  # (scenario, track, year, tier) reached with a margin of 0 on the default case (issue 12)
    ("chip_phase2", "general", 2027, "deal_plus"),
    *(("chip_phase2", "semiconductors", y, "offset_full") for y in range(2027, 2031)),
}


def relief(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [relief_exe(), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """`relief solve inputs/korea-2026 --out DIR`: the run folder and what the terminal showed."""
    d = tmp_path_factory.mktemp("margins") / "run"
    p = relief("solve", DEFAULT, "--out", d)
    assert p.returncode == 0, p.stderr
    return d, p.stdout


def test_every_tier_reached_has_its_margin_in_tiers_csv(default_run):
    d, _ = default_run
    tiers = pd.read_csv(d / "tiers.csv")
    spec = ["scenario", "track", "year", "tier", "score", "threshold"]
    assert list(tiers.columns[:6]) == spec and list(tiers.columns[-3:]) == ["margin", "margin_rel", "thin"]
    reached = tiers[tiers["tier"] != tiers["base_tier"]]
    assert len(reached) and reached["margin"].notna().all()
    assert (reached["margin"] - (reached["score"] - reached["threshold"])).abs().max() < 1e-9
    assert (reached["margin_rel"] - reached["margin"] / reached["threshold"]).abs().max() < 1e-9
    assert tiers[tiers["tier"] == tiers["base_tier"]]["margin"].isna().all()  # the baseline: nothing to lose
    thin = {(r.scenario, r.track, int(r.year), r.tier) for r in reached[reached["thin"]].itertuples()}
    assert thin >= KNIFE_EDGE, thin
    assert (reached[reached["thin"]]["margin_rel"] < 0.02).all()
    assert (reached[~reached["thin"]]["margin_rel"] >= 0.02).all()


def test_written_numbers_never_seem_to_break_a_limit(default_run):
    """Read back without tolerance: spending at most its budget, every tier reached at least
    its threshold, whole-module levers in whole modules, no binary noise.

    Since issue 12 the default case has no common yearly budget (spending.csv's budget is
    blank) but four funding envelopes (envelopes.csv): the yearly budgets of `public` are in
    envelope_spending.csv, and the limit the optimum spends in full is the defence envelope's
    total, 25 (10 tranches of 2.5 owed by 2030), written as exactly 25.0 in summary.json."""
    d, _ = default_run
    sp = pd.read_csv(d / "spending.csv")
    horizon = sp[sp["budget"].notna()]
    assert (horizon["public_spend"] <= horizon["budget"]).all(), horizon
    env = pd.read_csv(d / "envelope_spending.csv")
    yearly = env[env["budget"].notna()]
    assert len(yearly) and (yearly["public_spend"] <= yearly["budget"]).all(), yearly
    s = json.loads((d / "summary.json").read_text())
    totals = pd.read_csv(DEFAULT / "envelopes.csv").set_index("envelope")["total_usd_bn"]
    assert all(v <= totals[e] for e, v in s["public_spend_by_envelope"].items()), s["public_spend_by_envelope"]
    assert s["public_spend_by_envelope"]["defence"] == 25.0  # spent in full: exactly its total
    tiers = pd.read_csv(d / "tiers.csv")
    reached = tiers[tiers["tier"] != tiers["base_tier"]]
    assert (reached["score"] >= reached["threshold"]).all()
    assert (reached["margin"] >= 0).all()
    edge = tiers.set_index(["scenario", "track", "year"]).loc[("chip_phase2", "general", 2027)]
    assert edge["score"] == 130.0 and edge["margin"] == 0.0  # reached exactly: no 129.99999999999582
    rm = pd.read_csv(d / "roadmap.csv")
    whole = set(pd.read_csv(DEFAULT / "levers.csv").query("integer")["lever"])
    for col in ("committed", "cumulative", "operating"):
        v = rm[rm["lever"].isin(whole)][col]
        assert (v == v.round()).all(), col
    text = "".join((d / f).read_text() for f in ("roadmap.csv", "tiers.csv", "relief.csv", "spending.csv"))
    assert "0000000000" not in text and "9999999999" not in text  # 0.32999999999999996, 20.000000000000018
    assert s["public_spend"] == pytest.approx(sum(s["public_spend_by_envelope"].values()), abs=1e-9)
    assert s["margin_tolerance"] == 0.02


def test_terminal_names_the_thin_tiers_and_the_baseline_by_its_name(default_run):
    _, out = default_run
    flat = " ".join(out.split())  # rich folds the long line at 120 columns
    # measured on the case of issue 12: the 2 thin tiers are chip_phase2's (the five rows of
    # summary.json's tier_margins, one tier over 2027-2030 named once)
    assert "2 tiers reached with a margin below 2% of the threshold" in flat, out
    assert "chip_phase2/general deal_plus 2027 (score 130 vs 130, +0.0%)" in flat
    assert "chip_phase2/semiconductors offset_full 2027-2030 (score 16 vs 16, +0.0%)" in flat
    assert "+0.0% (2027)!" in out  # the tiers table: the least margin of chip_phase2/general
    tiers = out[out.index("Tiers reached") : out.index("Public spending")]
    assert "no_quota" in tiers and "no_delivery → deal (2029)" in tiers
    assert "baseline" not in tiers


def test_json_lists_margins_and_the_tolerance_is_settable():
    p = relief("solve", DEFAULT, "--json", "--warn-margin", "40%")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["margin_tolerance"] == 0.4
    margins = s["tier_margins"]
    keys = {"scenario", "track", "year", "tier", "score", "threshold", "margin", "margin_rel", "thin"}
    assert margins and all(set(m) == keys for m in margins)
    assert s["thin_tiers"] == sum(m["thin"] for m in margins)
    assert {(m["scenario"], m["track"], m["year"], m["tier"]) for m in margins if m["thin"]} >= KNIFE_EDGE
    # 40%: alliance_first/general deal_plus (8.2% in 2027) is thin too; s232_metals (170%) is not
    thin = {(m["scenario"], m["track"], m["tier"]) for m in margins if m["thin"]}
    assert ("alliance_first", "general", "deal_plus") in thin
    assert ("alliance_first", "s232_metals", "ally_quota") not in thin


@pytest.mark.parametrize("bad", ["5x", "120%", "-1%"])
def test_bad_warn_margin_is_refused(bad):
    p = relief("solve", DEFAULT, "--warn-margin", bad)
    assert p.returncode == 2 and "--warn-margin" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_report_flags_thin_tiers_also_for_an_older_run_folder(default_run, tmp_path):
    """A run folder written before margins existed (no margin columns, raw scores): the
    report computes them from score and threshold and flags the same tiers."""
    d, _ = default_run
    old = tmp_path / "old"
    shutil.copytree(d, old)
    tiers = pd.read_csv(old / "tiers.csv").drop(columns=["margin", "margin_rel", "thin"])
    tiers.loc[tiers["score"] == 130.0, "score"] = 129.99999999999582  # as relief wrote it before
    tiers.to_csv(old / "tiers.csv", index=False)
    s = json.loads((old / "summary.json").read_text())
    del s["margin_tolerance"], s["tier_margins"], s["thin_tiers"]
    (old / "summary.json").write_text(json.dumps(s))
    p = relief("report", old, "--out", tmp_path / "r.html")
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "r.html").read_text()
    warn = html[html.index('<div class="warn">') :].split("</div>")[0]
    assert "2 tiers reached with a margin below 2%" in warn
    assert "<li>chip_phase2/general deal_plus 2027 (score 130 vs 130, +0.0%)</li>" in warn
    section = html[html.index('id="tiers"') : html.index('id="inputs"')]
    assert "<td>deal -&gt; deal_plus (2027)</td><td>+0.0% (2027)</td><td>deal_plus 2027</td>" in section
    # the baseline by its own name; hardline_301 reaches its deal with 8.4% to spare (issue 12's case)
    assert "<td>no_delivery -&gt; deal (2029)</td><td>+8.4% (2029)</td><td></td>" in section
    assert "baseline" not in section[section.index("<table") :]
    assert "(no_quota)" not in html  # the chart said 'only the baseline tier (no_quota)'
    # input table headers break only after an underscore, never inside a word
    heads = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert "capex_<wbr>per_<wbr>module" in heads
    assert all(h.replace("_<wbr>", "_").count("<wbr>") == 0 for h in heads)
    assert "overflow-wrap: anywhere" not in html
    # and the count is a key figure at the top, next to relief and spending
    assert 'Tiers on a knife edge</div><div class="v">2 tiers below 2%</div>' in html


def test_tidy_writes_a_limit_as_the_limit():
    assert tidy(20.000000000000018, 20.0) == 20.0
    assert tidy(129.99999999999582, 130.0) == 130.0
    assert tidy(19.9999, 20.0) == 19.9999  # farther than the tolerance: kept
    assert tidy(0.32999999999999996) == 0.33
    assert tidy(-3e-12) == 0.0
    assert tidy(2.0000000004, 2) == 2.0


@pytest.mark.parametrize("seed", [3, 11, 20, 25, 28, 32])  # each reaches a tier or spends a budget in full
def test_generated_cases_write_no_number_past_its_limit(seed, tmp_path):
    """On small random cases: every written spending row is within its budget and every
    tier reached at or above its threshold, exactly, after a round trip through the CSVs."""
    from relief.cli.output import write_run

    meta, tables = random_case(seed, max_plans=400)
    result = run_case(Case.from_tables(meta, frames(tables)), SolveOptions(mip_gap=0, threads=1, time_limit=30))
    assert result.evaluation is not None, result.status
    write_run(tmp_path / "run", result, result.report())
    sp = pd.read_csv(tmp_path / "run" / "spending.csv")
    horizon = sp[sp["budget"].notna()]
    assert (horizon["public_spend"] <= horizon["budget"]).all()
    tiers = pd.read_csv(tmp_path / "run" / "tiers.csv")
    reached = tiers[tiers["tier"] != tiers["base_tier"]]
    assert (reached["score"] >= reached["threshold"]).all()
    assert (reached["margin"] >= 0).all()
    assert (reached["thin"] == (reached["margin_rel"] < 0.02)).all()
    assert len(reached) or (horizon["public_spend"] == horizon["budget"]).any()  # a limit is tested
    total = meta.get("total_public_budget")
    assert total is None or result.report()["public_spend"] <= total


def test_a_tier_thin_for_several_years_is_named_once():
    from relief.cli.format import thin_parts

    row = {"scenario": "hard", "track": "general", "tier": "deal", "threshold": 50.0}
    rows = [
        {**row, "year": 2029, "score": 50.0, "margin_rel": 0.0},
        {**row, "year": 2030, "score": 50.5, "margin_rel": 0.01},
        {**row, "year": 2032, "score": 50.2, "margin_rel": 0.004},
    ]
    head, items = thin_parts(rows, 0.025)
    assert head.startswith("1 tier reached with a margin below 2.5% of the threshold")
    assert items == ["hard/general deal 2029-2030, 2032 (score 50 vs 50, +0.0%)"]
