"""One re-solve session: a case's model and its HiGHS engine built once, then solved for
many cases of the same structure by changing parameters only.

Every analysis that solves several variants of one case goes through a `Session`: sweeps
(model/sweeps/runner.py), marginal values, alternatives, cost of delay, value of
coordination and value of information. `solve(case)` puts the case's numbers into the
built model (`set_parameters` + `engine.refresh`), runs both lexicographic stages and the
independent evaluation and check (`finish_run`), and returns the `RunResult` that
`run_case` would return. A case whose structure differs (another horizon, a later
earliest year, other scenarios or pools) gets a model of its own, transparently.

The engine clears HiGHS's basis and solution before every run, so a re-used engine finds
what a fresh one finds for the same numbers: the plan an analysis reports does not depend
on what the session solved before.

`reuse` is the one implementation of plan reuse: a plan that was lexicographically
optimal under limits at least as loose and still meets every limit of the new case (at
the same relief) is lexicographically optimal there too, and needs no solve.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING

import numpy as np

from relief.model.core.build import StructureChanged, build_model, set_parameters
from relief.model.core.engine import HighsEngine
from relief.model.core.evaluate import clean_plan, evaluate_plan
from relief.model.core.result import CHECK_TOLERANCE, RunResult, finish_run

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions, SolveOutcome


def check_levers(case: Case, force=(), exclude=()) -> None:
    """Every forced or excluded lever exists, and none is both (ValueError otherwise)."""
    unknown = [l for l in (*force, *exclude) if l not in case.levers]
    if unknown:
        raise ValueError(f"unknown lever(s): {', '.join(unknown)} (levers: {', '.join(case.levers)})")
    both = set(force) & set(exclude)
    if both:
        raise ValueError(f"lever(s) both forced and excluded: {', '.join(sorted(both))}")


class Session:
    """A case's model and HiGHS engine, built once; `solve(case)` re-solves another case of
    the same structure (or builds a model for it when its structure differs)."""

    def __init__(self, case: Case, options: SolveOptions, force=(), exclude=()):
        self.case, self.options = case, options
        self.force: tuple[str, ...] = tuple(force)
        self.exclude: tuple[str, ...] = tuple(exclude)
        self.model = build_model(case, force=self.force, exclude=self.exclude, deadline=options.deadline)
        self.engine = HighsEngine(self.model, options)
        # the whole-module x, y and z (marginal values fix them to take LP duals)
        self.integer_cols = np.array(
            [j for j, v in enumerate(self.engine.cols) if v.is_integer() or v.is_binary()], dtype=np.int32
        )
        self.seconds = 0.0  # HiGHS's own time over every solve of the session
        self.last_engine: HighsEngine = self.engine  # the engine of the last solve (another one after a rebuild)
        self.last_outcome: SolveOutcome | None = None  # HiGHS's outcome of the last solve (also when its check failed)
        self._holding: tuple = (case, self.force)  # the case (and forced levers) whose numbers the engine holds
        self.interrupt = None  # a callable given to the engine: True stops a running solve (relief serve)

    # --- the case in the engine -----------------------------------------------------------
    def set_case(self, case: Case, force=None) -> None:
        """Put `case`'s numbers into the session's model and engine (StructureChanged if
        the case needs another model)."""
        force = self.force if force is None else tuple(force)
        if self._holding[0] is case and self._holding[1] == force:
            return  # already there: a case is immutable, so nothing to push
        self.engine.refresh(set_parameters(self.model, case, force, self.exclude))
        self._holding = (case, force)

    def engine_for(self, case: Case, force=None) -> HighsEngine:
        """The session's engine holding `case`, or, when the structure differs (e.g. a delayed
        earliest year or another horizon), an engine of a model built for that case."""
        try:
            self.set_case(case, force)
            return self.engine
        except StructureChanged:
            force = self.force if force is None else tuple(force)
            return HighsEngine(build_model(case, force=force, exclude=self.exclude), self.options)

    # --- solving ----------------------------------------------------------------------------
    def solve(self, case: Case | None = None, overrides=(), force=None, fixed=None) -> RunResult:
        """Both lexicographic stages, then the independent evaluation and check (CheckError if
        they disagree) or the explanation of an infeasibility. `force` replaces the
        session's forced levers for this solve only (value of coordination: each owner
        forces its own). `fixed` = (levers, plan): those levers' commitments are held at the
        plan's, year by year, for this solve only (the in-turn regime of relief coordination)."""
        case = self.case if case is None else case
        return self.finish(case, self.run(case, force, fixed), overrides, force)

    def run(self, case: Case | None = None, force=None, fixed=None) -> SolveOutcome:
        """Both lexicographic stages only: what HiGHS found, not yet evaluated (`finish`)."""
        case = self.case if case is None else case
        engine = self.last_engine = self.engine_for(case, force)
        engine.interrupt = self.interrupt
        with engine.commitments_fixed(*fixed) if fixed is not None else nullcontext():
            outcome = self.last_outcome = engine.solve()
        self.seconds += outcome.solve_seconds
        return outcome

    def finish(self, case: Case, outcome: SolveOutcome, overrides=(), force=None) -> RunResult:
        """The last solve (`outcome`, of `case`) evaluated from the tables and checked."""
        force = self.force if force is None else tuple(force)
        result = finish_run(case, self.last_engine, outcome, self.options, force, self.exclude, overrides)
        if result.evaluation is not None:
            result.integers = self.integers()
        return result

    def integers(self, engine: HighsEngine | None = None) -> np.ndarray:
        """The whole-module decisions (x, y, z) of the last solution, rounded."""
        engine = self.last_engine if engine is None else engine
        if engine is self.engine:
            cols = self.integer_cols
        else:
            cols = np.array([j for j, v in enumerate(engine.cols) if v.is_integer() or v.is_binary()], dtype=np.int32)
        return np.round(engine.last_solution[cols])

    def plan(self) -> dict:
        """{(lever, year): modules} of the last solve, rounded and without solver noise."""
        return clean_plan(self.case, self.last_engine.plan())

    # --- plan reuse -------------------------------------------------------------------------
    def reuse(
        self, case: Case, plan: dict, relief: float | None, outcome: SolveOutcome, integers=None, overrides=()
    ) -> RunResult | None:
        """`plan`, lexicographically optimal (with `outcome`) under limits at least as loose as
        `case`'s, if it still meets every limit of `case`: removing plans cannot raise the
        best relief, and the cheapest plan at that relief is still there, so it stays
        optimal and needs no solve. Limits do not change what a plan is worth: a relief
        other than `relief` means the premise does not hold, and the case must be solved."""
        ev = evaluate_plan(case, plan, force=self.force, exclude=self.exclude)
        if ev.violations:
            return None
        if relief is None or abs(ev.expected_relief - relief) > CHECK_TOLERANCE * max(1.0, abs(relief)):
            return None
        result = RunResult(case, outcome, ev, self.options, self.force, self.exclude, tuple(overrides))
        result.integers = integers
        return result
