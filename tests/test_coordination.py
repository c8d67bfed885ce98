"""Value of coordination (`relief coordination`, relief.model.analyses.coordination): hand-worked on
examples/two-owners (README there), the case transformations, properties on generated
cases, the owner columns and tables of the schema, the default case and the command line."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from casegen import cases, frames
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relief.model.analyses.coordination import owner_alone, owners_of, value_of_coordination, with_owner_capacities
from relief.model.core.case import Case, CaseError, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import apply_overrides
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
TWO = ROOT / "examples" / "two-owners"
TINY = ROOT / "examples" / "tiny"
KOREA = ROOT / "inputs" / "korea-2026"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
EXE = relief_exe()


def relief(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def two() -> Case:
    return load_case(TWO)


def coordination(case, *sets, **kw):
    return value_of_coordination(apply_overrides(case, list(sets)), OPTIONS, **kw).report()


# ----------------------------------------------------------------------------------
# examples/two-owners by hand
# ----------------------------------------------------------------------------------


def test_two_owners_by_hand(two):
    """Alpha (smelter, cares about cars) and beta (fab, cares about chip_exports) share a
    public budget of 2; each module costs 1 of public money.
    - alpha alone: smelter -> general score 10 -> deal, 1.0. It commits the smelter.
    - beta alone: one fab -> semis 0.5 x 10 = 5 < 10, nothing: it commits nothing.
    - fragmented = {smelter}: general 1.0, semis 5 -> none: 1.0, public 1 <= 2, feasible.
    - coordinated = smelter + fab, public 2 <= 2: general 1.0 + semis 5 + 5 = 10 -> 1.0 = 2.0.
    Value of coordination 1.0 (50%); beta's sector gains it all."""
    rep = coordination(two)
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["fragmented"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert rep["fragmented"]["feasible"] and rep["fragmented"]["violations"] == []
    assert rep["difference"] == pytest.approx(1.0, abs=1e-9) and rep["difference_share"] == pytest.approx(0.5)
    assert rep["without_owner_capacities"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["coordinated"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    assert rep["fragmented"]["portfolio"] == {"smelter": 1.0}
    (row,) = rep["relief_by_scenario"]
    assert row["scenario"] == "only"
    assert [row[k] for k in ("probability", "coordinated", "fragmented", "difference")] == pytest.approx(
        [1.0, 2.0, 1.0, 1.0]
    )
    owners = {o["owner"]: o for o in rep["owners"]}
    assert set(owners) == {"alpha", "beta"}  # the government owns nothing here and is not run
    assert owners["alpha"]["own_relief_alone"] == pytest.approx(1.0) and owners["alpha"]["portfolio_alone"] == {
        "smelter": 1.0
    }
    assert owners["beta"]["own_relief_alone"] == pytest.approx(0.0) and owners["beta"]["portfolio_alone"] == {}
    assert owners["beta"]["own_relief_coordinated"] == pytest.approx(1.0)
    plans = {p["lever"]: p for p in rep["plans"]}
    assert plans["fab"]["change"] == "dropped" and plans["smelter"]["change"] == ""
    sectors = {x["sector"]: x for x in rep["relief_by_sector"]}
    assert sectors["chip_exports"]["difference"] == pytest.approx(1.0) and sectors["chip_exports"]["cared_by"] == "beta"


def test_two_owners_shared_budget_broken(two):
    """Variant B, fab max 2: beta alone commits two fabs (semis 10 -> 1.0, public 2: the
    whole budget), alpha the smelter (public 1). The union spends 3 > 2 in 2026 for 2.0;
    coordinated: smelter + one fab, public 2, 2.0. No relief difference; the union breaks
    the shared budget, reported as a violation."""
    rep = coordination(two, "levers.fab.max_modules=2")
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["coordinated"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    assert rep["fragmented"]["portfolio"] == {"smelter": 1.0, "fab": 2.0}
    assert rep["fragmented"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert not rep["fragmented"]["feasible"]
    assert rep["fragmented"]["violations"] == ["public spending of 3 in 2026 exceeds the budget 2"]
    assert rep["fragmented"]["public_spend"] == pytest.approx(3.0)
    assert rep["difference"] == pytest.approx(0.0, abs=1e-9)
    assert rep["spending"] == [
        {
            "year": 2026,
            "budget": 2.0,
            "coordinated": pytest.approx(2.0),
            "fragmented": pytest.approx(3.0),
            "fragmented_over_budget": True,
        }
    ]


def test_two_owners_capacity_alone(two):
    """Variant C, B plus beta's capacity 1 (capex 1 a fab): alone beta can fund one fab,
    worth nothing to it, so it commits nothing: union {smelter} 1.0, feasible; coordinated
    smelter + one fab (within the capacity) 2.0. Difference 1.0."""
    rep = coordination(two, "levers.fab.max_modules=2", "owners.beta.capacity_usd_bn=1")
    assert rep["fragmented"]["portfolio"] == {"smelter": 1.0} and rep["fragmented"]["feasible"]
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["difference"] == pytest.approx(1.0, abs=1e-9)


def test_two_owners_capacity_binds_the_joint_plan(two):
    """Variant D, beta's capacity 0.5 < one fab: coordinated = fragmented = 1.0, while the
    joint optimum without owner capacities (relief solve) is 2.0."""
    rep = coordination(two, "owners.beta.capacity_usd_bn=0.5")
    assert rep["coordinated"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert rep["fragmented"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert rep["without_owner_capacities"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert run_case(two, OPTIONS).evaluation.expected_relief == pytest.approx(2.0)  # relief solve ignores owners


# ----------------------------------------------------------------------------------
# the case transformations
# ----------------------------------------------------------------------------------


def test_owners_of_two_owners_and_tiny(two):
    o = owners_of(two)
    assert {k: (v.kind, v.capacity, v.levers, v.sectors) for k, v in o.items()} == {
        "alpha": ("company", None, ("smelter",), ("cars",)),
        "beta": ("company", None, ("fab",), ("chip_exports",)),
    }
    tiny = owners_of(load_case(TINY))  # no owner data at all: the government owns everything, cares about all
    assert list(tiny) == ["government"]
    assert tiny["government"].levers == ("smelter", "chips", "lng") and tiny["government"].sectors == (
        "autos",
        "chip_exports",
    )


def test_owner_alone_and_capacities_are_pure_transformations(two):
    capped = with_owner_capacities(
        apply_overrides(two, ["owners.beta.capacity_usd_bn=3", "levers.fab.capex_per_module=1.5"])
    )
    pools = capped.table("pools")
    assert list(pools["pool"]) == ["capacity_beta"] and list(pools["limit"]) == [3.0]
    assert capped.table("lever_pools")[["lever", "pool", "use_per_module"]].values.tolist() == [
        ["fab", "capacity_beta", 1.5]
    ]
    assert len(two.table("pools")) == 0  # untouched
    alone = owner_alone(capped, "beta")
    lv = alone.table("levers").set_index("lever")
    assert (lv.at["smelter", "min_modules"], lv.at["smelter", "max_modules"]) == (0.0, 0.0)
    assert lv.at["fab", "max_modules"] == two.table("levers").set_index("lever").at["fab", "max_modules"]
    assert dict(zip(alone.table("sectors")["sector"], alone.table("sectors")["exports_usd_bn"])) == {
        "cars": 0.0,
        "chip_exports": 10.0,
    }
    assert dict(zip(two.table("sectors")["sector"], two.table("sectors")["exports_usd_bn"])) == {
        "cars": 10.0,
        "chip_exports": 10.0,
    }
    with pytest.raises(ValueError, match="unknown owner"):
        owner_alone(two, "gamma")


def test_capacity_pool_name_does_not_clash(two):
    case = apply_overrides(two, ["owners.alpha.capacity_usd_bn=1"])
    tables = dict(case.tables)
    tables["pools"] = pd.DataFrame([{"pool": "capacity_alpha", "limit": 9.0}])
    case = Case.from_tables(case.meta, tables)
    assert sorted(with_owner_capacities(case).table("pools")["pool"]) == ["capacity_alpha", "capacity_alpha_2"]


# ----------------------------------------------------------------------------------
# properties on generated cases
# ----------------------------------------------------------------------------------

PROPS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def with_owners(meta, tables, owner_of, cares, capacity, kinds=None):
    """A generated case with owners: casegen's tables plus the owner column and tables."""
    fr = frames(tables)
    fr["levers"] = fr["levers"].assign(owner=[owner_of[l] for l in fr["levers"]["lever"]])
    names = sorted(set(owner_of.values()) | set(cares))
    fr["owners"] = pd.DataFrame(
        [{"owner": o, "kind": (kinds or {}).get(o, "company"), "capacity_usd_bn": capacity.get(o)} for o in names],
        columns=["owner", "kind", "capacity_usd_bn"],
    )
    fr["owner_sectors"] = pd.DataFrame(
        [{"owner": o, "sector": s} for o, ss in cares.items() for s in ss], columns=["owner", "sector"]
    )
    return Case.from_tables(meta, fr)


@PROPS
@given(cases(safe_requires=True), st.data())
def test_coordinated_is_at_least_a_feasible_fragmented_union(generated, data):
    """Every plan of the union respects its owner's capacity; if it also respects the
    joint limits it is a plan of the coordinated problem, whose optimum is at least as good."""
    meta, tables = generated
    levers = [r["lever"] for r in tables["levers"]]
    sectors = [r["sector"] for r in tables["sectors"]]
    owner_of = {l: data.draw(st.sampled_from(["a", "b"])) for l in levers}
    cares = {o: data.draw(st.lists(st.sampled_from(sectors), unique=True)) for o in ("a", "b")}
    capacity = {o: data.draw(st.sampled_from([None, 0.0, 1.0, 3.0])) for o in ("a", "b")}
    case = with_owners(meta, tables, owner_of, cares, capacity)
    rep = value_of_coordination(case, OPTIONS).report()
    if rep["coordinated"]["status"] != "optimal":
        return
    if rep["fragmented"]["feasible"]:
        c = rep["coordinated"]["expected_relief"]
        assert rep["fragmented"]["expected_relief"] <= c + 1e-6 * max(1.0, abs(c))
    assert rep["coordinated"]["expected_relief"] <= rep["without_owner_capacities"]["expected_relief"] + 1e-6 * max(
        1.0, abs(rep["without_owner_capacities"]["expected_relief"])
    )


@PROPS
@given(cases(safe_requires=True), st.sampled_from([None, 0.0, 2.0, 100.0]), st.sampled_from(["company", "government"]))
def test_one_owner_of_everything_caring_about_everything_is_coordinated(generated, capacity, kind):
    """One owner with every lever and every sector faces the coordinated problem itself:
    fragmented == coordinated."""
    meta, tables = generated
    sectors = [r["sector"] for r in tables["sectors"]]
    owner = "government" if kind == "government" else "solo"
    cares = {} if kind == "government" else {"solo": sectors}
    case = with_owners(
        meta, tables, {r["lever"]: owner for r in tables["levers"]}, cares, {owner: capacity}, {owner: kind}
    )
    rep = value_of_coordination(case, OPTIONS).report()
    if rep["coordinated"]["status"] != "optimal":
        return
    assert rep["fragmented"]["feasible"], rep["fragmented"]["violations"]
    assert rep["fragmented"]["expected_relief"] == pytest.approx(
        rep["coordinated"]["expected_relief"], rel=1e-6, abs=1e-9
    )
    assert rep["difference"] == pytest.approx(0.0, abs=1e-6 * max(1.0, abs(rep["coordinated"]["expected_relief"])))


# ----------------------------------------------------------------------------------
# the default case
# ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def korea():
    case = load_case(KOREA)
    analysis = value_of_coordination(case, SolveOptions.resolve(case.meta))
    return analysis, analysis.report()


def test_default_case_owner_data_leaves_relief_solve_unchanged(korea):
    """The owners' capacities do not bind the default joint plan: coordinated = relief
    solve's 71.5368 (korea-2026 README, the case of issue 12)."""
    _, rep = korea
    assert rep["coordinated"]["expected_relief"] == pytest.approx(71.5368, abs=1e-4)
    assert rep["without_owner_capacities"]["expected_relief"] == pytest.approx(
        rep["coordinated"]["expected_relief"], abs=1e-7
    )


def test_default_case_value_of_coordination(korea):
    """Stored values (HiGHS 1.16, gap 0; measured with `relief coordination --json` on the case
    of issue 12): fragmented 70.9266, coordinated - fragmented 0.6101 (it was 20.61 before the
    energy increment became an obligation). KOGAS alone now signs the one LNG contract owed
    (obligations.csv), so the general deal tier's energy requirement is met in the fragmented
    plan too; what is left is Korea Zinc's refining lines, which Korea Zinc alone does not
    build: the general track loses 0.61 in expectation, all of it in chip_phase2 (2.71 if it
    comes true), and every other stance is unchanged. The owners spending public money alone
    (Samsung's fab, SK hynix's HBM plant) no longer overdraw a yearly budget together, so the
    union is a feasible plan (a broken union is tested on examples/two-owners)."""
    analysis, rep = korea
    assert rep["fragmented"]["expected_relief"] == pytest.approx(70.9266, abs=1e-3)
    assert rep["difference"] == pytest.approx(0.6101, abs=1e-3)
    assert rep["fragmented"]["feasible"] and rep["fragmented"]["violations"] == []
    assert "critical_mineral_refining" not in rep["fragmented"]["portfolio"]
    assert rep["fragmented"]["portfolio"]["lng_purchases"] == pytest.approx(1.0)
    lost = {x["scenario"]: x["difference"] for x in rep["relief_by_scenario"]}
    assert lost["chip_phase2"] == pytest.approx(2.7117, abs=1e-3)
    assert all(v == pytest.approx(0.0, abs=1e-7) for s, v in lost.items() if s != "chip_phase2")
    by_track = {x["track"]: x["difference"] for x in rep["relief_by_track"]}
    assert by_track["general"] == pytest.approx(rep["difference"], abs=1e-7)
    # each owner's exports-zero case gives exactly the relief of its sectors
    assert analysis.warnings == []
    for run in analysis.owners:
        if run.result is not None:
            assert run.own_relief_check == pytest.approx(run.result.evaluation.expected_relief, abs=1e-7)


def test_default_case_owner_data_are_sourced():
    for name in ("owners.csv", "owner_sectors.csv"):
        with open(KOREA / name, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(r["source"].startswith("brief ") for r in rows), name
    with open(KOREA / "owners.csv", encoding="utf-8") as f:
        owners = list(csv.DictReader(f))
    for r in owners:
        assert "assumption" in r["notes"] or "derived" in r["notes"] or r["capacity_usd_bn"] == ""


# ----------------------------------------------------------------------------------
# validation of the owner columns and tables
# ----------------------------------------------------------------------------------


@pytest.fixture
def two_dir(tmp_path) -> Path:
    dst = tmp_path / "two"
    shutil.copytree(TWO, dst)
    return dst


def _edit(folder: Path, file: str, rows: list[list[str]]):
    with open(folder / file, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _rows(folder: Path, file: str):
    return list(csv.reader(open(folder / file, newline="", encoding="utf-8")))


def _problems(folder):
    with pytest.raises(CaseError) as e:
        load_case(folder)
    return e.value.problems


def test_unknown_owner_of_a_lever_exits_2_naming_file_row_column(two_dir):
    rows = _rows(two_dir, "levers.csv")
    rows[2][rows[0].index("owner")] = "gamma"  # fab, spreadsheet row 3
    _edit(two_dir, "levers.csv", rows)
    (p,) = _problems(two_dir)
    assert (p.file, p.row, p.column) == ("levers.csv", 3, "owner") and "unknown owner 'gamma'" in p.message
    r = relief("validate", two_dir)
    assert r.returncode == 2 and "levers.csv, row 3, column owner: unknown owner 'gamma'" in r.stderr
    r = relief("coordination", two_dir)
    assert r.returncode == 2 and "levers.csv, row 3, column owner" in r.stderr and "Traceback" not in r.stderr


def test_owner_sectors_references(two_dir):
    _edit(two_dir, "owner_sectors.csv", [["owner", "sector"], ["alpha", "cars"], ["gamma", "cars"], ["beta", "ships"]])
    found = {(p.file, p.row, p.column) for p in _problems(two_dir)}
    assert found == {("owner_sectors.csv", 3, "owner"), ("owner_sectors.csv", 4, "sector")}


def test_owner_kind_and_capacity(two_dir):
    _edit(
        two_dir,
        "owners.csv",
        [
            ["owner", "kind", "capacity_usd_bn"],
            ["alpha", "ngo", ""],
            ["beta", "company", "-1"],
            ["government", "company", ""],
        ],
    )
    found = {(p.row, p.column): p.message for p in _problems(two_dir)}
    assert set(found) == {(3, "capacity_usd_bn")}  # typing stops first; the kind rules follow once cells are valid
    _edit(
        two_dir,
        "owners.csv",
        [
            ["owner", "kind", "capacity_usd_bn"],
            ["alpha", "ngo", ""],
            ["beta", "company", "1"],
            ["government", "company", ""],
        ],
    )
    found = {(p.file, p.row, p.column): p.message for p in _problems(two_dir)}
    assert set(found) == {("owners.csv", 2, "kind"), ("owners.csv", 4, "kind")}
    assert "company or government" in found[("owners.csv", 2, "kind")]


def test_owner_column_and_tables_are_optional(two_dir):
    """Without owners.csv and the owner column every lever belongs to the government;
    'government' is known without a row; a blank owner cell means the government too."""
    for f in ("owners.csv", "owner_sectors.csv", "labellings.csv"):  # labellings name owners too
        (two_dir / f).unlink()
    rows = _rows(two_dir, "levers.csv")
    j = rows[0].index("owner")
    rows[1][j] = "government"
    rows[2][j] = ""
    _edit(two_dir, "levers.csv", rows)
    case = load_case(two_dir)
    assert list(case.table("levers")["owner"]) == ["government", "government"] and not case.warnings
    assert list(owners_of(case)) == ["government"]


def test_owner_sectors_row_for_the_government_is_a_warning(two_dir):
    with open(two_dir / "owner_sectors.csv", "a", encoding="utf-8") as f:
        f.write("government,cars,\n")
    case = load_case(two_dir)
    assert len(case.warnings) == 1 and "every sector" in case.warnings[0].message


def test_case_hash_ignores_owner_data_left_at_its_defaults(tmp_path):
    """An all-government owner column and empty owner tables hash like a case without them
    (cases written before owners existed keep their input_sha256); real owner data counts."""
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    before = load_case(dst).sha256()
    rows = _rows(dst, "levers.csv")
    _edit(dst, "levers.csv", [r + [("owner" if i == 0 else "government")] for i, r in enumerate(rows)])
    _edit(dst, "owners.csv", [["owner", "kind", "capacity_usd_bn"]])
    _edit(dst, "owner_sectors.csv", [["owner", "sector"]])
    assert load_case(dst).sha256() == before
    _edit(dst, "owners.csv", [["owner", "kind", "capacity_usd_bn"], ["government", "government", "3"]])
    assert load_case(dst).sha256() != before


def test_workbook_round_trip_keeps_owners(tmp_path):
    book = tmp_path / "two.xlsx"
    assert relief("template", TWO, "--out", book).returncode == 0
    a, b = load_case(TWO), load_case(book)
    assert a.sha256() == b.sha256()
    assert list(b.table("levers")["owner"]) == ["alpha", "beta"]


# ----------------------------------------------------------------------------------
# the command line
# ----------------------------------------------------------------------------------


def test_cli_coordination_json_and_out(tmp_path):
    out = tmp_path / "coord"
    r = relief("coordination", TWO, "--set", "levers.fab.max_modules=2", "--json", "--out", out)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert {
        "analysis",
        "case",
        "input_sha256",
        "solver",
        "status",
        "assumptions",
        "coordinated",
        "fragmented",
        "difference",
        "difference_share",
        "without_owner_capacities",
        "owners",
        "relief_by_scenario",
        "relief_by_track",
        "relief_by_sector",
        "plans",
        "roadmap",
        "spending",
    } <= set(rep)
    assert rep["analysis"] == "coordination" and rep["overrides"] == ["levers.fab.max_modules=2"]
    assert {"expected_relief", "public_spend", "by_scenario", "portfolio", "schedule", "feasible", "violations"} <= set(
        rep["fragmented"]
    )
    files = {
        "summary.json",
        "owners.csv",
        "relief_by_scenario.csv",
        "relief_by_track.csv",
        "relief_by_sector.csv",
        "plans.csv",
        "roadmap.csv",
        "spending.csv",
        "violations.csv",
    }
    assert files <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((out / "summary.json").read_text()) == rep
    assert list(pd.read_csv(out / "violations.csv")["violation"]) == [
        "public spending of 3 in 2026 exceeds the budget 2"
    ]
    owners = pd.read_csv(out / "owners.csv")
    assert list(owners["owner"]) == ["alpha", "beta"] and list(owners["levers"]) == ["smelter", "fab"]
    roadmap = pd.read_csv(out / "roadmap.csv")
    assert set(roadmap["plan"]) == {"coordinated", "fragmented"}


def test_cli_coordination_rich_view():
    r = relief("coordination", TWO)
    assert r.returncode == 0, r.stderr
    for words in ("Coordination is worth 1.00", "Relief by scenario", "Owners", "Plans side by side", "dropped"):
        assert words in r.stdout, r.stdout
    r = relief("coordination", TWO, "--set", "levers.fab.max_modules=2")
    assert "breaks joint limits" in r.stdout and "exceeds the budget 2" in r.stdout


COORDINATION_ERRORS = [
    (("--force", "nope"), 2, "unknown lever"),
    (("--set", "owners.gamma.capacity_usd_bn=1"), 2, "no row"),
    (("--set", "owners.beta.kind=ngo"), 2, "kind"),
    (("--force", "fab", "--set", "owners.beta.capacity_usd_bn=0.5"), 3, "infeasible"),
]


@pytest.mark.parametrize("args,code,word", COORDINATION_ERRORS)
def test_cli_coordination_errors(args, code, word):
    # the first variant through the console script, the others in-process (the same messages)
    r = (relief if (args, code, word) == COORDINATION_ERRORS[0] else run_in_process)("coordination", TWO, *args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert word in r.stderr.lower() and "Traceback" not in r.stderr


def test_cli_coordination_on_a_case_without_owners_is_all_government():
    r = relief("coordination", TINY, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert [o["owner"] for o in rep["owners"]] == ["government"]
    assert rep["difference"] == pytest.approx(0.0, abs=1e-9)
