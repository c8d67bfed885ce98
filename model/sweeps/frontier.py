"""The relief-budget frontier: expected relief against one parameter, with its knees.

A frontier is a one-parameter grid sweep (the sweep machinery does the solving). Here
its points become a table: the marginal relief per extra unit of the parameter between
neighbouring points, and the knees, where that marginal value drops the most.
"""

from __future__ import annotations

import math


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
