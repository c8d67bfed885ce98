"""The owners' labels as the case states them and as it doubts them (`relief coordination`).

`owner_order` reads owners.csv's `order` (the turns of "first come, first served").
`labellings_of` reads labellings.csv: plausible alternative labellings of owners (which owners
are public, what each cares about), each a name for rows applied together. `apply_labelling`
is the case under one of them: a pure case transformation, as `coordination.owner_alone` is.
This module reads only the case's tables; it does not import coordination.py (which uses it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relief.model.analyses.common import append_rows
from relief.model.core.coerce import blank
from relief.model.core.frames import records
from relief.model.core.rules import labelling_sectors
from relief.model.core.schema import GOVERNMENT

if TYPE_CHECKING:
    from relief.model.core.case import Case


def _owner_names(case: Case) -> list[str]:
    """Every owner named in owners.csv or levers.csv, in that order (as coordination.owners_of)."""
    return list(dict.fromkeys(list(case.table("owners")["owner"]) + list(case.table("levers")["owner"])))


def owner_order(case: Case) -> dict[str, int | None]:
    """Each owner's turn (owners.csv `order`); None when blank or when the owner has no row.
    Validation has made sure that no two owners share a turn."""
    owners = case.table("owners")
    given = {}
    if "order" in owners:
        given = {r["owner"]: None if blank(r["order"]) else int(r["order"]) for r in records(owners)}
    return {o: given.get(o) for o in _owner_names(case)}


def labellings_of(case: Case) -> dict[str, list[dict]]:
    """labellings.csv by labelling: name -> its rows in file order, each {owner, kind, sectors,
    source, notes, row}: kind None when unchanged; sectors None when unchanged, else the tuple of
    sectors (() for `none`)."""
    out: dict[str, list[dict]] = {}
    for r in records(case.table("labellings")):
        out.setdefault(r["labelling"], []).append(
            {
                "owner": r["owner"],
                "kind": None if blank(r["kind"]) else r["kind"],
                "sectors": labelling_sectors(r["sectors"]),
                "source": None if blank(r.get("source")) else r.get("source"),
                "notes": None if blank(r.get("notes")) else r.get("notes"),
                "row": r.get("_row"),
            }
        )
    return out


def apply_labelling(case: Case, name: str) -> Case:
    """The case under labelling `name`: each of its owners gets the kind it gives (owners.csv;
    an owner without a row gets one, with no capacity and no turn) and, when it gives sectors,
    exactly those sectors (owner_sectors.csv). An owner that is of kind government under the
    labelling has no owner_sectors rows: the government cares about every sector. An owner
    that becomes a company without sectors given keeps the rows it has (a former government
    owner has none: it then cares about no sector)."""
    labellings = labellings_of(case)
    if name not in labellings:
        known = ", ".join(labellings) or "none: labellings.csv has no rows"
        raise ValueError(f"unknown labelling '{name}' (labellings.csv gives: {known})")
    owners = case.table("owners").copy()
    cares = case.table("owner_sectors")
    kind_of = {GOVERNMENT: "government"} | dict(zip(owners["owner"], owners["kind"]))
    new_owners, new_cares, dropped = [], [], set()
    for r in labellings[name]:
        o = r["owner"]
        kind = r["kind"] or kind_of.get(o, "company")
        if r["kind"] is not None:
            if o in set(owners["owner"]):
                owners.loc[owners["owner"] == o, "kind"] = kind
            else:
                new_owners.append({"owner": o, "kind": kind, "notes": f"added by labelling {name}"})
        if kind == "government" or r["sectors"] is not None:
            dropped.add(o)
        if kind != "government" and r["sectors"]:
            new_cares += [{"owner": o, "sector": s, "notes": f"labelling {name}"} for s in r["sectors"]]
    kept = cares[~cares["owner"].isin(dropped)].reset_index(drop=True)
    return case.replaced(
        owners=append_rows(owners, new_owners),
        owner_sectors=append_rows(kept, new_cares),
    )
