"""A plan when the solver has none in time, and a bound when the solver has none at all.

`relief solve --time-limit T` always returns with a plan when one exists (issue 14). When
HiGHS stops at the time limit without a plan (or the limit comes while the model is still
being built), relief reports, in this order, the first of these that the independent
evaluation accepts:

1. the empty plan: nothing committed. It meets every limit unless something is owed
   (obligations.csv) or forced (--force);
2. the least plan that meets what is owed and forced: each obligation's modules (and
   each forced lever's minimum), a lever's min_modules whenever it is used, and every
   lever a used lever `requires` at its own minimum, at most max_modules_per_year a year,
   committed as early as each lever allows;
3. the same modules committed as late as each deadline allows (budgets often ramp up).
Greedy: both may fail a yearly budget that a cleverer schedule would meet, or an
`excludes` relation; then no plan is reported (exit 4) although one may exist.

Its relief is what the evaluator computes; the bound is HiGHS's when HiGHS reached one,
else `relief_ceiling`: every stance's every track at its most valuable tier in every year
(as if all tiers were reachable and free). Loose, but a true upper bound, so the gap
reported is never too small.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from relief.model.core.build import MIN_DIVISIBLE, Structure, discount_factor, tier_relief
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.frames import records
from relief.model.core.information import Information

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation


def fallback_plans(case: Case, force=()) -> list[tuple[str, dict]]:
    """The plans to try, in order, each named: [("empty plan", {}), ("least plan ...", plan)]."""
    plans = [("the empty plan (nothing committed)", {})]
    early, late = least_plan(case, force), least_plan(case, force, late=True)
    if early:
        plans.append(("the least plan that meets what is owed and forced", early))
    if late and late != early:
        plans.append(("the least plan that meets what is owed and forced, committed as late as allowed", late))
    return plans


def least_plan(case: Case, force=(), late: bool = False) -> dict:
    """{(lever, year): modules}: what obligations and forced levers require, as early as
    allowed (or, `late`, as late as their deadlines allow)."""
    lv = {r["lever"]: r for r in records(case.table("levers"))}
    need: dict[str, list[tuple[int, float]]] = {}  # lever -> [(by_year, cumulative modules)]
    for r in records(case.table("obligations")):
        need.setdefault(r["lever"], []).append((int(r["by_year"]), float(r["min_modules"])))
    last = case.meta["last_year"]
    for l in force:
        need.setdefault(l, []).append((last, _min_used(lv[l])))
    requires = [(r["lever"], r["other"]) for r in records(case.table("relations")) if r["relation"] == "requires"]
    changed = True
    while changed:  # a used lever's requirements are used too (transitively)
        changed = False
        for l, other in requires:
            if l in need and other not in need and other in lv:
                need[other] = [(last, _min_used(lv[other]))]
                changed = True
    plan: dict = {}
    for l, rows in need.items():
        schedule = _latest if late else _earliest
        plan.update(schedule(lv[l], rows, case.meta["first_year"], last))
    return plan


def _min_used(lever: dict) -> float:
    return max(float(lever["min_modules"]), 1.0 if lever["integer"] else MIN_DIVISIBLE)


def _total(lever: dict, rows: list[tuple[int, float]]) -> float:
    total = max(max(n for _, n in rows), _min_used(lever))
    if lever["integer"]:
        total = math.ceil(total - 1e-9)
    return min(total, float(lever["max_modules"]))


def _latest(lever: dict, rows: list[tuple[int, float]], first: int, last: int) -> dict:
    """Modules by year, as late as every (by_year, cumulative) row allows."""
    total, per_year = _total(lever, rows), float(lever["max_modules_per_year"])
    start = max(first, int(lever["earliest_year"]))
    out, left = {}, total
    for t in range(min(last, max(y for y, _ in rows)), start - 1, -1):
        before = max([n for y, n in rows if y < t] + [0.0])  # what must be committed before t
        step = max(0.0, min(per_year, left - before))
        if step > 1e-12:
            out[(lever["lever"], t)] = step
            left -= step
    return out


def _earliest(lever: dict, rows: list[tuple[int, float]], first: int, last: int) -> dict:
    """Modules by year, as early as the lever allows, meeting every (by_year, cumulative) row."""
    total, per_year = _total(lever, rows), float(lever["max_modules_per_year"])
    out, done = {}, 0.0
    for t in range(max(first, int(lever["earliest_year"])), last + 1):
        if done >= total - 1e-12:
            break
        step = min(per_year, total - done)
        out[(lever["lever"], t)] = step
        done += step
    return out


def fallback_evaluation(case: Case, force=(), exclude=()) -> tuple[str, Evaluation] | None:
    """The first fallback plan the evaluator accepts, with its evaluation; None if none is."""
    adaptive = not Information.of(case).static
    for name, plan in fallback_plans(case, force):
        if any(l in exclude for l, _ in plan):
            continue
        if adaptive:  # one roadmap for every stance is also an adaptive plan
            plan = {(l, t, s): v for (l, t), v in plan.items() for s in case.scenarios}
        ev = evaluate_plan(case, plan, force=force, exclude=exclude)
        if not ev.violations:
            return name, ev
    return None


def relief_ceiling(case: Case) -> float:
    """An upper bound on the expected relief of any plan: each stance's tracks at their most
    valuable tier in every year, discounted and probability-weighted. Also a bound on every
    risk measure (the worst stance, or a mix of the mean and the worst tail's mean, is never
    above the mean)."""
    best: dict[tuple, float] = {}
    for (s, r, t, _k), v in tier_relief(case, Structure.of(case)).items():
        best[(s, r, t)] = max(best.get((s, r, t), 0.0), v)
    prob = {r["scenario"]: float(r["probability"]) for r in records(case.table("scenarios"))}
    return sum(prob[s] * discount_factor(case, t) * v for (s, _r, t), v in best.items())
