"""One door for a solve: case -> build -> solve -> evaluate -> a result to present.

`run_case` is what `relief solve` calls: one `Session` (session.py) solved once. The
numbers it returns come from `evaluate_plan` on the case tables, and are checked against
the solver's own objective and bound before anything is reported (result.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relief.model.core.result import (
    CHECK_TOLERANCE,
    CheckError,
    NoPlan,
    RunResult,
    check,
    finish_run,
    stage1_value,
)
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions

# what the analyses, the CLI and the tests import from here
__all__ = [
    "CHECK_TOLERANCE",
    "CheckError",
    "NoPlan",
    "RunResult",
    "check",
    "check_levers",
    "finish_run",
    "run_case",
    "stage1_value",
]


FORCE_CHECK_LEVERS = 4  # forced levers checked one by one (each one more solve)
FORCE_CHECK_SECONDS = 20.0  # no check after a forced solve that took longer than this


def run_case(
    case: Case, options: SolveOptions, force=(), exclude=(), overrides=(), check_force: bool = False
) -> RunResult:
    """Build, solve (lexicographically), evaluate independently and check. `check_force`:
    note in `result.notes` each forced lever whose forcing changed nothing (`idle_forces`)."""
    check_levers(case, force, exclude)
    session = Session(case, options, force, exclude)
    result = session.solve(case, overrides)
    if check_force:
        idle = idle_forces(session, case, result)
        others = " (with the other forced levers)" if len(force) > 1 else ""
        result.notes = [
            *result.notes,
            *(f"--force {l} changed nothing: the optimal roadmap{others} already commits it" for l in idle),
        ]
    return result


def idle_forces(session: Session, case: Case, result: RunResult) -> list[str]:
    """The forced levers whose forcing changed nothing: solved again without that one forced
    (the others kept), the best plan is worth no more, stage by stage (the risk measure,
    expected relief, then least discounted public spending), so the forced plan is optimal
    without the forcing too. Exact, at one more solve per forced lever on the session's
    engine (only parameters change); skipped (empty) when the forced solve was not optimal,
    was slow (FORCE_CHECK_SECONDS) or forced many levers (FORCE_CHECK_LEVERS)."""
    force = session.force
    if (
        not force
        or result.status != "optimal"
        or result.evaluation is None
        or len(force) > FORCE_CHECK_LEVERS
        or result.outcome.solve_seconds > FORCE_CHECK_SECONDS
    ):
        return []
    tol = max(CHECK_TOLERANCE, session.options.mip_gap or 0.0)
    forced_worth = _worth(result, case)
    idle = []
    for lever in force:
        freer = session.solve(case, force=tuple(f for f in force if f != lever))
        if freer.status != "optimal" or freer.evaluation is None:
            continue
        better = any(a > b + tol * max(1.0, abs(b)) for a, b in zip(_worth(freer, case), forced_worth))
        if not better:
            idle.append(lever)
    return idle


def _worth(result: RunResult, case: Case) -> tuple[float, float, float]:
    """What the lexicographic stages maximise, in order (spending negated)."""
    ev = result.evaluation
    return stage1_value(ev, case)[0], ev.expected_relief, -ev.discounted_public_spend
