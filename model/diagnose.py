"""Explain an infeasible request in a planner's words.

HiGHS's feasibility relaxation finds the smallest weighted violation of the limits a
planner can move (yearly and total public budgets, pools, per-year and total sizes of
levers), while the logic of the model (tiers, build indicators, relations) stays fixed
and what was forced is relaxed only as a last resort. Each violated limit becomes one
line: which limit, its value, and what it would have to be.
"""

from __future__ import annotations


from .case import Case

RELAXABLE = {  # Pyomo constraint name -> penalty per unit of violation
    "year_budget": 1.0,
    "total_budget_limit": 1.0,
    "pool_limit_row": 1.0,
    "build_max": 1.0,
    "forced": 1000.0,
}
X_BOUND_PENALTY = 1.0


def _name_and_index(con) -> tuple[str, tuple]:
    comp = con.parent_component().name
    idx = con.index()
    if idx is None:
        return comp, ()
    return comp, idx if isinstance(idx, tuple) else (idx,)


def explain_infeasibility(engine, case: Case) -> list[str]:
    """Lines such as 'the public budget of 2027 (USD 5bn) would have to be USD 7.3bn'."""
    try:
        import numpy as np

        h = engine.highs
        lp = h.getLp()
        n_rows, n_cols = lp.num_row_, lp.num_col_
        row_pen = np.full(n_rows, -1.0)
        row_con = {}
        for i, con in enumerate(engine.rows):
            name, idx = _name_and_index(con)
            row_con[i] = (name, idx)
            if name in RELAXABLE:
                row_pen[i] = RELAXABLE[name]
        lower_pen = np.full(n_cols, -1.0)
        upper_pen = np.full(n_cols, -1.0)
        col_var = {}
        for v in engine.model.x.values():
            j = engine.col_of[id(v)]
            upper_pen[j] = X_BOUND_PENALTY
            col_var[j] = v.index()
        h.setOptionValue("output_flag", False)
        h.feasibilityRelaxation(-1.0, -1.0, -1.0, lower_pen, upper_pen, row_pen)
        sol = h.getSolution()
        if not sol.value_valid:
            return ["HiGHS found no way to meet the request even when budgets, pools and sizes are relaxed."]
        lines = []
        lv = case.table("levers").set_index("lever")
        for i, (name, idx) in row_con.items():
            if name not in RELAXABLE:
                continue
            act = sol.row_value[i]
            lo, up = lp.row_lower_[i], lp.row_upper_[i]
            over = act - up if up < 1e20 else 0.0
            under = lo - act if lo > -1e20 else 0.0
            if over <= 1e-7 and under <= 1e-7:
                continue
            if name == "year_budget":
                lines.append(f"the public budget of {idx[0]} (USD {up:.4g}bn) would have to be USD {act:.4g}bn")
            elif name == "total_budget_limit":
                lines.append(f"the total public budget (USD {up:.4g}bn) would have to be USD {act:.4g}bn")
            elif name == "pool_limit_row":
                lines.append(f"pool '{idx[0]}' (limit {up:.4g}) would have to allow {act:.4g}")
            elif name == "build_max":
                lines.append(f"lever '{idx[0]}' would need more than its max_modules ({lv.at[idx[0], 'max_modules']:g})")
            elif name == "forced":
                lines.append(f"forcing '{idx[0]}' cannot be met at all: it needs {lo:g} module(s) but at most {act:.4g} can be committed (check its earliest_year, max_modules and relations)")
        for j, (l, t) in col_var.items():
            up = lp.col_upper_[j]
            if sol.col_value[j] > up + 1e-7:
                lines.append(f"lever '{l}' would have to commit {sol.col_value[j]:.4g} module(s) in {t}, above its max_modules_per_year ({up:g})")
        if not lines:
            lines.append("the request conflicts with the fixed logic of the case (relations between levers, min_modules, earliest years)")
        forced = [str(l) for l in lv.index if engine.model.forced_min[l].value > 0]
        if forced:
            lines.insert(0, f"forced lever(s): {', '.join(forced)}; the limits that conflict with them:")
        return lines
    except Exception as e:  # an explanation must never hide the infeasibility itself
        return [f"the request is infeasible; relief could not work out which limits conflict ({type(e).__name__}: {e})"]
