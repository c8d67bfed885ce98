"""The relief-budget frontier: expected relief against one parameter, with its knees.

A frontier is a one-parameter grid sweep (the sweep machinery does the solving): here
are its definition (the parameter and its default range) and the table its points
become: the marginal relief per extra unit of the parameter between neighbouring
points, and the knees, where that marginal value drops the most.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from relief.model.core.case import Case
    from relief.model.sweeps.spec import Parameter, Point, SweepDefinition


def frontier_table(xs: list, ys: list, max_knees: int = 3, min_drop: float = 0.2) -> list[dict]:
    """Rows sorted by x: x, expected_relief, marginal (per unit of x, from the previous
    point), knee (True where the marginal value falls by at least `min_drop` of the
    largest marginal value, the `max_knees` largest such drops)."""
    pts = sorted((float(x), float(y)) for x, y in zip(xs, ys) if y is not None and not math.isnan(float(y)))
    rows = [{"x": x, "expected_relief": y, "marginal": None, "knee": False} for x, y in pts]
    for i in range(1, len(rows)):
        dx = rows[i]["x"] - rows[i - 1]["x"]
        rows[i]["marginal"] = (rows[i]["expected_relief"] - rows[i - 1]["expected_relief"]) / dx if dx else None
    slopes = [abs(r["marginal"]) for r in rows if r["marginal"] is not None]
    top = max(slopes) if slopes else 0.0
    drops = []
    for i in range(1, len(rows) - 1):
        before, after = rows[i]["marginal"], rows[i + 1]["marginal"]
        if before is None or after is None or top == 0:
            continue
        drop = (before - after) / top
        if drop >= min_drop:
            drops.append((drop, i))
    for _, i in sorted(drops, reverse=True)[:max_knees]:
        rows[i]["knee"] = True
    return rows


# ---------------------------------------------------------------- the frontier as a sweep

SOLVED = ("optimal", "time_limit", "limit")  # statuses of a point with a plan
FRONTIER_COLUMNS = ["x", "expected_relief", "public_spend", "marginal", "knee"]
STEPS = 21


def solved_points(points: list[Point], done: dict) -> list[tuple[Point, dict]]:
    """The points of a sweep with a plan (optimal, or found at a limit), with their rows."""
    out = []
    for p in points:
        r = done.get(p.id)
        if r and r["status"] in SOLVED and r["expected_relief"] != "":
            out.append((p, r))
    return out


def frontier_definition(
    case: Case, param: str, range_: str | None, force=(), exclude=(), overrides=()
) -> tuple[SweepDefinition, Parameter]:
    """The grid sweep of a frontier over `param` (a --set path; PATH* for a factor); without
    a range, STEPS points from 0 up to a default high end (`default_high`; 2 for a factor)."""
    from relief.model.sweeps.spec import SweepDefinition, parse_vary

    scale = param.endswith("*")
    path = param[:-1] if scale else param
    if range_ is None:
        range_ = f"0:2:{STEPS}" if scale else f"0:{default_high(case, path, force, exclude, overrides)}:{STEPS}"
    p = parse_vary(f"{path}{'*=' if scale else '='}{range_}")
    defn = SweepDefinition(
        parameters=[p], method="grid", force=tuple(force), exclude=tuple(exclude), fixed=tuple(overrides)
    )
    return defn, p


def default_high(case: Case, path: str, force=(), exclude=(), overrides=()) -> float:
    """Upper end of a frontier's default range: for the total public budget, 1.5 times what
    the optimal plan spends with no total cap (the yearly budgets still apply; beyond that
    spend relief cannot grow), to 2 significant digits (150 for the default case, whose
    optimum spends 98.5); for the tier margin (case.tier_margin, below 1) 20%, or twice the
    case's margin if that is more (at most 0.95); otherwise twice the parameter's value in the
    case. docs/sweeps.md and `relief frontier --help` say the same."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides, resolve_path
    from relief.model.core.run import run_case

    if path == "case.total_public_budget":
        work = apply_overrides(case, list(overrides) + ["case.total_public_budget=1e6"])
        res = run_case(work, SolveOptions.resolve(work.meta), tuple(force), tuple(exclude))
        if res.evaluation is not None and res.evaluation.public_spend > 0:
            return float(f"{1.5 * res.evaluation.public_spend:.2g}")
    target, column, rows = resolve_path(case, path)
    cur = case.meta.get(column) if target == "case" else float(case.table(target)[column].iloc[rows[0]])
    if path == "case.tier_margin":
        return min(max(0.2, 2 * float(cur or 0.0)), 0.95)
    if not cur:
        cur = float(case.table("budget")["public_budget_usd_bn"].sum())
    return 2 * float(cur)


def frontier_rows(points: list[Point], done: dict, label: str) -> list[dict]:
    """`frontier_table` of a finished sweep, each row with the public spending of its point."""
    xs, ys, spend = [], [], {}
    for pt, r in solved_points(points, done):
        xs.append(float(pt.values[label]))
        ys.append(float(r["expected_relief"]))
        spend[float(pt.values[label])] = float(r["public_spend"])
    rows = frontier_table(xs, ys)
    for r in rows:
        r["public_spend"] = spend.get(r["x"])
    return rows


def frontier_frame(rows: list[dict], label: str) -> pd.DataFrame:
    """frontier.csv: the rows with the parameter's label as the first column's name."""
    import pandas as pd

    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS).rename(columns={"x": label})
