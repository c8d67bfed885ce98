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
    if options.deadline is not None:
        return _run_against_deadline(case, options, force, exclude, overrides, check_force)
    return _solve(case, options, force, exclude, overrides, check_force)


def _solve(case: Case, options: SolveOptions, force, exclude, overrides, check_force: bool) -> RunResult:
    """One session on the case as modelled (`solved_case`), its plan evaluated on `case`."""
    model_case = solved_case(case)
    session = Session(model_case, options, force, exclude)
    result = session.finish(case, session.run(model_case), overrides)
    if check_force:
        _note_idle_forces(session, model_case, result)
    return result


def solved_case(case: Case) -> Case:
    """The case the model is built for: twin stances (information.twin_stances, no number of
    the model tells them apart) merged into one with their summed probability, which every
    plan values the same, with fewer binaries; the plan is still evaluated and reported on
    every stance of `case`. Static expected-relief cases only."""
    from relief.model.core.information import Information, merged_twins

    if (case.meta.get("risk_measure") or "expected") != "expected" or not Information.of(case).static:
        return case
    return merged_twins(case)


def _note_idle_forces(session: Session, case: Case, result: RunResult) -> None:
    idle = idle_forces(session, case, result)
    others = " (with the other forced levers)" if len(session.force) > 1 else ""
    result.notes = [
        *result.notes,
        *(f"--force {l} changed nothing: the optimal roadmap{others} already commits it" for l in idle),
    ]


EVALUATION_RESERVE = 1.5  # the evaluation of a plan is given this many times its estimated time
OUTPUT_RESERVE = 0.3  # seconds kept for writing the result


def _run_against_deadline(case: Case, options: SolveOptions, force, exclude, overrides, check_force) -> RunResult:
    """`run_case` with a deadline (relief solve --time-limit, counted from the command's
    start): HiGHS stops early enough for the plan to be evaluated and checked by the
    deadline; without a plan from HiGHS, a fallback plan (model/core/fallback.py) is
    evaluated and reported with the best bound known. The forced-lever check (more solves)
    runs only in the time left, and is dropped where a solve of it hits the deadline."""
    import time
    from dataclasses import replace

    from relief.model.core.options import DeadlineReached, SolveOutcome, solver_info

    reserve = EVALUATION_RESERVE * evaluation_seconds(case) + OUTPUT_RESERVE
    inner = replace(options, deadline=options.deadline - reserve)
    start = time.perf_counter()
    outcome = SolveOutcome(status="time_limit", has_solution=False, solver=solver_info())
    try:
        if inner.seconds_left() <= 0:  # loading took the time: not even the model can be built
            raise DeadlineReached("the time limit ran out before the model was built")
        result = _solve(case, inner, force, exclude, overrides, check_force)
        if result.evaluation is not None or result.status not in ("time_limit", "interrupted"):
            result.options = options
            return result
        outcome = result.outcome
    except DeadlineReached:
        pass
    from relief.model.core.build import paused_gc

    with paused_gc():  # the abandoned model is garbage: collecting it now would take seconds, not needed
        return _fallback_result(case, options, force, exclude, overrides, outcome, time.perf_counter() - start)


def _fallback_result(case, options, force, exclude, overrides, outcome, seconds: float) -> RunResult:
    """The fallback plan as the result of a solve stopped at the time limit (exit 0), or the
    bare outcome (exit 4) when no fallback plan is feasible."""
    from relief.model.core.fallback import fallback_evaluation, relief_ceiling
    from relief.model.core.options import _gap

    outcome.status = "time_limit"
    outcome.wall_seconds = seconds
    found = fallback_evaluation(case, force, exclude)
    if found is None:
        return RunResult(case, outcome, None, options, tuple(force), tuple(exclude), tuple(overrides))
    name, ev = found
    value = stage1_value(ev, case)[0]
    if outcome.bound is None:
        outcome.bound = relief_ceiling(case)
    outcome.has_solution = True
    outcome.mip_gap = _gap(value, outcome.bound)
    result = RunResult(case, outcome, ev, options, tuple(force), tuple(exclude), tuple(overrides))
    result.plan_source = name
    result.notes = [
        f"HiGHS found no plan before the time limit ({options.time_limit:g} s): the plan reported is {name}, "
        "checked by the independent evaluation; give more time with --time-limit for a better one"
    ]
    return result


EVALUATION_SECONDS = (0.05, 1.5e-4)  # fixed, and per stance x track x year: measured 0.03 s + 110 us on 2 cores


def evaluation_seconds(case: Case) -> float:
    """The time the independent evaluation of one plan is expected to take: it is linear in
    the stances, tracks and years it walks (measured on the family of benchmarks/family.py:
    0.24 s at 64 stances, 0.89 s at 256; the constants above are about 1.4 times that)."""
    fixed, per_cell = EVALUATION_SECONDS
    return fixed + per_cell * len(case.scenarios) * len(case.tracks) * len(case.years)


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
