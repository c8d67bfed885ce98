"""Analyses that ask one question of a case: transform the case, solve it again, compare.

Each analysis is a pure case transformation (Case -> Case) followed by the one solve path
(`run_case`) and the independent evaluator (`evaluate_plan`); none builds or changes the
model. docs/analyses.md gives the definitions, the assumptions and how to read the output.

- Cost of delay (`relief delay`): `delay_case` moves every lever's earliest year to at
  least first_year + d; the optimum of that case against acting now.
- Value of coordination (`relief coordination`): `with_owner_capacities` turns each
  owner's investment capacity into a pool on capex; `owner_alone` keeps one owner's levers
  and the relief of the sectors it cares about. Each owner optimises alone, the union of
  their picks is evaluated in the full case, and compared with the joint optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .build import MIN_DIVISIBLE
from .case import Case
from .evaluate import Evaluation, evaluate_plan
from .run import RunResult, run_case
from .schema import GOVERNMENT
from .solve import SolveOptions, solver_info

TOL = 1e-6


# ----------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------


def _append_rows(df: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return df
    start = int(df["_row"].max()) + 1 if "_row" in df.columns and len(df) else 2
    new = pd.DataFrame([{**r, "_row": start + i} for i, r in enumerate(rows)])
    return pd.concat([df, new], ignore_index=True) if len(df) else new


def _schedule(plan: dict) -> dict:
    out: dict = {}
    for (l, t), v in sorted(plan.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out.setdefault(l, {})[t] = v
    return out


def _plan_summary(result: RunResult | None, ev: Evaluation | None = None) -> dict:
    """What a planner reads of one plan: status, relief, spending, modules by lever and year."""
    ev = ev if ev is not None else (result.evaluation if result is not None else None)
    out = {"status": result.status if result is not None else "evaluated"}
    if ev is None:
        out.update({"expected_relief": None, "public_spend": None, "total_spend": None, "by_scenario": {},
                    "portfolio": {}, "schedule": {}})
        if result is not None and result.conflicts:
            out["conflicts"] = list(result.conflicts)
        return out
    plan = ev.plan if result is not None else None
    out.update({
        "expected_relief": ev.expected_relief,
        "public_spend": ev.public_spend,
        "total_spend": ev.total_spend,
        "by_scenario": dict(ev.by_scenario),
        "portfolio": {l: v for l, v in ev.portfolio.items() if v},
        "schedule": _schedule(plan) if plan is not None else {},
    })
    if result is not None:
        out["mip_gap"] = result.outcome.mip_gap
    return out


def relief_cells(ev: Evaluation) -> dict:
    """(scenario, track) -> discounted relief over the horizon (if that scenario comes true)."""
    g = ev.relief.groupby(["scenario", "track"], sort=False)["discounted_relief"].sum()
    return {(str(s), str(r)): float(v) for (s, r), v in g.items()}


def _probabilities(case: Case) -> dict:
    sc = case.table("scenarios")
    return {str(s): float(p) for s, p in zip(sc["scenario"], sc["probability"])}


def _lever_line(ev: Evaluation | None, lever: str, case: Case) -> dict:
    """Modules of a lever in a plan and the first and last year it is committed."""
    if ev is None:
        return {"modules": None, "first_year": None, "last_year": None}
    years = [t for (l, t), v in ev.plan.items() if l == lever]
    return {"modules": float(ev.portfolio.get(lever, 0.0)), "first_year": min(years) if years else None,
            "last_year": max(years) if years else None}


def change_tags(ref: dict, cur: dict) -> str:
    """How a lever's line differs from the reference: added, dropped, later, earlier, resized."""
    if ref["modules"] is None or cur["modules"] is None:
        return ""
    on_ref, on_cur = ref["modules"] > TOL, cur["modules"] > TOL
    if on_cur and not on_ref:
        return "added"
    if on_ref and not on_cur:
        return "dropped"
    if not on_ref:
        return ""
    tags = []
    if cur["first_year"] > ref["first_year"]:
        tags.append("later")
    elif cur["first_year"] < ref["first_year"]:
        tags.append("earlier")
    if abs(cur["modules"] - ref["modules"]) > TOL * max(1.0, ref["modules"]):
        tags.append("resized")
    return ",".join(tags)


def _header(case: Case, options: SolveOptions, force, exclude, overrides) -> dict:
    return {
        "case": case.name,
        "case_path": case.origin,
        "input_sha256": case.sha256(),
        "solver": solver_info(),
        "overrides": [str(o) for o in overrides],
        "force": list(force),
        "exclude": list(exclude),
        "options": {"time_limit": options.time_limit, "mip_gap": options.mip_gap, "threads": options.threads, "seed": options.seed},
        "warnings": [str(w) for w in case.warnings],
    }


def _worst(statuses) -> str:
    statuses = list(statuses)
    for s in ("error", "no_solution", "infeasible", "unbounded", "time_limit"):
        if s in statuses:
            return s
    others = [s for s in statuses if s != "optimal"]
    return others[0] if others else "optimal"


# ----------------------------------------------------------------------------------
# Cost of delay
# ----------------------------------------------------------------------------------


def delay_case(case: Case, years: int) -> Case:
    """No commitment before first_year + years: earliest_year_l = max(earliest_year_l, first_year + years).

    Budgets, the horizon and everything else stay as they are, so the relief of the first
    years is what the delay loses."""
    if years < 0:
        raise ValueError(f"a delay is a number of years >= 0, not {years}")
    lv = case.table("levers").copy()
    lv["earliest_year"] = lv["earliest_year"].clip(lower=case.meta["first_year"] + years).astype("int64")
    return case.replaced(levers=lv)


def levers_out_of_reach(case: Case, force=()) -> list[dict]:
    """Levers that cannot reach their smallest size between their earliest year and last_year.

    smallest = max(min_modules, 1) for whole-module or forced levers, max(min_modules, 0.001)
    for divisible ones (the build's reading of 'used'); reachable = min(max_modules,
    max_modules_per_year x years left). Such a lever cannot be in any plan; if it is forced,
    the case is infeasible."""
    out = []
    last = case.meta["last_year"]
    for r in case.table("levers").to_dict("records"):
        forced = r["lever"] in force
        left = max(0, last - int(r["earliest_year"]) + 1)
        smallest = max(float(r["min_modules"]), 1.0 if (r["integer"] or forced) else MIN_DIVISIBLE)
        reach = min(float(r["max_modules"]), float(r["max_modules_per_year"]) * left)
        if reach >= smallest - TOL:
            continue
        if left == 0:
            why = f"its earliest year {int(r['earliest_year'])} is after the horizon (last year {last})"
        else:
            why = (f"{left} year(s) left from {int(r['earliest_year'])} at most {r['max_modules_per_year']:g} a year "
                   f"reach {reach:g} modules, below its smallest size {smallest:g}")
        out.append({"lever": r["lever"], "earliest_year": int(r["earliest_year"]), "years_left": left,
                    "reachable": reach, "smallest": smallest, "forced": forced,
                    "reason": why + ("; it is forced, so the request is infeasible" if forced else "; it drops out of every plan")})
    return out


@dataclass
class DelayRun:
    years: int
    case: Case
    result: RunResult
    out_of_reach: list  # levers the delay puts out of reach (not those already out of reach now)

    @property
    def start_year(self) -> int:
        return self.case.meta["first_year"] + self.years


@dataclass
class DelayAnalysis:
    case: Case
    options: SolveOptions
    now: RunResult
    delays: list  # DelayRun, in the order asked
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()

    @property
    def status(self) -> str:
        return _worst([self.now.status] + [d.result.status for d in self.delays])

    def report(self) -> dict:
        """One JSON-able object: the summary of each plan and the tidy tables (lists of records)."""
        case, now = self.case, self.now
        ev0 = now.evaluation
        prob = _probabilities(case)
        cells0 = relief_cells(ev0) if ev0 is not None else {}
        out = {"analysis": "delay", **_header(case, self.options, self.force, self.exclude, self.overrides),
               "status": self.status, "first_year": case.meta["first_year"], "now": _plan_summary(now)}
        delays, lost_rows, plan_rows, roadmap_rows, spend_rows, reach_rows = [], [], [], [], [], []
        levers = case.levers
        lines0 = {l: _lever_line(ev0, l, case) for l in levers}
        for l in levers:
            plan_rows.append({"delay_years": 0, "start_year": case.meta["first_year"], "lever": l, **lines0[l], "change": ""})
        self._roadmap_rows(roadmap_rows, spend_rows, 0, now)
        for d in self.delays:
            ev = d.result.evaluation
            entry = {"delay_years": d.years, "start_year": d.start_year, **_plan_summary(d.result), "out_of_reach": d.out_of_reach}
            if ev is not None and ev0 is not None:
                cells = relief_cells(ev)
                lost = ev0.expected_relief - ev.expected_relief
                entry["relief_lost"] = lost
                entry["share_lost"] = lost / ev0.expected_relief if abs(ev0.expected_relief) > 1e-12 else None
                entry["lost_by_scenario"] = {s: ev0.by_scenario[s] - ev.by_scenario[s] for s in ev0.by_scenario}
                by_track: dict = {}
                for (s, r) in cells0.keys() | cells.keys():
                    a, b = cells0.get((s, r), 0.0), cells.get((s, r), 0.0)
                    by_track[r] = by_track.get(r, 0.0) + prob[s] * (a - b)
                    lost_rows.append({"delay_years": d.years, "scenario": s, "track": r, "probability": prob[s],
                                      "relief_now": a, "relief_delayed": b, "relief_lost": a - b, "expected_lost": prob[s] * (a - b)})
                entry["lost_by_track"] = {r: by_track[r] for r in case.tracks if r in by_track}
            else:
                entry.update({"relief_lost": None, "share_lost": None, "lost_by_scenario": {}, "lost_by_track": {}})
            changes = {"later": [], "dropped": [], "added": [], "resized": [], "earlier": []}
            for l in levers:
                line = _lever_line(ev, l, d.case)
                tags = change_tags(lines0[l], line)
                for t in tags.split(","):
                    if t:
                        changes[t].append(l)
                plan_rows.append({"delay_years": d.years, "start_year": d.start_year, "lever": l, **line, "change": tags})
            entry["changes"] = changes
            for r in d.out_of_reach:
                reach_rows.append({"delay_years": d.years, **r})
            self._roadmap_rows(roadmap_rows, spend_rows, d.years, d.result)
            delays.append(entry)
        lost_rows.sort(key=lambda x: (x["delay_years"], -abs(x["expected_lost"]), x["scenario"], x["track"]))
        out.update({"delays": delays, "relief_lost": lost_rows, "plans": plan_rows, "roadmap": roadmap_rows,
                    "spending": spend_rows, "out_of_reach": reach_rows})
        return out

    @staticmethod
    def _roadmap_rows(roadmap_rows, spend_rows, years, result):
        ev = result.evaluation
        if ev is None:
            return
        for (l, t), v in sorted(ev.plan.items()):
            roadmap_rows.append({"delay_years": years, "lever": l, "year": t, "committed": v})
        for r in ev.spending.itertuples():
            spend_rows.append({"delay_years": years, "year": int(r.year), "public_spend": float(r.public_spend),
                               "budget": None if r.budget is None or r.budget != r.budget else float(r.budget)})


def cost_of_delay(case: Case, options: SolveOptions, delays=(1, 2), force=(), exclude=(), overrides=()) -> DelayAnalysis:
    """Solve the case as it is (acting now) and once per delay d in `delays` (delay_case)."""
    delays = list(dict.fromkeys(int(d) for d in delays))
    if not delays or min(delays) < 1:
        raise ValueError("delays are whole numbers of years >= 1, e.g. 1,2")
    now = run_case(case, options, force=force, exclude=exclude, overrides=overrides)
    blocked_now = {r["lever"] for r in levers_out_of_reach(case, force)}
    runs = []
    for d in delays:
        late = delay_case(case, d)
        reach = [r for r in levers_out_of_reach(late, force) if r["lever"] not in blocked_now]
        runs.append(DelayRun(d, late, run_case(late, options, force=force, exclude=exclude, overrides=overrides), reach))
    return DelayAnalysis(case, options, now, runs, tuple(force), tuple(exclude), tuple(overrides))


# ----------------------------------------------------------------------------------
# Value of coordination
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    name: str
    kind: str  # company | government
    capacity: float | None  # capex it can fund over the horizon, USD bn; None: no limit of its own
    levers: tuple
    sectors: tuple  # the sectors whose relief it cares about (every sector for the government)


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
        uses += [{"lever": l, "pool": q, "use_per_module": float(capex[l]), "notes": "capex_per_module"} for l in o.levers]
    if not pools:
        return case
    return case.replaced(pools=_append_rows(case.table("pools"), pools),
                        lever_pools=_append_rows(case.table("lever_pools"), uses))


def owner_alone(case: Case, owner: str) -> Case:
    """The case as one owner sees it alone: only its levers may be committed (for the others
    min_modules = max_modules = 0), and only the relief of the sectors it cares about counts
    (exports_usd_bn = 0 for the others, so V_srtk is the relief of its own sectors). Budgets,
    pools and relations are kept: alone, an owner sees the whole public budget."""
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
    return case.replaced(levers=lv, sectors=sec)


def sector_relief(ev: Evaluation, case: Case, sectors) -> float:
    """Expected discounted relief of some sectors: sum_s p_s sum_{j in sectors, t} relief."""
    prob = _probabilities(case)
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
    owners: list  # OwnerRun
    fragmented: Evaluation  # the union of the owners' plans, evaluated in `with_capacities`
    union: dict  # {(lever, year): modules}
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()
    warnings: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return _worst([self.coordinated.status, self.unconstrained.status]
                      + [o.result.status for o in self.owners if o.result is not None and o.result.status != "infeasible"])

    def report(self) -> dict:
        case, ev_c, ev_f = self.with_capacities, self.coordinated.evaluation, self.fragmented
        prob = _probabilities(case)
        owners = owners_of(case)
        out = {"analysis": "coordination", **_header(self.case, self.options, self.force, self.exclude, self.overrides),
               "status": self.status,
               "assumptions": {
                   "public_budget_alone": "whole: each owner alone sees every public budget and pool of the case",
                   "owner_capacities": "pools on capex in the coordinated, fragmented and alone plans; not in relief solve",
                   "sectors_alone": "a company counts only the relief of its sectors (owner_sectors.csv); the government counts all",
               }}
        frag = _plan_summary(None, ev_f)
        frag.update({"status": "feasible" if ev_f.feasible else "breaks joint limits", "feasible": ev_f.feasible,
                     "violations": list(ev_f.violations), "schedule": _schedule(self.union)})
        out["coordinated"] = _plan_summary(self.coordinated)
        out["fragmented"] = frag
        un = self.unconstrained
        out["without_owner_capacities"] = {"status": un.status,
                                           "expected_relief": un.evaluation.expected_relief if un.evaluation else None}
        if ev_c is not None:
            out["difference"] = ev_c.expected_relief - ev_f.expected_relief
            out["difference_share"] = out["difference"] / ev_c.expected_relief if abs(ev_c.expected_relief) > 1e-12 else None
        else:
            out["difference"] = out["difference_share"] = None
        capex = dict(zip(case.table("levers")["lever"], case.table("levers")["capex_per_module"]))
        public = dict(zip(case.table("levers")["lever"], case.table("levers")["capex_per_module"] * case.table("levers")["public_share"]))

        def spend(ev, levers, per):
            return None if ev is None else float(sum(per[l] * ev.portfolio.get(l, 0.0) for l in levers))

        owner_rows = []
        for run in self.owners:
            o = run.owner
            ev_a = run.result.evaluation if run.result is not None else None
            owner_rows.append({
                "owner": o.name, "kind": o.kind, "capacity_usd_bn": o.capacity, "levers": list(o.levers),
                "sectors": "all" if o.kind == "government" else list(o.sectors), "status_alone": run.status,
                "own_relief_alone": ev_a.expected_relief if ev_a is not None else (0.0 if run.result is None else None),
                "own_relief_fragmented": sector_relief(ev_f, case, o.sectors),
                "own_relief_coordinated": sector_relief(ev_c, case, o.sectors) if ev_c is not None else None,
                "capex_alone": spend(ev_a, o.levers, capex) if run.result is not None else 0.0,
                "capex_coordinated": spend(ev_c, o.levers, capex),
                "public_spend_alone": spend(ev_a, o.levers, public) if run.result is not None else 0.0,
                "public_spend_coordinated": spend(ev_c, o.levers, public),
                "portfolio_alone": {l: v for l, v in (ev_a.portfolio.items() if ev_a is not None else ()) if v},
                "conflicts": list(run.result.conflicts) if run.result is not None else [],
            })
        out["owners"] = owner_rows
        scen = []
        for s, p in prob.items():
            c = ev_c.by_scenario[s] if ev_c is not None else None
            f = ev_f.by_scenario[s]
            scen.append({"scenario": s, "probability": p, "coordinated": c, "fragmented": f,
                         "difference": None if c is None else c - f})
        out["relief_by_scenario"] = scen
        cared = {}
        for o in owners.values():
            for s in o.sectors:
                cared.setdefault(s, []).append(o.name)
        track_of = dict(zip(case.table("sectors")["sector"], case.table("sectors")["track"]))
        sectors, tracks = [], {}
        for s, r in track_of.items():
            c = sector_relief(ev_c, case, [s]) if ev_c is not None else None
            f = sector_relief(ev_f, case, [s])
            sectors.append({"sector": s, "track": r, "cared_by": ",".join(cared.get(s, [])), "coordinated": c, "fragmented": f,
                            "difference": None if c is None else c - f})
            t = tracks.setdefault(r, {"track": r, "coordinated": 0.0 if c is not None else None, "fragmented": 0.0})
            if c is not None:
                t["coordinated"] += c
            t["fragmented"] += f
        for t in tracks.values():
            t["difference"] = None if t["coordinated"] is None else t["coordinated"] - t["fragmented"]
        out["relief_by_sector"] = sectors
        out["relief_by_track"] = list(tracks.values())
        owner_of = dict(zip(case.table("levers")["lever"], case.table("levers")["owner"]))
        frag_lines = _union_lines(self.union, case)
        plans = []
        for l in case.levers:
            c = _lever_line(ev_c, l, case)
            f = frag_lines[l]
            plans.append({"lever": l, "owner": owner_of[l],
                          "coordinated_modules": c["modules"], "coordinated_first_year": c["first_year"],
                          "fragmented_modules": f["modules"], "fragmented_first_year": f["first_year"],
                          "change": change_tags(c, f)})
        out["plans"] = plans
        roadmap = []
        if ev_c is not None:
            roadmap += [{"plan": "coordinated", "lever": l, "owner": owner_of[l], "year": t, "committed": v}
                        for (l, t), v in sorted(ev_c.plan.items())]
        roadmap += [{"plan": "fragmented", "lever": l, "owner": owner_of[l], "year": t, "committed": v}
                    for (l, t), v in sorted(self.union.items())]
        out["roadmap"] = roadmap
        spending = []
        sc = {int(r.year): r for r in ev_c.spending.itertuples()} if ev_c is not None else {}
        for r in ev_f.spending.itertuples():
            b = None if r.budget is None or r.budget != r.budget else float(r.budget)
            c = float(sc[int(r.year)].public_spend) if int(r.year) in sc else (0.0 if ev_c is not None else None)
            spending.append({"year": int(r.year), "budget": b, "coordinated": c, "fragmented": float(r.public_spend),
                             "fragmented_over_budget": b is not None and float(r.public_spend) > b + TOL * max(1.0, b)})
        for y, r in sc.items():
            if y not in {x["year"] for x in spending}:
                spending.append({"year": y, "budget": None, "coordinated": float(r.public_spend), "fragmented": 0.0,
                                 "fragmented_over_budget": False})
        out["spending"] = sorted(spending, key=lambda x: x["year"])
        out["warnings"] = out["warnings"] + list(self.warnings)
        return out


def _union_lines(union: dict, case: Case) -> dict:
    out = {}
    for l in case.levers:
        years = [t for (m, t) in union if m == l]
        out[l] = {"modules": float(sum(v for (m, t), v in union.items() if m == l)),
                  "first_year": min(years) if years else None, "last_year": max(years) if years else None}
    return out


def value_of_coordination(case: Case, options: SolveOptions, force=(), exclude=(), overrides=()) -> CoordinationAnalysis:
    """Coordinated: the joint optimum of the case with the owners' capacities as pools.
    Fragmented: each owner alone (`owner_alone`) picks its levers; the union of the picks
    is evaluated in the same case with `evaluate_plan`, joint limits and all."""
    unknown = [l for l in (*force, *exclude) if l not in case.levers]
    if unknown:
        raise ValueError(f"unknown lever(s): {', '.join(unknown)} (levers: {', '.join(case.levers)})")
    full = with_owner_capacities(case)
    coordinated = run_case(full, options, force=force, exclude=exclude, overrides=overrides)
    unconstrained = run_case(case, options, force=force, exclude=exclude, overrides=overrides)
    runs, union, warnings = [], {}, []
    for o in owners_of(full).values():
        if not o.levers:
            runs.append(OwnerRun(o, None, None))
            continue
        alone = owner_alone(full, o.name)
        res = run_case(alone, options, force=tuple(l for l in force if l in o.levers), exclude=exclude, overrides=overrides)
        run = OwnerRun(o, alone, res)
        if res.evaluation is not None:
            plan = res.evaluation.plan
            union.update(plan)
            run.own_relief_check = sector_relief(evaluate_plan(full, plan), full, o.sectors)
            if abs(run.own_relief_check - res.evaluation.expected_relief) > TOL * max(1.0, abs(run.own_relief_check)):
                warnings.append(f"{o.name}: relief of its sectors alone {res.evaluation.expected_relief:.6g} differs from the same plan's "
                                f"relief of those sectors in the full case {run.own_relief_check:.6g} (a ladder whose higher tier "
                                "does not lower every sector's rate)")
        runs.append(run)
    fragmented = evaluate_plan(full, union, force=force, exclude=exclude)
    return CoordinationAnalysis(case, full, options, coordinated, unconstrained, runs, fragmented, union,
                                tuple(force), tuple(exclude), tuple(overrides), warnings)
