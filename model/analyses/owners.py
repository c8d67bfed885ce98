"""Who owns the levers, and the case as one owner sees it (value of coordination).

`owners_of` reads owners.csv, levers.csv's owner column and owner_sectors.csv;
`with_owner_capacities` turns each owner's investment capacity into a pool on capex;
`owner_alone` keeps one owner's levers and the relief of the sectors it cares about.
model/analyses/fragmented.py builds the fragmented plans from these, and
model/analyses/coordination.py compares them with the joint optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.analyses.common import append_rows, probabilities
from relief.model.core.schema import GOVERNMENT

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation
    from relief.model.core.result import RunResult


@dataclass(frozen=True)
class Owner:
    name: str
    kind: str  # company | government
    capacity: float | None  # capex it can fund over the horizon, USD bn; None: no limit of its own
    levers: tuple
    sectors: tuple[str, ...]  # the sectors whose relief it cares about (every sector for the government)


def owners_of(case: Case) -> dict:
    """Every owner named in owners.csv or levers.csv (the government exists without a row)."""
    table = case.table("owners")
    lv = case.table("levers")
    all_sectors = tuple(case.table("sectors")["sector"])
    cares: dict = {}
    for o, s in zip(case.table("owner_sectors")["owner"], case.table("owner_sectors")["sector"]):
        cares.setdefault(o, []).append(s)
    rows = {r["owner"]: r for r in table.to_dict("records")}
    names = list(dict.fromkeys(list(table["owner"]) + list(lv["owner"])))
    out = {}
    for o in names:
        r = rows.get(o)
        kind = r["kind"] if r is not None else ("government" if o == GOVERNMENT else "company")
        cap = r["capacity_usd_bn"] if r is not None else None
        cap = None if cap is None or (isinstance(cap, float) and math.isnan(cap)) else float(cap)
        levers = tuple(l for l, w in zip(lv["lever"], lv["owner"]) if w == o)
        sectors = all_sectors if kind == "government" else tuple(s for s in all_sectors if s in set(cares.get(o, ())))
        out[o] = Owner(o, kind, cap, levers, sectors)
    return out


def capacity_pool(case: Case, owner: str) -> str:
    """The name of the pool holding an owner's capacity (unique among the case's pools)."""
    taken = set(case.table("pools")["pool"])
    name, i = f"capacity_{owner}", 2
    while name in taken:
        name, i = f"capacity_{owner}_{i}", i + 1
    return name


def with_owner_capacities(case: Case) -> Case:
    """Each owner's capacity as a pool on capex:  sum_{l of o, t} capex_per_module_l x_lt <= capacity_o.

    Owners without a capacity (blank) or without levers add nothing."""
    capex = dict(zip(case.table("levers")["lever"], case.table("levers")["capex_per_module"]))
    pools, uses = [], []
    for o in owners_of(case).values():
        if o.capacity is None or not o.levers:
            continue
        q = capacity_pool(case, o.name)
        pools.append({"pool": q, "limit": o.capacity, "notes": f"capacity of {o.name} (added by relief coordination)"})
        uses += [
            {"lever": l, "pool": q, "use_per_module": float(capex[l]), "notes": "capex_per_module"} for l in o.levers
        ]
    if not pools:
        return case
    return case.replaced(
        pools=append_rows(case.table("pools"), pools), lever_pools=append_rows(case.table("lever_pools"), uses)
    )


def owner_alone(case: Case, owner: str, also=()) -> Case:
    """The case as one owner sees it alone: only its levers may be committed (for the others
    min_modules = max_modules = 0), and only the relief of the sectors it cares about counts
    (exports_usd_bn = 0 for the others, so V_srtk is the relief of its own sectors). Budgets,
    pools and relations are kept: alone, an owner sees the whole public budget. At the best
    relief of its sectors, it commits the least discounted capex (second_stage: capex), public
    and private: a company spends none of its own money on what buys it nothing. Obligations
    (obligations.csv) on its own levers are kept; those on other owners' levers are theirs.

    `also`: levers of owners who decided earlier (the first-come regime); they keep their
    limits, so that the solve can hold them at what those owners committed
    (`Session.solve(..., fixed=...)`), and their obligations stay theirs."""
    owners = owners_of(case)
    if owner not in owners:
        raise ValueError(f"unknown owner '{owner}' (owners: {', '.join(owners)})")
    mine = set(owners[owner].levers)
    lv = case.table("levers").copy()
    others = ~lv["lever"].isin(mine | set(also))
    lv.loc[others, "min_modules"] = 0.0
    lv.loc[others, "max_modules"] = 0.0
    sec = case.table("sectors").copy()
    sec.loc[~sec["sector"].isin(set(owners[owner].sectors)), "exports_usd_bn"] = 0.0
    ob = case.table("obligations")
    ob = ob[ob["lever"].isin(mine)].reset_index(drop=True)  # an owner alone owes what is owed on its levers
    meta = {**case.meta, "second_stage": "capex"}  # alone, an owner spends no money of its own for nothing
    return case.replaced(meta=meta, levers=lv, sectors=sec, obligations=ob)


def sector_relief(ev: Evaluation, case: Case, sectors) -> float:
    """Expected discounted relief of some sectors: sum_s p_s sum_{j in sectors, t} relief."""
    prob = probabilities(case)
    rel = ev.relief[ev.relief["sector"].isin(set(sectors))]
    return float(sum(prob[str(s)] * v for s, v in zip(rel["scenario"], rel["discounted_relief"])))


@dataclass
class OwnerRun:
    owner: Owner
    case: Case | None  # None when the owner has no lever to commit
    result: RunResult | None
    own_relief_check: float | None = None  # its plan's relief of its sectors, evaluated in the full case

    @property
    def status(self) -> str:
        return "no levers" if self.result is None else self.result.status
