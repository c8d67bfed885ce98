"""Many stances (issue 14): twin stances are solved as one, and the benchmark family is what
docs/benchmarks.md says it is.

Twin stances (information.twin_stances): no number of the model tells them apart, so every
plan values them alike and the model is built with one of them carrying their summed
probability; the plan is still evaluated and reported on every stance.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from checker import SpecCase, brute_force

from relief.model.core.case import load_case
from relief.model.core.information import merged_twins, twin_stances
from relief.model.core.options import SolveOptions
from relief.model.core.run import run_case, solved_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from family import write_family  # noqa: E402

TINY = ROOT / "examples" / "tiny"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)


def with_twin(src: Path, dst: Path, stance: str, share: float = 0.25) -> Path:
    """A copy of the case at `src` where `stance` has a twin `stance_twin` holding `share` of its probability."""
    shutil.copytree(src, dst)
    for f in dst.glob("*.csv"):
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "scenario" not in t.columns:
            continue
        twin = t[t["scenario"] == stance].copy()
        twin["scenario"] = f"{stance}_twin"
        if f.name == "scenarios.csv":
            p = float(twin["probability"].iloc[0])
            twin["probability"] = repr(p * share)
            t.loc[t["scenario"] == stance, "probability"] = repr(p * (1 - share))
        pd.concat([t, twin], ignore_index=True).to_csv(f, index=False)
    return dst


@pytest.mark.parametrize("stance", ["deal", "hard"])
def test_a_twin_changes_nothing_but_is_reported(tmp_path, stance):
    """Splitting a stance into two twins: the same optimum, plan and spending; both twins are
    reported with the relief of the original stance; the model has the original's stances."""
    base = load_case(TINY)
    dup = load_case(with_twin(TINY, tmp_path / "dup", stance))
    assert len(dup.scenarios) == len(base.scenarios) + 1
    groups = twin_stances(dup)
    assert groups[stance] == [stance, f"{stance}_twin"] and len(groups) == len(base.scenarios)
    merged = solved_case(dup)
    assert merged.scenarios == base.scenarios
    assert dict(zip(merged.scenarios, merged.table("scenarios")["probability"])) == pytest.approx(
        dict(zip(base.scenarios, base.table("scenarios")["probability"]))
    )
    a, b = run_case(base, OPTIONS).evaluation, run_case(dup, OPTIONS).evaluation
    assert b.expected_relief == pytest.approx(a.expected_relief, rel=1e-9)
    assert b.discounted_public_spend == pytest.approx(a.discounted_public_spend, rel=1e-9)
    assert dict(b.portfolio) == dict(a.portfolio)
    assert set(b.by_scenario) == set(dup.scenarios)
    assert b.by_scenario[f"{stance}_twin"] == pytest.approx(b.by_scenario[stance])
    assert b.by_scenario[stance] == pytest.approx(a.by_scenario[stance])
    assert b.expected_relief == pytest.approx(brute_force(SpecCase.from_folder(tmp_path / "dup")).best_relief)


def test_stances_that_differ_in_any_number_are_not_twins(tmp_path):
    """A twin whose credit differs by 0.01 is a stance of its own."""
    d = with_twin(TINY, tmp_path / "dup", "deal")
    sc = pd.read_csv(d / "scenarios.csv", dtype=str, keep_default_na=False)
    sc.loc[sc["scenario"] == "deal_twin", "commitment_credit"] = repr(float(sc.iloc[0]["commitment_credit"]) + 0.01)
    sc.to_csv(d / "scenarios.csv", index=False)
    case = load_case(d)
    assert len(twin_stances(case)) == len(case.scenarios)
    assert merged_twins(case) is case


def test_the_family_is_reproducible_and_sums_to_one(tmp_path):
    """benchmarks/family.py: the same N and seed give the same files; probabilities sum to 1,
    each default stance's probability is split evenly among its copies, credits stay <= 1,
    and ladders stay increasing (the case validates)."""
    a, b = write_family(tmp_path / "a", 12, seed=3), write_family(tmp_path / "b", 12, seed=3)
    c = write_family(tmp_path / "c", 12, seed=4)
    names = sorted(p.name for p in a.iterdir())
    assert filecmp.cmpfiles(a, b, names, shallow=False)[0] == names
    assert not filecmp.cmp(a / "tiers.csv", c / "tiers.csv", shallow=False)
    case, default = load_case(a), load_case(ROOT / "inputs" / "korea-2026")
    assert len(case.scenarios) == 12
    sc = case.table("scenarios")
    assert float(sc["probability"].sum()) == pytest.approx(1.0)
    assert float(sc["commitment_credit"].max()) <= 1.0
    p0 = dict(zip(default.scenarios, default.table("scenarios")["probability"]))
    for origin, p in p0.items():
        copies = sc[sc["scenario"].str.startswith(origin + "__")]
        assert float(copies["probability"].sum()) == pytest.approx(p)
    assert len(twin_stances(case)) == 12  # jittered copies are never twins


def test_solve_shows_ten_warnings_and_counts_the_rest(capsys):
    """Hundreds of stances can bring hundreds of warnings of one kind: relief solve shows ten
    on stderr and says how many more there are (summary.json keeps them all)."""
    from relief.cli.solve import SHOWN_WARNINGS, say_warnings

    say_warnings([f"w{i}" for i in range(25)])
    lines = capsys.readouterr().err.splitlines()
    assert lines[:SHOWN_WARNINGS] == [f"warning: w{i}" for i in range(SHOWN_WARNINGS)]
    assert lines[SHOWN_WARNINGS:] == ["warning: ... and 15 more (all in summary.json; relief validate lists them)"]
    say_warnings(["only"])
    assert capsys.readouterr().err.splitlines() == ["warning: only"]
