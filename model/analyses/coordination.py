"""Value of coordination (`relief coordination`): the joint optimum against the plans that
result when each owner decides for itself.

The owners and the case as each sees it are model/analyses/owners.py; the fragmented plans
under three regimes (the union of each owner's picks alone, first come first served, rationed
public money) are model/analyses/fragmented.py; why coordination is worth what it is worth
(tiers no owner reaches alone, money in the wrong year, pool capacity taken by the less
valuable lever) is model/analyses/mechanisms.py. The headline value uses the better of the two
attainable regimes, so it is what coordination is worth at least. docs/analyses.md gives the
definitions and how to read the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relief.model.analyses.common import (
    TOL,
    change_tags,
    lever_line,
    plan_summary,
    probabilities,
    run_header,
    schedule_of,
    worst_status,
)
from relief.model.analyses.fragmented import (
    FIRST_COME,
    FRAGMENTED,
    IN_TURN,
    RATIONED,
    REGIMES,
    UNION,
    OwnerSolves,
    Regime,
    first_come_regime,
    in_turn_regime,
    rationed_regime,
    union_regime,
)
from relief.model.analyses.labellings import apply_labelling, labellings_of
from relief.model.analyses.mechanisms import mechanisms
from relief.model.analyses.owners import OwnerRun, owners_of, sector_relief, with_owner_capacities
from relief.model.core.information import require_static
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation
    from relief.model.core.options import SolveOptions
    from relief.model.core.result import RunResult


ASSUMPTIONS = {
    "owner_capacities": "pools on capex in the coordinated and every fragmented plan; not in relief solve",
    "sectors_alone": "a company counts only the relief of its sectors (owner_sectors.csv); the government counts all",
    UNION: "each owner alone sees every public budget and pool of the case; the union of the picks may break them",
    FIRST_COME: "owners decide in turn (owners.csv order, else the year of their first pick in the union, ties by "
    "name), each alone as in the union, with what money and pool capacity the earlier owners left",
    RATIONED: "each shared limit (yearly and total budgets of each envelope, total_public_budget, pools of several "
    "owners) is shared in proportion to what each owner used of it in the union; each re-optimises alone within "
    "its shares",
    IN_TURN: "as first come, but each owner sees the earlier owners' commitments and counts their spillover into "
    "its tiers (not a candidate for the headline: seeing the others' plans is a form of coordination)",
    "headline": "of first come and rationed, the plan with the more relief: coordination is worth at least that",
}


def headline_regime(regimes: dict) -> str:
    """Of the attainable regimes where nobody sees the others' plans, the one with the most
    relief (a feasible one first; ties: first come)."""
    candidates = [regimes[g] for g in FRAGMENTED]
    feasible = [r for r in candidates if r.evaluation.feasible] or candidates
    return max(feasible, key=lambda r: r.evaluation.expected_relief - (1e-9 if r.name != FIRST_COME else 0)).name


@dataclass
class CoordinationAnalysis:
    case: Case  # as given (what `relief solve` solves)
    with_capacities: Case  # the case plus the owners' capacity pools: coordinated and fragmented live here
    options: SolveOptions
    coordinated: RunResult
    unconstrained: RunResult  # relief solve's optimum: no owner capacities
    regimes: dict[str, Regime]  # union, first_come, rationed, in_turn
    headline: str  # the regime the headline value uses
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()
    warnings: list = field(default_factory=list)
    why: list[dict] = field(default_factory=list)  # mechanisms.mechanisms
    fragility: list[dict] = field(default_factory=list)  # the value under each labelling (labellings.csv)

    @property
    def owners(self) -> list[OwnerRun]:
        """Each owner alone with the whole budget (the union regime's runs)."""
        return self.regimes[UNION].runs

    @property
    def fragmented(self) -> Evaluation:
        return self.regimes[self.headline].evaluation

    @property
    def union(self) -> dict:
        return self.regimes[UNION].plan

    def value(self, regime: str) -> float | None:
        ev_c = self.coordinated.evaluation
        return None if ev_c is None else ev_c.expected_relief - self.regimes[regime].evaluation.expected_relief

    @property
    def status(self) -> str:
        runs = [r for g in self.regimes.values() for r in g.runs if r.result is not None]
        return worst_status(
            [self.coordinated.status, self.unconstrained.status]
            + [r.result.status for r in runs if r.result.status != "infeasible"]
        )

    def report(self) -> dict:
        """One JSON-able object: the plans compared, then the tidy tables (lists of records)."""
        out = {
            "analysis": "coordination",
            **run_header(self.case, self.options, self.force, self.exclude, self.overrides),
            "status": self.status,
            "assumptions": dict(ASSUMPTIONS),
        }
        out.update(self._plans_compared())
        out["regimes"] = [self._regime_row(g) for g in self.regimes.values()]
        out["why"] = list(self.why)
        out["fragility"] = list(self.fragility)
        out["labellings"] = list(labellings_of(self.case)) if "labellings" in self.case.tables else []
        out["owners"] = self._owner_rows()
        out["relief_by_scenario"] = self._scenario_rows()
        out["relief_by_sector"], out["relief_by_track"] = self._sector_and_track_rows()
        out["plans"], out["roadmap"] = self._plan_rows()
        out["spending"] = _spending_rows(self.coordinated.evaluation, self.regimes, self.headline)
        out["shares"] = [_share_row(r) for r in self.regimes[RATIONED].shares]
        out["warnings"] = out["warnings"] + list(self.warnings)
        return out

    def _summary(self, g: Regime) -> dict:
        ev = g.evaluation
        s = plan_summary(None, ev)
        s.update(
            {
                "regime": g.name,
                "label": g.label,
                "attainable": g.attainable,
                "status": "feasible" if ev.feasible else "breaks joint limits",
                "feasible": ev.feasible,
                "violations": list(ev.violations),
                "schedule": schedule_of(g.plan),
            }
        )
        return s

    def _plans_compared(self) -> dict:
        """The coordinated plan, the headline fragmented plan, relief solve's, and their difference."""
        ev_c = self.coordinated.evaluation
        un = self.unconstrained
        out = {
            "coordinated": plan_summary(self.coordinated),
            "fragmented": self._summary(self.regimes[self.headline]),
            "headline_regime": self.headline,
            "without_owner_capacities": {
                "status": un.status,
                "expected_relief": un.evaluation.expected_relief if un.evaluation else None,
            },
        }
        out["difference"] = self.value(self.headline)
        out["difference_share"] = (
            out["difference"] / ev_c.expected_relief if ev_c is not None and abs(ev_c.expected_relief) > 1e-12 else None
        )
        return out

    def _regime_row(self, g: Regime) -> dict:
        row = self._summary(g)
        v = self.value(g.name)
        c = self.coordinated.evaluation
        row.update(
            {
                "headline": g.name == self.headline,
                "value_of_coordination": v,
                "value_share": v / c.expected_relief if v is not None and abs(c.expected_relief) > 1e-12 else None,
                "order": list(g.order),
                "notes": list(g.notes),
            }
        )
        return row

    def _owner_rows(self) -> list[dict]:
        """Each owner alone against the coordinated plan: relief of its sectors, capex, public spending."""
        case, ev_c = self.with_capacities, self.coordinated.evaluation
        lv = case.table("levers")
        capex = dict(zip(lv["lever"], lv["capex_per_module"]))
        public = dict(zip(lv["lever"], lv["capex_per_module"] * lv["public_share"]))

        def spend(ev, levers, per):
            return None if ev is None else float(sum(per[l] * ev.portfolio.get(l, 0.0) for l in levers))

        rows = []
        for run in self.owners:
            o = run.owner
            ev_a = run.result.evaluation if run.result is not None else None
            row = {
                "owner": o.name,
                "kind": o.kind,
                "capacity_usd_bn": o.capacity,
                "levers": list(o.levers),
                "sectors": "all" if o.kind == "government" else list(o.sectors),
                "status_alone": run.status,
                "own_relief_alone": ev_a.expected_relief if ev_a is not None else (0.0 if run.result is None else None),
                "own_relief_fragmented": sector_relief(self.fragmented, case, o.sectors),
                "own_relief_coordinated": sector_relief(ev_c, case, o.sectors) if ev_c is not None else None,
            }
            row.update({f"own_relief_{g}": sector_relief(self.regimes[g].evaluation, case, o.sectors) for g in REGIMES})
            row.update(
                {
                    "capex_alone": spend(ev_a, o.levers, capex) if run.result is not None else 0.0,
                    "capex_coordinated": spend(ev_c, o.levers, capex),
                    "public_spend_alone": spend(ev_a, o.levers, public) if run.result is not None else 0.0,
                    "public_spend_coordinated": spend(ev_c, o.levers, public),
                    "portfolio_alone": {l: v for l, v in (ev_a.portfolio.items() if ev_a is not None else ()) if v},
                    "conflicts": list(run.result.conflicts) if run.result is not None else [],
                }
            )
            rows.append(row)
        return rows

    def _scenario_rows(self) -> list[dict]:
        ev_c, ev_f = self.coordinated.evaluation, self.fragmented
        rows = []
        for s, p in probabilities(self.with_capacities).items():
            c = ev_c.by_scenario[s] if ev_c is not None else None
            f = ev_f.by_scenario[s]
            row = {"scenario": s, "probability": p, "coordinated": c, "fragmented": f}
            row.update({g: self.regimes[g].evaluation.by_scenario[s] for g in REGIMES})
            row["difference"] = None if c is None else c - f
            rows.append(row)
        return rows

    def _sector_and_track_rows(self) -> tuple[list[dict], list[dict]]:
        """Relief of each sector (and who cares about it), and of each track, in the coordinated
        and the headline fragmented plan."""
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
        """Each lever in every plan (with what changed against the coordinated one), and every
        roadmap year by year."""
        case, ev_c = self.with_capacities, self.coordinated.evaluation
        owner_of = dict(zip(case.table("levers")["lever"], case.table("levers")["owner"]))
        lines = {g: _plan_lines(self.regimes[g].plan, case) for g in REGIMES}
        plans = []
        for l in case.levers:
            c = lever_line(ev_c, l, case)
            row = {"lever": l, "owner": owner_of[l], "coordinated_modules": c["modules"]}
            row["coordinated_first_year"] = c["first_year"]
            f = lines[self.headline][l]
            row.update({"fragmented_modules": f["modules"], "fragmented_first_year": f["first_year"]})
            for g in REGIMES:
                row[f"{g}_modules"] = lines[g][l]["modules"]
                row[f"{g}_first_year"] = lines[g][l]["first_year"]
            row["change"] = change_tags(c, f)
            plans.append(row)
        roadmap = []
        if ev_c is not None:
            roadmap += [
                {"plan": "coordinated", "lever": l, "owner": owner_of[l], "year": t, "committed": v}
                for (l, t), v in sorted(ev_c.plan.items())
            ]
        for g in REGIMES:
            roadmap += [
                {"plan": g, "lever": l, "owner": owner_of[l], "year": t, "committed": v}
                for (l, t), v in sorted(self.regimes[g].plan.items())
            ]
        return plans, roadmap


def _share_row(r: dict) -> dict:
    """A rationed share with its limit named as a planner reads it."""
    kind, key = r["limit"], r["key"]
    name = {
        "year": lambda: f"envelope {key[0]}, {key[1]}",
        "envelope": lambda: f"envelope {key}, all years",
        "total": lambda: "total_public_budget",
        "pool": lambda: f"pool {key}",
    }[kind]()
    return {"owner": r["owner"], "limit": name, "budget": r["budget"], "asked": r["asked"], "share": r["share"]}


def _spending_rows(ev_c: Evaluation | None, regimes: dict, headline: str) -> list[dict]:
    """Public spending of each year in every plan, against the year's budget."""
    by = {g: {int(r.year): r for r in regimes[g].evaluation.spending.itertuples()} for g in REGIMES}
    sc = {int(r.year): r for r in ev_c.spending.itertuples()} if ev_c is not None else {}
    years = sorted(set(sc).union(*[set(v) for v in by.values()]))
    rows = []
    for y in years:
        ref = next((d[y] for d in (sc, *by.values()) if y in d), None)
        b = None if ref is None or ref.budget is None or ref.budget != ref.budget else float(ref.budget)
        row = {"year": y, "budget": b}
        row["coordinated"] = float(sc[y].public_spend) if y in sc else (0.0 if ev_c is not None else None)
        for g in REGIMES:
            row[g] = float(by[g][y].public_spend) if y in by[g] else 0.0
        row["fragmented"] = row[headline]
        row["fragmented_over_budget"] = b is not None and row["fragmented"] > b + TOL * max(1.0, b)
        row["union_over_budget"] = b is not None and row[UNION] > b + TOL * max(1.0, b)
        rows.append(row)
    return rows


def _plan_lines(plan: dict, case: Case) -> dict:
    out = {}
    for l in case.levers:
        years = [t for (m, t), v in plan.items() if m == l and v]
        out[l] = {
            "modules": float(sum(v for (m, t), v in plan.items() if m == l)),
            "first_year": min(years) if years else None,
            "last_year": max(years) if years else None,
        }
    return out


def value_of_coordination(
    case: Case, options: SolveOptions, force=(), exclude=(), overrides=(), labellings: bool = False
) -> CoordinationAnalysis:
    """Coordinated: the joint optimum of the case with the owners' capacities as pools.
    Fragmented: the plans of fragmented.py's regimes, each evaluated in the same case with
    `evaluate_plan`, joint limits and all. `labellings`: also the value under each labelling
    of labellings.csv (the fragility table)."""
    require_static(case, "relief coordination")
    check_levers(case, force, exclude)
    full = with_owner_capacities(case)
    # one session for the case with the owners' capacities: each owner's case changes only
    # its numbers; the case without the capacity pools gets its own model from the session
    session = Session(full, options, force, exclude)
    solves = OwnerSolves(session, force, overrides)
    coordinated = session.solve(full, overrides)
    analysis = _analyse(case, full, solves, options, coordinated, session.solve(case, overrides))
    analysis.why = mechanisms(analysis)
    if labellings:
        analysis.fragility = _fragility(case, solves, options, analysis)
    return analysis


def _analyse(case, full, solves: OwnerSolves, options, coordinated, unconstrained) -> CoordinationAnalysis:
    """The fragmented regimes of one labelling of the owners, against the coordinated plan and
    relief solve's (which no labelling changes: labels are not in the joint problem)."""
    owners = owners_of(full)
    union, warnings = union_regime(full, solves, owners)
    regimes = {
        UNION: union,
        FIRST_COME: first_come_regime(full, solves, owners, union),
        RATIONED: rationed_regime(full, solves, owners, union),
        IN_TURN: in_turn_regime(full, solves, owners, union),
    }
    return CoordinationAnalysis(
        case,
        full,
        options,
        coordinated,
        unconstrained,
        regimes,
        headline_regime(regimes),
        solves.force,
        solves.exclude,
        solves.overrides,
        warnings,
    )


def _fragility(case, solves: OwnerSolves, options, base: CoordinationAnalysis) -> list[dict]:
    """The value of coordination under each labelling of labellings.csv (one at a time), on the
    same session; an owner's solve the labelling does not change is not repeated."""
    if "labellings" not in case.tables or not len(case.table("labellings")):
        return []
    rows = [_fragility_row("as given", [], base)]
    for name, changes in labellings_of(case).items():
        labelled = apply_labelling(case, name)
        other = _analyse(
            labelled, with_owner_capacities(labelled), solves, options, base.coordinated, base.unconstrained
        )
        rows.append(_fragility_row(name, changes, other))
    return rows


def _fragility_row(name: str, changes: list[dict], a: CoordinationAnalysis) -> dict:
    c = a.coordinated.evaluation
    row = {
        "labelling": name,
        "changes": "; ".join(_change_text(r) for r in changes),
        "coordinated": None if c is None else c.expected_relief,
        "headline_regime": a.headline,
        "value": a.value(a.headline),
    }
    row.update({f"value_{g}": a.value(g) for g in REGIMES})
    row["union_feasible"] = a.regimes[UNION].evaluation.feasible
    return row


def _change_text(r: dict) -> str:
    parts = []
    if r.get("kind"):
        parts.append(f"{r['owner']} is {r['kind']}")
    if r.get("sectors") is not None:
        parts.append(f"{r['owner']} cares about {', '.join(r['sectors']) or 'no sector'}")
    return ", ".join(parts)
