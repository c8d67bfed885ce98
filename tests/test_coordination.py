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
from checker import SpecCase, check_plan
from cliutil import ENV, relief_exe, run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relief.model.analyses.coordination import value_of_coordination
from relief.model.analyses.owners import owner_alone, owners_of, with_owner_capacities
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


def regimes(rep) -> dict:
    return {g["regime"]: g for g in rep["regimes"]}


def test_two_owners_by_hand(two):
    """Alpha (smelter, cares about cars) and beta (fab, cares about chip_exports) share a
    public budget of 2; each module costs 1 of public money.
    - alpha alone: smelter -> general score 10 -> deal, 1.0. It commits the smelter.
    - beta alone: one fab -> semis 0.5 x 10 = 5 < 10, nothing: it commits nothing.
    - union = {smelter}: general 1.0, semis 5 -> none: 1.0, public 1 <= 2, feasible.
    - first come (alpha picked in 2026, beta picked nothing: alpha, then beta): alpha the
      smelter; beta alone with the 1 left: one fab is worth nothing to it: {smelter}, 1.0.
    - rationed: alpha asked 1 of 2026's 2, beta 0: shares 2 and 0; alpha the smelter, beta
      nothing: {smelter}, 1.0.
    - in turn, seeing: beta sees the smelter (semis 5) and one fab completes the offset
      tier (5 + 5 = 10): {smelter, fab}, 2.0.
    - coordinated = smelter + fab, public 2 <= 2: 2.0.
    Headline: first come and rationed tie at 1.0; first come is named. Value 1.0 (50%)."""
    rep = coordination(two)
    g = regimes(rep)
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert {k: v["expected_relief"] for k, v in g.items()} == pytest.approx(
        {"union": 1.0, "first_come": 1.0, "rationed": 1.0, "in_turn": 2.0}, abs=1e-9
    )
    assert {k: v["portfolio"] for k, v in g.items()} == {
        "union": {"smelter": 1.0},
        "first_come": {"smelter": 1.0},
        "rationed": {"smelter": 1.0},
        "in_turn": {"smelter": 1.0, "fab": 1.0},
    }
    assert g["first_come"]["order"] == ["alpha", "beta"] and g["in_turn"]["order"] == ["alpha", "beta"]
    assert [v["attainable"] for v in g.values()] == [False, True, True, True]
    assert rep["headline_regime"] == "first_come" and rep["fragmented"]["regime"] == "first_come"
    assert rep["fragmented"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert rep["fragmented"]["feasible"] and rep["fragmented"]["violations"] == []
    assert rep["difference"] == pytest.approx(1.0, abs=1e-9) and rep["difference_share"] == pytest.approx(0.5)
    assert g["in_turn"]["value_of_coordination"] == pytest.approx(0.0, abs=1e-9)
    assert rep["without_owner_capacities"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["coordinated"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    shares = {(r["owner"], r["limit"]): (r["asked"], r["share"]) for r in rep["shares"]}
    assert shares == {("alpha", "envelope public, 2026"): (1.0, 2.0), ("beta", "envelope public, 2026"): (0.0, 0.0)}
    (row,) = rep["relief_by_scenario"]
    assert row["scenario"] == "only"
    assert [row[k] for k in ("probability", "coordinated", "fragmented", "difference", "in_turn")] == pytest.approx(
        [1.0, 2.0, 1.0, 1.0, 2.0]
    )
    owners = {o["owner"]: o for o in rep["owners"]}
    assert set(owners) == {"alpha", "beta"}  # the government owns nothing here and is not run
    assert owners["alpha"]["own_relief_alone"] == pytest.approx(1.0) and owners["alpha"]["portfolio_alone"] == {
        "smelter": 1.0
    }
    assert owners["beta"]["own_relief_alone"] == pytest.approx(0.0) and owners["beta"]["portfolio_alone"] == {}
    assert owners["beta"]["own_relief_coordinated"] == pytest.approx(1.0)
    assert owners["beta"]["own_relief_in_turn"] == pytest.approx(1.0)
    plans = {p["lever"]: p for p in rep["plans"]}
    assert plans["fab"]["change"] == "dropped" and plans["smelter"]["change"] == ""
    assert plans["fab"]["in_turn_modules"] == 1.0 and plans["fab"]["first_come_modules"] == 0.0
    sectors = {x["sector"]: x for x in rep["relief_by_sector"]}
    assert sectors["chip_exports"]["difference"] == pytest.approx(1.0) and sectors["chip_exports"]["cared_by"] == "beta"
    (tier,) = [w for w in rep["why"] if w["mechanism"] == "joint_tier"]
    assert (tier["track"], tier["tier"], tier["owners"], tier["years"]) == ("semis", "offset", "alpha,beta", "2026")
    assert "beta commits nothing that pays" in tier["text"]
    (idle,) = [w for w in rep["why"] if w["mechanism"] == "money_timing"]
    assert idle["amount"] == pytest.approx(1.0) and "unused" in idle["text"]  # first come leaves 1 of 2026 unspent


def test_two_owners_shared_budget_broken(two):
    """Variant B, fab max 2: beta alone commits two fabs (semis 10 -> 1.0, public 2: the
    whole budget), alpha the smelter (public 1).
    - union {smelter, 2 fabs} spends 3 > 2 in 2026 for 2.0: not attainable.
    - first come (both picked in 2026, ties by name: alpha, beta): alpha the smelter (1);
      beta alone with 1 left: one fab is worth nothing to it: {smelter}, 1.0.
    - rationed: asks 1 and 2 of 2 -> shares 2/3 and 4/3: alpha cannot afford a smelter (1),
      beta one fab, worth nothing alone: nothing, 0.0.
    - in turn: beta sees the smelter and commits one fab: 2.0.
    - coordinated: smelter + one fab, 2.0. Headline first come (1.0 > 0.0): value 1.0."""
    rep = coordination(two, "levers.fab.max_modules=2")
    g = regimes(rep)
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["coordinated"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    assert g["union"]["portfolio"] == {"smelter": 1.0, "fab": 2.0}
    assert g["union"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert not g["union"]["feasible"] and g["union"]["status"] == "breaks joint limits"
    assert g["union"]["violations"] == ["public spending of 3 in 2026 exceeds the budget 2"]
    assert g["union"]["public_spend"] == pytest.approx(3.0)
    assert g["first_come"]["portfolio"] == {"smelter": 1.0} and g["first_come"]["feasible"]
    assert g["rationed"]["portfolio"] == {} and g["rationed"]["expected_relief"] == pytest.approx(0.0, abs=1e-9)
    assert g["in_turn"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    assert rep["headline_regime"] == "first_come" and rep["difference"] == pytest.approx(1.0, abs=1e-9)
    assert g["rationed"]["value_of_coordination"] == pytest.approx(2.0, abs=1e-9)
    shares = {r["owner"]: r["share"] for r in rep["shares"]}
    assert shares == pytest.approx({"alpha": 2 / 3, "beta": 4 / 3})
    assert rep["spending"] == [
        {
            "year": 2026,
            "budget": 2.0,
            "coordinated": pytest.approx(2.0),
            "union": pytest.approx(3.0),
            "first_come": pytest.approx(1.0),
            "rationed": pytest.approx(0.0),
            "in_turn": pytest.approx(2.0),
            "fragmented": pytest.approx(1.0),
            "fragmented_over_budget": False,
            "union_over_budget": True,
        }
    ]
    over = [w for w in rep["why"] if w["mechanism"] == "money_timing" and "ask for more" in w["text"]]
    assert len(over) == 1 and over[0]["amount"] == pytest.approx(1.0) and "3.00 in 2026 against 2.00" in over[0]["text"]


def test_two_owners_capacity_alone(two):
    """Variant C, B plus beta's capacity 1 (capex 1 a fab): alone beta can fund one fab,
    worth nothing to it, so it commits nothing: union {smelter} 1.0, feasible; first come and
    rationed the same (rationed: alpha asked all of 2026, share 2); in turn beta sees the
    smelter and funds one fab (its capacity): 2.0; coordinated 2.0. Value 1.0."""
    rep = coordination(two, "levers.fab.max_modules=2", "owners.beta.capacity_usd_bn=1")
    g = regimes(rep)
    assert g["union"]["portfolio"] == {"smelter": 1.0} and g["union"]["feasible"]
    assert g["first_come"]["portfolio"] == g["rationed"]["portfolio"] == {"smelter": 1.0}
    assert g["in_turn"]["portfolio"] == {"smelter": 1.0, "fab": 1.0}
    assert rep["coordinated"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert rep["difference"] == pytest.approx(1.0, abs=1e-9)


def test_two_owners_capacity_binds_the_joint_plan(two):
    """Variant D, beta's capacity 0.5 < one fab: coordinated = every fragmented plan = 1.0,
    while the joint optimum without owner capacities (relief solve) is 2.0."""
    rep = coordination(two, "owners.beta.capacity_usd_bn=0.5")
    assert rep["coordinated"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert [g["expected_relief"] for g in rep["regimes"]] == pytest.approx([1.0] * 4, abs=1e-9)
    assert rep["difference"] == pytest.approx(0.0, abs=1e-9)
    assert rep["without_owner_capacities"]["expected_relief"] == pytest.approx(2.0, abs=1e-9)
    assert run_case(two, OPTIONS).evaluation.expected_relief == pytest.approx(2.0)  # relief solve ignores owners


def test_an_owner_alone_spends_no_money_of_its_own_on_nothing(two):
    """A company alone commits the least capex (public and private) at its best relief: a
    lever with no public money that buys its sectors nothing stays out, where the
    second stage on public money alone was free to commit it (a tie)."""
    case = apply_overrides(two, ["levers.fab.public_share=0"])  # the fab costs beta 1 of its own money
    rep = coordination(case)
    owners = {o["owner"]: o for o in rep["owners"]}
    assert owners["beta"]["portfolio_alone"] == {} and owners["beta"]["capex_alone"] == 0.0
    alone = owner_alone(with_owner_capacities(case), "beta")
    assert alone.meta["second_stage"] == "capex"
    # the same case solved as relief solve does (public spending second): the fab is free there
    assert run_case(case, OPTIONS).evaluation.public_spend == pytest.approx(1.0)


def test_two_owners_turns_from_the_order_column(two):
    """Variant B with beta's turn first (owners.csv order): beta alone with the whole budget
    commits two fabs (semis 10 -> 1.0, public 2); alpha finds nothing left for its smelter.
    First come {fab: 2}, 1.0; in turn the same (beta sees nothing yet, alpha has no money)."""
    rep = coordination(two, "levers.fab.max_modules=2", "owners.beta.order=1", "owners.alpha.order=2")
    g = regimes(rep)
    assert g["first_come"]["order"] == ["beta", "alpha"] == g["in_turn"]["order"]
    assert g["first_come"]["portfolio"] == {"fab": 2.0} == g["in_turn"]["portfolio"]
    assert g["first_come"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert g["in_turn"]["expected_relief"] == pytest.approx(1.0, abs=1e-9)
    assert rep["difference"] == pytest.approx(1.0, abs=1e-9)


def test_two_owners_fragility_by_hand(two):
    """labellings.csv of examples/two-owners, one at a time:
    - alpha_cares_nothing: alpha's smelter buys alpha nothing, so alone (least capex) it builds
      nothing, nor does beta (one fab, semis 5): every fragmented plan is empty, 0.0, and
      coordination is worth 2.0 in every regime, in turn too (beta first sees nothing).
    - beta_public: beta, as the government, cares about cars too, but its fab adds nothing
      there: as given, 1.0 (in turn 0.0)."""
    rep = value_of_coordination(two, OPTIONS, labellings=True).report()
    rows = {r["labelling"]: r for r in rep["fragility"]}
    assert list(rows) == ["as given", "alpha_cares_nothing", "beta_public"]
    assert rows["alpha_cares_nothing"]["changes"] == "alpha cares about no sector"
    assert [rows["alpha_cares_nothing"][f"value_{g}"] for g in ("union", "first_come", "rationed", "in_turn")] == (
        pytest.approx([2.0] * 4, abs=1e-9)
    )
    for name in ("as given", "beta_public"):
        assert rows[name]["value"] == pytest.approx(1.0, abs=1e-9) and rows[name]["value_in_turn"] == pytest.approx(
            0.0, abs=1e-9
        )
    assert rows["beta_public"]["changes"] == "beta is government"
    assert rep["difference"] == rows["as given"]["value"]  # the labellings leave the case's own answer alone


def test_fragility_reuses_solves_without_changing_an_answer(two):
    """The fragility table re-solves only what a labelling changes (OwnerSolves): each row
    equals the analysis of the labelled case run on its own, from scratch."""
    from relief.model.analyses.labellings import apply_labelling

    case = apply_overrides(two, ["levers.fab.max_modules=2"])
    rows = {r["labelling"]: r for r in value_of_coordination(case, OPTIONS, labellings=True).report()["fragility"]}
    for name in ("alpha_cares_nothing", "beta_public"):
        alone = value_of_coordination(apply_labelling(case, name), OPTIONS).report()
        want = {g["regime"]: g["value_of_coordination"] for g in alone["regimes"]}
        assert [rows[name][f"value_{g}"] for g in want] == pytest.approx(list(want.values()), abs=1e-9), name
        assert rows[name]["value"] == pytest.approx(alone["difference"], abs=1e-9)


def test_fixed_commitments_hold_for_one_solve_only(two):
    """Session.solve(..., fixed=...) holds the levers at the plan for that solve; the next
    solve on the same session is free again (the engine's bounds are restored)."""
    from relief.model.core.session import Session

    session = Session(two, OPTIONS)
    held = session.solve(two, fixed=(("fab",), {}))
    assert held.evaluation.portfolio["fab"] == 0.0 and held.evaluation.expected_relief == pytest.approx(1.0)
    forced = session.solve(two, fixed=(("smelter",), {}))  # no smelter: the fab alone reaches nothing
    assert forced.evaluation.expected_relief == pytest.approx(0.0, abs=1e-9)
    free = session.solve(two)
    assert free.evaluation.portfolio == {"smelter": 1.0, "fab": 1.0}
    assert free.evaluation.expected_relief == pytest.approx(run_case(two, OPTIONS).evaluation.expected_relief)


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
def test_coordination_is_worth_at_least_zero_in_every_attainable_regime(generated, data):
    """The first-come, rationed and in-turn plans meet every shared limit (the independent
    checker, which knows nothing of owners, accepts them in the case as given) and every
    owner's capacity, so the joint optimum (gap 0) is at least as good: the value of
    coordination is >= 0 in each. A feasible union is bounded the same way."""
    meta, tables = generated
    levers = [r["lever"] for r in tables["levers"]]
    sectors = [r["sector"] for r in tables["sectors"]]
    owner_of = {l: data.draw(st.sampled_from(["a", "b", "c"])) for l in levers}
    cares = {o: data.draw(st.lists(st.sampled_from(sectors), unique=True)) for o in ("a", "b", "c")}
    capacity = {o: data.draw(st.sampled_from([None, 0.0, 1.0, 3.0])) for o in ("a", "b", "c")}
    case = with_owners(meta, tables, owner_of, cares, capacity)
    analysis = value_of_coordination(case, OPTIONS)
    rep = analysis.report()
    if rep["coordinated"]["status"] != "optimal":
        return
    c = rep["coordinated"]["expected_relief"]
    spec = SpecCase.from_tables(meta, tables)
    capex = {r["lever"]: r["capex_per_module"] for r in tables["levers"]}
    for g in rep["regimes"]:
        regime = analysis.regimes[g["regime"]]
        every_owner_planned = all(r.result is None or r.result.evaluation is not None for r in regime.runs)
        if g["attainable"] and every_owner_planned:
            assert g["feasible"], (g["regime"], g["violations"])
            checked = check_plan(spec, regime.plan)
            assert checked.feasible, (g["regime"], checked.violations)
            assert checked.expected_relief == pytest.approx(g["expected_relief"], rel=1e-6, abs=1e-9)
            for o, cap in capacity.items():
                used = sum(capex[l] * v for (l, _), v in regime.plan.items() if owner_of[l] == o)
                assert cap is None or used <= cap + 1e-6
        if g["feasible"]:
            assert g["expected_relief"] <= c + 1e-6 * max(1.0, abs(c)), g["regime"]
            assert g["value_of_coordination"] >= -1e-6 * max(1.0, abs(c)), g["regime"]
    assert rep["difference"] >= -1e-6 * max(1.0, abs(c))
    assert c <= rep["without_owner_capacities"]["expected_relief"] + 1e-6 * max(
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
    analysis = value_of_coordination(case, SolveOptions.resolve(case.meta))  # no labellings: a minute more
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
    """Stored values (HiGHS 1.16, gap 0; `relief coordination --json`). Alone, each company
    commits the least capex at its best relief, so Korea Zinc (whose smelter buys its own
    sector nothing alone, and costs it 6.6 of its own money) builds nothing: the union is
    66.5045, feasible, so first come and rationed give it too, and coordination is worth at
    least 5.0323 (7%). Deciding in turn (government first), each owner seeing the earlier
    commitments, the owners reach the joint optimum's relief 71.5368 by another plan (two fab
    phases and a cell plant, no smelter)."""
    analysis, rep = korea
    g = regimes(rep)
    assert rep["headline_regime"] == "first_come"
    assert rep["difference"] == pytest.approx(5.0323, abs=1e-3)
    for name in ("union", "first_come", "rationed"):
        assert g[name]["expected_relief"] == pytest.approx(66.5045, abs=1e-3) and g[name]["feasible"], name
        assert "korea_zinc_smelter" not in g[name]["portfolio"]
    assert g["in_turn"]["expected_relief"] == pytest.approx(71.5368, abs=1e-3)
    assert g["in_turn"]["order"][0] == "government" and g["in_turn"]["order"][-1] == "korea_zinc"
    owners = {o["owner"]: o for o in rep["owners"]}
    assert owners["korea_zinc"]["portfolio_alone"] == {} and owners["korea_zinc"]["own_relief_alone"] == 0.0
    tiers = [w for w in rep["why"] if w["mechanism"] == "joint_tier"]
    assert tiers and all("korea_zinc" in w["owners"].split(",") for w in tiers)
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
        "headline_regime",
        "regimes",
        "why",
        "fragility",
        "shares",
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
        "regimes.csv",
        "why.csv",
        "fragility.csv",
        "shares.csv",
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
    violations = pd.read_csv(out / "violations.csv")
    assert violations.values.tolist() == [["union", "public spending of 3 in 2026 exceeds the budget 2"]]
    assert list(pd.read_csv(out / "regimes.csv")["regime"]) == ["union", "first_come", "rationed", "in_turn"]
    owners = pd.read_csv(out / "owners.csv")
    assert list(owners["owner"]) == ["alpha", "beta"] and list(owners["levers"]) == ["smelter", "fab"]
    roadmap = pd.read_csv(out / "roadmap.csv")
    assert set(roadmap["plan"]) == {"coordinated", "union", "first_come", "in_turn"}  # rationed commits nothing


def test_cli_coordination_rich_view():
    r = relief("coordination", TWO)
    assert r.returncode == 0, r.stderr
    for words in ("Coordination is worth at least 1.00", "Relief by scenario", "Owners", "Plans side by side", "Why"):
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
