"""Cost of delay (`relief delay`): the best roadmap if no commitment can start before a later year.

`delay_case` moves every lever's earliest year to at least first_year + d (budgets, the horizon
and everything else stay as they are); the optimum of that case is compared with acting now.
docs/analyses.md gives the definitions and how to read the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.analyses.common import (
    TOL,
    change_tags,
    lever_line,
    plan_summary,
    probabilities,
    relief_cells,
    run_header,
    worst_status,
)
from relief.model.core.build import MIN_DIVISIBLE
from relief.model.core.information import require_static
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions
    from relief.model.core.result import RunResult


# ----------------------------------------------------------------------------------
# Cost of delay
# ----------------------------------------------------------------------------------


def delay_case(case: Case, years: int) -> Case:
    """No commitment before first_year + years: earliest_year_l = max(earliest_year_l, first_year + years).

    Budgets, the horizon and everything else stay as they are, so the relief of the first
    years is what the delay loses. Obligations (obligations.csv) fall due as many years later,
    by_year + years, never after last_year: a delay postpones what is owed with the rest."""
    if years < 0:
        raise ValueError(f"a delay is a number of years >= 0, not {years}")
    lv = case.table("levers").copy()
    lv["earliest_year"] = lv["earliest_year"].clip(lower=case.meta["first_year"] + years).astype("int64")
    ob = case.table("obligations").copy()
    if len(ob):  # what is owed is owed as many years later (never beyond the horizon)
        ob["by_year"] = (ob["by_year"] + years).clip(upper=case.meta["last_year"]).astype("int64")
    return case.replaced(levers=lv, obligations=ob)


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
            why = (
                f"{left} year(s) left from {int(r['earliest_year'])} at most {r['max_modules_per_year']:g} a year "
                f"reach {reach:g} modules, below its smallest size {smallest:g}"
            )
        out.append(
            {
                "lever": r["lever"],
                "earliest_year": int(r["earliest_year"]),
                "years_left": left,
                "reachable": reach,
                "smallest": smallest,
                "forced": forced,
                "reason": why
                + ("; it is forced, so the request is infeasible" if forced else "; it drops out of every plan"),
            }
        )
    return out


@dataclass
class DelayRun:
    years: int
    case: Case
    result: RunResult
    out_of_reach: list[dict]  # levers the delay puts out of reach (not those already out of reach now)

    @property
    def start_year(self) -> int:
        return self.case.meta["first_year"] + self.years


@dataclass
class DelayAnalysis:
    case: Case
    options: SolveOptions
    now: RunResult
    delays: list[DelayRun]  # DelayRun, in the order asked
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()

    @property
    def status(self) -> str:
        return worst_status([self.now.status] + [d.result.status for d in self.delays])

    def report(self) -> dict:
        """One JSON-able object: the summary of each plan and the tidy tables (lists of records)."""
        case, now = self.case, self.now
        ev0 = now.evaluation
        prob = probabilities(case)
        cells0 = relief_cells(ev0) if ev0 is not None else {}
        out = {
            "analysis": "delay",
            **run_header(case, self.options, self.force, self.exclude, self.overrides),
            "status": self.status,
            "first_year": case.meta["first_year"],
            "now": plan_summary(now),
        }
        delays, lost_rows, plan_rows, roadmap_rows, spend_rows, reach_rows = [], [], [], [], [], []
        levers = case.levers
        lines0 = {l: lever_line(ev0, l, case) for l in levers}
        for l in levers:
            plan_rows.append(
                {"delay_years": 0, "start_year": case.meta["first_year"], "lever": l, **lines0[l], "change": ""}
            )
        self._roadmap_rows(roadmap_rows, spend_rows, 0, now)
        for d in self.delays:
            ev = d.result.evaluation
            entry = {
                "delay_years": d.years,
                "start_year": d.start_year,
                **plan_summary(d.result),
                "out_of_reach": d.out_of_reach,
            }
            if ev is not None and ev0 is not None:
                entry.update(self._relief_lost(d, ev0, cells0, prob, lost_rows))
            else:
                entry.update({"relief_lost": None, "share_lost": None, "lost_by_scenario": {}, "lost_by_track": {}})
            changes = {"later": [], "dropped": [], "added": [], "resized": [], "earlier": []}
            for l in levers:
                line = lever_line(ev, l, d.case)
                tags = change_tags(lines0[l], line)
                for t in tags.split(","):
                    if t:
                        changes[t].append(l)
                plan_rows.append(
                    {"delay_years": d.years, "start_year": d.start_year, "lever": l, **line, "change": tags}
                )
            entry["changes"] = changes
            for r in d.out_of_reach:
                reach_rows.append({"delay_years": d.years, **r})
            self._roadmap_rows(roadmap_rows, spend_rows, d.years, d.result)
            delays.append(entry)
        lost_rows.sort(key=lambda x: (x["delay_years"], -abs(x["expected_lost"]), x["scenario"], x["track"]))
        out.update(
            {
                "delays": delays,
                "relief_lost": lost_rows,
                "plans": plan_rows,
                "roadmap": roadmap_rows,
                "spending": spend_rows,
                "out_of_reach": reach_rows,
            }
        )
        return out

    def _relief_lost(self, d: DelayRun, ev0, cells0: dict, prob: dict, lost_rows: list) -> dict:
        """What delay `d` loses against acting now: in all, by scenario and by track (and one
        row of `lost_rows` per scenario and track)."""
        ev = d.result.evaluation
        cells = relief_cells(ev)
        lost = ev0.expected_relief - ev.expected_relief
        by_track: dict = {}
        # in the order of the tables (a set's order changes with the process's hash seed, and with it
        # the last bits of the sums and the order of relief_lost.csv's rows)
        for s, r in dict.fromkeys([*cells0, *cells]):
            a, b = cells0.get((s, r), 0.0), cells.get((s, r), 0.0)
            by_track[r] = by_track.get(r, 0.0) + prob[s] * (a - b)
            lost_rows.append(
                {
                    "delay_years": d.years,
                    "scenario": s,
                    "track": r,
                    "probability": prob[s],
                    "relief_now": a,
                    "relief_delayed": b,
                    "relief_lost": a - b,
                    "expected_lost": prob[s] * (a - b),
                }
            )
        return {
            "relief_lost": lost,
            "share_lost": lost / ev0.expected_relief if abs(ev0.expected_relief) > 1e-12 else None,
            "lost_by_scenario": {s: ev0.by_scenario[s] - ev.by_scenario[s] for s in ev0.by_scenario},
            "lost_by_track": {r: by_track[r] for r in self.case.tracks if r in by_track},
        }

    @staticmethod
    def _roadmap_rows(roadmap_rows, spend_rows, years, result):
        ev = result.evaluation
        if ev is None:
            return
        for (l, t), v in sorted(ev.plan.items()):
            roadmap_rows.append({"delay_years": years, "lever": l, "year": t, "committed": v})
        for r in ev.spending.itertuples():
            spend_rows.append(
                {
                    "delay_years": years,
                    "year": int(r.year),
                    "public_spend": float(r.public_spend),
                    "budget": None if r.budget is None or r.budget != r.budget else float(r.budget),
                }
            )


def cost_of_delay(
    case: Case, options: SolveOptions, delays=(1, 2), force=(), exclude=(), overrides=()
) -> DelayAnalysis:
    """Solve the case as it is (acting now) and once per delay d in `delays` (delay_case)."""
    require_static(case, "relief delay")
    delays = list(dict.fromkeys(int(d) for d in delays))
    if not delays or min(delays) < 1:
        raise ValueError("delays are whole numbers of years >= 1, e.g. 1,2")
    check_levers(case, force, exclude)
    # one session: a delay that moves an earliest year changes the model's structure, and
    # the session builds that case's model itself
    session = Session(case, options, force, exclude)
    now = session.solve(case, overrides)
    blocked_now = {r["lever"] for r in levers_out_of_reach(case, force)}
    runs = []
    for d in delays:
        late = delay_case(case, d)
        reach = [r for r in levers_out_of_reach(late, force) if r["lever"] not in blocked_now]
        runs.append(DelayRun(d, late, session.solve(late, overrides), reach))
    return DelayAnalysis(case, options, now, runs, tuple(force), tuple(exclude), tuple(overrides))
