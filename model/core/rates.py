"""Dated tariff schedules: the rate of each (scenario, track, tier, sector) in each year.

tariffs.csv's optional `from_year` dates a rate: it applies from that year until the next row
of the same (scenario, track, tier, sector) with a later `from_year`; a row without one applies
from case.yaml's `first_year`. A part year is given by the data as that year's effective rate
(docs/formulation.md, "Dated rates"). Every reader of rates (build, evaluate, checks) asks here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relief.model.core.coerce import blank
from relief.model.core.frames import memo

if TYPE_CHECKING:
    from relief.model.core.case import Case


def effective_from(value, first_year: int) -> int:
    """A row's from_year, blank meaning first_year."""
    return int(first_year) if blank(value) else int(value)


def schedules(case: Case) -> dict[tuple, list[tuple[int, float]]]:
    """(scenario, track, tier, sector) -> [(from_year, rate)], ascending from_year."""
    first = case.meta["first_year"]
    out: dict[tuple, list] = {}
    df = case.table("tariffs")
    from_years = df["from_year"] if "from_year" in df.columns else [None] * len(df)
    for s, r, k, j, fy, rate in zip(df["scenario"], df["track"], df["tier"], df["sector"], from_years, df["rate"]):
        out.setdefault((s, r, k, j), []).append((effective_from(fy, first), float(rate)))
    for v in out.values():
        v.sort(key=lambda p: p[0])
    return out


def rate_in(schedule: list[tuple[int, float]], year: int) -> float:
    """The rate in force in `year`: that of the latest row from on or before it."""
    rate = schedule[0][1]
    for fy, v in schedule:
        if fy <= year:
            rate = v
    return rate


def yearly_rates(case: Case) -> dict[tuple, float]:
    """(scenario, track, tier, sector, year) -> rate, for every year of the horizon (computed
    once per case: the model and the independent evaluation both need them). Read-only."""
    return memo(case, "yearly_rates", lambda: _yearly(case))


def _yearly(case: Case) -> dict[tuple, float]:
    return {key + (t,): rate_in(sched, t) for key, sched in schedules(case).items() for t in case.years}


def is_dated(case: Case) -> bool:
    """Some rate of the case changes within the horizon."""
    first = case.meta["first_year"]
    return any(len({fy for fy, _ in v}) > 1 or v[0][0] != first for v in schedules(case).values())
