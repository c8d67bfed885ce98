"""Solver options and outcomes shared by every solve (the engine is `engine.HighsEngine`).

Stage 1 maximises expected relief. Stage 2 keeps expected relief at its stage-1 value
(within RELIEF_TOLERANCE) and minimises discounted public spending, so that no money is
committed that buys no relief.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

# Stage 2 may give up this much expected relief (relative, plus an absolute floor in USD bn).
RELIEF_TOLERANCE = 1e-7
RELIEF_TOLERANCE_ABS = 1e-9
DEFAULT_MIP_GAP = 1e-6
DEFAULT_TIME_LIMIT = 600.0

# HiGHS settings relief always uses. On relief's models most of HiGHS's time goes to the
# root node: its sub-MIP heuristics (RINS, RENS) and restarts. Turning those three off
# made the default case's hardest budget points 2.5-4x faster and changed no optimum
# (measured on 6 stage-1/stage-2 models of the default case, HiGHS 1.16, threads=1;
# benchmarks/ has the scripts). They change speed only, never what counts as optimal.
HIGHS_TUNING = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_allow_restart": False,
}


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = DEFAULT_TIME_LIMIT
    mip_gap: float = DEFAULT_MIP_GAP
    threads: int = 1
    seed: int = 0
    verbose: bool = False
    lexicographic: bool = True
    # time.perf_counter() by which a solve must have returned (relief solve --time-limit: the
    # limit counts from the command's start, so loading and building are inside it); None: only
    # `time_limit`, HiGHS's own, per solve (sweeps, analyses)
    deadline: float | None = None

    def seconds_left(self) -> float | None:
        """Seconds to the deadline (negative once past), or None without one."""
        return None if self.deadline is None else self.deadline - time.perf_counter()

    @staticmethod
    def resolve(case_meta: dict, **given) -> SolveOptions:
        """Command-line values win over case.yaml, which wins over relief's defaults."""

        def pick(k: str, default: object) -> object:
            if given.get(k) is not None:
                return given.get(k)
            return case_meta.get(k) if case_meta.get(k) is not None else default

        return SolveOptions(
            time_limit=pick("time_limit", DEFAULT_TIME_LIMIT),
            mip_gap=pick("mip_gap", DEFAULT_MIP_GAP),
            threads=pick("threads", 1),
            seed=pick("seed", 0),
            verbose=bool(given.get("verbose", False)),
            lexicographic=given.get("lexicographic", True) if given.get("lexicographic") is not None else True,
        )


class DeadlineReached(Exception):
    """The solve's deadline (SolveOptions.deadline) came while the model was being built."""


def past_deadline(deadline: float | None) -> None:
    """Raise DeadlineReached once `deadline` (a time.perf_counter() value) has passed."""
    if deadline is not None and time.perf_counter() >= deadline:
        raise DeadlineReached("the time limit ran out while the model was being built")


@dataclass
class SolveOutcome:
    status: str  # optimal | time_limit | infeasible | unbounded | no_solution | error
    has_solution: bool
    objective: float | None = None  # stage-1 expected relief found by the solver
    bound: float | None = None
    mip_gap: float | None = None
    solve_seconds: float = 0.0  # HiGHS's own time, both stages
    wall_seconds: float = 0.0
    stage2: str | None = None  # status of the spending stage
    spend_objective: float | None = None  # discounted public spending of the stage-2 plan, as HiGHS computed it
    log: str = ""
    solver: dict[str, str] = field(default_factory=dict)


def solver_info() -> dict:
    import highspy

    return {
        "name": "highs",
        "version": f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}",
    }


@contextmanager
def quiet_stdout(verbose: bool):
    """HiGHS writes its banner and log straight to file descriptor 1; keep stdout clean for
    --json by sending fd 1 to stderr (verbose) or to a scratch file (otherwise)."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = None
    try:
        if verbose:
            os.dup2(2, 1)
        else:
            sink = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, once fd 1 is restored)
            os.dup2(sink.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if sink is not None:
            sink.close()


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None:
        return None
    diff = abs(bound - obj)
    if diff <= 1e-12:
        return 0.0
    if abs(obj) <= 1e-10:  # nothing found yet (the empty plan): the whole bound is the gap, 100%
        return 1.0
    return diff / abs(obj)
