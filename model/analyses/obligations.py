"""The price of each obligation (`relief obligations`; docs/analyses.md states the definitions).

With the obligations of obligations.csv numbered 1..n, the case is solved

- with none of them (the best roadmap if nothing were owed),
- with all of them (the roadmap `relief solve` gives),
- with each one alone (only it), and with all but each one;

and each obligation is priced twice: alone (relief lost and extra discounted public spending
against none) and as the last one added (against all but it). Both are differences of optima,
so they are at least 0 in relief (an obligation only removes plans) but may be negative in
spending (a plan that gives up relief may also spend less).

Every variant is the case with some obligations' min_modules at 0: the same structure, so one
`Session` re-solves them by changing numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.analyses.common import run_header, worst_status
from relief.model.core.evaluate import tidy
from relief.model.core.information import require_static
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions
    from relief.model.core.result import RunResult


def keep_only(case: Case, keep) -> Case:
    """The case with only the obligations at the positions `keep` (of obligations.csv's rows) in
    force: the others' min_modules set to 0, so the model keeps its structure."""
    ob = case.table("obligations").copy()
    ob["min_modules"] = [v if i in set(keep) else 0.0 for i, v in enumerate(ob["min_modules"])]
    return case.replaced(obligations=ob)


def _worth(result: RunResult) -> dict:
    """Status, expected relief, discounted and undiscounted public spending of one variant."""
    ev = result.evaluation
    out = {
        "status": result.status,
        "expected_relief": ev.expected_relief if ev else None,
        "discounted_public_spend": ev.discounted_public_spend if ev else None,
        "public_spend": ev.public_spend if ev else None,
    }
    if result.conflicts:
        out["conflicts"] = list(result.conflicts)
    return out


def _less(a, b):
    """a - b, or None when either is missing (a variant without a plan)."""
    return None if a is None or b is None else tidy(a - b)


@dataclass
class ObligationsAnalysis:
    case: Case
    options: SolveOptions
    force: tuple
    exclude: tuple
    overrides: tuple
    none: RunResult  # no obligation in force
    all: RunResult  # every obligation in force
    alone: list  # [RunResult]: only obligation i
    all_but: list  # [RunResult]: every obligation but i

    @property
    def status(self) -> str:
        return worst_status(r.status for r in (self.none, self.all, *self.alone, *self.all_but))

    def rows(self) -> list[dict]:
        """One record per obligation: what it requires, what the plan without obligations commits by
        its year, and its price alone and as the last one added."""
        none, every = _worth(self.none), _worth(self.all)
        plan_none = self.none.evaluation.plan if self.none.evaluation else None
        out = []
        for i, r in enumerate(self.case.table("obligations").to_dict("records")):
            alone, but = _worth(self.alone[i]), _worth(self.all_but[i])
            free = None
            if plan_none is not None:
                free = tidy(sum(v for (l, t), v in plan_none.items() if l == r["lever"] and t <= r["by_year"]))
            out.append(
                {
                    "lever": r["lever"],
                    "by_year": int(r["by_year"]),
                    "min_modules": float(r["min_modules"]),
                    "committed_without_obligations": free,
                    "binds_alone": None if free is None else bool(free < r["min_modules"] - 1e-6),
                    "alone_status": alone["status"],
                    "alone_expected_relief": alone["expected_relief"],
                    "alone_discounted_public_spend": alone["discounted_public_spend"],
                    "relief_cost_alone": _less(none["expected_relief"], alone["expected_relief"]),
                    "spend_cost_alone": _less(alone["discounted_public_spend"], none["discounted_public_spend"]),
                    "all_but_status": but["status"],
                    "all_but_expected_relief": but["expected_relief"],
                    "all_but_discounted_public_spend": but["discounted_public_spend"],
                    "relief_cost_last": _less(but["expected_relief"], every["expected_relief"]),
                    "spend_cost_last": _less(every["discounted_public_spend"], but["discounted_public_spend"]),
                    "source": r.get("source"),
                }
            )
        return out

    def report(self) -> dict:
        none, every = _worth(self.none), _worth(self.all)
        return {
            "analysis": "obligations",
            **run_header(self.case, self.options, self.force, self.exclude, self.overrides),
            "status": self.status,
            "count": len(self.alone),
            "none": none,
            "all": every,
            "relief_cost_all": _less(none["expected_relief"], every["expected_relief"]),
            "spend_cost_all": _less(every["discounted_public_spend"], none["discounted_public_spend"]),
            "obligations": self.rows(),
        }


def price_obligations(
    case: Case, options: SolveOptions, force=(), exclude=(), overrides=()
) -> ObligationsAnalysis | None:
    """Solve the case with no, all, each alone and all but each of its obligations (None: it has none)."""
    require_static(case, "relief obligations")
    n = len(case.table("obligations"))
    if n == 0:
        return None
    check_levers(case, force, exclude)
    session = Session(case, options, force, exclude)
    every = range(n)
    return ObligationsAnalysis(
        case,
        options,
        tuple(force),
        tuple(exclude),
        tuple(overrides),
        none=session.solve(keep_only(case, ()), overrides),
        all=session.solve(case, overrides),
        alone=[session.solve(keep_only(case, (i,)), overrides) for i in every],
        all_but=[session.solve(keep_only(case, [j for j in every if j != i]), overrides) for i in every],
    )
