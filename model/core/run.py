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


def run_case(case: Case, options: SolveOptions, force=(), exclude=(), overrides=()) -> RunResult:
    """Build, solve (lexicographically), evaluate independently and check."""
    check_levers(case, force, exclude)
    return Session(case, options, force, exclude).solve(case, overrides)
