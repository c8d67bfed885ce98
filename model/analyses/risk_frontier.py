"""The risk frontier (`relief risk`): expected relief against CVaR as the weight on CVaR
moves from 0 (expected relief only) to 1 (CVaR only).

A preset over the sweep machinery: the case gets the CVaR rows once (so every point
re-uses one model) and only case.risk_weight changes between points. Here are the
sweep's definition and the table its points become: per weight, expected relief, CVaR,
the worst stance's relief, public spending and the levers that change from the
previous weight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relief.model.core.information import require_static
from relief.model.sweeps.frontier import solved_points

if TYPE_CHECKING:
    import pandas as pd

    from relief.model.core.case import Case
    from relief.model.sweeps.spec import Parameter, Point, SweepDefinition

COLUMNS = ["weight", "expected_relief", "cvar", "worst", "worst_scenario", "public_spend", "status", "changes"]


def risk_case(case: Case, alpha: float) -> Case:
    """The case measured by CVaR at `alpha` with weight 0: the risk rows belong to the base
    case, so that every point of the sweep re-uses one model."""
    require_static(case, "relief risk")
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.risk import Risk

    return apply_overrides(case, Risk("cvar", alpha, 0.0).overrides())


def risk_definition(steps: int, force=(), exclude=(), overrides=()) -> tuple[SweepDefinition, Parameter]:
    """The grid of `steps` weights on CVaR from 0 to 1."""
    from relief.model.sweeps.spec import SweepDefinition, parse_vary

    p = parse_vary(f"case.risk_weight=0:1:{steps}")
    defn = SweepDefinition(
        parameters=[p], method="grid", force=tuple(force), exclude=tuple(exclude), fixed=tuple(overrides)
    )
    return defn, p


def risk_rows(case: Case, points: list[Point], done: dict, label: str, alpha: float) -> list[dict]:
    """A row per weight with a plan, in weight order (COLUMNS)."""
    from relief.model.core.risk import cvar
    from relief.model.sweeps.store import relief_column

    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    rows, prev = [], None
    for pt, r in solved_points(sorted(points, key=lambda q: float(q.values[label])), done):
        by = {s: float(r[relief_column(s)]) for s in case.scenarios}
        modules = {l: float(r[l] or 0) for l in case.levers}
        rows.append(
            {
                "weight": float(pt.values[label]),
                "expected_relief": float(r["expected_relief"]),
                "cvar": cvar(by, prob, alpha),
                "worst": min(by.values()),
                "worst_scenario": min(by, key=lambda s: (by[s], s)),
                "public_spend": float(r["public_spend"]),
                "status": r["status"],
                "changes": _changes(case.levers, prev, modules),
            }
        )
        prev = modules
    return rows


def _changes(levers: list[str], before: dict | None, after: dict) -> str:
    """'lever 0->2, other 1->0': the levers whose modules change from the previous weight."""
    if before is None:
        return ""
    return ", ".join(f"{l} {before[l]:g}->{after[l]:g}" for l in levers if abs(after[l] - before[l]) > 1e-6)


def risk_frame(rows: list[dict]) -> pd.DataFrame:
    """risk_frontier.csv."""
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)
