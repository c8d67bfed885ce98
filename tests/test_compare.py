"""`relief compare`: run folders and on-the-fly variants side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cliutil import run_in_process

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"


EXE = shutil.which("relief", path=str(Path(sys.executable).parent)) or shutil.which("relief")


def relief(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two run folders of the tiny case, solved in-process (compare itself runs as a process)."""
    d = tmp_path_factory.mktemp("runs")
    a, b = d / "A", d / "B"
    r = run_in_process("solve", TINY, "--out", a)
    assert r.returncode == 0, r.stderr
    r = run_in_process("solve", TINY, "--exclude", "chips", "--out", b)
    assert r.returncode == 0, r.stderr
    return a, b


def _json(*args):
    r = relief("compare", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_tiny_folders_json(runs):
    a, b = runs
    rep = _json(a, b)
    assert set(rep) >= {
        "reference",
        "runs",
        "changes",
        "portfolio",
        "spending",
        "relief_by_scenario",
        "relief_by_track",
        "attribution",
        "attribution_by_scenario",
    }
    assert rep["reference"] == "A"
    tot = {o["run"]: o for o in rep["runs"]}
    assert tot["A"]["expected_relief"] == pytest.approx(2.2, abs=1e-9)
    assert tot["B"]["expected_relief"] == pytest.approx(1.4, abs=1e-9)
    assert tot["B"]["difference"] == pytest.approx(-0.8, abs=1e-9)
    # agrees with what solve reported
    for o in rep["runs"]:
        assert o["expected_relief"] == pytest.approx(o["reported_expected_relief"], abs=1e-9)
    att = [x for x in rep["attribution"] if x["run"] == "B"]
    assert sum(x["difference"] for x in att) == pytest.approx(-0.8, abs=1e-9)
    assert sum(x["difference"] for x in rep["attribution_by_scenario"]) == pytest.approx(-0.8, abs=1e-9)
    assert [x["rank"] for x in att] == list(range(1, len(att) + 1))
    assert abs(att[0]["difference"]) >= abs(att[-1]["difference"])
    assert (att[0]["scenario"], att[0]["track"]) == ("deal", "semis")
    assert att[0]["levers"].split(",")[0] == "chips"
    assert rep["changes"]["B"] == {"chips": ["dropped"], "smelter": ["added"]}
    port = {(p["run"], p["lever"]): p for p in rep["portfolio"]}
    assert port[("A", "chips")]["modules"] == 2 and port[("A", "chips")]["first_commit"] == 2026
    assert port[("B", "smelter")]["first_operating"] == 2027
    scen = {(x["run"], x["scenario"]): x for x in rep["relief_by_scenario"]}
    assert scen[("B", "deal")]["relief_change"] == pytest.approx(-1.0)
    assert {s["year"] for s in rep["spending"]} == {2026, 2027}


def test_tiny_terminal_and_out(runs, tmp_path):
    a, b = runs
    out = tmp_path / "cmp"
    r = relief("compare", a, b, "--out", out)
    assert r.returncode == 0, r.stderr
    for heading in (
        "Portfolio by lever",
        "Public spending by year vs budget",
        "Relief by scenario",
        "Expected relief by track",
        "Why B differs from A",
    ):
        assert any(line.startswith(heading) for line in r.stdout.splitlines()), heading
    assert "dropped" in r.stdout and "added" in r.stdout and "Traceback" not in r.stderr
    for name in ("portfolio.csv", "spending.csv", "relief_by_scenario.csv", "attribution.csv"):
        assert (out / name).is_file(), name
    att = pd.read_csv(out / "attribution.csv")
    assert att["difference"].sum() == pytest.approx(-0.8, abs=1e-9)
    port = pd.read_csv(out / "portfolio.csv")
    assert set(port.columns) >= {"run", "lever", "modules", "first_commit", "first_operating", "change"}
    assert port.set_index(["run", "lever"]).loc[("B", "chips"), "change"] == "dropped"
    assert not list(out.glob("*.tmp*"))


def test_not_a_run_folder(runs, tmp_path):
    a, _ = runs
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "empty", tmp_path / "missing"):
        r = relief("compare", a, bad)
        assert r.returncode == 2
        assert str(bad) in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) <= 2
    r = relief("compare", a)
    assert r.returncode == 2


def test_variants_on_the_fly(runs):
    rep = _json("--case", TINY, "--variant", "no chips: --exclude chips", "--variant", "--force smelter")
    labels = [o["run"] for o in rep["runs"]]
    assert labels == ["base", "no chips", "--force smelter"]
    assert rep["runs"][1]["difference"] == pytest.approx(-0.8, abs=1e-9)
    r = relief("compare", "--case", TINY, "--variant", "x: --bogus 1", "--json")
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = relief("compare", "--case", TINY, "--variant", "x: --exclude nosuchlever")
    assert r.returncode == 2 and "nosuchlever" in r.stderr


def test_default_case_names_most_valuable_lever():
    """Excluding the default case's most valuable lever: the attribution names it first."""
    from relief.cli.inputs import default_case_path
    from relief.model.analyses.compare import compare, run_from_result
    from relief.model.core.case import load_case
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import run_case

    case = load_case(default_case_path())
    opts = SolveOptions.resolve(case.meta)
    base = run_case(case, opts)
    used = [l for l, v in base.evaluation.portfolio.items() if v > 1e-6]
    losses = {}
    results = {}
    for l in used:
        res = run_case(case, opts, exclude=(l,))
        if res.evaluation is None:
            continue
        results[l] = res
        losses[l] = base.evaluation.expected_relief - res.evaluation.expected_relief
    top = max(losses, key=losses.get)
    rep = compare([run_from_result("base", base), run_from_result(f"no-{top}", results[top])])
    att = [x for x in rep["attribution"] if x["run"] == f"no-{top}"]
    assert sum(x["difference"] for x in att) == pytest.approx(-losses[top], abs=1e-6)
    assert att[0]["difference"] < 0
    assert att[0]["levers"].split(",")[0] == top
    assert "dropped" in rep["changes"][f"no-{top}"][top]
    lost = [x for x in rep["relief_by_scenario"] if x["run"] == f"no-{top}"]
    assert lost and any(x["relief_change"] < 0 for x in lost)


def test_tiny_tiers_and_sectors(runs):
    """Excluding chips: the semis tier s1 (reached in 2027 in both scenarios with two chip
    modules) is lost, and the hard scenario's general tier t1 comes in 2027 with the smelter
    (README). By sector: chip exports lose their 1.0, autos gain 0.2 (= 0.4 x 0.5)."""
    a, b = runs
    out = _json(a, b)
    changed = {
        (x["scenario"], x["track"], x["year"]): (x["reference_tier"], x["tier"]) for x in out["tiers"] if x["changed"]
    }
    assert changed == {
        ("deal", "semis", 2027): ("s1", "base"),  # the baseline by the case's own name
        ("hard", "semis", 2027): ("s1", "base"),
        ("hard", "general", 2027): ("base", "t1"),
    }
    sector = {(x["run"], x["sector"]): x for x in out["relief_by_sector"]}
    lab_a, lab_b = out["runs"][0]["run"], out["runs"][1]["run"]
    assert sector[(lab_b, "chip_exports")]["change"] == pytest.approx(-1.0)
    assert sector[(lab_b, "autos")]["change"] == pytest.approx(0.2)
    for lab in (lab_a, lab_b):  # sectors add up to the expected relief
        total = sum(x["expected_relief"] for x in out["relief_by_sector"] if x["run"] == lab)
        assert total == pytest.approx(next(o["expected_relief"] for o in out["runs"] if o["run"] == lab), rel=1e-9)


# --- issue 11, item 7: plain labels, one precision, different cases warned about ------------
@pytest.fixture(scope="module")
def other_case(tmp_path_factory):
    """A run of another case: tiny renamed, with a third stance and a divisible lever."""
    d = tmp_path_factory.mktemp("other")
    case = d / "other"
    shutil.copytree(TINY, case)
    y = (case / "case.yaml").read_text().replace("name: tiny", "name: tiny-other")
    (case / "case.yaml").write_text(y)
    sc = pd.read_csv(case / "scenarios.csv")
    sc.loc[len(sc)] = ["soft", 0.2, 1.0, "assumption"]
    sc.loc[sc["scenario"] == "deal", "probability"] = 0.4
    sc.to_csv(case / "scenarios.csv", index=False)
    for name in ("pillar_weights", "tiers", "tariffs"):
        t = pd.read_csv(case / f"{name}.csv")
        t = pd.concat([t, t[t["scenario"] == "deal"].assign(scenario="soft")])
        if name == "tiers":  # 9 points of semis: 1.8 divisible chip modules
            t.loc[t["tier"] == "s1", "threshold"] = 9
        t.to_csv(case / f"{name}.csv", index=False)
    lv = pd.read_csv(case / "levers.csv")
    lv.loc[lv["lever"] == "chips", "integer"] = False
    lv.loc[lv["lever"] == "chips", "capex_per_module"] = 2.4
    lv.to_csv(case / "levers.csv", index=False)
    r = run_in_process("solve", case, "--out", d / "C")
    assert r.returncode == 0, r.stderr
    return d / "C"


def test_different_cases_are_warned_about_and_missing_stances_are_missing(runs, other_case):
    a, _ = runs
    r = relief("compare", a, other_case, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert "relief: warning: these runs solve different cases (A: tiny, C: tiny-other)" in r.stderr
    assert "differences mix data and decisions" in r.stderr
    assert any("different stances (only in C: soft)" in w for w in rep["warnings"])
    soft = [x for x in rep["attribution"] if x["scenario"] == "soft"]
    assert soft and all(x["reference_probability"] is None and x["probability"] == 0.2 for x in soft)
    scen = {(x["run"], x["scenario"]): x for x in rep["relief_by_scenario"]}
    assert ("A", "soft") not in scen and scen[("C", "soft")]["relief_change"] is None
    # the other way round: the run lacks the stance, so its probability is missing, not 0
    rep = json.loads(relief("compare", other_case, a, "--json").stdout)
    soft = [x for x in rep["attribution"] if x["scenario"] == "soft"]
    assert soft and all(x["probability"] is None and x["reference_probability"] == 0.2 for x in soft)
    out = relief("compare", other_case, a).stdout
    assert "warning: these runs solve different cases (C: tiny-other, A: tiny)" in " ".join(out.split())
    assert "p 0.00" not in out
    # attribution rows: '#  scenario  track  p (run)  weighted difference ...'
    soft_rows = [line.split() for line in out.splitlines() if line.split()[1:2] == ["soft"]]
    assert soft_rows and all(cells[3] == "-" for cells in soft_rows), out


def test_same_case_gives_no_warning(runs):
    a, b = runs
    r = relief("compare", a, b, "--json")
    assert json.loads(r.stdout)["warnings"] == [] and "warning" not in r.stderr


def test_labels_say_which_number_is_weighted(runs):
    a, b = runs
    out = " ".join(relief("compare", a, b).stdout.split())
    assert "Relief by scenario if that stance comes true (discounted, not weighted" in out
    assert "by scenario, probability-weighted (contribution to the expected difference): deal -0.600" in out
    # the same stance, -1.000 if it comes true, -0.600 weighted by its probability 0.6
    assert "deal 2.000 (p 0.60) -1.000" in out or "(p 0.60) -1.000" in out
    rep = _json(a, b)
    assert "probability-weighted" in rep["definitions"]["attribution_by_scenario.difference"]
    assert "if that stance comes true" in rep["definitions"]["relief_by_scenario.relief_change"]


def test_lever_sizes_have_the_precision_of_solve(runs, other_case):
    a, _ = runs
    out = relief("compare", a, other_case).stdout
    row = next(line for line in out.splitlines() if line.startswith("chips"))
    assert row.split()[1:4] == ["2", "(2026/2026)", "1.80"], row  # as relief solve writes them
