"""The owners' labels (relief.model.analyses.labellings): owners.csv's `order`, labellings.csv read
and applied as pure case transformations; known answers on examples/two-owners (its README,
Labellings), the default case's labellings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from relief.model.analyses.coordination import owners_of
from relief.model.analyses.labellings import apply_labelling, labellings_of, owner_order
from relief.model.core.case import Case, load_case
from relief.model.core.overrides import apply_overrides

ROOT = Path(__file__).resolve().parents[1]
TWO = ROOT / "examples" / "two-owners"
KOREA = ROOT / "inputs" / "korea-2026"


@pytest.fixture(scope="module")
def two() -> Case:
    return load_case(TWO)


def owners_table(case: Case) -> set[tuple]:
    return set(zip(case.table("owners")["owner"], case.table("owners")["kind"]))


def cares(case: Case) -> set[tuple]:
    return set(zip(case.table("owner_sectors")["owner"], case.table("owner_sectors")["sector"]))


def with_labellings(case: Case, *rows: tuple) -> Case:
    """The case with labellings.csv replaced by `rows` of (labelling, owner, kind, sectors)."""
    df = pd.DataFrame(rows, columns=["labelling", "owner", "kind", "sectors"]).assign(
        _row=lambda d: range(2, 2 + len(d))
    )
    return case.replaced(labellings=df)


# ----------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------


def test_labellings_of_two_owners(two):
    got = labellings_of(two)
    assert list(got) == ["alpha_cares_nothing", "beta_public"]
    ((a,), (b,)) = got.values()
    assert (a["owner"], a["kind"], a["sectors"], a["row"]) == ("alpha", None, (), 2)
    assert (b["owner"], b["kind"], b["sectors"], b["row"]) == ("beta", "government", None, 3)
    assert "assumption" in a["notes"] and "assumption" in b["notes"]


def test_a_labelling_is_its_rows_in_file_order(two):
    case = with_labellings(two, ("x", "beta", "", "none"), ("y", "alpha", "government", ""), ("x", "alpha", "", "cars"))
    got = labellings_of(case)
    assert list(got) == ["x", "y"]
    assert [(r["owner"], r["sectors"]) for r in got["x"]] == [("beta", ()), ("alpha", ("cars",))]


def test_sectors_cells(two):
    case = with_labellings(two, ("x", "alpha", "", " cars ;cars; "), ("x", "beta", "company", ";"))
    assert [r["sectors"] for r in labellings_of(case)["x"]] == [("cars",), None]


def test_no_labellings_file_means_none(two):
    assert labellings_of(load_case(ROOT / "examples" / "tiny")) == {}


def test_owner_order(two):
    assert owner_order(two) == {"alpha": None, "beta": None}
    turns = apply_overrides(two, ["owners.beta.order=1", "owners.alpha.order=2"])
    assert owner_order(turns) == {"alpha": 2, "beta": 1}


def test_owner_order_of_an_owner_without_a_row(two):
    gov = apply_overrides(two, ["levers.fab.owner=government", "owners.alpha.order=3"])
    assert owner_order(gov) == {"alpha": 3, "beta": None, "government": None}  # the government has no row


# ----------------------------------------------------------------------------------
# applying: known answers on examples/two-owners
# ----------------------------------------------------------------------------------


def test_alpha_cares_nothing(two):
    case = apply_labelling(two, "alpha_cares_nothing")
    assert owners_table(case) == {("alpha", "company"), ("beta", "company")}
    assert cares(case) == {("beta", "chip_exports")}
    assert owners_of(case)["alpha"].sectors == ()
    assert cares(two) == {("alpha", "cars"), ("beta", "chip_exports")}  # pure: the case itself is unchanged


def test_alpha_cares_chips(two):
    case = apply_labelling(with_labellings(two, ("wide", "alpha", "", "cars;chip_exports")), "wide")
    assert owners_table(case) == {("alpha", "company"), ("beta", "company")}
    assert cares(case) == {("alpha", "cars"), ("alpha", "chip_exports"), ("beta", "chip_exports")}
    assert owners_of(case)["alpha"].sectors == ("cars", "chip_exports")


def test_beta_public(two):
    case = apply_labelling(two, "beta_public")
    assert owners_table(case) == {("alpha", "company"), ("beta", "government")}
    assert cares(case) == {("alpha", "cars")}  # the government cares about all: no rows of its own
    beta = owners_of(case)["beta"]
    assert (beta.kind, beta.sectors, beta.levers) == ("government", ("cars", "chip_exports"), ("fab",))
    assert owners_of(two)["beta"].kind == "company"
    assert not case.warnings


def test_restating_the_labels_changes_nothing(two):
    case = with_labellings(two, ("same", "alpha", "company", "cars"), ("same", "beta", "", "chip_exports"))
    after = apply_labelling(case, "same")
    assert owners_table(after) == owners_table(two)
    assert cares(after) == cares(two)
    assert owners_of(after) == owners_of(two)


def test_the_government_without_a_row_gets_one(two):
    gov = apply_overrides(two, ["levers.fab.owner=government"])
    case = apply_labelling(with_labellings(gov, ("x", "government", "government", "")), "x")
    assert owners_table(case) == {("alpha", "company"), ("beta", "company"), ("government", "government")}
    assert owners_of(case) == owners_of(gov)


def test_a_government_owner_made_a_company_cares_about_what_the_labelling_says(two):
    public = apply_labelling(two, "beta_public")
    back = apply_labelling(with_labellings(public, ("x", "beta", "company", "chip_exports")), "x")
    assert owners_of(back) == owners_of(two)
    bare = apply_labelling(with_labellings(public, ("x", "beta", "company", "")), "x")
    assert owners_of(bare)["beta"].sectors == ()  # it had no rows as the government


def test_unknown_labelling_is_named(two):
    with pytest.raises(ValueError, match="unknown labelling 'nope'.*alpha_cares_nothing, beta_public"):
        apply_labelling(two, "nope")


# ----------------------------------------------------------------------------------
# the default case
# ----------------------------------------------------------------------------------


def test_default_case_labellings():
    korea = load_case(KOREA)
    got = labellings_of(korea)
    assert "kogas_public" in got and 3 <= len(got) <= 5
    before = owners_of(korea)
    for name, rows in got.items():
        assert all(r["source"] and "assumption" in r["notes"] for r in rows), name
        after = owners_of(apply_labelling(korea, name))
        changed = {o for o in before if (before[o].kind, before[o].sectors) != (after[o].kind, after[o].sectors)}
        assert changed == {r["owner"] for r in rows}, name  # each labelling changes what it says, and only that
    kogas = owners_of(apply_labelling(korea, "kogas_public"))["kogas"]
    assert kogas.kind == "government" and kogas.sectors == tuple(korea.table("sectors")["sector"])
    # the same case as the README's --set owners.kogas.kind=government
    assert owners_of(apply_overrides(korea, ["owners.kogas.kind=government"])) == owners_of(
        apply_labelling(korea, "kogas_public")
    )
