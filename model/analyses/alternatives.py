"""Near-optimal alternatives: distinct roadmaps worth almost as much as the optimum.

A planner needs room to negotiate, not one answer. After the optimum, each round adds a
cut on the build decisions y (the set of levers used) and keeps expected relief at least
(1 - within) x the optimum:

    sum_{l in U_k} (1 - y_l) >= 1     for every plan k found (U_k: its levers),
    expected_relief >= (1 - within) R*,

then solves the usual stages: the best expected relief among such plans, and the least
public spending for it. Each alternative therefore leaves out at least one lever of every
roadmap found before it ("what if we hold back X"): a plan that only adds a lever that
buys nothing, the cheap way to differ under the plain no-good cut
(sum_{U_k} (1 - y_l) + sum_{not U_k} y_l >= 1), is not an alternative. Alternatives come best
first, and each is a solve of one session (model/core/session.py): re-evaluated from the tables and checked
against the solver's numbers like every relief answer. The search stops after `count`
alternatives or when no such plan reaches the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.analyses.compare import compare, run_from_result
from relief.model.analyses.value import risk_neutral
from relief.model.core.information import require_static
from relief.model.core.result import NoPlan, RunResult
from relief.model.core.session import Session

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions


@dataclass
class Alternatives:
    optimum: RunResult
    found: list[RunResult]  # RunResult, best first (not including the optimum)
    within: float
    floor: float
    exhausted: bool  # True when no further lever set reaches the floor

    @property
    def all(self) -> list:
        return [self.optimum, *self.found]

    def report(self) -> dict:
        """Tidy records: one row per plan, its modules per lever, and its changes from the optimum."""
        labels = ["optimum", *[f"alternative {i}" for i in range(1, len(self.found) + 1)]]
        runs = [run_from_result(lab, r) for lab, r in zip(labels, self.all)]
        cmp = compare(runs) if len(runs) > 1 else {"changes": {}, "portfolio": []}
        top = self.optimum.evaluation.expected_relief
        plans, portfolio, schedule = [], [], []
        for lab, r in zip(labels, self.all):
            ev = r.evaluation
            changes = cmp["changes"].get(lab, {})
            plans.append(
                {
                    "plan": lab,
                    "status": r.status,
                    "expected_relief": ev.expected_relief,
                    "share_of_optimum": ev.expected_relief / top if top else None,
                    "public_spend": ev.public_spend,
                    "total_spend": ev.total_spend,
                    "levers": ",".join(sorted(l for l, v in ev.portfolio.items() if v > 1e-9)),
                    "added": ",".join(l for l, t in changes.items() if "added" in t),
                    "dropped": ",".join(l for l, t in changes.items() if "dropped" in t),
                    "other_changes": "; ".join(
                        f"{l} {'/'.join(t)}" for l, t in changes.items() if not {"added", "dropped"} & set(t)
                    ),
                    **{f"relief:{s}": v for s, v in ev.by_scenario.items()},
                }
            )
            for l, v in ev.portfolio.items():
                portfolio.append({"plan": lab, "lever": l, "modules": v})
            for row in ev.roadmap.itertuples():
                if row.committed:
                    schedule.append(
                        {"plan": lab, "lever": row.lever, "year": int(row.year), "modules": float(row.committed)}
                    )
        return {
            "within": self.within,
            "floor": self.floor,
            "exhausted": self.exhausted,
            "plans": plans,
            "portfolio": portfolio,
            "schedule": schedule,
        }


def lever_set(result: RunResult) -> frozenset:
    return frozenset(l for l, v in result.evaluation.portfolio.items() if v > 1e-9)


def near_optimal(
    case: Case, options: SolveOptions, within: float = 0.05, count: int = 5, force=(), exclude=()
) -> Alternatives:
    require_static(case, "relief alternatives")
    case = risk_neutral(case)
    session = Session(case, options, force, exclude)
    best = session.solve(case)
    if best.evaluation is None:
        raise NoPlan(f"the case has no plan (status {best.status})")
    top = best.evaluation.expected_relief
    floor = top - within * abs(top)
    found, exhausted = [], False
    # the cuts and the floor live in HiGHS only: this session's engine serves no other case
    engine, model = session.engine, session.model

    def cut(result):
        used = lever_set(result)
        engine.add_row([(model.y[l], -1.0) for l in model.L if l in used], 1.0 - len(used))

    cut(best)
    engine.stage1_floor = floor
    try:
        while len(found) < count:
            outcome = session.run(case)
            if not outcome.has_solution:
                exhausted = outcome.status == "infeasible"
                break
            result = session.finish(case, outcome)
            found.append(result)
            cut(result)
    finally:
        engine.stage1_floor = None
    return Alternatives(best, found, within, floor, exhausted)
