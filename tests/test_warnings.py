"""Warnings about legal but suspicious data (model/core/checks.py, docs/validation.md).

Each family gets a hand-made damage of a clean copy of examples/tiny and must give
exactly that warning, in the right file, row and column (spreadsheet rows: the header is
row 1). The unreachable-tier bound is checked against every plan of random tiny cases
(tests/casegen.py, scores from tests/checker.py's reading of the spec, not relief's):
no plan reaches a tier the check calls unreachable, and the bound equals the best score
over all plans within the levers' own limits, so it is as tight as it can be without
budgets. The CLI part runs the installed `relief` as a planner's shell does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from casegen import random_case
from checker import SpecCase, all_plans, tol
from test_validation import append_row, drop_rows, find_row, set_cell

from relief.model.core.case import Case, load_case
from relief.model.core.checks import (
    COEFFICIENT_RANGE,
    CaseWarning,
    check_case,
    check_unreachable_tiers,
    max_credited_modules,
    score_upper_bounds,
    with_checks,
)
from relief.model.core.overrides import apply_overrides

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"


@pytest.fixture
def clean(tmp_path) -> Path:
    """examples/tiny without its lng lever (which scores only in an unweighted pillar, on
    purpose): a case that gives no warning at all."""
    dst = tmp_path / "clean"
    shutil.copytree(TINY, dst)
    drop_rows(dst, "levers.csv", lever="lng")
    drop_rows(dst, "contributions.csv", lever="lng")
    return dst


def warnings_of(folder: Path) -> list[CaseWarning]:
    return check_case(load_case(folder))


def only(folder: Path, check: str, file: str, rows, column: str | None, *words: str) -> CaseWarning:
    """The case gives exactly one warning, from `check`, at file/rows/column, whose text
    contains every word; its printed form names the place as validation errors do."""
    ws = warnings_of(folder)
    assert len(ws) == 1, "\n".join(map(str, ws)) or "no warning"
    w = ws[0]
    assert (w.check, w.file, w.rows, w.column, w.level) == (check, file, tuple(rows), column, "warning"), w
    assert w.row == rows[0]
    for word in words:
        assert word.lower() in w.message.lower(), (word, str(w))
    text = str(w)
    assert text.startswith(file + (f", row {rows[0]}" if len(rows) == 1 else ", rows " + ", ".join(map(str, rows))))
    if column:
        assert f"column {column}" in text
    return w


def test_clean_case_and_default_case_give_no_warning(clean):
    assert warnings_of(clean) == []
    assert check_case(load_case(ROOT / "inputs" / "korea-2026")) == []


def test_examples_warn_only_where_meant():
    """tiny's lng lever scores only in energy, which no track weights: its README says so."""
    ws = check_case(load_case(TINY))
    assert [(w.check, w.file, w.row) for w in ws] == [("unscored_lever", "levers.csv", 4)]
    for name in ("metals-alliance", "tight-budget"):
        assert check_case(load_case(ROOT / "examples" / name)) == [], name


# ----------------------------------------------------------------------------------
# 1. unreachable tiers
# ----------------------------------------------------------------------------------


def test_threshold_above_the_bound(clean):
    """deal/semis scores semis only: chips at most 2 modules x 5 = 10 (operating from the
    commitment year, lead time 0). Threshold 10 is reachable (the shipped case), 10.5 not."""
    row = find_row(clean, "tiers.csv", scenario="deal", track="semis", tier="s1")
    set_cell(clean, "tiers.csv", row, "threshold", "10.5")
    w = only(
        clean, "unreachable_tier", "tiers.csv", [row], "threshold", "deal/semis/s1", "unreachable", "10", "10.5", "2027"
    )
    assert "highest possible score by 2027 is 10 (" in w.message and w.message.endswith("below the threshold 10.5")


def test_min_score_above_the_bound(clean):
    """deal/general/t1 requiring minerals 11: the smelter (max 1 module, 10 a module) gives at most 10."""
    (clean / "tier_requirements.csv").write_text(
        "scenario,track,tier,pillar,min_score\ndeal,general,t1,minerals,10\ndeal,general,t1,minerals_x,1\n",
        encoding="utf-8",
    )
    # minerals 10 is reachable; a pillar nobody scores in is not (row 3)
    only(
        clean,
        "unreachable_tier",
        "tier_requirements.csv",
        [3],
        "min_score",
        "deal/general/t1",
        "minerals_x score",
        "is 0 (",
        "below the 1 the tier requires",
    )


def test_credit_and_lead_time_enter_the_bound(clean):
    """With a lead time of 2 the smelter never operates by 2027: in `hard` (credit 0) it adds
    nothing, so hard/general/t1 (threshold 5, minerals only) is unreachable; in `deal`
    (credit 0.5) it still counts 10 x 0.5 = 5 and chips add 10, so deal/general/t1 stays
    reachable. The lever itself is late, which is the second warning."""
    lever_row = find_row(clean, "levers.csv", lever="smelter")
    set_cell(clean, "levers.csv", lever_row, "lead_time_years", "2")
    ws = warnings_of(clean)
    tier_row = find_row(clean, "tiers.csv", scenario="hard", track="general", tier="t1")
    assert sorted((w.check, w.file, w.row) for w in ws) == [
        ("late_lever", "levers.csv", lever_row),
        ("unreachable_tier", "tiers.csv", tier_row),
    ], "\n".join(map(str, ws))
    track_ub, pillar_ub = score_upper_bounds(load_case(clean))
    assert track_ub[("hard", "general")] == 0.0
    assert track_ub[("deal", "general")] == pytest.approx(15.0)  # 0.5 x 10 minerals + 2 x 5 semis
    assert pillar_ub[("deal", "minerals")] == pytest.approx(5.0)


def test_max_credited_modules_by_hand():
    """Per year 2, max 5, earliest 2026, lead 2, in 2029: 2026-2027 operate (2 + 2 = 4),
    the one left is committed in 2028 and counts k."""
    lever = {
        "integer": True,
        "max_modules_per_year": 2.0,
        "max_modules": 5.0,
        "earliest_year": 2026,
        "lead_time_years": 2,
    }
    assert max_credited_modules(lever, 0.5, 2026, 2029) == 4.5
    assert max_credited_modules(lever, 0.5, 2026, 2027) == 0.5 * 4  # nothing operates yet
    assert max_credited_modules({**lever, "earliest_year": 2030}, 1.0, 2026, 2029) == 0.0
    # earliest before the horizon: commitments start in first_year
    assert max_credited_modules({**lever, "earliest_year": 2000}, 0.0, 2028, 2029) == 0.0
    # whole modules: 1.5 a year is 1
    assert max_credited_modules({**lever, "max_modules_per_year": 1.5}, 0.0, 2026, 2029) == 2.0
    assert max_credited_modules({**lever, "max_modules_per_year": 1.5, "integer": False}, 0.0, 2026, 2029) == 3.0


# --- soundness on random cases ---------------------------------------------------------


def _scores(spec: SpecCase, plan: dict, year: int):
    """Track and pillar scores of `plan` in `year`, from the spec's formulas (section 3)."""
    committed = {l: sum(v for (ll, u), v in plan.items() if ll == l and u <= year) for l in spec.levers}
    operating = {
        l: sum(v for (ll, u), v in plan.items() if ll == l and u <= year - r["lead_time_years"])
        for l, r in spec.levers.items()
    }
    track, pillar = {}, {}
    for s, srow in spec.scenarios.items():
        k = srow["commitment_credit"]
        for c in spec.contributions:
            key = (s, c["pillar"])
            pillar[key] = pillar.get(key, 0.0) + c["score_per_module"] * (
                (1 - k) * operating[c["lever"]] + k * committed[c["lever"]]
            )
        for w in spec.weights:
            if w["scenario"] == s:
                key = (s, w["track"])
                track[key] = track.get(key, 0.0) + w["weight"] * pillar.get((s, w["pillar"]), 0.0)
    return track, pillar


SEEDS = range(60)


def test_unreachable_tiers_are_never_reached_by_any_plan():
    """For random tiny cases: every plan within the levers' own limits (a superset of the
    feasible plans: budgets, pools and relations are ignored) is scored in every year by
    the spec's formulas. No plan may reach a tier the check calls unreachable (threshold
    or min_score, with the tolerance relief uses to count a threshold as met). And the
    bound must equal the best track and pillar score over these plans in last_year:
    scores are separable by lever, so it is exact there, which also shows it is not
    loosened by a slip (a bound of +inf would be sound but useless)."""
    flagged_total = {"tiers.csv": 0, "tier_requirements.csv": 0}
    for seed in SEEDS:
        meta, tables = random_case(seed, min_plans=1, max_plans=400)
        case = Case.from_tables(meta, tables)
        spec = SpecCase.from_tables(meta, tables)
        flagged = {}
        for w in check_unreachable_tiers(case):
            row = next(r for r in case.table(w.file[:-4]).to_dict("records") if r["_row"] == w.row)
            flagged[(row["scenario"], row["track"], row["tier"], row.get("pillar"))] = row
            flagged_total[w.file] += 1
        track_ub, pillar_ub = score_upper_bounds(case)
        best_track, best_pillar = {}, {}
        for plan in all_plans(spec):
            plan = {k: float(v) for k, v in plan.items()}
            for t in spec.years:
                track, pillar = _scores(spec, plan, t)
                for (s, r, k, p), row in flagged.items():
                    if p is None:
                        assert track.get((s, r), 0.0) < row["threshold"] - tol(row["threshold"]), (
                            seed,
                            s,
                            r,
                            k,
                            plan,
                            t,
                        )
                    else:
                        assert pillar.get((s, p), 0.0) < row["min_score"] - tol(row["min_score"]), (
                            seed,
                            s,
                            r,
                            k,
                            p,
                            plan,
                            t,
                        )
                if t == spec.last:
                    for key, v in track.items():
                        best_track[key] = max(best_track.get(key, 0.0), v)
                    for key, v in pillar.items():
                        best_pillar[key] = max(best_pillar.get(key, 0.0), v)
        for key, v in track_ub.items():
            assert v == pytest.approx(best_track.get(key, 0.0), abs=1e-9), (seed, key)
        for key, v in pillar_ub.items():
            assert v == pytest.approx(best_pillar.get(key, 0.0), abs=1e-9), (seed, key)
    # with these seeds: 160 thresholds and 29 requirements
    assert flagged_total["tiers.csv"] >= 50 and flagged_total["tier_requirements.csv"] >= 5, flagged_total


# ----------------------------------------------------------------------------------
# 2. levers that score in no pillar that counts
# ----------------------------------------------------------------------------------


def test_lever_scoring_in_an_unweighted_pillar(clean):
    row = append_row(
        clean,
        "levers.csv",
        lever="ballast",
        capex_per_module=1,
        public_share=0,
        lead_time_years=0,
        earliest_year=2026,
        min_modules=0,
        max_modules=1,
        max_modules_per_year=1,
        integer="true",
    )
    append_row(clean, "contributions.csv", lever="ballast", pillar="energy", score_per_module=3)
    append_row(
        clean, "contributions.csv", lever="ballast", pillar="semis", score_per_module=0
    )  # a zero score does not count
    only(clean, "unscored_lever", "levers.csv", [row], None, "ballast", "energy", "never raise")


def test_lever_with_no_score_at_all(clean):
    row = find_row(clean, "levers.csv", lever="chips")
    drop_rows(clean, "contributions.csv", lever="chips")
    ws = [w for w in warnings_of(clean) if w.check == "unscored_lever"]
    assert [(w.file, w.row) for w in ws] == [("levers.csv", row)]
    assert "no positive score" in ws[0].message


def test_a_pillar_a_tier_requires_counts():
    """tiny's lng scores in energy; once a tier requires energy, lng can matter."""
    case = load_case(TINY)
    assert [w.check for w in check_case(case)] == ["unscored_lever"]
    tables = {n: case.table(n) for n in case.tables}
    tables["tier_requirements"] = [
        {"scenario": "deal", "track": "general", "tier": "t1", "pillar": "energy", "min_score": 1.0}
    ]
    assert check_case(Case.from_tables(case.meta, tables)) == []
    tables["tier_requirements"] = [
        {"scenario": "deal", "track": "general", "tier": "base", "pillar": "energy", "min_score": 1.0}
    ]
    assert [w.check for w in check_case(Case.from_tables(case.meta, tables))] == [
        "unscored_lever"
    ]  # the baseline's is ignored


# ----------------------------------------------------------------------------------
# 3. ladders whose higher tier raises a rate
# ----------------------------------------------------------------------------------


def test_tier_with_a_higher_rate_than_the_baseline(clean):
    row = find_row(clean, "tariffs.csv", scenario="hard", track="general", tier="t1", sector="autos")
    set_cell(clean, "tariffs.csv", row, "rate", "0.3")
    base_row = find_row(clean, "tariffs.csv", scenario="hard", track="general", tier="base", sector="autos")
    w = only(clean, "ladder_rates", "tariffs.csv", [row], "rate", "hard/general/t1", "autos 0.3 > 0.25", "base")
    assert f"row(s) {base_row}" in w.message


def test_third_tier_is_compared_with_the_one_just_below(clean):
    """deal/general: base 0.25 (0), t1 0.15 (5), t2 0.18 (8). t2 is below the baseline's
    rate, so only the comparison with t1, the tier just below it, finds it."""
    append_row(clean, "tiers.csv", scenario="deal", track="general", tier="t2", threshold=8)
    row = append_row(clean, "tariffs.csv", scenario="deal", track="general", tier="t2", sector="autos", rate=0.18)
    only(clean, "ladder_rates", "tariffs.csv", [row], "rate", "deal/general/t2", "t1", "autos 0.18 > 0.15")
    set_cell(clean, "tariffs.csv", row, "rate", "0.15")  # equal rates are no warning
    assert warnings_of(clean) == []


def test_several_sectors_are_one_warning_on_all_their_rows():
    case = load_case(TINY)
    tables = {n: case.table(n).drop(columns=["_row"], errors="ignore") for n in case.tables}
    parts = {"sector": "parts", "track": "general", "exports_usd_bn": 2.0, "growth_rate": 0.0}
    tables["sectors"] = pd.concat([tables["sectors"], pd.DataFrame([parts])], ignore_index=True)
    extra = [
        {"scenario": s, "track": "general", "tier": k, "sector": "parts", "rate": rate}
        for s, k, rate in (("deal", "base", 0.1), ("deal", "t1", 0.2), ("hard", "base", 0.1), ("hard", "t1", 0.1))
    ]
    tables["tariffs"] = pd.concat([tables["tariffs"], pd.DataFrame(extra)], ignore_index=True)
    tables["tariffs"].loc[
        (tables["tariffs"]["scenario"] == "deal")
        & (tables["tariffs"]["tier"] == "t1")
        & (tables["tariffs"]["sector"] == "autos"),
        "rate",
    ] = 0.3
    ws = [w for w in check_case(Case.from_tables(case.meta, tables)) if w.check == "ladder_rates"]
    assert len(ws) == 1, ws
    # rows as written: tariffs row 3 is deal/general/t1/autos, row 11 deal/general/t1/parts
    assert ws[0].rows == (3, 11) and "autos 0.3 > 0.25; parts 0.2 > 0.1" in ws[0].message
    assert str(ws[0]).startswith("tariffs.csv, rows 3, 11, column rate: ")


# ----------------------------------------------------------------------------------
# 4. levers that cannot operate within the horizon
# ----------------------------------------------------------------------------------


def _add_semis_lever(folder: Path, **values) -> int:
    lever = {
        "lever": "late_fab",
        "capex_per_module": 1,
        "public_share": 0,
        "lead_time_years": 0,
        "earliest_year": 2026,
        "min_modules": 0,
        "max_modules": 1,
        "max_modules_per_year": 1,
        "integer": "true",
        **values,
    }
    row = append_row(folder, "levers.csv", **lever)
    append_row(folder, "contributions.csv", lever="late_fab", pillar="semis", score_per_module=5)
    return row


def test_lever_operating_after_the_horizon(clean):
    """Committed in 2027 at the earliest, lead time 1: operates from 2028, the horizon ends 2027."""
    row = _add_semis_lever(clean, earliest_year=2027, lead_time_years=1)
    only(clean, "late_lever", "levers.csv", [row], "lead_time_years", "late_fab", "2028", "2027", "commitment credit")


def test_lever_with_an_earliest_year_before_the_horizon(clean):
    """earliest_year 2020, lead time 2: earliest + lead = 2022 is inside... but commitments
    start in first_year 2026, so it operates from 2028 at the earliest."""
    row = _add_semis_lever(clean, earliest_year=2020, lead_time_years=2)
    only(clean, "late_lever", "levers.csv", [row], "lead_time_years", "committed in 2026", "2028")
    set_cell(clean, "levers.csv", row, "lead_time_years", "1")  # operates from 2027: fine
    assert warnings_of(clean) == []


def test_lever_that_cannot_even_be_committed(clean):
    row = _add_semis_lever(clean, earliest_year=2028)
    only(clean, "late_lever", "levers.csv", [row], "earliest_year", "never be committed", "2028")


# ----------------------------------------------------------------------------------
# 5. numbers far apart in scale
# ----------------------------------------------------------------------------------


def test_exports_in_dollars_not_billions(clean):
    row = find_row(clean, "sectors.csv", sector="autos")
    # USD instead of USD bn would be 1e10, an error (numbers stop at 1e9); in thousands, 1e8 is legal but suspicious
    set_cell(clean, "sectors.csv", row, "exports_usd_bn", "100000000")
    small = find_row(
        clean, "tariffs.csv", scenario="deal", track="general", tier="t1", sector="autos"
    )  # 0.15, the smallest
    only(
        clean,
        "coefficient_range",
        "sectors.csv",
        [row],
        "exports_usd_bn",
        "1e+08",
        "6.7e+08",
        f"tariffs.csv, row {small}, column rate",
        "units",
    )


def test_range_just_below_the_limit_is_no_warning(clean):
    """The smallest non-zero number is the 0.15 rate; 0.15 x 1e6 is the largest allowed."""
    row = find_row(clean, "sectors.csv", sector="autos")
    set_cell(clean, "sectors.csv", row, "exports_usd_bn", repr(0.15 * COEFFICIENT_RANGE))
    assert warnings_of(clean) == []
    set_cell(clean, "sectors.csv", row, "exports_usd_bn", repr(0.15 * COEFFICIENT_RANGE * 1.01))
    assert [w.check for w in warnings_of(clean)] == ["coefficient_range"]


def test_total_budget_is_named_in_case_yaml(clean):
    text = (
        (clean / "case.yaml").read_text(encoding="utf-8").replace("total_public_budget: 5", "total_public_budget: 5e8")
    )
    (clean / "case.yaml").write_text(text, encoding="utf-8")
    ws = warnings_of(clean)
    assert [(w.check, w.file, w.row, w.column) for w in ws] == [
        ("coefficient_range", "case.yaml", None, "total_public_budget")
    ]
    assert str(ws[0]).startswith("case.yaml, column total_public_budget: ")


# ----------------------------------------------------------------------------------
# the warnings travel: overrides, the validation warnings, the command line
# ----------------------------------------------------------------------------------


def test_overrides_keep_rows_and_validation_warnings_stay_first(clean):
    case = apply_overrides(load_case(clean), ["tiers.deal:semis:s1.threshold=11"])
    checked = with_checks(case)
    row = find_row(clean, "tiers.csv", scenario="deal", track="semis", tier="s1")
    assert [(w.check, w.row) for w in checked.warnings] == [("unreachable_tier", row)]
    # a column validation does not know (and that looks like none it does) stays a warning,
    # listed before the checks'
    levers = clean / "levers.csv"
    lines = levers.read_text(encoding="utf-8").splitlines()
    levers.write_text("\n".join([lines[0] + ",colour"] + [l + ",blue" for l in lines[1:]]) + "\n", encoding="utf-8")
    checked = with_checks(apply_overrides(load_case(clean), ["tiers.deal:semis:s1.threshold=11"]))
    assert [w.file for w in checked.warnings] == ["levers.csv", "tiers.csv"]


def _relief(*args, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script, as a planner's shell runs it."""
    exe = shutil.which("relief", path=str(Path(sys.executable).parent)) or "relief"
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def _invoke(*args):
    """The same command in-process (click's runner keeps stdout and stderr apart): fast."""
    from click.testing import CliRunner

    from relief.cli.main import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_strict_fails_through_the_console_script(tmp_path):
    shutil.copytree(TINY, tmp_path / "tiny")
    strict = _relief("validate", "tiny", "--strict", cwd=tmp_path)
    assert strict.returncode == 2, strict
    assert "Traceback" not in strict.stderr and strict.stdout == ""
    assert strict.stderr.splitlines() == [
        "relief: the case has 1 warning, which --strict makes errors:",
        "  warning: levers.csv, row 4: lever 'lng' scores only in energy, which no track weights in any scenario "
        "(pillar_weights.csv) and no tier requires: it can never raise a track score",
    ]


def test_validate_lists_warnings_after_ok_and_in_json(clean):
    ok = _invoke("validate", TINY)
    assert ok.exit_code == 0, ok.output
    assert ": valid." in ok.stdout and "warning:" not in ok.stdout
    assert ok.output.index(": valid.") < ok.output.index("warning:")  # the verdict first, then the warnings
    assert ok.stderr.startswith("warning: levers.csv, row 4: lever 'lng'"), ok.stderr

    js = _invoke("validate", TINY, "--json")
    assert js.exit_code == 0, js.output
    obj = json.loads(js.stdout)
    assert obj["valid"] is True and obj["problems"] == []
    assert [(w["file"], w["row"], w["rows"], w["column"], w["check"], w["level"]) for w in obj["warnings"]] == [
        ("levers.csv", 4, [4], None, "unscored_lever", "warning")
    ]

    js = _invoke("validate", TINY, "--json", "--strict")
    assert js.exit_code == 2
    obj = json.loads(js.stdout)
    assert obj["valid"] is False and [w["check"] for w in obj["problems"]] == ["unscored_lever"]

    quiet = _invoke("validate", clean, "--strict")
    assert quiet.exit_code == 0 and quiet.stderr == "", quiet.output


def test_solve_reports_warnings_on_stderr_and_in_summary(tmp_path):
    shutil.copytree(TINY, tmp_path / "tiny")
    run = _relief("solve", "tiny", "--set", "tiers.deal:semis:s1.threshold=11", "--out", "out", "--json", cwd=tmp_path)
    assert run.returncode == 0, run
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(run.stdout)
    assert len(summary["warnings"]) == 2, summary["warnings"]
    assert summary["warnings"][0].startswith("tiers.csv, row 5, column threshold: deal/semis/s1 is unreachable")
    assert summary["warnings"][1].startswith("levers.csv, row 4: lever 'lng'")
    for w in summary["warnings"]:
        assert f"warning: {w}" in run.stderr
    # the unreachable tier is indeed never reached by the optimum
    assert summary["expected_relief"] == pytest.approx(2.2 - 0.6 * 1.0)  # deal loses s1 in 2027 (1.0 a year)
