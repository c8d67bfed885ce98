"""Marginal values of the limits: what one more unit of a budget, a pool or a lever's size
limit is worth (`relief marginal`; docs/analyses.md, "Marginal values").

Two kinds of number, never mixed up:

- **finite difference (MILP re-solved)**: the limit moved up and down by a step and the
  whole lexicographic MILP solved again. Relief depends only on the tier binaries z, so it
  moves in steps when a tier is reached or lost; this is the only honest marginal value of
  relief. One model and one HiGHS engine serve every re-solve (`set_parameters` +
  `refresh`); a tighter limit that the optimal plan still meets needs no solve at all
  (the plan stays lexicographically optimal: the same argument as `runner.PlanReuse`).
- **LP dual (integer decisions fixed)**: every integer column (whole-module x, y, z)
  fixed at its optimal value and made continuous; the LP of the spending stage (relief
  kept by its keep row) then has duals: how much discounted public spending one more unit
  of a limit would save at the same relief. The same LP's relief stage has a constant
  objective, so every relief dual is 0, which is computed, reported and labelled as such.

HiGHS's duals (1.16), measured on a toy LP for both senses and both row sides:
row_dual[i] = d(objective)/d(active bound of row i), col_dual[j] = d(objective)/d(active
bound of column j), whether the sense is min or max. Each dual below is also checked
against a finite difference of the fixed-integer LP (`lp_fd_up`, `lp_fd_down`), and the
tests compare it with the MILP re-solved at a small step where the integers do not change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np

from relief.model.analyses.value import risk_neutral
from relief.model.core import limits as limit_table
from relief.model.core.case import Case
from relief.model.core.information import require_static
from relief.model.core.options import RELIEF_TOLERANCE, RELIEF_TOLERANCE_ABS, SolveOptions
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.result import CheckError, RunResult
from relief.model.core.session import Session

if TYPE_CHECKING:
    from relief.model.core.case import Case

RELIEF_NOTE = (
    "LP duals of expected relief with the integer decisions fixed are 0 for every limit (computed): relief "
    "comes only through the tier binaries, so with them fixed it cannot move. It moves in steps, when a tier "
    "is reached or lost; the finite differences are its marginal values."
)

MONEY_STEP = 1.0  # USD bn (year budgets, the total budget, pools)
MODULE_STEP = 1.0  # modules (limits of whole-module levers)
DIVISIBLE_STEP = 0.1  # a fraction of the limit (limits of divisible levers)
CHECK_STEP = 1e-3  # the small step of the duals' finite-difference checks
DUAL_AGREEMENT = 1e-6  # |dual - finite difference| <= this x max(1, |dual|)
FAMILIES = ("budget", "total", "pools", "levers")
INF = highspy.kHighsInf


class MarginalError(RuntimeError):
    """The base case has no optimal plan to take marginal values at."""

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


# ----------------------------------------------------------------------------------------
# The limits
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One limit of the case, as the optimal plan meets it (a row of the table of limits,
    model/core/limits.py, at one index)."""

    key: str  # 'budget:2027', 'total_budget', 'pool:mou_cash', 'max_modules:L', 'max_per_year:L'
    kind: str  # the table's marginal kind: year_budget | total_budget | pool | max_modules | max_per_year
    family: str  # budget | total | pools | levers (the --limits filter)
    name: str  # planner's words: 'public budget in 2027'
    unit: str  # 'USD bn', 'modules', a pool's unit
    path: str  # the --set path that moves it
    value: float
    use: float  # what the optimal plan uses of it
    step: float
    component: str  # the Pyomo constraint (or variable, for column bounds) that carries it
    index: object
    lever: str | None = None
    divisible: bool = False

    @property
    def row(self) -> limit_table.LimitRow:
        return limit_table.of_marginal_kind(self.kind)

    @property
    def slack(self) -> float:
        return self.value - self.use

    @property
    def status(self) -> str:
        if self.slack <= 1e-6 * max(1.0, abs(self.value)):
            return "binding"
        return "near" if self.slack < self.step else "slack"

    @property
    def has_dual(self) -> bool:
        """Limits of whole-module levers act on integer columns, which the LP fixes."""
        return self.row.has_dual and (self.lever is None or self.divisible)


def limits_of(
    case: Case,
    ev,
    families=FAMILIES,
    money_step=MONEY_STEP,
    module_step=MODULE_STEP,
    divisible_step=DIVISIBLE_STEP,
    all_levers=False,
    exclude=(),
) -> list[Limit]:
    """Every year's budget, the total budget (if set), every pool, and the size limits of the
    levers that bind or nearly bind at the optimum (all levers' limits with `all_levers`):
    the rows of the table of limits that have a marginal value, family by family, and the
    rows of one family index by index (a lever's max_modules, then its max_modules_per_year)."""
    steps = {"money": money_step, "modules": module_step, "divisible": divisible_step}
    out: list[Limit] = []
    for family in FAMILIES:
        if family not in families:
            continue
        rows = [r for r in limit_table.MARGINAL if r.marginal.family == family]
        values = [limit_table.case_values(case, r, exclude) for r in rows]
        for index in dict.fromkeys(i for v in values for i in v):  # rows of a family may share indexes
            for row, value in zip(rows, values):
                if index not in value:
                    continue
                lim = _limit(case, ev, row, index, value[index], steps)
                if lim is not None and (all_levers or not row.marginal.binding_only or lim.status != "slack"):
                    out.append(lim)
    return out


def _limit(case: Case, ev, row: limit_table.LimitRow, index, value: float, steps: dict) -> Limit | None:
    """The Limit of `row` at `index`, with what the evaluated optimal plan uses of it."""
    spec = row.marginal
    lever = index if row.source[0] == "levers" else None
    divisible = lever is not None and not bool(case.table("levers").set_index("lever").at[lever, "integer"])
    step = steps["divisible"] * value if divisible else steps[spec.step]
    if lever is not None and step <= 0:
        return None
    unit = row.unit
    if spec.kind == "pool":  # a pool has its own unit (pools.csv's unit column)
        r = next(r for r in case.table("pools").to_dict("records") if r["pool"] == index)
        unit = str(r.get("unit") or "").strip() or "units"
    fill = {"index": index}
    if isinstance(index, tuple):  # an envelope's yearly budget: (envelope, year)
        fill = {"index": ":".join(str(i) for i in index), "envelope": index[0], "year": index[1]}
    return Limit(
        spec.key.format(**fill),
        spec.kind,
        spec.family,
        spec.name.format(**fill),
        unit,
        row.path.format(**fill),
        value,
        _used(case, ev, spec.kind, index),
        step,
        row.component,
        index,
        lever,
        divisible,
    )


def _used(case: Case, ev, kind: str, index):
    """What the evaluated plan uses of a limit: the spending, pool use or modules its twin checks."""
    if kind in ("year_budget", "envelope_budget"):
        e, t = ("public", index) if kind == "year_budget" else index
        sp = ev.envelope_spending
        got = sp[(sp["envelope"] == e) & (sp["year"] == t)]["public_spend"]
        return float(got.iloc[0]) if len(got) else 0.0
    if kind == "envelope_total":
        return float(ev.envelope_totals.get(index, 0.0))
    if kind == "total_budget":
        return float(ev.public_spend)
    if kind == "pool":
        return sum(
            float(u["use_per_module"]) * ev.portfolio.get(u["lever"], 0.0)
            for u in case.table("lever_pools").to_dict("records")
            if u["pool"] == index
        )
    if kind == "max_modules":
        return float(ev.portfolio.get(index, 0.0))
    rm = ev.roadmap
    committed = [float(v) for v in rm[(rm["lever"] == index) & rm["year"].isin(case.years)]["committed"]]
    return float(max(committed, default=0.0))


def moved(case: Case, limit: Limit, value: float) -> tuple[Case, list[str]]:
    """The case with `limit` at `value` (and the override strings used). Lowering a lever's
    max_modules below its min_modules lowers min_modules with it: a lever that may not
    reach its minimum size cannot be built, which is what a planner means by it."""
    sets = [f"{limit.path}={value!r}"]
    if limit.kind == "max_modules":
        lv = case.table("levers").set_index("lever")
        if float(lv.at[limit.lever, "min_modules"]) > value:
            sets.append(f"levers.{limit.lever}.min_modules={value!r}")
    return apply_overrides(case, sets), sets


# ----------------------------------------------------------------------------------------
# One model, re-solved
# ----------------------------------------------------------------------------------------


@dataclass
class Point:
    """One solve (or a plan known to stay optimal) of the case with one limit moved."""

    status: str
    result: RunResult | None = None
    integers: np.ndarray | None = None  # whole-module x, y and z, rounded
    reused: bool = False
    message: str = ""
    seconds: float = 0.0  # HiGHS's time for this point (0 when no solve was needed)

    @property
    def evaluation(self):
        return self.result.evaluation if self.result is not None else None


def solve_point(session: Session, case: Case, overrides=()) -> Point:
    """The case solved in the session (one model, one engine for every move)."""
    try:
        result = session.solve(case, overrides)
    except CheckError as e:
        return Point("check_failed", message=str(e), seconds=session.last_outcome.solve_seconds)
    seconds = result.outcome.solve_seconds
    if result.evaluation is None:
        return Point(result.status, result, message="; ".join(result.conflicts), seconds=seconds)
    return Point(result.status, result, result.integers, seconds=seconds)


def reuse_point(session: Session, case: Case, base: Point) -> Point | None:
    """`base`'s plan, if it still meets every limit of `case`, whose limits are all at
    least as tight: it is then still lexicographically optimal, and no solve is needed."""
    r = base.result
    ev = base.evaluation
    result = session.reuse(case, ev.plan, ev.expected_relief, r.outcome, base.integers)
    if result is None:
        return None
    return Point(
        base.status,
        result,
        base.integers,
        reused=True,
        message="the optimal plan still meets the tighter limit, so it stays optimal (no re-solve)",
    )


# ----------------------------------------------------------------------------------------
# LP duals with the integer decisions fixed
# ----------------------------------------------------------------------------------------


class FixedIntegers:
    """The engine's model with every integer column fixed at `integers` and made continuous:
    an LP whose duals exist. Used as a context manager; the engine is restored on exit
    (bounds, integrality, keep rows free, solver state cleared)."""

    def __init__(self, session: Session, integers: np.ndarray):
        self.session, self.engine, self.h = session, session.engine, session.engine.highs
        self.cols = session.integer_cols
        self.values = np.asarray(integers, dtype=float)

    def __enter__(self):
        n = len(self.cols)
        self.h.changeColsIntegrality(n, self.cols, np.array([highspy.HighsVarType.kContinuous] * n))
        self.refix()
        return self

    def refix(self) -> None:
        """Fix the integer columns again (after `refresh`, which may rewrite column bounds)."""
        self.h.changeColsBounds(len(self.cols), self.cols, self.values, self.values)

    def __exit__(self, *exc):
        e, n = self.engine, len(self.cols)
        self.h.changeColsBounds(n, self.cols, e.col_lo[self.cols], e.col_up[self.cols])
        self.h.changeColsIntegrality(n, self.cols, np.array([highspy.HighsVarType.kInteger] * n))
        for row in e.keep_rows:
            if row is not None:
                self.h.changeRowBounds(row, -INF, INF)
        self.h.clearSolver()
        return False

    def solve(self, stage: int):
        """Solve the LP of one lexicographic stage (0: relief; last: spending); for the
        spending stage, every earlier stage is kept at its value with the engine's slack.
        Returns (status, objective, solution) with solution the highspy HighsSolution."""
        e, h = self.engine, self.h
        n = len(e.cols)
        x = self._point()
        for g, row in enumerate(e.keep_rows):
            if row is None:
                continue
            if g < stage:
                value = float(e.costs[g] @ x)
                slack = max(RELIEF_TOLERANCE * abs(value), RELIEF_TOLERANCE_ABS)
                lo, up = (value - slack, INF) if e.stages[g][1] == "max" else (-INF, value + slack)
                h.changeRowBounds(row, lo, up)
            else:
                h.changeRowBounds(row, -INF, INF)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), e.costs[stage])
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if e.stages[stage][1] == "max" else highspy.ObjSense.kMinimize
        )
        h.setOptionValue("time_limit", INF if e.options.time_limit is None else float(e.options.time_limit))
        h.clearSolver()
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return h.modelStatusToString(status), None, None
        return "optimal", float(h.getInfo().objective_function_value), h.getSolution()

    def _point(self) -> np.ndarray:
        x = np.zeros(len(self.engine.cols))
        x[self.cols] = self.values
        return x


def row_index(engine) -> dict:
    """{(constraint name, index): row} of the engine's rows."""
    return {(c.parent_component().name, c.index()): i for i, c in enumerate(engine.rows)}


def limit_dual(limit: Limit, engine, rows: dict, solution) -> float | None:
    """d(stage objective)/d(limit) from an LP solution's duals (HiGHS: d objective / d
    active bound). Limits of whole-module levers have none: their columns are fixed.
    How the dual is read is the table's `MarginalSpec.dual`:

    - row (year_budget[t], total_budget_limit, pool_limit_row[q]): the limit is the row's
      upper bound: the row dual.
    - row_times_built (build_max[l], max_modules): the row is  sum_t x[l,t] - max_modules y[l] <= 0,
      so the limit moves the row's bound by y[l] per unit: row dual times y[l].
    - column_bounds (max_modules_per_year): the upper bound of every x[l,t]: the sum of the
      column duals of the columns at that bound."""
    if not limit.has_dual:
        return None
    m = engine.model
    how = limit.row.marginal.dual
    if how == "row":
        return float(solution.row_dual[rows[(limit.component, limit.index)]])
    if how == "row_times_built":
        y = float(solution.col_value[engine.col_of[id(m.y[limit.lever])]])
        return float(solution.row_dual[rows[(limit.component, limit.lever)]]) * y
    total = 0.0
    for l, t in m.LT:
        if l != limit.lever:
            continue
        j = engine.col_of[id(m.x[l, t])]
        if abs(solution.col_value[j] - limit.value) <= 1e-9 * max(1.0, limit.value):
            total += float(solution.col_dual[j])
    return total


@dataclass
class Duals:
    spend_objective: float  # the minimum discounted public spending at the optimal relief, integers fixed
    spend: dict[str, float]  # limit key -> d(min discounted public spend)/d(limit)
    relief: dict[str, float]  # limit key -> d(relief)/d(limit) in the relief-stage LP (0: its objective is constant)
    lp_fd_up: dict[str, float]  # limit key -> (spend(limit + h) - spend)/h, integers fixed
    lp_fd_down: dict[str, float]  # limit key -> (spend(limit - h) - spend)/h: the change per unit moved down
    ranges: dict = field(default_factory=dict)  # limit key -> (low, high): the limit's values over which the dual holds


def limit_range(limit: Limit, engine, rows: dict, solution, ranging) -> tuple | None:
    """The values of the limit over which its spending dual stays the same (HiGHS's ranging of
    the active row bound: the LP's basis stays optimal), or None where it is not one row
    (max_modules_per_year bounds many columns at once). A limit with slack keeps its dual 0
    from what the plan uses up to infinity."""
    how = limit.row.marginal.dual
    if not limit.has_dual or how == "column_bounds":
        return None
    i = rows[(limit.component, limit.index)]
    scale = 1.0
    if how == "row_times_built":
        scale = float(solution.col_value[engine.col_of[id(engine.model.y[limit.lever])]])
        if scale < 0.5:  # the lever is not built: its limit is idle whatever its value
            return (0.0, float("inf"))
    bound = float(engine.row_up[i])
    if bound - float(solution.row_value[i]) > 1e-9 * max(1.0, abs(bound)):
        return (limit.use, float("inf"))
    if ranging is None:
        return None
    lo = float(ranging.row_bound_dn.value_[i])
    hi = float(ranging.row_bound_up.value_[i])

    def conv(v: float) -> float:
        return v if abs(v) >= INF else limit.value + (v - bound) / scale

    return (max(conv(lo), 0.0), conv(hi))


def fixed_integer_duals(
    session: Session, case: Case, base: Point | RunResult, limits: list[Limit], check_step=CHECK_STEP
) -> Duals:
    """LP duals of the spending and relief stages with the integer decisions of `base`
    fixed, each checked by moving its limit by `check_step` both ways in the same LP."""
    engine = session.engine
    rows = row_index(engine)
    last = len(engine.stages) - 1
    spend, relief, up, down = {}, {}, {}, {}
    with FixedIntegers(session, base.integers) as lp:
        status, relief_obj, sol = lp.solve(0)
        if sol is None:
            raise MarginalError("error", f"the relief LP with the integer decisions fixed is {status}")
        for lim in limits:
            relief[lim.key] = _clean_or_none(limit_dual(lim, engine, rows, sol))
        status, spend_obj, sol = lp.solve(last)
        if sol is None:
            raise MarginalError("error", f"the spending LP with the integer decisions fixed is {status}")
        status, ranging = engine.highs.getRanging()
        ranging = ranging if status == highspy.HighsStatus.kOk else None
        ranges = {}
        for lim in limits:
            spend[lim.key] = _clean_or_none(limit_dual(lim, engine, rows, sol))
            ranges[lim.key] = limit_range(lim, engine, rows, sol, ranging)
        for lim in limits:
            if spend[lim.key] is None:
                continue
            for sign, store in ((+1, up), (-1, down)):
                value = lim.value + sign * check_step
                if value < 0:
                    store[lim.key] = None
                    continue
                try:
                    session.set_case(moved(case, lim, value)[0])
                except OverrideError:
                    store[lim.key] = None
                    continue
                lp.refix()
                st, obj, _ = lp.solve(last)
                store[lim.key] = None if obj is None else _clean((obj - spend_obj) / check_step)
            session.set_case(case)
            lp.refix()
    return Duals(spend_obj, spend, relief, up, down, ranges)


# ----------------------------------------------------------------------------------------
# Finite differences of the MILP
# ----------------------------------------------------------------------------------------


@dataclass
class Move:
    """The limit moved by `value - limit.value` (a step, or the small check step) and the
    MILP re-solved (or the optimal plan kept, when it still fits a tighter limit)."""

    value: float
    point: Point
    overrides: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.point.evaluation is not None


def _clean(v: float) -> float:
    """Solver noise (and -0.0) below 1e-9 is 0."""
    return 0.0 if abs(v) < 1e-9 else v


def _clean_or_none(v):
    return None if v is None else _clean(v)


@dataclass
class MarginalValue:
    """Everything known about one limit. Every `*_up` number is the change per unit when the
    limit moves up; every `*_down` number the change per unit when it moves *down* (so
    -0.80 means one unit less loses 0.80)."""

    limit: Limit
    up: Move | None
    down: Move | None
    base_relief: float
    base_spend: float  # discounted public spending of the optimal plan
    base_integers: np.ndarray
    dual_spend: float | None = None  # d(min discounted public spend)/d(limit), integers fixed
    dual_relief: float | None = None  # d(expected relief)/d(limit), integers fixed: 0
    lp_fd_up: float | None = None
    lp_fd_down: float | None = None
    dual_range: tuple | None = None  # (low, high): the limit's values over which dual_spend holds
    check_up: Move | None = None  # the MILP re-solved at limit + CHECK_STEP (--check)
    check_down: Move | None = None
    change_up: str = ""
    change_down: str = ""

    def _per_unit(self, move: Move | None, what: str) -> float | None:
        if move is None or not move.ok:
            return None
        ev = move.point.evaluation
        new = ev.expected_relief if what == "relief" else ev.discounted_public_spend
        base = self.base_relief if what == "relief" else self.base_spend
        return _clean((new - base) / abs(move.value - self.limit.value))

    @property
    def fd_up(self):
        """Change in expected relief per unit, the limit moved up one step (MILP re-solved)."""
        return self._per_unit(self.up, "relief")

    @property
    def fd_down(self):
        """Change in expected relief per unit, the limit moved down one step (<= 0)."""
        return self._per_unit(self.down, "relief")

    @property
    def fd_spend_up(self):
        return self._per_unit(self.up, "spend")

    @property
    def fd_spend_down(self):
        return self._per_unit(self.down, "spend")

    def integers_changed(self, move: Move | None):
        if move is None or not move.ok:
            return None
        return bool(np.any(move.point.integers != self.base_integers))

    @property
    def dual_verified(self) -> bool | None:
        """The dual lies between the fixed-integer LP's one-sided derivatives (the two are
        equal where the LP is not degenerate there), within DUAL_AGREEMENT."""
        if self.dual_spend is None or self.lp_fd_up is None:
            return None
        tol = DUAL_AGREEMENT * max(1.0, abs(self.dual_spend))
        sides = [self.lp_fd_up] + ([-self.lp_fd_down] if self.lp_fd_down is not None else [])
        return min(sides) - tol <= self.dual_spend <= max(sides) + tol

    @property
    def milp_check(self) -> dict | None:
        """The MILP re-solved at +-CHECK_STEP: derivatives of the least discounted spending and
        of relief, whether the integers stayed, and whether the dual agrees with them."""
        if self.check_up is None and self.check_down is None:
            return None
        out = {}
        for side, move, sign in (("up", self.check_up, 1), ("down", self.check_down, -1)):
            spend = self._per_unit(move, "spend")
            same = None if move is None or not move.ok else not self.integers_changed(move)
            deriv = None if spend is None else _clean(sign * spend)
            agrees = None
            if same and deriv is not None and self.dual_spend is not None:
                agrees = abs(deriv - self.dual_spend) <= DUAL_AGREEMENT * max(1.0, abs(self.dual_spend))
            out[side] = {
                "spend_derivative": deriv,
                "relief_change": self._per_unit(move, "relief"),
                "integers_unchanged": same,
                "agrees_with_dual": agrees,
            }
        return out

    def row(self) -> dict:
        lim = self.limit
        check = self.milp_check or {}
        return {
            "limit": lim.key,
            "kind": lim.kind,
            "name": lim.name,
            "unit": lim.unit,
            "value": lim.value,
            "use": lim.use,
            "slack": lim.slack,
            "binding": lim.status,
            "step": lim.step,
            "fd_up": self.fd_up,
            "fd_down": self.fd_down,
            "integers_changed_up": self.integers_changed(self.up),
            "integers_changed_down": self.integers_changed(self.down),
            "change_up": self.change_up,
            "change_down": self.change_down,
            "status_up": _status(self.up),
            "status_down": _status(self.down),
            "fd_spend_up": self.fd_spend_up,
            "fd_spend_down": self.fd_spend_down,
            "dual_spend": self.dual_spend,
            "dual_relief": self.dual_relief,
            "dual_holds_from": None if self.dual_range is None else self.dual_range[0],
            "dual_holds_to": None if self.dual_range is None or self.dual_range[1] >= INF else self.dual_range[1],
            "lp_fd_up": self.lp_fd_up,
            "lp_fd_down": self.lp_fd_down,
            "dual_verified": self.dual_verified,
            "milp_check_up": (check.get("up") or {}).get("spend_derivative"),
            "milp_check_down": (check.get("down") or {}).get("spend_derivative"),
            "milp_check_agrees": _all_true([(check.get(k) or {}).get("agrees_with_dual") for k in ("up", "down")])
            if check
            else None,
            "method_relief": "finite difference (MILP re-solved)",
            "method_spend": "LP dual (integer decisions fixed)"
            if self.dual_spend is not None
            else "none: a whole-module lever's modules are integer decisions, fixed in the LP",
        }


def _all_true(flags):
    known = [f for f in flags if f is not None]
    return None if not known else all(known)


def _status(move: Move | None) -> str:
    if move is None:
        return ""
    p = move.point
    if p.reused:
        return "optimal (plan kept)"
    return p.status if not p.message or p.evaluation is not None else f"{p.status}: {p.message}"


def describe_change(base_ev, new_ev, most=2) -> str:
    """The new plan against the base one in a few words: modules added or removed (or moved
    between years), then the tiers reached or lost."""
    if new_ev is None:
        return ""
    levers = []
    b_rm, n_rm = base_ev.roadmap, new_ev.roadmap
    for l in dict.fromkeys(list(base_ev.portfolio) + list(new_ev.portfolio)):
        b, n = base_ev.portfolio.get(l, 0.0), new_ev.portfolio.get(l, 0.0)
        if abs(n - b) > 1e-6:
            levers.append((abs(n - b) >= 1 - 1e-9, f"{n - b:+.3g} {l}"))
            continue
        bs = {int(r.year): r.committed for r in b_rm[b_rm["lever"] == l].itertuples() if r.committed}
        ns = {int(r.year): r.committed for r in n_rm[n_rm["lever"] == l].itertuples() if r.committed}
        if any(abs(bs.get(t, 0.0) - ns.get(t, 0.0)) > 1e-6 for t in set(bs) | set(ns)):
            levers.append((False, f"{l} re-timed"))
    levers.sort(key=lambda kv: not kv[0])  # whole modules added or removed first
    parts = [w for _, w in levers[:most]] + (
        [f"{len(levers) - most} more lever(s) change"] if len(levers) > most else []
    )
    bt = base_ev.tiers.set_index(["scenario", "track", "year"])
    nt = new_ev.tiers.set_index(["scenario", "track", "year"])
    gained, lost = {}, {}
    for key in bt.index:
        diff = float(nt.at[key, "relief"]) - float(bt.at[key, "relief"])
        s, r, t = key
        if diff > 1e-9:
            gained.setdefault((r, nt.at[key, "tier"]), []).append((s, t))
        elif diff < -1e-9:
            lost.setdefault((r, bt.at[key, "tier"]), []).append((s, t))
    for verb, groups in (("reaches", gained), ("loses", lost)):
        ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
        for (r, k), where in ranked[:1]:
            parts.append(
                f"{verb} {r} {k} ({_where(where)})"
                + (f" and {len(ranked) - 1} more tier(s)" if len(ranked) > 1 else "")
            )
    return "; ".join(parts) if parts else "same plan"


def _where(where) -> str:
    scen = sorted({s for s, _ in where})
    years = sorted({t for _, t in where})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
    return f"{', '.join(scen) if len(scen) <= 2 else f'{len(scen)} stances'}, {span}"


# ----------------------------------------------------------------------------------------
# The analysis
# ----------------------------------------------------------------------------------------


@dataclass
class Marginal:
    case: Case
    base: RunResult
    values: list[MarginalValue]
    duals: Duals
    risk_dropped: bool
    seconds: float
    solver_seconds: float
    resolves: int
    check_step: float = CHECK_STEP

    def rows(self) -> list[dict]:
        return [v.row() for v in self.values]

    def report(self) -> dict:
        """The JSON object of `relief marginal` after the header of the question asked (cli adds it):
        the base plan, how each number was found, and one record per limit."""
        base = self.base.evaluation
        rows = self.rows()
        for v, row in zip(self.values, rows):
            for side, move in (("up", v.up), ("down", v.down)):
                if move is not None and move.ok and v.integers_changed(move):
                    ev = move.point.evaluation
                    row[f"schedule_{side}"] = {
                        l: {int(r.year): r.committed for r in ev.roadmap.itertuples() if r.lever == l and r.committed}
                        for l, n in ev.portfolio.items()
                        if n
                    }
            row["words_up"], row["words_down"], row["words_spend"] = (
                relief_words(v, +1),
                relief_words(v, -1),
                spend_words(v),
            )
        return {
            "risk_measure_dropped": self.risk_dropped,
            "base": {
                "status": self.base.status,
                "expected_relief": base.expected_relief,
                "public_spend": base.public_spend,
                "discounted_public_spend": base.discounted_public_spend,
                "portfolio": dict(base.portfolio),
            },
            "spend_lp_objective": self.duals.spend_objective,
            "check_step": self.check_step,
            "methods": {
                "fd_up, fd_down": "finite difference (MILP re-solved): change in expected relief per unit when the "
                "limit moves up / down by its step",
                "fd_spend_up, fd_spend_down": "finite difference (MILP re-solved): change in discounted public "
                "spending per unit, same moves",
                "dual_spend": "LP dual (integer decisions fixed): d(least discounted public spending at the optimal "
                "relief)/d(limit); negative = one more unit saves money",
                "dual_relief": "LP dual (integer decisions fixed) of the relief stage: 0, " + RELIEF_NOTE,
                "lp_fd_up, lp_fd_down": f"the dual's check: the same LP re-solved with the limit moved by "
                f"+-{self.check_step:g}, change per unit in that direction",
                "milp_check_up, milp_check_down": f"--check: the MILP re-solved with the limit moved by "
                f"+-{self.check_step:g}: derivative of the least discounted spending",
            },
            "limits": rows,
            "seconds": round(self.seconds, 3),
            "solver_seconds": round(self.solver_seconds, 3),
            "milp_solves": self.resolves,
        }


def _move(session: Session, case: Case, lim: Limit, value: float, base: Point) -> tuple[Move, bool]:
    """(the move, whether the MILP was solved)."""
    if value < 0:
        return Move(value, Point("invalid", message="the limit cannot go below 0")), False
    try:
        new_case, sets = moved(case, lim, value)
    except OverrideError as e:
        return Move(value, Point("invalid", message=str(e))), False
    point = reuse_point(session, new_case, base) if value < lim.value else None
    if point is not None:
        return Move(value, point, sets), False
    return Move(value, solve_point(session, new_case, sets), sets), True


def marginal_values(
    case: Case,
    options: SolveOptions,
    force=(),
    exclude=(),
    families=FAMILIES,
    money_step=MONEY_STEP,
    module_step=MODULE_STEP,
    divisible_step=DIVISIBLE_STEP,
    all_levers=False,
    check_step=CHECK_STEP,
    milp_check=False,
    on_progress=None,
) -> Marginal:
    """Solve the case; take the LP duals with the integers fixed; then move each limit up
    and down by its step and re-solve the MILP (one model, one engine). With `milp_check`,
    also re-solve the MILP with each limit that has a dual moved by +-check_step.
    `on_progress(done, total, name)`: once when the limits are known (0, name None), then
    after each limit's moves (its planner's name)."""
    require_static(case, "relief marginal")
    progress = on_progress or (lambda done, total, name: None)
    t0 = time.perf_counter()
    neutral = risk_neutral(case)
    risk_dropped = neutral is not case
    case = neutral
    session = Session(case, options, force, exclude)
    base = solve_point(session, case)
    if base.evaluation is None or base.status != "optimal":
        raise MarginalError(
            base.status,
            f"the case itself has no optimal plan to take marginal values at (status {base.status}"
            + (f": {base.message}" if base.message else "")
            + ")",
        )
    base_ev = base.evaluation
    limits = limits_of(case, base_ev, families, money_step, module_step, divisible_step, all_levers, exclude)
    duals = fixed_integer_duals(session, case, base, limits, check_step)
    session.set_case(case)
    values, resolves = [], 1
    progress(0, len(limits), None)
    for lim in limits:
        up, n_up = _move(session, case, lim, lim.value + lim.step, base)
        down, n_down = _move(session, case, lim, lim.value - lim.step, base)
        resolves += n_up + n_down
        mv = MarginalValue(
            lim,
            up,
            down,
            base_ev.expected_relief,
            base_ev.discounted_public_spend,
            base.integers,
            duals.spend.get(lim.key),
            duals.relief.get(lim.key),
            duals.lp_fd_up.get(lim.key),
            duals.lp_fd_down.get(lim.key),
            duals.ranges.get(lim.key),
        )
        mv.change_up = describe_change(base_ev, up.point.evaluation) if up.ok else ""
        mv.change_down = describe_change(base_ev, down.point.evaluation) if down.ok else ""
        if milp_check and mv.dual_spend is not None:
            mv.check_up, n_up = _move(session, case, lim, lim.value + check_step, base)
            mv.check_down, n_down = _move(session, case, lim, lim.value - check_step, base)
            resolves += n_up + n_down
        values.append(mv)
        progress(len(values), len(limits), lim.name)
    session.set_case(case)
    return Marginal(
        case, base.result, values, duals, risk_dropped, time.perf_counter() - t0, session.seconds, resolves, check_step
    )


# ----------------------------------------------------------------------------------------
# Planner's words
# ----------------------------------------------------------------------------------------


def _amount(lim: Limit, sign: int) -> str:
    """'one more USD bn of public budget in 2027', 'room for one module fewer of us_fab_module a year (1 -> 0)'."""
    new = lim.value + sign * lim.step
    if lim.kind in ("year_budget", "total_budget", "pool", "envelope_budget", "envelope_total"):
        n = "one" if lim.step == 1 else f"{lim.step:g}"
        return f"{n} more {lim.unit} of {lim.name}" if sign > 0 else f"{n} {lim.unit} less of {lim.name}"
    if lim.divisible:
        return f"room for {lim.step:.3g} {'more' if sign > 0 else 'fewer'} {lim.name} (10%: {lim.value:g} -> {new:.3g})"
    n, name = ("one", lim.name.replace("modules", "module", 1)) if lim.step == 1 else (f"{lim.step:g}", lim.name)
    return f"room for {n} {'more' if sign > 0 else 'fewer'} {name} ({lim.value:g} -> {new:g})"


def _unit_word(lim: Limit) -> str:
    return "module" if lim.kind.startswith("max") else lim.unit


def relief_words(mv: MarginalValue, sign: int) -> str:
    """'one more USD bn of public budget in 2027 is worth +0.00 of expected relief (...)'."""
    move = mv.up if sign > 0 else mv.down
    lim = mv.limit
    head = _amount(lim, sign)
    if move is None or not move.ok:
        p = move.point if move is not None else None
        return f"{head}: not computed ({p.status if p else 'n/a'}{': ' + p.message if p and p.message else ''})"
    delta = _clean(move.point.evaluation.expected_relief - mv.base_relief)
    change = mv.change_up if sign > 0 else mv.change_down
    if not mv.integers_changed(move):
        why = (
            "the optimal plan still fits"
            if sign < 0
            else "no tier comes within reach: the same integer decisions stay optimal"
        )
    elif delta == 0:
        why = f"another plan of the same relief: {change}"
    else:
        why = change
    per = "" if lim.step == 1 else f", {delta / lim.step:+.3f} per {_unit_word(lim)}"
    return f"{head} is worth {delta:+.2f} of expected relief{per} ({why}) [finite difference (MILP re-solved)]"


def spend_words(mv: MarginalValue) -> str | None:
    """'at the same relief, one more USD bn of public budget in 2026 would save USD 0.41bn ...'."""
    if mv.dual_spend is None:
        return None
    saving = _clean(-mv.dual_spend)
    lim = mv.limit
    what = (
        f"one more {_unit_word(lim)} of {lim.name}"
        if not lim.kind.startswith("max")
        else f"room for one more {lim.name.replace('modules', 'module', 1)}"
    )
    tag = "[LP dual (integer decisions fixed)]"
    if saving == 0:
        return f"at the same relief, {what} would save no discounted public spending {tag}"
    held = ""
    if mv.dual_range is not None:
        lo, hi = mv.dual_range
        if hi >= INF:
            held = f" (now {lim.value:g}; the same from {lo:.4g} up)"
        else:
            held = (
                f", up to {hi:.4g} (now {lim.value:g}; valid from {lo:.4g}: outside that range the LP's basis changes)"
            )
    each = what.replace("one more", "each extra", 1)
    verb = "save" if saving > 0 else "cost"
    return f"at the same relief, {each} would {verb} USD {abs(saving):.3g}bn of discounted public spending{held} {tag}"
