"""Explain an infeasible request in a planner's words: which limits conflict, and by how much.

Two ways, in this order:

1. HiGHS's irreducible infeasible subset (IIS) of the LP relaxation: a smallest set of
   rows and bounds that cannot hold together (drop any one and the rest can). Each
   member becomes one conflict: a forced lever, a minimum size, a yearly or total budget,
   a pool, a per-year or total size limit, an exclusion, a relation. Its `needed` value
   is what that one limit would have to be for the conflict to go, the other members
   unchanged: found by dropping the member from the IIS and optimising its own row
   (whole modules where the lever is whole-module). E.g. "forced smelter needs USD 2bn
   of public money in all, but the total public budget is USD 1bn".
2. When the LP relaxation is feasible (the request fails only through whole modules or
   on/off decisions), there is no IIS: HiGHS's feasibility relaxation of the MIP finds
   the smallest weighted violation of the limits a planner can move (budgets, pools,
   sizes; relations and what was forced only as a last resort), and every violated
   limit becomes a conflict with its value and what it would have to be.

3. Either way, when two or more members of a family (every year's public budget) conflict,
   they are said as one conflict with the smallest change of the family that fixes it
   (`_families`): which years an IIS names is arbitrary, the family is the cause.

Which limit a row or column is, its penalty in the relaxation, where its conflicts are
listed and their words all come from the table of limits (model/core/limits.py); each kind
of limit has one small explainer here for each way, dispatched by the row's kind.

Pure: reads the engine's HiGHS model and the case, changes neither, prints nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from relief.model.core.limits import BOUNDS, KIND_ORDER, RELAXABLE, LimitRow, of_kind, row_of

if TYPE_CHECKING:
    from relief.model.core.case import Case

IIS_TIME_LIMIT = 30.0  # seconds HiGHS may spend looking for an IIS
NEEDED_TIME_LIMIT = 5.0  # seconds per "what would this limit have to be" solve
NEEDED_TOTAL_TIME = 30.0  # and for all of them together
FAMILY_TOTAL_TIME = 20.0  # seconds for the smallest fix of a family of limits (one MIP per member)

# penalties per unit of violation in the feasibility relaxation: the table's (model/core/limits.py)
X_BOUND_PENALTY = BOUNDS["x"].penalty  # per module above max_modules_per_year
EXCLUDED_PENALTY = BOUNDS["y"].penalty  # for using an excluded lever


@dataclass
class Conflict:
    """One limit of a conflict: `limit` its value now, `needed` what it would have to be
    (None when no single number says it, e.g. a relation)."""

    kind: str  # the table's kinds (model/core/limits.py: forced, min_modules, year_budget, pool ...) or model
    name: str  # lever, pool, year, total_public_budget, or "A requires B"
    limit: float | None
    needed: float | None
    text: str
    unit: str = ""  # "USD bn" or "modules" (pools: the pool's own unit, "")
    year: int | None = None
    # a family of limits said as one (`_families`): {"limit": kind, "members": [every member's
    # name], "in_conflict": [those the IIS named], "peak": the least its largest member must be}
    family: dict | None = None
    # the smallest change of the family that makes the request feasible, the rest unchanged:
    # {"name", "year", "path", "limit", "needed"} (one member), or {"name": "every year", "path", "raise_by"}
    smallest_fix: dict | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("limit", "needed"):
            d[k] = None if d[k] is None else float(d[k])
        for k in ("year", "family", "smallest_fix"):
            if d[k] is None:
                del d[k]
        return d


@dataclass
class Diagnosis:
    method: str  # "iis" | "feasibility_relaxation" | "none"
    conflicts: list[Conflict]  # [Conflict]
    note: str = ""

    def texts(self) -> list[str]:
        return [c.text for c in self.conflicts] or ([self.note] if self.note else [])


def num(v: float | None) -> str:
    """2 -> '2', 0.33 -> '0.33', 0.33333 -> '0.333', 1234.5 -> '1,234'."""
    if v is None:
        return "?"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _plural(n: float | None, word: str) -> str:
    return f"{num(n)} {word}" + ("" if n is not None and abs(n - 1) < 1e-9 else "s")


# --------------------------------------------------------------------------------------
# the engine's model, seen as named rows and columns
# --------------------------------------------------------------------------------------


class _Model:
    """Names of the engine's HiGHS rows and columns, and a private copy of its model to
    solve variations of (the engine's own HiGHS object is never changed)."""

    def __init__(self, engine, case: Case):
        self.engine, self.case, self.m = engine, case, engine.model
        self.lp = engine.highs.getLp()
        self.row_name = {}
        for i, con in enumerate(engine.rows):
            idx = con.index()
            self.row_name[i] = (
                con.parent_component().name,
                () if idx is None else (idx if isinstance(idx, tuple) else (idx,)),
            )
        self.col_name = {}
        for name in ("x", "y"):
            for idx, v in getattr(self.m, name).items():
                self.col_name[engine.col_of[id(v)]] = (name, idx if isinstance(idx, tuple) else (idx,))
        self.x_cols: dict[str, list[int]] = {}
        for (l, _year), v in self.m.x.items():
            self.x_cols.setdefault(l, []).append(engine.col_of[id(v)])
        lv = case.table("levers").set_index("lever")
        self.min_modules = {l: float(lv.at[l, "min_modules"]) for l in lv.index}
        self.max_modules = {l: float(lv.at[l, "max_modules"]) for l in lv.index}
        self.forced = {l: float(self.m.forced_min[l].value) for l in self.m.L if self.m.forced_min[l].value > 0}
        self.excluded = {l for l in self.m.L if self.m.allowed[l].value == 0}

    def copy(self):
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        # one thread count per process (HiGHS fixes its pool at the first run)
        h.setOptionValue("threads", int(self.engine.options.threads))
        h.setOptionValue("random_seed", int(self.engine.options.seed))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("time_limit", NEEDED_TIME_LIMIT)
        h.passModel(self.engine.highs.getModel())
        n = self.lp.num_col_
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        return h

    def row_entries(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        _, idx, val = self.engine.highs.getRowEntries(i)
        return np.asarray(idx, dtype=np.int32), np.asarray(val, dtype=float)


def _optimise(h, n_cols: int, cols, coefs, maximise: bool) -> float | None:
    """Optimise sum(coefs * x[cols]) on `h`; the value, or None if no plan was found."""
    import highspy

    cost = np.zeros(n_cols)
    for j, c in zip(cols, coefs):
        cost[j] += c
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
    h.clearSolver()
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    return float(h.getInfo().objective_function_value)


# --------------------------------------------------------------------------------------
# 1. the irreducible infeasible subset
# --------------------------------------------------------------------------------------


def _iis(engine):
    """(rows, cols) of an IIS as {index: bound status}, or None when HiGHS has none."""
    import highspy

    h = engine.highs
    _, old = h.getOptionValue("iis_strategy")
    _, old_limit = h.getOptionValue("iis_time_limit")
    try:
        # from the LP relaxation, made irreducible (the default strategy may return an empty set)
        h.setOptionValue(
            "iis_strategy",
            int(highspy.IisStrategy.kIisStrategyFromLp) | int(highspy.IisStrategy.kIisStrategyIrreducible),
        )
        h.setOptionValue("iis_time_limit", IIS_TIME_LIMIT)
        status, iis = h.getIis()
    finally:
        h.setOptionValue("iis_strategy", old)
        h.setOptionValue("iis_time_limit", old_limit)
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return None
    in_set = (2, 3, 4)  # lower, upper, boxed
    rows = {int(i): int(b) for i, b in zip(iis.row_index_, iis.row_bound_) if int(b) in in_set}
    cols = {int(j): int(b) for j, b in zip(iis.col_index_, iis.col_bound_) if int(b) in in_set}
    return (rows, cols) if rows or cols else None


def _kind_of_row(M: _Model, i: int) -> str | None:
    row = row_of(M.row_name[i][0])
    return row.kind if row is not None else None


def _drivers(M: _Model, rows: dict) -> tuple[str, bool]:
    """What pushes against the limits: 'forced smelter and chips at its min_modules of 2'."""
    parts = []
    requires = {M.row_name[i][1][0]: M.row_name[i][1][1] for i in rows if _kind_of_row(M, i) == "requires"}
    for i in rows:
        if _kind_of_row(M, i) == "forced":
            l = M.row_name[i][1][0]
            txt = f"forced {l}"
            if l in requires:
                txt += f" (which requires {requires[l]})"
            parts.append(txt)
    for i in rows:
        if _kind_of_row(M, i) == "min_modules":
            l = M.row_name[i][1][0]
            parts.append(f"{l} at its min_modules of {num(M.min_modules[l])}")
    for i in rows:
        if _kind_of_row(M, i) == "obligation":
            l, y = M.row_name[i][1]
            parts.append(f"the obligation on {l} by {y}")
    if not parts:
        return "the plan", False
    return " and ".join(parts), len(parts) > 1


class _Conflicting:
    """The rows of an IIS kept on a private copy of the model (all others free), to find
    what each member would have to be with the others unchanged."""

    def __init__(self, M: _Model, rows: dict):
        import highspy

        self.M, self.lp, self.INF = M, M.lp, highspy.kHighsInf
        self.n = self.lp.num_col_
        self.h = M.copy()
        free = [i for i in range(self.lp.num_row_) if i not in set(rows)]
        if free:
            k = len(free)
            self.h.changeRowsBounds(k, np.array(free, dtype=np.int32), np.full(k, -self.INF), np.full(k, self.INF))
        self.deadline = time.perf_counter() + NEEDED_TOTAL_TIME
        self.drivers, many = _drivers(M, rows)
        self.need = "need" if many else "needs"

    def needed_row(self, i: int, maximise: bool, cols_coefs=None) -> float | None:
        """The best value of row i (or of sum cols_coefs) with row i dropped from the conflict."""
        if time.perf_counter() > self.deadline:
            return None
        lo, up = self.lp.row_lower_[i], self.lp.row_upper_[i]
        self.h.changeRowBounds(i, -self.INF, self.INF)
        try:
            cols_, coefs = cols_coefs if cols_coefs is not None else self.M.row_entries(i)
            return _optimise(self.h, self.n, cols_, coefs, maximise)
        finally:
            self.h.changeRowBounds(i, lo, up)

    def needed_col(self, j: int, up_new: float, cols_coefs) -> float | None:
        if time.perf_counter() > self.deadline:
            return None
        lo, up = self.lp.col_lower_[j], self.lp.col_upper_[j]
        self.h.changeColBounds(j, lo, up_new)
        try:
            return _optimise(self.h, self.n, *cols_coefs, maximise=False)
        finally:
            self.h.changeColBounds(j, lo, up)

    def modules_of(self, l):
        cs = self.M.x_cols.get(l, [])
        return np.array(cs, dtype=np.int32), np.ones(len(cs))

    def conflict(self, row: LimitRow, text: str, limit, needed, in_year=None, **fields) -> Conflict:
        """A conflict on `row`, worded by its `text` template ('conflict' or 'conflict_open')."""
        return _worded(row, text, limit, needed, in_year, drivers=self.drivers, need=self.need, **fields)


def _worded(row: LimitRow, text: str, limit, needed, in_year=None, **fields) -> Conflict:
    """Conflict of `row` with its `text` template of the table filled in."""
    fields.update(
        limit=num(limit),
        needed=num(needed),
        limit_modules=_plural(limit, "module"),
        needed_modules=_plural(needed, "module"),
    )
    words = row.words
    return Conflict(
        row.kind, words.name.format(**fields), limit, needed, getattr(words, text).format(**fields), row.unit, in_year
    )


def _open(v) -> str:
    """The wording when the needed value is known, or the open one when it is not."""
    return "conflict" if v is not None else "conflict_open"


def _iis_forced(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict:
    l, lo = idx[0], C.lp.row_lower_[i]
    v = C.needed_row(i, True, C.modules_of(l))
    min_modules = C.M.min_modules[l]
    why = " (its min_modules)" if min_modules > 1 and abs(min_modules - lo) < 1e-9 else ""
    fit = "none fits" if v is not None and v < 1e-9 else f"at most {_plural(v, 'module')} fit"
    return C.conflict(row, _open(v), lo, v, lever=l, why=why, fit=fit)


def _iis_min_modules(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict:
    l = idx[0]
    v = C.needed_row(i, True, C.modules_of(l))
    return C.conflict(row, _open(v), C.M.min_modules[l], v, lever=l)


def _iis_obligation(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict:
    """The most modules of the lever that can be committed by by_year with the others of the conflict."""
    l, y = idx
    v = C.needed_row(i, True)
    return C.conflict(row, _open(v), C.lp.row_lower_[i], v, int(y), lever=l, year=y)


def _iis_max_modules(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict | None:
    l = idx[0]
    v = C.needed_row(i, False, C.modules_of(l))
    if v is not None and v > C.M.max_modules[l] + 1e-6:
        return C.conflict(row, "conflict", C.M.max_modules[l], v, lever=l)
    return None  # the row only ties "in the plan" to "has modules": the relations say the rest


def _iis_upper_row(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict:
    """A budget or a pool: the row's upper bound, and the row's best value without it."""
    v = C.needed_row(i, False)
    up = C.lp.row_upper_[i]
    if row.kind == "year_budget":
        t = int(idx[0])
        return C.conflict(row, _open(v), up, v, t, year=t)
    if row.kind == "envelope_budget":
        t = int(idx[1])
        return C.conflict(row, _open(v), up, v, t, envelope=idx[0], year=t)
    return C.conflict(row, _open(v), up, v, pool=idx[0] if idx else None)


def _iis_relation(C: _Conflicting, row: LimitRow, i: int, idx: tuple) -> Conflict:
    l, o = idx
    tail = f", but {o} is excluded" if o in C.M.excluded else ""
    return C.conflict(row, "conflict_open", None, None, lever=l, other=o, tail=tail)


def _iis_model(name: str, idx: tuple) -> Conflict:
    where = f"{list(idx) if idx else ''}"
    return Conflict("model", f"{name}{where}", None, None, f"the model's row {name} {where}".strip())


_IIS_ROW = {  # Conflict.kind of the table's row -> what that limit would have to be
    "forced": _iis_forced,
    "min_modules": _iis_min_modules,
    "obligation": _iis_obligation,
    "max_modules": _iis_max_modules,
    "year_budget": _iis_upper_row,
    "total_budget": _iis_upper_row,
    "envelope_budget": _iis_upper_row,
    "envelope_total": _iis_upper_row,
    "pool": _iis_upper_row,
    "requires": _iis_relation,
    "excludes": _iis_relation,
}


def _iis_max_per_year(C: _Conflicting, row: LimitRow, j: int, idx: tuple, bound: int) -> Conflict | None:
    if bound not in (3, 4) or C.lp.col_upper_[j] >= 1e20:
        return None
    l, t = idx
    up = C.lp.col_upper_[j]
    v = C.needed_col(j, C.INF, (np.array([j], dtype=np.int32), np.ones(1)))
    if v is None or v > up + 1e-6:
        return C.conflict(row, _open(v), up, v, int(t), lever=l, year=t)
    return None


def _iis_excluded(C: _Conflicting, row: LimitRow, j: int, idx: tuple, bound: int) -> Conflict | None:
    if bound not in (3, 4) or C.lp.col_upper_[j] >= 0.5:
        return None
    l = idx[0]
    v = float(C.M.m.min_used[l].value)  # in the plan means at least this many modules
    return C.conflict(row, "conflict", 0.0, v, lever=l)


_IIS_COLUMN = {"max_modules_per_year": _iis_max_per_year, "excluded": _iis_excluded}


def _explain_iis(M: _Model, rows: dict, cols: dict) -> list[Conflict]:
    C = _Conflicting(M, rows)
    out: list[Conflict] = []
    for i in sorted(rows):
        name, idx = M.row_name[i]
        row = row_of(name)
        explain = _IIS_ROW.get(row.kind) if row is not None else None
        found = explain(C, row, i, idx) if explain is not None else _iis_model(name, idx)
        if found is not None:
            out.append(found)
    for j in sorted(cols):
        var, idx = M.col_name.get(j, (None, ()))
        row = BOUNDS.get(var)
        found = _IIS_COLUMN[row.kind](C, row, j, idx, cols[j]) if row is not None else None
        if found is not None:
            out.append(found)
    return out


# --------------------------------------------------------------------------------------
# 2. the feasibility relaxation (when the LP relaxation is feasible)
# --------------------------------------------------------------------------------------


def _relaxed_upper_row(M: _Model, sol, row: LimitRow, idx: tuple, act, lo, up) -> Conflict:
    if row.kind == "year_budget":
        t = int(idx[0])
        return _worded(row, "relaxed", up, act, t, year=t)
    if row.kind == "envelope_budget":
        t = int(idx[1])
        return _worded(row, "relaxed", up, act, t, envelope=idx[0], year=t)
    return _worded(row, "relaxed", up, act, pool=idx[0] if idx else None)


def _relaxed_min_modules(M: _Model, sol, row: LimitRow, idx: tuple, act, lo, up) -> Conflict:
    l = idx[0]
    total = float(sum(sol.col_value[j] for j in M.x_cols.get(l, [])))
    return _worded(row, "relaxed", M.min_modules[l], total, lever=l)


def _relaxed_obligation(M: _Model, sol, row: LimitRow, idx: tuple, act, lo, up) -> Conflict:
    l, y = idx
    return _worded(row, "relaxed", lo, act, int(y), lever=l, year=y)


def _relaxed_relation(M: _Model, sol, row: LimitRow, idx: tuple, act, lo, up) -> Conflict:
    l, o = idx
    return _worded(row, "relaxed", None, None, lever=l, other=o, relation=row.component)


def _relaxed_forced(M: _Model, sol, row: LimitRow, idx: tuple, act, lo, up) -> Conflict:
    return _worded(row, "relaxed", lo, act, lever=idx[0])


_RELAXED_ROW = {
    "envelope_budget": _relaxed_upper_row,
    "envelope_total": _relaxed_upper_row,
    "year_budget": _relaxed_upper_row,
    "total_budget": _relaxed_upper_row,
    "pool": _relaxed_upper_row,
    "min_modules": _relaxed_min_modules,
    "obligation": _relaxed_obligation,
    "requires": _relaxed_relation,
    "excludes": _relaxed_relation,
    "forced": _relaxed_forced,
}


def _relaxed_column(row: LimitRow, idx: tuple, value: float, up: float) -> Conflict:
    if row.kind == "max_modules_per_year":
        l, t = idx
        return _worded(row, "relaxed", up, value, int(t), lever=l, year=t)
    return _worded(row, "relaxed", 0.0, None, lever=idx[0])


def _relax(M: _Model):
    """HiGHS's feasibility relaxation of a copy, with the table's penalties: its solution or None."""
    lp = M.lp
    h = M.copy()
    h.setOptionValue("time_limit", NEEDED_TOTAL_TIME)
    row_pen = np.full(lp.num_row_, -1.0)
    for i, (name, _) in M.row_name.items():
        if name in RELAXABLE:
            row_pen[i] = RELAXABLE[name]
    lower_pen = np.full(lp.num_col_, -1.0)
    upper_pen = np.full(lp.num_col_, -1.0)
    for j, (var, idx) in M.col_name.items():
        if var == "x":
            upper_pen[j] = X_BOUND_PENALTY
        elif var == "y" and idx[0] in M.excluded:
            upper_pen[j] = EXCLUDED_PENALTY
    h.feasibilityRelaxation(-1.0, -1.0, -1.0, lower_pen, upper_pen, row_pen)
    sol = h.getSolution()
    return sol if sol.value_valid else None


def _explain_relaxation(M: _Model) -> list[Conflict] | None:
    sol = _relax(M)
    if sol is None:
        return None
    lp = M.lp
    out: list[Conflict] = []
    tol = 1e-7
    for i, (name, idx) in M.row_name.items():
        if name not in RELAXABLE:
            continue
        act, lo, up = sol.row_value[i], lp.row_lower_[i], lp.row_upper_[i]
        over = act - up if up < 1e20 else 0.0
        under = lo - act if lo > -1e20 else 0.0
        if over <= tol and under <= tol:
            continue
        row = row_of(name)
        out.append(_RELAXED_ROW[row.kind](M, sol, row, idx, act, lo, up))
    for j, (var, idx) in M.col_name.items():
        up = lp.col_upper_[j]
        if sol.col_value[j] <= up + tol:
            continue
        out.append(_relaxed_column(BOUNDS[var], idx, sol.col_value[j], up))
    return out


# --------------------------------------------------------------------------------------
# 3. a family of limits: the same limit of several years, said as one with its smallest fix
# --------------------------------------------------------------------------------------
#
# An IIS (or the relaxation) names *some* years' budgets, and which ones is arbitrary: with
# a fab spending 2.5bn a year for four years against budgets of 1bn, the LP relaxation
# fails on any set of years whose windows cover the horizon (2029 and 2033; raise 2029 and
# it names 2026, 2030 and 2033). The real cause is the family: no year's budget is large
# enough. So when two or more members of a family conflict, they become one conflict that
# says so, with the smallest change that fixes it, found on the whole MIP (whole modules):
# for each member, the least raise of that member alone (all other limits as they are);
# the smallest of these. If no single member can fix it, the least raise of every member
# by the same amount. And `peak`: the least the largest member must be (one budget
# standing for every year's), what the drivers need "in one year".


def _round_up(v: float) -> float:
    """An upper limit that must be at least v, at the precision `num` prints (so the printed
    value is enough): 2.4999999999 -> 2.5, 2.5001 -> 2.501; within HiGHS's feasibility
    tolerance (1e-6) of a printed value, that value (2.5000004 -> 2.5)."""
    step = 1.0 if abs(v) >= 1000 else 0.001
    return float(round(np.ceil((v - 1e-6) / step) * step, 3))


class _FamilySolver:
    """A private copy of the whole model with a closed slack column per member row (row_i -
    s_i <= upper_i) and one shared column; each question opens some of them and minimises."""

    def __init__(self, M: _Model, members: list[int]):
        import highspy

        self.INF, self.Min, self.Opt = highspy.kHighsInf, highspy.ObjSense.kMinimize, highspy.HighsModelStatus.kOptimal
        self.members, self.lp = members, M.lp
        self.h = M.copy()
        self.h.changeObjectiveSense(self.Min)
        n, one = M.lp.num_col_, np.array([-1.0])
        for i in members:
            self.h.addCol(0.0, 0.0, 0.0, 1, np.array([i], dtype=np.int32), one)
        k = len(members)
        self.h.addCol(0.0, 0.0, 0.0, k, np.array(members, dtype=np.int32), np.full(k, -1.0))
        self.slack = {i: n + j for j, i in enumerate(members)}
        self.shared = n + k
        self.deadline = time.perf_counter() + FAMILY_TOTAL_TIME

    def least(self, col: int, upper_rows: dict | None = None) -> float | None:
        """min of column `col` opened (cost 1), member rows' upper bounds as in upper_rows; None
        if HiGHS proves no optimum in time (infeasible, or out of time)."""
        if time.perf_counter() > self.deadline:
            return None
        h, saved = self.h, {}
        for i, up in (upper_rows or {}).items():
            saved[i] = (self.lp.row_lower_[i], self.lp.row_upper_[i])
            h.changeRowBounds(i, self.lp.row_lower_[i], up)
        h.changeColBounds(col, 0.0, self.INF)
        h.changeColCost(col, 1.0)
        try:
            h.clearSolver()
            h.run()
            ok = h.getModelStatus() == self.Opt
            return max(0.0, float(h.getInfo().objective_function_value)) if ok else None
        finally:
            h.changeColBounds(col, 0.0, 0.0)
            h.changeColCost(col, 0.0)
            for i, (lo, up) in saved.items():
                h.changeRowBounds(i, lo, up)

    def smallest_single(self) -> tuple[int, float, bool] | None:
        """(member, least raise, every member tried) of the member whose raise alone is smallest."""
        best, complete = None, True
        for i in self.members:
            if time.perf_counter() > self.deadline:
                complete = False
                break
            v = self.least(self.slack[i])
            if v is not None and (best is None or v < best[1] - 1e-9):
                best = (i, v)
        return None if best is None else (*best, complete)


def _envelope_of(M: _Model, row: LimitRow, i: int) -> str | None:
    """The envelope of an envelope_year_budget row (None for any other row)."""
    return M.row_name[i][1][0] if row.kind == "envelope_budget" else None


def _family_conflict(M: _Model, row: LimitRow, same: list[Conflict], drivers: str, need: str) -> Conflict | None:
    """One conflict for the members `same` of `row`'s family, or None (no fix by the family alone).
    An envelope's yearly budgets are a family of their own, envelope by envelope."""
    envelope = same[0].name.rsplit(" ", 1)[0] if row.kind == "envelope_budget" else None
    members = sorted(
        i for i, (name, _) in M.row_name.items() if name == row.component and _envelope_of(M, row, i) == envelope
    )
    F = _FamilySolver(M, members)
    one = F.smallest_single()
    by = F.least(F.shared)  # every member raised by the same amount
    peak = F.least(F.shared, dict.fromkeys(members, 0.0))  # one level X for every member: row_i <= X
    every_path = row.path.format(index="*" if envelope is None else f"{envelope}:*")
    every = None if by is None else {"name": "every year", "path": every_path, "raise_by": _round_up(by)}
    every_text = "" if every is None else row.words.family_all.format(by=num(every["raise_by"]), envelope=envelope)
    if one is None:
        if every is None:
            return None
        fix, fix_text = every, every_text
    else:
        fix, fix_text = _single_fix(M, row, *one)
        if every is not None and by * len(members) < one[1] - 1e-9:  # raising them all is less money in all
            fix_text += f", or {every_text}"
    limits = [float(M.lp.row_upper_[i]) for i in members]
    low, high = num(min(limits)), num(max(limits))
    text = row.words.family.format(
        envelope=envelope,
        limits=high if low == high else f"{low}-{high}",
        peak=num(None if peak is None else _round_up(peak)),
        drivers=drivers,
        need=need,
        fix=fix_text,
        drop=", or drop " + " ".join(f"--force {l}" for l in M.forced) if M.forced else "",
    )
    family = {
        "limit": row.kind,
        "members": [_member_name(M, row, i) for i in members],
        "in_conflict": [c.name for c in same],  # which members the IIS (or relaxation) happened to name
        "peak": None if peak is None else _round_up(peak),
        "raise_every_by": None if every is None else every["raise_by"],
    }
    name = "every year" if envelope is None else f"every year of {envelope}"
    return Conflict(row.kind, name, max(limits), fix.get("needed"), text, row.unit, None, family, fix)


def _member_name(M: _Model, row: LimitRow, i: int) -> str:
    index = M.row_name[i][1]
    if row.kind == "envelope_budget":  # a member of one envelope's family: its year
        return str(index[1])
    return row.words.name.format(year=index[0], pool=index[0])


def _single_fix(M: _Model, row: LimitRow, i: int, raise_by: float, complete: bool) -> tuple[dict, str]:
    """The smallest single change: member i raised by `raise_by` (every member tried, if `complete`)."""
    index, name, up = M.row_name[i][1], _member_name(M, row, i), float(M.lp.row_upper_[i])
    path = row.path.format(index=":".join(str(v) for v in index))
    fix = {"name": name, "path": path, "limit": up, "needed": _round_up(up + raise_by)}
    if "{year}" in row.words.name:
        fix["year"] = int(index[-1])
    text = row.words.family_one.format(member=name, needed=num(fix["needed"]), envelope=_envelope_of(M, row, i))
    if not complete:  # out of time before every member was tried: enough, maybe not the smallest
        text = text.replace(" (the smallest single change)", "")
    return fix, text


def _per_year_conflict(M: _Model, row: LimitRow, same: list[Conflict], drivers: str, need: str) -> Conflict | None:
    """One conflict for a lever's max_modules_per_year met in several years: it is one number of
    levers.csv, so the fix is that number raised (the least that makes the request feasible,
    every other limit as it is), or None if raising it alone cannot."""
    import highspy

    lever = same[0].name
    cols = M.x_cols.get(lever, [])
    if not cols:
        return None
    up, INF = float(M.lp.col_upper_[cols[0]]), highspy.kHighsInf
    h = M.copy()
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.setOptionValue("time_limit", FAMILY_TOTAL_TIME)
    d = M.lp.num_col_
    h.addCol(1.0, 0.0, INF, 0, np.array([], dtype=np.int32), np.array([]))  # the raise, cost 1
    for j in cols:  # x[l,t] <= up + raise, for every year
        h.changeColBounds(j, M.lp.col_lower_[j], INF)
        h.addRow(-INF, up, 2, np.array([j, d], dtype=np.int32), np.array([1.0, -1.0]))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    raised = up + max(0.0, float(h.getInfo().objective_function_value))
    whole = any(v.is_integer() for (l, _), v in M.m.x.items() if l == lever)
    needed = float(np.ceil(raised - 1e-6)) if whole else _round_up(raised)
    path = row.path.format(index=lever)
    fix = {"name": lever, "path": path, "limit": up, "needed": needed}
    text = row.words.family.format(
        lever=lever,
        limit_modules=_plural(up, "module"),
        drivers=drivers,
        fix=row.words.family_one.format(needed=num(needed)),
        drop=", or drop " + " ".join(f"--force {l}" for l in M.forced) if M.forced else "",
    )
    family = {
        "limit": row.kind,
        "members": [str(M.col_name[j][1][1]) for j in cols],  # the years open to the lever
        "in_conflict": [str(c.year) for c in same],
    }
    return Conflict(row.kind, lever, up, needed, text, row.unit, None, family, fix)


def _families(M: _Model, conflicts: list[Conflict], drivers: str, need: str) -> tuple[list[Conflict], bool]:
    """The conflicts with each family of two or more members said as one (and whether one was):
    every year's budget (one family), or one lever's max_modules_per_year in several years."""
    out, merged = list(conflicts), False
    for kind in dict.fromkeys(c.kind for c in conflicts):
        row = of_kind(kind) if kind in KIND_ORDER and kind != "model" else None
        if row is None or row.words is None or not row.words.family:
            continue
        groups: dict = {}
        for c in conflicts:
            if c.kind == kind:  # a lever's years; an envelope's years (name 'ENVELOPE YEAR'); all years
                group = c.name if row.bound else c.name.rsplit(" ", 1)[0] if kind == "envelope_budget" else None
                groups.setdefault(group, []).append(c)
        for same in groups.values():
            if len(same) < 2:
                continue
            explain = _per_year_conflict if row.bound else _family_conflict
            one = explain(M, row, same, drivers, need)
            if one is not None:
                out = [c for c in out if c not in same] + [one]
                merged = True
    return out, merged


def _ordered(conflicts: list[Conflict]) -> list[Conflict]:
    """What is asked for first (forced levers, sizes, relations), then the limits it meets (the table's order)."""
    return sorted(
        conflicts, key=lambda c: (KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER), c.year or 0)
    )


def _owed(M: _Model) -> str:
    """' (owing 2 of lng by 2027, ...)': the obligations in force, which the relaxation may leave as they are."""
    owed = [(l, y, M.m.obligation_min[l, y].value) for (l, y) in getattr(M.m, "OB", ())]
    owed = [f"{num(v)} of {l} by {y}" for l, y, v in owed if v > 0]
    return f" (owing {', '.join(owed)}: obligations.csv)" if owed else ""


def explain_infeasibility(engine, case: Case) -> Diagnosis:
    """Which limits conflict, with their values and what they would have to be."""
    try:
        M = _Model(engine, case)
        found = _iis(engine)
        if found is not None:
            conflicts = _explain_iis(M, *found)
            if conflicts:
                drivers, many = _drivers(M, found[0])
                conflicts, _ = _families(M, conflicts, drivers, "need" if many else "needs")
                return Diagnosis(
                    "iis",
                    _ordered(conflicts),
                    "these limits conflict (an irreducible set: moving any one of them "
                    "as shown removes this conflict; another may remain)",
                )
        conflicts = _explain_relaxation(M)
        if conflicts:
            drivers = " and ".join(f"forced {l}" for l in M.forced) or "the plan"
            conflicts = _ordered(_families(M, conflicts, drivers, "need" if len(M.forced) > 1 else "needs")[0])
            forced = f" (with {', '.join(M.forced)} forced)" if M.forced else ""
            forced += _owed(M)
            return Diagnosis(
                "feasibility_relaxation",
                conflicts,
                f"the smallest changes of the limits that make the request{forced} feasible",
            )
        if conflicts is None:
            return Diagnosis(
                "none",
                [],
                "HiGHS found no way to meet the request even with budgets, pools, sizes and relations relaxed",
            )
        return Diagnosis(
            "none", [], "the request conflicts with the fixed logic of the case (earliest years, lead times)"
        )
    except Exception as e:  # an explanation must never hide the infeasibility itself
        return Diagnosis("none", [], f"relief could not work out which limits conflict ({type(e).__name__}: {e})")
