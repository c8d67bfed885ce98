"""Solve a built model with HiGHS through Pyomo's persistent interface, lexicographically.

Stage 1 maximises expected relief. Stage 2 keeps expected relief at its stage-1 value
(within RELIEF_TOLERANCE) and minimises discounted public spending, so that no money is
committed that buys no relief. The persistent solver keeps one `highspy.Highs` object:
a re-solve after `set_parameters` pushes only the changed numbers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

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

    @staticmethod
    def resolve(case_meta: dict, **given) -> "SolveOptions":
        """Command-line values win over case.yaml, which wins over relief's defaults."""
        pick = lambda k, default: given.get(k) if given.get(k) is not None else (case_meta.get(k) if case_meta.get(k) is not None else default)
        return SolveOptions(
            time_limit=pick("time_limit", DEFAULT_TIME_LIMIT),
            mip_gap=pick("mip_gap", DEFAULT_MIP_GAP),
            threads=pick("threads", 1),
            seed=pick("seed", 0),
            verbose=bool(given.get("verbose", False)),
            lexicographic=given.get("lexicographic", True) if given.get("lexicographic") is not None else True,
        )


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
    log: str = ""
    solver: dict = field(default_factory=dict)


def solver_info() -> dict:
    import highspy

    return {"name": "highs", "version": f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"}


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
            sink = tempfile.TemporaryFile()
            os.dup2(sink.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if sink is not None:
            sink.close()


class PersistentSolver:
    """One persistent HiGHS instance bound to one built model."""

    def __init__(self, model, options: SolveOptions):
        self.model = model
        self.options = options
        with quiet_stdout(options.verbose):
            self.opt = SolverFactory("highs", treat_fixed_vars_as_params=False)
            self.opt.set_instance(model)

    @property
    def highs(self):
        return self.opt._solver_model

    def _run(self, time_limit: float | None):
        o = self.options
        kwargs = dict(
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            threads=o.threads,
            rel_gap=o.mip_gap,
            abs_gap=0.0 if o.mip_gap == 0 else None,
            solver_options={"random_seed": int(o.seed), "mip_feasibility_tolerance": 1e-7, "output_flag": bool(o.verbose), **HIGHS_TUNING},
        )
        if time_limit is not None:
            kwargs["time_limit"] = max(time_limit, 0.01)
        if o.verbose:
            kwargs["tee"] = [sys.stderr]
        with quiet_stdout(o.verbose):
            res = self.opt.solve(self.model, **kwargs)
        return res

    def solve(self) -> SolveOutcome:
        """Stage 1 (max relief) then, if a plan was found, stage 2 (min spending at that relief)."""
        m, o = self.model, self.options
        start = time.perf_counter()
        m.min_spend.deactivate()
        m.keep_relief.deactivate()
        m.max_relief.activate()
        t0 = self.highs.getRunTime()
        res = self._run(o.time_limit)
        highs_time = self.highs.getRunTime() - t0 if self.highs.getRunTime() >= t0 else self.highs.getRunTime()
        status = _status(res)
        out = SolveOutcome(status=status, has_solution=res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible), solver=solver_info(), log=res.solver_log or "")
        if not out.has_solution:
            out.solve_seconds = highs_time
            out.wall_seconds = time.perf_counter() - start
            return out
        out.objective = float(res.incumbent_objective)
        out.bound = float(res.objective_bound) if res.objective_bound is not None else None
        out.mip_gap = _gap(out.objective, out.bound)
        res.solution_loader.load_vars()
        stage1 = [(v, v.value) for comp in (m.x, m.y, m.z) for v in comp.values()]
        if o.lexicographic:
            m.relief_floor.set_value(out.objective - max(RELIEF_TOLERANCE * abs(out.objective), RELIEF_TOLERANCE_ABS))
            m.max_relief.deactivate()
            m.keep_relief.activate()
            m.min_spend.activate()
            remaining = None if o.time_limit is None else max(o.time_limit - (time.perf_counter() - start), 1.0)
            t1 = self.highs.getRunTime()
            res2 = self._run(remaining)
            highs_time += max(self.highs.getRunTime() - t1, 0.0)
            out.stage2 = _status(res2)
            if res2.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible):
                res2.solution_loader.load_vars()
            else:  # keep the stage-1 plan: it is feasible and has the optimal relief
                for v, val in stage1:
                    v.set_value(val, skip_validation=True)
            m.min_spend.deactivate()
            m.keep_relief.deactivate()
            m.max_relief.activate()
        out.solve_seconds = highs_time
        out.wall_seconds = time.perf_counter() - start
        return out


def _status(res) -> str:
    tc = res.termination_condition
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        return "optimal"
    if tc == TerminationCondition.maxTimeLimit:
        return "time_limit"
    if tc in (TerminationCondition.iterationLimit, TerminationCondition.objectiveLimit):
        return "limit"
    if tc == TerminationCondition.provenInfeasible:
        return "infeasible"
    if tc == TerminationCondition.infeasibleOrUnbounded:
        return "infeasible"
    if tc == TerminationCondition.unbounded:
        return "unbounded"
    if tc == TerminationCondition.interrupted:
        return "interrupted"
    return "error"


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None:
        return None
    diff = abs(bound - obj)
    if diff <= 1e-12:
        return 0.0
    return diff / max(abs(obj), 1e-10)
