"""What every analysis reports of a plan: its summary, relief by scenario and track, lever lines,
the tags of what changed, the header of the question asked.

Each analysis (one module each in this folder) is a pure case transformation (Case -> Case)
followed by the one re-solve session (`core/session.py`) and the independent evaluator
(`evaluate_plan`); none builds or changes the model. docs/analyses.md gives the definitions,
the assumptions and how to read the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.options import SolveOptions, solver_info

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation
    from relief.model.core.run import RunResult

TOL = 1e-6


# ----------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------


def append_rows(df: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return df
    start = int(df["_row"].max()) + 1 if "_row" in df.columns and len(df) else 2
    new = pd.DataFrame([{**r, "_row": start + i} for i, r in enumerate(rows)])
    return pd.concat([df, new], ignore_index=True) if len(df) else new


def schedule_of(plan: dict) -> dict:
    out: dict = {}
    for (l, t), v in sorted(plan.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out.setdefault(l, {})[t] = v
    return out


def plan_summary(result: RunResult | None, ev: Evaluation | None = None) -> dict:
    """What a planner reads of one plan: status, relief, spending, modules by lever and year."""
    ev = ev if ev is not None else (result.evaluation if result is not None else None)
    out = {"status": result.status if result is not None else "evaluated"}
    if ev is None:
        out.update(
            {
                "expected_relief": None,
                "public_spend": None,
                "total_spend": None,
                "by_scenario": {},
                "portfolio": {},
                "schedule": {},
            }
        )
        if result is not None and result.conflicts:
            out["conflicts"] = list(result.conflicts)
        return out
    plan = ev.plan if result is not None else None
    out.update(
        {
            "expected_relief": ev.expected_relief,
            "public_spend": ev.public_spend,
            "total_spend": ev.total_spend,
            "by_scenario": dict(ev.by_scenario),
            "portfolio": {l: v for l, v in ev.portfolio.items() if v},
            "schedule": schedule_of(plan) if plan is not None else {},
        }
    )
    if result is not None:
        out["mip_gap"] = result.outcome.mip_gap
    return out


def relief_cells(ev: Evaluation) -> dict:
    """(scenario, track) -> discounted relief over the horizon (if that scenario comes true)."""
    g = ev.relief.groupby(["scenario", "track"], sort=False)["discounted_relief"].sum()
    return {(str(s), str(r)): float(v) for (s, r), v in g.items()}


def probabilities(case: Case) -> dict:
    sc = case.table("scenarios")
    return {str(s): float(p) for s, p in zip(sc["scenario"], sc["probability"])}


def lever_line(ev: Evaluation | None, lever: str, case: Case) -> dict:
    """Modules of a lever in a plan and the first and last year it is committed."""
    if ev is None:
        return {"modules": None, "first_year": None, "last_year": None}
    years = [t for (l, t), v in ev.plan.items() if l == lever]
    return {
        "modules": float(ev.portfolio.get(lever, 0.0)),
        "first_year": min(years) if years else None,
        "last_year": max(years) if years else None,
    }


def change_tags(ref: dict, cur: dict) -> str:
    """How a lever's line differs from the reference: added, dropped, later, earlier, resized."""
    if ref["modules"] is None or cur["modules"] is None:
        return ""
    on_ref, on_cur = ref["modules"] > TOL, cur["modules"] > TOL
    if on_cur and not on_ref:
        return "added"
    if on_ref and not on_cur:
        return "dropped"
    if not on_ref:
        return ""
    tags = []
    if cur["first_year"] > ref["first_year"]:
        tags.append("later")
    elif cur["first_year"] < ref["first_year"]:
        tags.append("earlier")
    if abs(cur["modules"] - ref["modules"]) > TOL * max(1.0, ref["modules"]):
        tags.append("resized")
    return ",".join(tags)


def run_header(case: Case, options: SolveOptions, force, exclude, overrides) -> dict:
    return {
        "case": case.name,
        "case_path": case.origin,
        "input_sha256": case.sha256(),
        "solver": solver_info(),
        "overrides": [str(o) for o in overrides],
        "force": list(force),
        "exclude": list(exclude),
        "options": {
            "time_limit": options.time_limit,
            "mip_gap": options.mip_gap,
            "threads": options.threads,
            "seed": options.seed,
        },
        "warnings": [str(w) for w in case.warnings],
    }


def worst_status(statuses) -> str:
    statuses = list(statuses)
    for s in ("error", "no_solution", "infeasible", "unbounded", "time_limit"):
        if s in statuses:
            return s
    others = [s for s in statuses if s != "optimal"]
    return others[0] if others else "optimal"
