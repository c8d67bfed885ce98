"""What one run of a case gives, and the check every plan passes before it is reported.

`finish_run` turns a solve into a `RunResult`: the plan re-evaluated from the case tables
by `evaluate_plan`, checked against the solver's own objective and bound (`check`), or the
explanation of an infeasibility. The session (session.py) calls it after every solve;
`run_case` (run.py) is the one door for a single run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relief.model.core.evaluate import MARGIN_TOLERANCE, Evaluation, clean_plan, evaluate_plan
from relief.model.core.options import SolveOptions, SolveOutcome, _gap, solver_info

if TYPE_CHECKING:
    import numpy as np

    from relief.model.core.case import Case

DUTY_KEYS = ("expected_duty_paid", "expected_duty_no_delivery", "expected_duty_current", "expected_relief_vs_current")
CHECK_TOLERANCE = 1e-6  # relative gap allowed between the solver's relief and the re-computed one


class NoPlan(RuntimeError):
    """A solve an analysis needs found no plan (or none it can use)."""


class CheckError(RuntimeError):
    """The independent evaluation disagrees with the solver: never report such a plan."""


@dataclass
class RunResult:
    case: Case
    outcome: SolveOutcome
    evaluation: Evaluation | None
    options: SolveOptions
    force: tuple = ()
    exclude: tuple = ()
    overrides: tuple = ()
    diagnosis: object = None  # diagnose.Diagnosis: which limits conflict, if infeasible
    integers: np.ndarray | None = None  # the plan's whole-module decisions (x, y, z), rounded (marginal values)
    margin_tolerance: float = MARGIN_TOLERANCE  # a tier reached with less to spare is flagged thin
    without_obligations: bool = False  # obligations.csv was dropped (relief solve --without-obligations)

    def warn_margin(self, tolerance: float) -> None:
        """Flag tiers reached with a margin below `tolerance` (a share of the threshold)."""
        self.margin_tolerance = float(tolerance)
        if self.evaluation is not None:
            self.evaluation.mark_thin(self.margin_tolerance)

    def tier_margins(self) -> list[dict]:
        """Every tier reached above the baseline, with its margin: score - threshold, and that as
        a share of the threshold; `thin` where the share is below the margin tolerance. Under a
        tier_margin the score required is threshold x (1 + tier_margin) (tiers.csv's
        `required_score`; `tier_margin` in the report) and the margin is still measured against
        the threshold itself, so a margin plan shows its slack."""
        ev = self.evaluation
        if ev is None or not len(ev.tiers):
            return []
        keys = ("scenario", "track", "year", "tier", "score", "threshold", "margin", "margin_rel", "thin")
        reached = ev.tiers[ev.tiers["tier"] != ev.tiers["base_tier"]]
        return [
            {k: (int(r[k]) if k == "year" else bool(r[k]) if k == "thin" else r[k]) for k in keys}
            for r in reached.to_dict("records")
        ]

    risk_option: str | None = None  # `--risk` as typed (its case.yaml overrides are in `overrides`)
    plan_source: str = "solver"  # or the fallback plan reported at a time limit (model/core/fallback.py)
    notes: list = field(default_factory=list)  # what a planner should know of the request ("--force X changed nothing")

    @property
    def conflicts(self) -> list[str]:
        """The conflicts in planner's words, one line each (empty unless infeasible)."""
        return self.diagnosis.texts() if self.diagnosis is not None else []

    @property
    def status(self) -> str:
        return self.outcome.status

    def _envelopes(self) -> dict:
        """With several funding envelopes: {"public_spend_by_envelope": {envelope: all its public
        spending}} (every envelope a lever uses); nothing with one, so such a case's JSON is as before."""
        ev = self.evaluation
        if ev is None or ev.envelope_spending["envelope"].nunique() < 2:
            return {}
        return {
            "public_spend_by_envelope": {
                e: ev.envelope_totals.get(e, 0.0) for e in ev.envelope_spending["envelope"].unique()
            }
        }

    def _tree(self) -> dict:
        """The roadmap as a tree (docs/formulation.md, Adaptive): `portfolio` is then the first
        moves (the years every stance shares), `portfolio_by_scenario` each stance's whole
        roadmap, `reveal` what is known when. A static plan: every stance has `portfolio`."""
        from relief.model.core.information import Information

        ev = self.evaluation
        if ev is None:
            return {"portfolio_by_scenario": {}, "reveal": Information.of(self.case).report()}
        if ev.adaptive:
            return {
                "portfolio_by_scenario": ev.portfolio_by_scenario,
                "public_spend_by_scenario": ev.public_spend_by_scenario,
                "reveal": ev.reveal,
            }
        return {
            "portfolio_by_scenario": {s: dict(ev.portfolio) for s in self.case.scenarios},
            "reveal": Information.of(self.case).report(),
        }

    def report(self) -> dict:
        """The JSON object of `relief solve --json` (model-spec section 4)."""
        ev = self.evaluation
        out = {
            "status": self.outcome.status,
            "expected_relief": ev.expected_relief if ev else None,
            "public_spend": ev.public_spend if ev else None,
            "mip_gap": self.outcome.mip_gap,
            "solve_seconds": round(self.outcome.solve_seconds, 6),
            "case": self.case.name,
            "case_path": self.case.origin,
            "input_sha256": self.case.sha256(),
            "solver": self.outcome.solver or solver_info(),
            "overrides": [str(o) for o in self.overrides],
            **({"risk_option": self.risk_option} if self.risk_option is not None else {}),
            "force": list(self.force),
            "exclude": list(self.exclude),
            "without_obligations": self.without_obligations,
            "obligations": [dict(o) for o in ev.obligations] if ev else [],
            "by_scenario": dict(ev.by_scenario) if ev else {},
            "portfolio": dict(ev.portfolio.items()) if ev else {},
            "objective_bound": self.outcome.bound,
            "discounted_public_spend": ev.discounted_public_spend if ev else None,
            "total_spend": ev.total_spend if ev else None,
            **self._envelopes(),
            "spend_stage_status": self.outcome.stage2,
            "options": {
                "time_limit": self.options.time_limit,
                "mip_gap": self.options.mip_gap,
                "threads": self.options.threads,
                "seed": self.options.seed,
            },
            "warnings": [str(w) for w in self.case.warnings],
            "margin_tolerance": self.margin_tolerance,
            "tier_margin": float(self.case.meta.get("tier_margin") or 0.0),  # tiers count at threshold x (1 + it)
            "notes": list(self.notes),
            "plan_source": self.plan_source,
        }
        out["as_of"] = self.case.meta.get("as_of")
        out.update(ev.duty_summary if ev and ev.duty_summary else dict.fromkeys(DUTY_KEYS))
        out.setdefault("duty_by_scenario", {})
        margins = self.tier_margins()
        out["tier_margins"] = margins
        out["thin_tiers"] = sum(m["thin"] for m in margins)
        from relief.model.core.risk import Risk, distribution, measure_value

        risk = Risk.of_case(self.case.meta)
        prob = dict(zip(self.case.table("scenarios")["scenario"], self.case.table("scenarios")["probability"]))
        out["risk"] = {
            "measure": risk.spec(),
            "label": risk.label(),
            "value": measure_value(risk, ev.by_scenario, prob) if ev else None,
        }
        out["relief_distribution"] = (
            distribution(dict(ev.by_scenario), prob, risk.alpha if risk.kind == "cvar" else 0.8) if ev else {}
        )
        out.update(self._tree())
        if ev:
            rm = ev.roadmap
            if ev.adaptive:  # the first moves; then each stance's whole roadmap
                first = rm[(rm["scenario"] == self.case.scenarios[0]) & rm["year"].isin(ev.reveal["first_moves_years"])]
                out["schedule"] = schedule(first)
                out["schedule_by_scenario"] = {s: schedule(rm[rm["scenario"] == s]) for s in self.case.scenarios}
            else:
                out["schedule"] = schedule(rm)
        if self.diagnosis is not None:
            d = self.diagnosis
            out["conflicts"] = [c.to_dict() for c in d.conflicts] or [
                {"kind": "unknown", "name": "", "limit": None, "needed": None, "text": d.note, "unit": ""}
            ]
            out["conflicts_found_by"] = d.method
        return out


def schedule(roadmap) -> dict:
    """{lever: {year: modules committed}} of a roadmap table, the levers and years with modules only."""
    out: dict = {}
    for r in roadmap.itertuples():
        if r.committed:
            out.setdefault(r.lever, {})[int(r.year)] = r.committed
    return out


def finish_run(case: Case, engine, outcome: SolveOutcome, options, force=(), exclude=(), overrides=()) -> RunResult:
    """Solve -> evaluate: explain an infeasibility, or evaluate and check the plan found."""
    result = RunResult(case, outcome, None, options, tuple(force), tuple(exclude), tuple(overrides))
    if outcome.status == "infeasible":
        from relief.model.core.diagnose import explain_infeasibility

        if hasattr(engine.model, "branch"):
            # every limit binds every branch alike: an adaptive case is infeasible exactly when one
            # roadmap for all stances is, and that is what is explained
            from relief.model.core.build import build_model
            from relief.model.core.engine import HighsEngine
            from relief.model.core.information import static_case

            case = static_case(case)
            engine = HighsEngine(build_model(case, force, exclude), options)
        result.diagnosis = explain_infeasibility(engine, case)
        return result
    if not outcome.has_solution:
        return result
    ev = evaluate_plan(case, clean_plan(case, engine.plan()), force=force, exclude=exclude)
    check(ev, outcome, case)
    if outcome.status != "optimal" and outcome.bound is not None:
        # stopped at a limit: the later stages may have found a better plan than stage 1's
        # incumbent; the gap reported is that of the plan reported
        outcome.mip_gap = _gap(stage1_value(ev, case)[0], outcome.bound)
    result.evaluation = ev
    return result


def stage1_value(ev: Evaluation, case: Case | None) -> tuple[float, str]:
    """What stage 1 maximised (expected relief, or the case's risk measure), re-computed from
    the relief of each scenario (model/risk.py, by sorting), and its name."""
    from relief.model.core.risk import Risk, measure_value

    risk = Risk.of_case(case.meta) if case is not None else Risk()
    if risk.kind == "expected":
        return ev.expected_relief, "expected relief"
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    return measure_value(risk, ev.by_scenario, prob), risk.label()


def check(ev: Evaluation, outcome: SolveOutcome, case: Case | None = None) -> None:
    """The plan must be feasible, worth at least what the solver found, no more than its
    bound, and cost the public money the spending stage says it costs."""
    if ev.violations:
        raise CheckError(
            "the solver's plan breaks limits when re-checked from the tables: " + "; ".join(ev.violations[:5])
        )
    value, what = stage1_value(ev, case)
    tol = CHECK_TOLERANCE * max(1.0, abs(outcome.objective or 0.0))
    if outcome.objective is not None and value < outcome.objective - tol:
        raise CheckError(f"re-computed {what} {value:.9g} is below the solver's {outcome.objective:.9g}")
    if outcome.bound is not None and value > outcome.bound + tol:
        raise CheckError(f"re-computed {what} {value:.9g} is above the solver's bound {outcome.bound:.9g}")
    if outcome.spend_objective is not None:
        tol = CHECK_TOLERANCE * max(1.0, abs(outcome.spend_objective))
        capex = case is not None and case.meta.get("second_stage") == "capex" and ev.discounted_capex is not None
        spent, what = (ev.discounted_capex, "capex") if capex else (ev.discounted_public_spend, "public spending")
        if abs(spent - outcome.spend_objective) > tol:
            raise CheckError(
                f"re-computed discounted {what} {spent:.9g} differs from the solver's {outcome.spend_objective:.9g}"
            )
