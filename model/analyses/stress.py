"""Stress test of a fixed roadmap (`relief stress RUN`): the plan of a run re-evaluated, never
re-optimised, under perturbations of its case.

Every perturbation is a pure case transformation (`slip_case`, `raise_thresholds`, `scale_credit`,
overrides), and the plan is valued on the perturbed case by the independent evaluator
(`core/evaluate.evaluate_plan`). An adaptive run (roadmap.csv with a `scenario` column) has one plan
per stance: each stance's relief is that of its own plan. docs/analyses.md gives the definitions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relief.model.core.evaluate import evaluate_plan, tidy
from relief.model.core.overrides import apply_overrides

if TYPE_CHECKING:
    import pandas as pd

    from relief.model.core.case import Case

ALL = "all"  # --slip all:YEARS slips every lever
REPRODUCE_TOL = 1e-9  # relative: the run's expected relief and the re-evaluated plan's must agree this well
BATTERY_THRESHOLDS = (0.05, 0.10)
BATTERY_CREDIT = 0.8
BATTERY_SLIP = 1


class StressError(ValueError):
    """A request or a run that cannot be stress-tested (bad lever, a run whose case changed)."""


# ----------------------------------------------------------------------------------
# Perturbations: pure case transformations
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Perturbation:
    """What is changed together: slips (lever or 'all', years), a raise of every tier threshold
    (a share), a factor on every stance's commitment credit, and --set overrides."""

    slips: tuple[tuple[str, int], ...] = ()
    raise_thresholds: float = 0.0
    credit: float = 1.0
    overrides: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.slips and not self.raise_thresholds and self.credit == 1.0 and not self.overrides

    def label(self) -> str:
        """'slip us_fab_module +1y; thresholds +5%; credit x0.8; set PATH=V', or 'as planned'."""
        parts = [f"slip {l} +{y}y" for l, y in self.slips]
        if self.raise_thresholds:
            parts.append(f"thresholds +{100 * self.raise_thresholds:g}%")
        if self.credit != 1.0:
            parts.append(f"credit x{self.credit:g}")
        parts += [f"set {o}" for o in self.overrides]
        return "; ".join(parts) or "as planned"

    def to_dict(self) -> dict:
        return {
            "slip": [{"lever": l, "years": y} for l, y in self.slips],
            "raise_thresholds": self.raise_thresholds,
            "credit": self.credit,
            "overrides": list(self.overrides),
        }


def parse_slip(text: str) -> tuple[str, int]:
    """'LEVER:YEARS' -> (lever, years), years a whole number >= 1 ('all:1' slips every lever)."""
    lever, sep, years = str(text).strip().rpartition(":")
    try:
        n = int(years)
    except ValueError:
        n = None
    if not sep or not lever or n is None or n < 1:
        raise StressError(f"--slip {text!r}: write LEVER:YEARS with YEARS a whole number >= 1, e.g. us_fab_module:1")
    return lever.strip(), n


def check_slips(case: Case, slips) -> None:
    levers = list(case.table("levers")["lever"])
    for l, _ in slips:
        if l != ALL and l not in levers:
            raise StressError(f"--slip {l}: no such lever in levers.csv (levers: {', '.join(levers)}; or all)")


def _with(case: Case, **tables: pd.DataFrame) -> Case:
    """`case` with some tables changed, not validated again: the changes below keep every table valid
    (a longer lead time, thresholds times a factor above 1, credits within [0, 1]), and the solver's
    coefficient range, the one rule they could move, does not concern the evaluator. (Validating
    each perturbation would cost a fifth of a second each.)"""
    return dataclasses.replace(case, tables={**case.tables, **tables})


def slip_case(case: Case, slips) -> Case:
    """Each slipped lever's lead_time_years grows by its years (`all`: every lever). Used for the
    scores only: spending is spread over the original lead time (see `stress_row`)."""
    if not slips:
        return case
    check_slips(case, slips)
    lv = case.table("levers").copy()
    for l, y in slips:
        rows = lv.index if l == ALL else lv.index[lv["lever"] == l]
        lv.loc[rows, "lead_time_years"] = lv.loc[rows, "lead_time_years"] + int(y)
    lv["lead_time_years"] = lv["lead_time_years"].astype("int64")
    return _with(case, levers=lv)


def raise_thresholds(case: Case, share: float) -> Case:
    """Every tier threshold above the baseline (tiers.csv) x (1 + share); pillar minimums
    (tier_requirements.csv) are left as they are."""
    if not share:
        return case
    if share < 0:
        raise StressError(f"--raise-thresholds {share:g}: a raise is at least 0")
    t = case.table("tiers").copy()
    t["threshold"] = t["threshold"].astype(float) * (1.0 + share)
    return _with(case, tiers=t)


def scale_credit(case: Case, factor: float) -> Case:
    """Every stance's commitment_credit x factor, capped at 1."""
    if factor == 1.0:
        return case
    if factor < 0:
        raise StressError(f"--credit {factor:g}: a factor is at least 0")
    s = case.table("scenarios").copy()
    s["commitment_credit"] = (s["commitment_credit"].astype(float) * factor).clip(upper=1.0)
    return _with(case, scenarios=s)


def perturbed(case: Case, p: Perturbation, slips: bool = True) -> Case:
    """The case under `p`: overrides first, then thresholds, credit and (if `slips`) the slips."""
    work = apply_overrides(case, list(p.overrides))
    work = scale_credit(raise_thresholds(work, p.raise_thresholds), p.credit)
    return slip_case(work, p.slips) if slips else work


def battery(plans: dict[str, dict], case: Case) -> list[Perturbation]:
    """The default battery: each lever a plan uses slipped a year, thresholds +5% and +10%,
    commitment credit x0.8."""
    used = {l for plan in plans.values() for (l, _), v in plan.items() if v}
    out = [Perturbation(slips=((l, BATTERY_SLIP),)) for l in case.table("levers")["lever"] if l in used]
    out += [Perturbation(raise_thresholds=x) for x in BATTERY_THRESHOLDS]
    return out + [Perturbation(credit=BATTERY_CREDIT)]


# ----------------------------------------------------------------------------------
# The plan of a run
# ----------------------------------------------------------------------------------


def plans_of(roadmap: pd.DataFrame, scenarios) -> dict[str, dict]:
    """{stance: {(lever, year): modules committed}} from a run's roadmap table: the same plan for
    every stance, or with a `scenario` column (an adaptive run) each stance's own."""
    scenarios = [str(s) for s in scenarios]
    if "scenario" not in roadmap.columns:
        plan = _plan(roadmap)
        return dict.fromkeys(scenarios, plan)
    rm = roadmap.assign(scenario=roadmap["scenario"].astype(str))
    missing = [s for s in scenarios if s not in set(rm["scenario"])]
    if missing:
        raise StressError(f"roadmap.csv has no rows for stance(s) {', '.join(missing)} of scenarios.csv")
    return {s: _plan(rm[rm["scenario"] == s]) for s in scenarios}


def _plan(rows: pd.DataFrame) -> dict:
    return {(str(r.lever), int(r.year)): float(r.committed) for r in rows.itertuples() if float(r.committed)}


# ----------------------------------------------------------------------------------
# Re-evaluation
# ----------------------------------------------------------------------------------


@dataclass
class Valued:
    """A plan (or one plan per stance) valued on one case."""

    expected_relief: float
    by_scenario: dict[str, float]
    tiers: dict[tuple[str, str, int], tuple[str, float]]  # (stance, track, year) -> (tier, relief that year)
    margins: list[dict] = field(default_factory=list)  # tier rows above the baseline, with margin_rel
    violations: list[str] = field(default_factory=list)


def value_plans(case: Case, plans: dict[str, dict], force=(), exclude=(), limits: Case | None = None) -> Valued:
    """Each distinct plan evaluated on `case` (each stance takes its own plan's relief); expected
    relief = sum_s probability_s relief_s. Violations are those of `limits` (default `case`):
    the case whose spending and limits apply (a slip moves operation, not money)."""
    prob = {
        str(s): float(p) for s, p in zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"])
    }
    evals: dict = {}
    by, tiers, margins, violations = {}, {}, [], []
    for s, plan in plans.items():
        key = tuple(sorted(plan.items()))
        if key not in evals:
            ev = evaluate_plan(case, plan, force, exclude)
            bad = evaluate_plan(limits, plan, force, exclude).violations if limits is not None else ev.violations
            evals[key] = ev
            violations += [v for v in bad if v not in violations]
        ev = evals[key]
        by[s] = ev.by_scenario[s]
        for r in ev.tiers[ev.tiers["scenario"] == s].to_dict("records"):
            tiers[(s, r["track"], int(r["year"]))] = (r["tier"], float(r["relief"]))
            m = r["margin_rel"]
            if r["tier"] != r["base_tier"] and m is not None and m == m:  # a tier at threshold 0 has no margin
                margins.append(r)
    if len(evals) == 1:  # one plan: exactly the evaluator's expected relief
        expected = next(iter(evals.values())).expected_relief
    else:
        expected = tidy(sum(prob[s] * v for s, v in by.items()))
    return Valued(expected, by, tiers, margins, violations)


def tier_changes(planned: Valued, now: Valued) -> tuple[list[dict], list[dict]]:
    """The (stance, track, year) cells whose tier changed: those worth less now (lost) and more (gained)."""
    lost, gained = [], []
    for (s, r, t), (tier, rel) in planned.tiers.items():
        new, new_rel = now.tiers.get((s, r, t), (tier, rel))
        if new == tier:
            continue
        rec = {"scenario": s, "track": r, "year": t, "tier": tier, "now": new, "relief_lost": tidy(rel - new_rel)}
        (lost if new_rel <= rel else gained).append(rec)
    return lost, gained


# ----------------------------------------------------------------------------------
# The analysis
# ----------------------------------------------------------------------------------


@dataclass
class StressRow:
    perturbation: Perturbation
    valued: Valued
    tiers_lost: list[dict]
    tiers_gained: list[dict]

    def record(self, planned: Valued) -> dict:
        v = self.valued
        lost = tidy(planned.expected_relief - v.expected_relief)
        return {
            "perturbation": self.perturbation.label(),
            **self.perturbation.to_dict(),
            "expected_relief": v.expected_relief,
            "relief_lost": lost,
            "share_lost": tidy(lost / planned.expected_relief) if planned.expected_relief else None,
            "by_scenario": v.by_scenario,
            "lost_by_scenario": {s: tidy(planned.by_scenario[s] - x) for s, x in v.by_scenario.items()},
            "tiers_lost_count": len(self.tiers_lost),
            "tiers_lost": self.tiers_lost,
            "tiers_gained": self.tiers_gained,
            "violations": v.violations,
        }


def stress_row(case: Case, plans: dict, p: Perturbation, planned: Valued, force=(), exclude=()) -> StressRow:
    """The plans valued under `p`: scores on the perturbed case; limits on it without the slips (a slip
    moves operation, not money), and as planned unless `p` changes other data (thresholds and credit
    bind nothing)."""
    scored = perturbed(case, p)
    if p.overrides:
        v = value_plans(scored, plans, force, exclude, limits=perturbed(case, p, slips=False) if p.slips else None)
    else:
        v = value_plans(scored, plans, force, exclude, limits=None)
        v.violations = list(planned.violations)
    lost, gained = tier_changes(planned, v)
    return StressRow(p, v, lost, gained)


@dataclass
class StressTest:
    case: Case
    plans: dict[str, dict]
    planned: Valued
    rows: list[StressRow]
    adaptive: bool
    battery: bool

    def report(self) -> dict:
        prob = {
            str(s): float(p)
            for s, p in zip(self.case.table("scenarios")["scenario"], self.case.table("scenarios")["probability"])
        }
        rows = [StressRow(Perturbation(), self.planned, [], []).record(self.planned)]
        rows += [r.record(self.planned) for r in self.rows]
        return {
            "analysis": "stress",
            "adaptive": self.adaptive,
            "battery": self.battery,
            "expected_relief": self.planned.expected_relief,
            "probability": prob,
            "rows": rows,
            "first_break": first_break(rows[1:], self.planned),
        }


def first_break(rows: list[dict], planned: Valued) -> dict:
    """What breaks the roadmap first: the perturbation losing the most expected relief (also at the top
    level: perturbation, relief_lost, tiers_lost_count; None if none loses anything); the mildest
    one losing a tier (the least expected relief lost among those that lose any tier; ties: the
    first asked); and the smallest raise of the thresholds that loses a tier (the least margin of a
    tier reached, exact: no other perturbation is needed to know it)."""

    def brief(r):
        return None if r is None else {k: r[k] for k in ("perturbation", "relief_lost", "tiers_lost_count")}

    losing = [r for r in rows if r["relief_lost"] > 0]
    most = max(losing, key=lambda r: r["relief_lost"], default=None)  # max keeps the first of ties
    broken = [r for r in rows if r["tiers_lost_count"]]
    mildest = min(broken, key=lambda r: r["relief_lost"], default=None)
    least = min(planned.margins, key=lambda r: r["margin_rel"], default=None)
    threshold = None
    if least is not None:
        threshold = {
            "raise": least["margin_rel"],
            "scenario": least["scenario"],
            "track": least["track"],
            "year": int(least["year"]),
            "tier": least["tier"],
            "score": least["score"],
            "threshold": least["threshold"],
        }
    # the headline (top level): the perturbation losing the most; then each reading in full
    head = brief(most) or {"perturbation": None, "relief_lost": 0.0, "tiers_lost_count": 0}
    return {
        **head,
        "most_relief_lost": brief(most),
        "mildest_tier_lost": brief(mildest),
        "threshold_break": threshold,
    }


def stress_test(
    case: Case, roadmap: pd.DataFrame, expected: float | None, asked: list[Perturbation] | None, force=(), exclude=()
) -> StressTest:
    """The run's plan(s) valued as planned (which must reproduce the run's expected relief `expected`),
    then under each perturbation of `asked` (None: the default battery)."""
    plans = plans_of(roadmap, case.table("scenarios")["scenario"])
    planned = value_plans(case, plans, force, exclude)
    if expected is not None and abs(planned.expected_relief - expected) > REPRODUCE_TOL * max(1.0, abs(expected)):
        raise StressError(
            f"the run's plan re-evaluated on its case gives an expected relief of {planned.expected_relief:.10g}, "
            f"not the {expected:.10g} of its summary.json: the run's case or roadmap was changed after it was solved"
        )
    for p in asked or ():
        check_slips(case, p.slips)
    perturbations = battery(plans, case) if asked is None else asked
    rows = [stress_row(case, plans, p, planned, force, exclude) for p in perturbations]
    adaptive = "scenario" in roadmap.columns
    return StressTest(case, plans, planned, rows, adaptive, asked is None)
