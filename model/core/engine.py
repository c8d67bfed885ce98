"""The built Pyomo model, translated once into HiGHS, and re-solved cheaply.

Pyomo's persistent interfaces re-push every mutable coefficient and re-check the whole
model on each solve: about 0.1 s per solve on the default case, as much as HiGHS itself
needs on an easy point (pyomo-highs-notes.md). A sweep re-solves the same model
thousands of times, so relief keeps its own thin persistent layer: the Pyomo model stays
the one definition of the formulation (`build.py`), read through Pyomo's public
`generate_standard_repn`; this module remembers which coefficients and bounds depend on
which mutable Params and, after `set_parameters`, pushes only those that changed.
The two lexicographic stages switch by changing the objective and one row's bound.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost ~0.4 s per process, unused here
from pyomo.core.expr.visitor import identify_mutable_parameters
from pyomo.repn import generate_standard_repn

from relief.model.core.build import paused_gc
from relief.model.core.options import (
    HIGHS_TUNING,
    RELIEF_TOLERANCE,
    RELIEF_TOLERANCE_ABS,
    SolveOptions,
    SolveOutcome,
    _gap,
    past_deadline,
    quiet_stdout,
    solver_info,
)

INF = highspy.kHighsInf
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kIterationLimit: "limit",
    highspy.HighsModelStatus.kSolutionLimit: "limit",
    highspy.HighsModelStatus.kObjectiveBound: "limit",
    highspy.HighsModelStatus.kObjectiveTarget: "limit",
}


def _is_param(e) -> bool:
    return getattr(e, "is_parameter_type", None) is not None and e.is_parameter_type()


def _leaf(e):
    """(param, factor) when e is one Param times a number (as every coefficient of relief's
    model is, up to the sign Pyomo gives a row), else None."""
    if _is_param(e):
        return e, 1.0
    args = getattr(e, "args", None)
    if args is not None and len(args) == 2 and type(e).__name__ == "NPV_ProductExpression":
        a, b = args
        if isinstance(a, (int, float)) and _is_param(b):
            return b, float(a)
        if isinstance(b, (int, float)) and _is_param(a):
            return a, float(b)
    if args is not None and len(args) == 1 and type(e).__name__ == "NPV_NegationExpression" and _is_param(args[0]):
        return args[0], -1.0
    return None


def _num(e) -> float:
    """The value of a bound or coefficient; one Param times a number is read directly."""
    if e is None:
        return None
    leaf = _leaf(e)
    if leaf is not None:
        return leaf[1] * float(leaf[0].value)
    return float(pyo.value(e))


def _params_in(e):
    leaf = _leaf(e)
    return (leaf[0],) if leaf is not None else tuple(identify_mutable_parameters(e))


def _is_constant(e) -> bool:
    return e is None or isinstance(e, (int, float))


@dataclass(slots=True)
class _Slot:
    """One number in HiGHS that depends on mutable Params."""

    kind: str  # "coef" | "row_lo" | "row_up" | "col_lo" | "col_up" | "cost"
    i: int  # row (coef, row bounds) or column (col bounds, costs)
    j: int  # column (coef), stage (cost) or -1
    expr: object
    offset: object = 0.0  # the row's constant term, subtracted from its bounds
    leaf: tuple | None = None  # (Param, factor) when expr is one Param times a number (_leaf), found once

    def value(self) -> float:
        """The number now: a leaf's Param times its factor, read directly (no expression walk)."""
        if self.leaf is not None:
            return self.leaf[1] * self.leaf[0].value
        return _num(self.expr)


@dataclass
class _Rows:
    """The rows of the HiGHS model as they are gathered, row-wise: row i's columns and
    values are index[starts[i]:starts[i + 1]] and value[...], its bounds lower[i], upper[i]."""

    starts: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)


def _finite(v) -> float | None:
    return float(v) if v is not None and abs(float(v)) < INF else None


def _dependency_map(slots: list[_Slot]) -> dict[int, list[int]]:
    """id of each mutable Param -> the slots (numbers in HiGHS) to recompute when it changes."""
    deps: dict[int, list[int]] = {}
    for s_i, s in enumerate(slots):
        for p in (s.leaf[0],) if s.leaf is not None else _params_in(s.expr):
            deps.setdefault(id(p), []).append(s_i)
        if not _is_constant(s.offset):
            for p in _params_in(s.offset):
                deps.setdefault(id(p), []).append(s_i)
    return deps


class HighsEngine:
    """One `highspy.Highs` holding a relief model; `solve()` runs both lexicographic stages."""

    def __init__(self, model, options: SolveOptions):
        with paused_gc():
            self._translate(model, options)

    def _translate(self, model: pyo.ConcreteModel, options: SolveOptions) -> None:
        """The Pyomo model as one HiGHS model: its columns, its constraint rows, one row per
        lexicographic stage but the last (to keep that stage's value), and the map from each
        mutable Param to the numbers in HiGHS that depend on it."""
        self.model = model
        self.options = options
        self.deadline = options.deadline
        self._timed_out = False  # the last run was stopped at the deadline (by _interrupt_point)
        self.interrupt = None  # a callable: True stops the running solve at HiGHS's next interrupt point
        slots: list[_Slot] = []
        lo, up, integ = self._columns(model, slots)
        rows = self._constraint_rows(model, slots)
        self._stage_objectives(model, rows, slots)
        past_deadline(self.deadline)
        self._pass_to_highs(lo, up, integ, rows, options)
        self.slots = slots
        self.col_lo, self.col_up = lo.copy(), up.copy()
        self.row_lo, self.row_up = np.array(rows.lower), np.array(rows.upper)
        past_deadline(self.deadline)
        self.deps: dict[int, list[int]] = _dependency_map(slots)
        self.last_solution = None
        self.stage1_floor: float | None = None  # a lower bound on the first stage's value (alternatives)

    def _columns(self, model: pyo.ConcreteModel, slots: list[_Slot]) -> tuple[np.ndarray, np.ndarray, list]:
        """Every active variable a column, in Pyomo's order: its bounds and integrality."""
        self.cols = list(model.component_data_objects(pyo.Var, active=True, descend_into=True))
        self.col_of = {id(v): j for j, v in enumerate(self.cols)}
        n = len(self.cols)
        lo, up, integ = np.zeros(n), np.zeros(n), []
        for j, v in enumerate(self.cols):
            lo[j] = -INF if v.lower is None else _num(v.lower)
            up[j] = INF if v.upper is None else _num(v.upper)
            if not _is_constant(v.lower):
                slots.append(_Slot("col_lo", j, -1, v.lower))
            if not _is_constant(v.upper):
                slots.append(_Slot("col_up", j, -1, v.upper))
            integ.append(
                highspy.HighsVarType.kInteger if v.is_integer() or v.is_binary() else highspy.HighsVarType.kContinuous
            )
        return lo, up, integ

    def _constraint_rows(self, model: pyo.ConcreteModel, slots: list[_Slot]) -> _Rows:
        """Every active constraint a row, in Pyomo's order; its constant moves into its bounds."""
        col = self.col_of
        self.rows = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
        rows = _Rows()
        for i, con in enumerate(self.rows):
            if i % 500 == 0:
                past_deadline(self.deadline)  # a large model's translation takes seconds
            repn = generate_standard_repn(con.body, compute_values=False, quadratic=False)
            for v, c in zip(repn.linear_vars, repn.linear_coefs):
                j = col[id(v)]
                rows.index.append(j)
                if _is_constant(c):
                    rows.value.append(float(c))
                    continue
                slot = _Slot("coef", i, j, c, 0.0, _leaf(c))
                slots.append(slot)
                rows.value.append(float(slot.value()))
            rows.starts.append(len(rows.index))
            const = repn.constant
            rows.lower.append(-INF if con.lower is None else _num(con.lower) - _num(const))
            rows.upper.append(INF if con.upper is None else _num(con.upper) - _num(const))
            if not (_is_constant(con.lower) and _is_constant(const)) and con.lower is not None:
                slots.append(_Slot("row_lo", i, -1, con.lower, const))
            if not (_is_constant(con.upper) and _is_constant(const)) and con.upper is not None:
                slots.append(_Slot("row_up", i, -1, con.upper, const))
        return rows

    def _stage_objectives(self, model: pyo.ConcreteModel, rows: _Rows, slots: list[_Slot]) -> None:
        """The objective of each lexicographic stage (build.lexicographic_stages), and for
        every stage but the last a row that keeps its value in the stages after it (free
        until that stage is solved)."""
        col = self.col_of
        self.stages = [(name, sense) for name, _, sense in model.lexicographic_stages]
        self.costs = [np.zeros(len(self.cols)) for _ in self.stages]
        self.keep_rows: list[int | None] = []
        for g, (_, expr, _) in enumerate(model.lexicographic_stages):
            target = self.costs[g]
            repn = generate_standard_repn(
                expr.expr if hasattr(expr, "expr") else expr, compute_values=False, quadratic=False
            )
            for v, c in zip(repn.linear_vars, repn.linear_coefs):
                target[col[id(v)]] += float(c) if _is_constant(c) else _num(c)
                if not _is_constant(c):
                    slots.append(_Slot("cost", col[id(v)], g, c))
            if g == len(model.lexicographic_stages) - 1:
                self.keep_rows.append(None)
                continue
            self.keep_rows.append(len(rows.lower))
            stage_cols = sorted(
                {s.i for s in slots if s.kind == "cost" and s.j == g} | {int(j) for j in np.nonzero(target)[0]}
            )
            rows.index.extend(stage_cols)
            rows.value.extend(float(target[j]) for j in stage_cols)
            rows.starts.append(len(rows.index))
            rows.lower.append(-INF)
            rows.upper.append(INF)
        # the names of the default two stages, kept for benchmarks/sweep_speed.py
        self.relief_row = self.keep_rows[0]
        self.relief_cost, self.spend_cost = self.costs[0], self.costs[-1]

    def _pass_to_highs(self, lo: np.ndarray, up: np.ndarray, integ: list, rows: _Rows, options: SolveOptions) -> None:
        """One highspy.Highs with relief's options, holding the columns and rows (row-wise)."""
        n = len(self.cols)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(rows.lower)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = lo, up
        lp.row_lower_, lp.row_upper_ = np.array(rows.lower), np.array(rows.upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(rows.starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(rows.index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(rows.value, dtype=float)
        lp.integrality_ = integ
        with quiet_stdout(options.verbose):
            self.highs = highspy.Highs()
            h = self.highs
            h.setOptionValue("output_flag", bool(options.verbose))
            h.setOptionValue("log_to_console", bool(options.verbose))
            for k, v in self._option_values().items():
                h.setOptionValue(k, v)
            h.passModel(lp)
        # HiGHS asks this at its interrupt points (a few times a second on relief's models;
        # no measurable cost): a Ctrl-C or SIGTERM stops a solve within moments, not at its time limit
        self._caught_signal = None
        for event in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
            event += self._interrupt_point

    def add_row(self, terms, lower: float, upper: float = INF) -> int:
        """Add a row lower <= sum coef * var <= upper, terms = [(var, coef)], to HiGHS only
        (the Pyomo model is left as built): a cut of an analysis, e.g. a no-good cut.
        Returns its row index."""
        cols = [self.col_of[id(v)] for v, _ in terms]
        vals = [float(c) for _, c in terms]
        self.highs.addRow(
            float(lower), float(upper), len(cols), np.array(cols, dtype=np.int32), np.array(vals, dtype=float)
        )
        return self.highs.getNumRow() - 1

    def _option_values(self) -> dict:
        o = self.options
        vals = {
            "threads": int(o.threads),
            "random_seed": int(o.seed),
            "mip_rel_gap": float(o.mip_gap),
            "mip_feasibility_tolerance": 1e-7,
            **HIGHS_TUNING,
        }
        if o.mip_gap == 0:
            vals["mip_abs_gap"] = 0.0
        return vals

    # --- parameters -------------------------------------------------------------------
    def refresh(self, changed=None) -> int:
        """Push the numbers that depend on the given ParamData objects (all, if None).
        Returns how many numbers were pushed."""
        if changed is None:
            todo = range(len(self.slots))
        else:
            seen: set[int] = set()
            for p in changed:
                seen.update(self.deps.get(id(p), ()))
            todo = sorted(seen)
        h = self.highs
        rows_lo: dict[int, float] = {}
        rows_up: dict[int, float] = {}
        for s_i in todo:
            s = self.slots[s_i]
            val = float(s.value())
            if s.kind == "coef":
                h.changeCoeff(s.i, s.j, val)
            elif s.kind == "row_lo":
                rows_lo[s.i] = val - _num(s.offset)
            elif s.kind == "row_up":
                rows_up[s.i] = val - _num(s.offset)
            elif s.kind == "col_lo":
                self.col_lo[s.i] = val
                h.changeColBounds(s.i, val, self.col_up[s.i])
            elif s.kind == "col_up":
                self.col_up[s.i] = val
                h.changeColBounds(s.i, self.col_lo[s.i], val)
            elif s.kind == "cost":
                self.costs[s.j][s.i] = val
                if self.keep_rows[s.j] is not None:
                    h.changeCoeff(self.keep_rows[s.j], s.i, val)
        for i in set(rows_lo) | set(rows_up):
            self.row_lo[i] = rows_lo.get(i, self.row_lo[i])
            self.row_up[i] = rows_up.get(i, self.row_up[i])
            h.changeRowBounds(i, self.row_lo[i], self.row_up[i])
        return len(todo)

    # --- solving --------------------------------------------------------------------------
    def _interrupt_point(self, event) -> None:
        if self._caught_signal is not None:
            event.interrupt()
        elif self.deadline is not None and time.perf_counter() >= self.deadline:
            # HiGHS checks its own time limit only now and then (a 10 s limit ran 35 s at 1,000
            # stances): the deadline is checked at every interrupt point
            self._timed_out = True
            event.interrupt()
        elif self.interrupt is not None and self.interrupt():  # relief serve: a newer request, or Cancel
            event.interrupt()
        else:
            # HiGHS keeps the flag from run to run: once set, the next run on this engine would
            # stop at its first interrupt point (a re-solve after relief serve's Cancel)
            event.interrupt(False)

    @contextmanager
    def _signals_deferred(self):
        """While HiGHS runs, SIGINT and SIGTERM only take note (HiGHS then stops at its next
        interrupt point); once it has returned, the signal is raised again for the handler
        that was there before (Ctrl-C: KeyboardInterrupt). Python runs signal handlers
        only between its own instructions, so without this a signal would wait for the
        end of the solve, up to its time limit."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._caught_signal = None

        def note(signum, frame):
            self._caught_signal = signum

        before = {}
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) not in (signal.SIG_IGN, None):
                before[sig] = signal.signal(sig, note)
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
            caught, self._caught_signal = self._caught_signal, None
            if caught is not None:
                signal.raise_signal(caught)

    def _run(self, cost, sense, time_limit):
        h = self.highs
        n = len(self.cols)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        h.changeObjectiveSense(sense)
        h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else INF)
        self._timed_out = False
        # forget the previous basis and solution: a re-solve must give exactly what a fresh
        # solve of the same numbers gives, whatever was solved before
        h.clearSolver()
        t0 = time.perf_counter()
        with self._signals_deferred():
            if self.options.verbose:
                with quiet_stdout(True):
                    h.run()
            else:
                h.run()
        dt = time.perf_counter() - t0
        info = h.getInfo()
        status = _STATUS.get(h.getModelStatus(), "error")
        if self._timed_out and status == "interrupted":
            status = "time_limit"
        has = info.primal_solution_status == 2
        sol = np.array(h.getSolution().col_value) if has else None
        return status, has, sol, info, dt

    def solve(self) -> SolveOutcome:
        """Stage 1 (expected relief, or the risk measure asked for) is maximised; each later
        stage keeps every earlier stage's value (within RELIEF_TOLERANCE) and optimises its
        own: by default, the least discounted public spending that keeps the relief."""
        o = self.options
        h = self.highs
        start = time.perf_counter()
        for row in self.keep_rows:
            if row is not None:
                h.changeRowBounds(row, -INF, INF)
        if self.stage1_floor is not None:
            h.changeRowBounds(self.keep_rows[0], float(self.stage1_floor), INF)
        sense = {"max": highspy.ObjSense.kMaximize, "min": highspy.ObjSense.kMinimize}
        left = o.seconds_left()
        if left is not None and left <= 0:  # no time left for HiGHS at all
            self.last_solution = None
            return SolveOutcome(status="time_limit", has_solution=False, solver=solver_info())
        limit = o.time_limit if left is None else min(o.time_limit or INF, left)
        status, has, sol, info, dt = self._run(self.costs[0], sense[self.stages[0][1]], limit)
        out = SolveOutcome(status=status, has_solution=has, solver=solver_info(), solve_seconds=dt)
        if not has:
            out.wall_seconds = time.perf_counter() - start
            out.bound = _finite(info.mip_dual_bound) if info.mip_node_count >= 0 else None
            self.last_solution = None
            return out
        out.objective = float(info.objective_function_value)
        out.bound = float(info.mip_dual_bound) if info.mip_node_count >= 0 else out.objective
        out.mip_gap = _gap(out.objective, out.bound)
        self.last_solution = sol
        if o.lexicographic:
            value = out.objective
            for g in range(1, len(self.stages)):
                prev = self.keep_rows[g - 1]
                slack = max(RELIEF_TOLERANCE * abs(value), RELIEF_TOLERANCE_ABS)
                if self.stages[g - 1][1] == "max":
                    h.changeRowBounds(prev, value - slack, INF)
                else:
                    h.changeRowBounds(prev, -INF, value + slack)
                remaining = None if o.time_limit is None else max(o.time_limit - (time.perf_counter() - start), 1.0)
                left = o.seconds_left()
                if left is not None:
                    if left <= 0:  # the deadline came: stage 1's plan stands, not yet the cheapest one
                        out.stage2 = "time_limit"
                        break
                    remaining = left if remaining is None else min(remaining, left)
                status2, has2, sol2, info2, dt2 = self._run(self.costs[g], sense[self.stages[g][1]], remaining)
                out.solve_seconds += dt2
                out.stage2 = status2  # the status of the last stage run (the spending stage)
                if not has2:
                    break
                self.last_solution = sol2
                value = float(info2.objective_function_value)
                if self.stages[g][0] == "spend":
                    out.spend_objective = value
            for row in self.keep_rows:
                if row is not None:
                    h.changeRowBounds(row, -INF, INF)
        out.wall_seconds = time.perf_counter() - start
        return out

    def value(self, var) -> float:
        return float(self.last_solution[self.col_of[id(var)]])

    @contextmanager
    def commitments_fixed(self, levers, plan: dict):
        """Within the block, x[l,t] = plan.get((l, t), 0) for every year of each lever in
        `levers`, and y[l] = 1 exactly when some x[l,t] > 0 (column bounds; a static model only).
        The value of coordination's in-turn regime fixes what earlier owners committed.
        The bounds the case set are restored on exit."""
        m = self.model
        held = set(levers)
        want = {(l, t): float(plan.get((l, t), 0.0)) for (l, t) in m.LT if l in held}
        used = {l: 0.0 for l in levers if l in m.L}
        for (l, _), v in want.items():
            used[l] += v
        fixed = {self.col_of[id(m.x[k])]: v for k, v in want.items()}
        fixed.update({self.col_of[id(m.y[l])]: 1.0 if v > 0 else 0.0 for l, v in used.items()})
        cols = np.array(sorted(fixed), dtype=np.int32)
        values = np.array([fixed[j] for j in cols])
        h = self.highs
        if len(cols):
            h.changeColsBounds(len(cols), cols, values, values)
        try:
            yield
        finally:
            if len(cols):
                h.changeColsBounds(len(cols), cols, self.col_lo[cols], self.col_up[cols])

    def plan(self) -> dict:
        """{(lever, year): modules} of the last solution; of an adaptive model (one block per
        branch, build._build_tree), {(lever, year, stance): modules} for every stance."""
        m = self.model
        if hasattr(m, "branch"):
            return {
                (l, t, s): self.value(m.branch[b].x[l, t])
                for b, stances in enumerate(m.information.branches)
                for s in stances
                for (l, t) in m.branch[b].LT
            }
        return {(l, t): self.value(m.x[l, t]) for (l, t) in m.LT}
