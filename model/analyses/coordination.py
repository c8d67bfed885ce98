"""Value of coordination (`relief coordination`): the joint optimum against each owner choosing alone.

`with_owner_capacities` turns each owner's investment capacity into a pool on capex;
`owner_alone` keeps one owner's levers and the relief of the sectors it cares about. Each owner
optimises alone, the union of their picks is evaluated in the full case, and compared with the
joint optimum. docs/analyses.md gives the definitions and how to read the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relief.model.analyses.common import (
    TOL,
    append_rows,
    change_tags,
    lever_line,
    plan_summary,
    probabilities,
    run_header,
    schedule_of,
    worst_status,
)
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.information import require_static
from relief.model.core.schema import GOVERNMENT
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation
    from relief.model.core.options import SolveOptions
    from relief.model.core.result import RunResult


# ----------------------------------------------------------------------------------
# Value of coordination
# ----------------------------------------------------------------------------------


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


def owner_alone(case: Case, owner: str) -> Case:
    """The case as one owner sees it alone: only its levers may be committed (for the others
    min_modules = max_modules = 0), and only the relief of the sectors it cares about counts
    (exports_usd_bn = 0 for the others, so V_srtk is the relief of its own sectors). Budgets,
    pools and relations are kept: alone, an owner sees the whole public budget. Obligations
    (obligations.csv) on its own levers are kept; those on other owners' levers are theirs."""
    owners = owners_of(case)
    if owner not in owners:
        raise ValueError(f"unknown owner '{owner}' (owners: {', '.join(owners)})")
    mine = set(owners[owner].levers)
    lv = case.table("levers").copy()
    others = ~lv["lever"].isin(mine)
    lv.loc[others, "min_modules"] = 0.0
    lv.loc[others, "max_modules"] = 0.0
    sec = case.table("sectors").copy()
    sec.loc[~sec["sector"].isin(set(owners[owner].sectors)), "exports_usd_bn"] = 0.0
    ob = case.table("obligations")
    ob = ob[ob["lever"].isin(mine)].reset_index(drop=True)  # an owner alone owes what is owed on its levers
    return case.replaced(levers=lv, sectors=sec, obligations=ob)


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


@dataclass
class CoordinationAnalysis:
    case: Case  # as given (what `relief solve` solves)
    with_capacities: Case  # the case plus the owners' capacity pools: coordinated and fragmented live here
    options: SolveOptions
    coordinated: RunResult
    unconstrained: RunResult  # relief solve's optimum: no owner capacities
    owners: list[OwnerRun]  # OwnerRun
    fragmented: Evaluation  # the union of the owners' plans, evaluated in `with_capacities`
    union: dict[tuple[str, int], float]  # {(lever, year): modules}
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()
    warnings: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst_status(
            [self.coordinated.status, self.unconstrained.status]
            + [o.result.status for o in self.owners if o.result is not None and o.result.status != "infeasible"]
        )

    def report(self) -> dict:
        """One JSON-able object: the plans compared, then the tidy tables (lists of records)."""
        out = {
            "analysis": "coordination",
            **run_header(self.case, self.options, self.force, self.exclude, self.overrides),
            "status": self.status,
            "assumptions": {
                "public_budget_alone": "whole: each owner alone sees every public budget and pool of the case",
                "owner_capacities": "pools on capex in the coordinated, fragmented and alone plans; "
                "not in relief solve",
                "sectors_alone": "a company counts only the relief of its sectors (owner_sectors.csv); "
                "the government counts all",
            },
        }
        out.update(self._plans_compared())
        out["owners"] = self._owner_rows()
        out["relief_by_scenario"] = self._scenario_rows()
        out["relief_by_sector"], out["relief_by_track"] = self._sector_and_track_rows()
        out["plans"], out["roadmap"] = self._plan_rows()
        out["spending"] = _spending_rows(self.coordinated.evaluation, self.fragmented)
        out["warnings"] = out["warnings"] + list(self.warnings)
        return out

    def _plans_compared(self) -> dict:
        """The coordinated and fragmented plans' summaries, relief solve's, and their difference."""
        ev_c, ev_f = self.coordinated.evaluation, self.fragmented
        frag = plan_summary(None, ev_f)
        frag.update(
            {
                "status": "feasible" if ev_f.feasible else "breaks joint limits",
                "feasible": ev_f.feasible,
                "violations": list(ev_f.violations),
                "schedule": schedule_of(self.union),
            }
        )
        un = self.unconstrained
        out = {
            "coordinated": plan_summary(self.coordinated),
            "fragmented": frag,
            "without_owner_capacities": {
                "status": un.status,
                "expected_relief": un.evaluation.expected_relief if un.evaluation else None,
            },
        }
        if ev_c is not None:
            out["difference"] = ev_c.expected_relief - ev_f.expected_relief
            out["difference_share"] = (
                out["difference"] / ev_c.expected_relief if abs(ev_c.expected_relief) > 1e-12 else None
            )
        else:
            out["difference"] = out["difference_share"] = None
        return out

    def _owner_rows(self) -> list[dict]:
        """Each owner alone against the coordinated plan: relief of its sectors, capex, public spending."""
        case, ev_c, ev_f = self.with_capacities, self.coordinated.evaluation, self.fragmented
        lv = case.table("levers")
        capex = dict(zip(lv["lever"], lv["capex_per_module"]))
        public = dict(zip(lv["lever"], lv["capex_per_module"] * lv["public_share"]))

        def spend(ev, levers, per):
            return None if ev is None else float(sum(per[l] * ev.portfolio.get(l, 0.0) for l in levers))

        rows = []
        for run in self.owners:
            o = run.owner
            ev_a = run.result.evaluation if run.result is not None else None
            rows.append(
                {
                    "owner": o.name,
                    "kind": o.kind,
                    "capacity_usd_bn": o.capacity,
                    "levers": list(o.levers),
                    "sectors": "all" if o.kind == "government" else list(o.sectors),
                    "status_alone": run.status,
                    "own_relief_alone": ev_a.expected_relief
                    if ev_a is not None
                    else (0.0 if run.result is None else None),
                    "own_relief_fragmented": sector_relief(ev_f, case, o.sectors),
                    "own_relief_coordinated": sector_relief(ev_c, case, o.sectors) if ev_c is not None else None,
                    "capex_alone": spend(ev_a, o.levers, capex) if run.result is not None else 0.0,
                    "capex_coordinated": spend(ev_c, o.levers, capex),
                    "public_spend_alone": spend(ev_a, o.levers, public) if run.result is not None else 0.0,
                    "public_spend_coordinated": spend(ev_c, o.levers, public),
                    "portfolio_alone": {l: v for l, v in (ev_a.portfolio.items() if ev_a is not None else ()) if v},
                    "conflicts": list(run.result.conflicts) if run.result is not None else [],
                }
            )
        return rows

    def _scenario_rows(self) -> list[dict]:
        ev_c, ev_f = self.coordinated.evaluation, self.fragmented
        rows = []
        for s, p in probabilities(self.with_capacities).items():
            c = ev_c.by_scenario[s] if ev_c is not None else None
            f = ev_f.by_scenario[s]
            rows.append(
                {
                    "scenario": s,
                    "probability": p,
                    "coordinated": c,
                    "fragmented": f,
                    "difference": None if c is None else c - f,
                }
            )
        return rows

    def _sector_and_track_rows(self) -> tuple[list[dict], list[dict]]:
        """Relief of each sector (and who cares about it), and of each track, in both plans."""
        case, ev_c, ev_f = self.with_capacities, self.coordinated.evaluation, self.fragmented
        cared: dict = {}
        for o in owners_of(case).values():
            for s in o.sectors:
                cared.setdefault(s, []).append(o.name)
        track_of = dict(zip(case.table("sectors")["sector"], case.table("sectors")["track"]))
        sectors, tracks = [], {}
        for s, r in track_of.items():
            c = sector_relief(ev_c, case, [s]) if ev_c is not None else None
            f = sector_relief(ev_f, case, [s])
            sectors.append(
                {
                    "sector": s,
                    "track": r,
                    "cared_by": ",".join(cared.get(s, [])),
                    "coordinated": c,
                    "fragmented": f,
                    "difference": None if c is None else c - f,
                }
            )
            t = tracks.setdefault(r, {"track": r, "coordinated": 0.0 if c is not None else None, "fragmented": 0.0})
            if c is not None:
                t["coordinated"] += c
            t["fragmented"] += f
        for t in tracks.values():
            t["difference"] = None if t["coordinated"] is None else t["coordinated"] - t["fragmented"]
        return sectors, list(tracks.values())

    def _plan_rows(self) -> tuple[list[dict], list[dict]]:
        """Each lever in both plans (with what changed), and both roadmaps year by year."""
        case, ev_c = self.with_capacities, self.coordinated.evaluation
        owner_of = dict(zip(case.table("levers")["lever"], case.table("levers")["owner"]))
        frag_lines = _union_lines(self.union, case)
        plans = []
        for l in case.levers:
            c = lever_line(ev_c, l, case)
            f = frag_lines[l]
            plans.append(
                {
                    "lever": l,
                    "owner": owner_of[l],
                    "coordinated_modules": c["modules"],
                    "coordinated_first_year": c["first_year"],
                    "fragmented_modules": f["modules"],
                    "fragmented_first_year": f["first_year"],
                    "change": change_tags(c, f),
                }
            )
        roadmap = []
        if ev_c is not None:
            roadmap += [
                {"plan": "coordinated", "lever": l, "owner": owner_of[l], "year": t, "committed": v}
                for (l, t), v in sorted(ev_c.plan.items())
            ]
        roadmap += [
            {"plan": "fragmented", "lever": l, "owner": owner_of[l], "year": t, "committed": v}
            for (l, t), v in sorted(self.union.items())
        ]
        return plans, roadmap


def _spending_rows(ev_c: Evaluation | None, ev_f: Evaluation) -> list[dict]:
    """Public spending of each year in both plans, against the year's budget."""
    spending = []
    sc = {int(r.year): r for r in ev_c.spending.itertuples()} if ev_c is not None else {}
    for r in ev_f.spending.itertuples():
        b = None if r.budget is None or r.budget != r.budget else float(r.budget)
        c = float(sc[int(r.year)].public_spend) if int(r.year) in sc else (0.0 if ev_c is not None else None)
        spending.append(
            {
                "year": int(r.year),
                "budget": b,
                "coordinated": c,
                "fragmented": float(r.public_spend),
                "fragmented_over_budget": b is not None and float(r.public_spend) > b + TOL * max(1.0, b),
            }
        )
    for y, r in sc.items():
        if y not in {x["year"] for x in spending}:
            spending.append(
                {
                    "year": y,
                    "budget": None,
                    "coordinated": float(r.public_spend),
                    "fragmented": 0.0,
                    "fragmented_over_budget": False,
                }
            )
    return sorted(spending, key=lambda x: x["year"])


def _union_lines(union: dict, case: Case) -> dict:
    out = {}
    for l in case.levers:
        years = [t for (m, t) in union if m == l]
        out[l] = {
            "modules": float(sum(v for (m, t), v in union.items() if m == l)),
            "first_year": min(years) if years else None,
            "last_year": max(years) if years else None,
        }
    return out


def value_of_coordination(
    case: Case, options: SolveOptions, force=(), exclude=(), overrides=()
) -> CoordinationAnalysis:
    """Coordinated: the joint optimum of the case with the owners' capacities as pools.
    Fragmented: each owner alone (`owner_alone`) picks its levers; the union of the picks
    is evaluated in the same case with `evaluate_plan`, joint limits and all."""
    require_static(case, "relief coordination")
    check_levers(case, force, exclude)
    full = with_owner_capacities(case)
    # one session for the case with the owners' capacities: each owner alone changes only
    # its numbers; the case without the capacity pools gets its own model from the session
    session = Session(full, options, force, exclude)
    coordinated = session.solve(full, overrides)
    unconstrained = session.solve(case, overrides)
    runs, union, warnings = [], {}, []
    for o in owners_of(full).values():
        if not o.levers:
            runs.append(OwnerRun(o, None, None))
            continue
        alone = owner_alone(full, o.name)
        res = session.solve(alone, overrides, force=tuple(l for l in force if l in o.levers))
        run = OwnerRun(o, alone, res)
        if res.evaluation is not None:
            plan = res.evaluation.plan
            union.update(plan)
            run.own_relief_check = sector_relief(evaluate_plan(full, plan), full, o.sectors)
            if abs(run.own_relief_check - res.evaluation.expected_relief) > TOL * max(1.0, abs(run.own_relief_check)):
                warnings.append(
                    f"{o.name}: relief of its sectors alone {res.evaluation.expected_relief:.6g} differs from "
                    f"the same plan's relief of those sectors in the full case {run.own_relief_check:.6g} "
                    "(a ladder whose higher tier does not lower every sector's rate)"
                )
        runs.append(run)
    fragmented = evaluate_plan(full, union, force=force, exclude=exclude)
    return CoordinationAnalysis(
        case,
        full,
        options,
        coordinated,
        unconstrained,
        runs,
        fragmented,
        union,
        tuple(force),
        tuple(exclude),
        tuple(overrides),
        warnings,
    )
