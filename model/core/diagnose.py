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

Pure: reads the engine's HiGHS model and the case, changes neither, prints nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from relief.model.core.case import Case

IIS_TIME_LIMIT = 30.0  # seconds HiGHS may spend looking for an IIS
NEEDED_TIME_LIMIT = 5.0  # seconds per "what would this limit have to be" solve
NEEDED_TOTAL_TIME = 30.0  # and for all of them together

RELAXABLE = {  # Pyomo constraint name -> penalty per unit of violation (feasibility relaxation)
    "year_budget": 1.0,
    "total_budget_limit": 1.0,
    "pool_limit_row": 1.0,
    "build_min": 10.0,  # a smaller minimum size (build_max only ties "in the plan" to "has modules": never relaxed)
    "requires": 100.0,
    "excludes": 100.0,
    "forced": 1000.0,
}
X_BOUND_PENALTY = 1.0  # per module above max_modules_per_year
EXCLUDED_PENALTY = 100.0  # for using an excluded lever


@dataclass
class Conflict:
    """One limit of a conflict: `limit` its value now, `needed` what it would have to be
    (None when no single number says it, e.g. a relation)."""

    kind: str  # forced | min_modules | max_modules | max_modules_per_year | excluded | year_budget | total_budget | pool | requires | excludes | model
    name: str  # lever, pool, year, total_public_budget, or "A requires B"
    limit: float | None
    needed: float | None
    text: str
    unit: str = ""  # "USD bn" or "modules" (pools: the pool's own unit, "")
    year: int | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("limit", "needed"):
            d[k] = None if d[k] is None else float(d[k])
        if d["year"] is None:
            del d["year"]
        return d


@dataclass
class Diagnosis:
    method: str  # "iis" | "feasibility_relaxation" | "none"
    conflicts: list  # [Conflict]
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
        for (l, t), v in self.m.x.items():
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


def _drivers(M: _Model, rows: dict) -> tuple[str, bool]:
    """What pushes against the limits: 'forced smelter and chips at its min_modules of 2'."""
    parts = []
    requires = {idx[0]: idx[1] for i in rows for name, idx in [M.row_name[i]] if name == "requires"}
    for i in rows:
        name, idx = M.row_name[i]
        if name == "forced":
            l = idx[0]
            txt = f"forced {l}"
            if l in requires:
                txt += f" (which requires {requires[l]})"
            parts.append(txt)
    for i in rows:
        name, idx = M.row_name[i]
        if name == "build_min":
            parts.append(f"{idx[0]} at its min_modules of {num(M.min_modules[idx[0]])}")
    if not parts:
        return "the plan", False
    return " and ".join(parts), len(parts) > 1


def _explain_iis(M: _Model, rows: dict, cols: dict) -> list[Conflict]:
    import highspy

    INF = highspy.kHighsInf
    lp = M.lp
    n = lp.num_col_
    h = M.copy()
    keep = set(rows)
    free = [i for i in range(lp.num_row_) if i not in keep]
    if free:
        h.changeRowsBounds(len(free), np.array(free, dtype=np.int32), np.full(len(free), -INF), np.full(len(free), INF))
    deadline = time.perf_counter() + NEEDED_TOTAL_TIME

    def needed_row(i: int, maximise: bool, cols_coefs=None) -> float | None:
        """The best value of row i (or of sum cols_coefs) with row i dropped from the conflict."""
        if time.perf_counter() > deadline:
            return None
        lo, up = lp.row_lower_[i], lp.row_upper_[i]
        h.changeRowBounds(i, -INF, INF)
        try:
            cols_, coefs = cols_coefs if cols_coefs is not None else M.row_entries(i)
            return _optimise(h, n, cols_, coefs, maximise)
        finally:
            h.changeRowBounds(i, lo, up)

    def needed_col(j: int, up_new: float, cols_coefs) -> float | None:
        if time.perf_counter() > deadline:
            return None
        lo, up = lp.col_lower_[j], lp.col_upper_[j]
        h.changeColBounds(j, lo, up_new)
        try:
            return _optimise(h, n, *cols_coefs, maximise=False)
        finally:
            h.changeColBounds(j, lo, up)

    def modules_of(l):
        cs = M.x_cols.get(l, [])
        return np.array(cs, dtype=np.int32), np.ones(len(cs))

    drivers, many = _drivers(M, rows)
    need = "need" if many else "needs"
    out: list[Conflict] = []
    for i in sorted(rows):
        name, idx = M.row_name[i]
        lo, up = lp.row_lower_[i], lp.row_upper_[i]
        if name == "forced":
            l = idx[0]
            v = needed_row(i, True, modules_of(l))
            why = " (its min_modules)" if M.min_modules[l] > 1 and abs(M.min_modules[l] - lo) < 1e-9 else ""
            fit = "none fits" if v is not None and v < 1e-9 else f"at most {_plural(v, 'module')} fit"
            text = (
                f"{l} is forced: at least {_plural(lo, 'module')}{why}; with the other limits of this conflict, {fit}"
                if v is not None
                else f"{l} is forced: at least {_plural(lo, 'module')}{why}"
            )
            out.append(Conflict("forced", l, lo, v, text, "modules"))
        elif name == "build_min":
            l = idx[0]
            v = needed_row(i, True, modules_of(l))
            text = f"{l} must have at least its min_modules of {num(M.min_modules[l])} once in the plan" + (
                f", but with the other limits of this conflict at most {_plural(v, 'module')} fit"
                if v is not None
                else ""
            )
            out.append(Conflict("min_modules", l, M.min_modules[l], v, text, "modules"))
        elif name == "build_max":
            l = idx[0]
            v = needed_row(i, False, modules_of(l))
            if v is not None and v > M.max_modules[l] + 1e-6:
                out.append(
                    Conflict(
                        "max_modules",
                        l,
                        M.max_modules[l],
                        v,
                        f"{drivers} {need} {_plural(v, 'module')} of {l}, but its max_modules is {num(M.max_modules[l])}",
                        "modules",
                    )
                )
            # otherwise the row only ties "in the plan" to "has modules": the relations say the rest
        elif name == "year_budget":
            t = int(idx[0])
            v = needed_row(i, False)
            text = (
                f"{drivers} {need} USD {num(v)}bn of public money in {t}, but the {t} public budget is USD {num(up)}bn"
                if v is not None
                else f"{drivers} {need} more public money in {t} than its budget of USD {num(up)}bn"
            )
            out.append(Conflict("year_budget", str(t), up, v, text, "USD bn", t))
        elif name == "total_budget_limit":
            v = needed_row(i, False)
            text = (
                f"{drivers} {need} USD {num(v)}bn of public money in all, but the total public budget is USD {num(up)}bn"
                if v is not None
                else f"{drivers} {need} more public money than the total public budget of USD {num(up)}bn"
            )
            out.append(Conflict("total_budget", "total_public_budget", up, v, text, "USD bn"))
        elif name == "pool_limit_row":
            q = idx[0]
            v = needed_row(i, False)
            text = (
                f"{drivers} {need} {num(v)} of pool {q}, but its limit is {num(up)}"
                if v is not None
                else f"{drivers} {need} more of pool {q} than its limit of {num(up)}"
            )
            out.append(Conflict("pool", q, up, v, text))
        elif name == "requires":
            l, o = idx
            tail = f", but {o} is excluded" if o in M.excluded else ""
            out.append(Conflict("requires", f"{l} requires {o}", None, None, f"{l} requires {o} (relations.csv){tail}"))
        elif name == "excludes":
            l, o = idx
            out.append(
                Conflict("excludes", f"{l} excludes {o}", None, None, f"{l} and {o} exclude each other (relations.csv)")
            )
        else:
            out.append(
                Conflict(
                    "model",
                    f"{name}{list(idx) if idx else ''}",
                    None,
                    None,
                    f"the model's row {name} {list(idx) if idx else ''}".strip(),
                )
            )
    for j in sorted(cols):
        var, idx = M.col_name.get(j, (None, ()))
        bound = cols[j]
        if var == "x" and bound in (3, 4) and lp.col_upper_[j] < 1e20:
            l, t = idx
            up = lp.col_upper_[j]
            v = needed_col(j, INF, (np.array([j], dtype=np.int32), np.ones(1)))
            if v is None or v > up + 1e-6:
                text = (
                    f"{drivers} {need} {_plural(v, 'module')} of {l} in {t}, but its max_modules_per_year is {num(up)}"
                    if v is not None
                    else f"{l} may commit at most {_plural(up, 'module')} in {t} (max_modules_per_year)"
                )
                out.append(Conflict("max_modules_per_year", l, up, v, text, "modules", int(t)))
        elif var == "y" and bound in (3, 4) and lp.col_upper_[j] < 0.5:
            l = idx[0]
            v = float(M.m.min_used[l].value)  # in the plan means at least this many modules
            text = f"{l} is excluded (--exclude {l}), but {drivers} {need} it in the plan (at least {_plural(v, 'module')})"
            out.append(Conflict("excluded", l, 0.0, v, text, "modules"))
    return out


# --------------------------------------------------------------------------------------
# 2. the feasibility relaxation (when the LP relaxation is feasible)
# --------------------------------------------------------------------------------------


def _explain_relaxation(M: _Model) -> list[Conflict] | None:
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
    if not sol.value_valid:
        return None
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
        if name == "year_budget":
            t = int(idx[0])
            out.append(
                Conflict(
                    "year_budget",
                    str(t),
                    up,
                    act,
                    f"the public budget of {t} (USD {num(up)}bn) would have to be USD {num(act)}bn",
                    "USD bn",
                    t,
                )
            )
        elif name == "total_budget_limit":
            out.append(
                Conflict(
                    "total_budget",
                    "total_public_budget",
                    up,
                    act,
                    f"the total public budget (USD {num(up)}bn) would have to be USD {num(act)}bn",
                    "USD bn",
                )
            )
        elif name == "pool_limit_row":
            out.append(
                Conflict("pool", idx[0], up, act, f"pool {idx[0]} (limit {num(up)}) would have to allow {num(act)}")
            )
        elif name == "build_min":
            l = idx[0]
            total = float(sum(sol.col_value[j] for j in M.x_cols.get(l, [])))
            out.append(
                Conflict(
                    "min_modules",
                    l,
                    M.min_modules[l],
                    total,
                    f"{l} would have to be smaller than its min_modules of {num(M.min_modules[l])} ({_plural(total, 'module')})",
                    "modules",
                )
            )
        elif name in ("requires", "excludes"):
            l, o = idx
            rel = f"{l} {name} {o}"
            out.append(Conflict(name, rel, None, None, f"the relation '{rel}' (relations.csv) would have to go"))
        elif name == "forced":
            l = idx[0]
            out.append(
                Conflict(
                    "forced",
                    l,
                    lo,
                    act,
                    f"forcing {l} cannot be met: it needs {_plural(lo, 'module')} but at most {num(act)} can be committed "
                    "(check its earliest_year, max_modules and relations)",
                    "modules",
                )
            )
    for j, (var, idx) in M.col_name.items():
        up = lp.col_upper_[j]
        if sol.col_value[j] <= up + tol:
            continue
        if var == "x":
            l, t = idx
            out.append(
                Conflict(
                    "max_modules_per_year",
                    l,
                    up,
                    sol.col_value[j],
                    f"{l} would have to commit {_plural(sol.col_value[j], 'module')} in {t}, above its max_modules_per_year ({num(up)})",
                    "modules",
                    int(t),
                )
            )
        elif var == "y":
            out.append(
                Conflict(
                    "excluded", idx[0], 0.0, None, f"{idx[0]} would have to be allowed (it is excluded)", "modules"
                )
            )
    return out


KIND_ORDER = (
    "forced",
    "min_modules",
    "requires",
    "excludes",
    "excluded",
    "year_budget",
    "total_budget",
    "pool",
    "max_modules",
    "max_modules_per_year",
    "model",
)


def _ordered(conflicts: list[Conflict]) -> list[Conflict]:
    """What is asked for first (forced levers, sizes, relations), then the limits it meets."""
    return sorted(
        conflicts, key=lambda c: (KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER), c.year or 0)
    )


def explain_infeasibility(engine, case: Case) -> Diagnosis:
    """Which limits conflict, with their values and what they would have to be."""
    try:
        M = _Model(engine, case)
        found = _iis(engine)
        if found is not None:
            conflicts = _ordered(_explain_iis(M, *found))
            if conflicts:
                return Diagnosis(
                    "iis",
                    conflicts,
                    "these limits conflict (an irreducible set: moving any one of them "
                    "as shown removes this conflict; another may remain)",
                )
        conflicts = _explain_relaxation(M)
        if conflicts:
            conflicts = _ordered(conflicts)
            forced = f" (with {', '.join(M.forced)} forced)" if M.forced else ""
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
