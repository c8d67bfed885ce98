"""Random tiny, valid relief cases for model-correctness tests.

One generator, `generate(chooser)`, draws every number through a small `chooser`
interface, so the same code serves two front ends:

* `random_case(seed)`: a seeded `random.Random` (deterministic, for brute force);
* `cases()`: a hypothesis strategy (the draws shrink as hypothesis shrinks).

A generated case is `(meta, tables)`: `meta` the case.yaml fields, `tables` a dict of
table name -> list of row dicts in the section-2 schema of docs/model-spec. Feed it to
`relief.model.core.case.Case.from_tables(meta, tables)`, or write it to a case folder with
`write_case(folder, meta, tables)`.

Numbers are drawn from coarse grids (whole scores, thresholds in halves, credits in
quarters) so that a score either equals a threshold exactly or misses it by far more
than any solver tolerance: optimal values are then unambiguous to 1e-6.

All levers are whole-module (`integer` true) with small bounds, so every plan can be
enumerated (see `plan_count`).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import yaml

# Column order of each table when written as CSV (model-spec section 2).
COLUMNS = {
    "levers": [
        "lever",
        "capex_per_module",
        "public_share",
        "lead_time_years",
        "earliest_year",
        "min_modules",
        "max_modules",
        "max_modules_per_year",
        "integer",
    ],
    "contributions": ["lever", "pillar", "score_per_module"],
    "sectors": ["sector", "track", "exports_usd_bn", "growth_rate"],
    "scenarios": ["scenario", "probability", "commitment_credit"],
    "pillar_weights": ["scenario", "track", "pillar", "weight"],
    "tiers": ["scenario", "track", "tier", "threshold"],
    "tariffs": ["scenario", "track", "tier", "sector", "rate"],
    "budget": ["year", "public_budget_usd_bn"],
    "tier_requirements": ["scenario", "track", "tier", "pillar", "min_score"],
    "pools": ["pool", "limit"],
    "lever_pools": ["lever", "pool", "use_per_module"],
    "relations": ["lever", "relation", "other"],
    "obligations": ["lever", "by_year", "min_modules"],
    "envelopes": ["envelope", "total_usd_bn"],
}
OPTIONAL = ("tier_requirements", "pools", "lever_pools", "relations", "obligations", "envelopes")


# ----------------------------------------------------------------------------------
# Choosers: where the randomness comes from
# ----------------------------------------------------------------------------------


class SeededChooser:
    """Draws from `random.Random(seed)`."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, options):
        return self.rng.choice(list(options))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def sample(self, options, k: int):
        return self.rng.sample(list(options), k)

    def shuffle(self, items: list) -> list:
        items = list(items)
        self.rng.shuffle(items)
        return items


class DrawChooser:
    """Draws through hypothesis's `draw` (inside `st.composite`)."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st

    def int(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))

    def pick(self, options):
        return self.draw(self.st.sampled_from(list(options)))

    def chance(self, p: float) -> bool:
        # shrinks towards False, i.e. towards the simpler case
        return self.draw(self.st.integers(0, 999)) >= round(1000 * (1 - p))

    def sample(self, options, k: int):
        options = list(options)
        idx = self.draw(self.st.permutations(range(len(options))))
        return [options[i] for i in sorted(idx[:k])]

    def shuffle(self, items: list) -> list:
        return list(self.draw(self.st.permutations(list(items))))


# ----------------------------------------------------------------------------------
# The generator
# ----------------------------------------------------------------------------------


def generate(
    c,
    max_levers: int = 3,
    max_years: int = 3,
    safe_requires: bool = False,
    obligations: bool = False,
    margins: bool = False,
) -> tuple[dict, dict]:
    """One random valid case: (meta, tables). `c` is a chooser (see above).

    obligations: sometimes (half the time) add obligations.csv, each within what its lever can
    commit by its year (validation refuses more); drawn last, so the rest of a seed's case is the
    same with or without them.

    margins: sometimes (60% of the time) a case.yaml tier_margin (5%, 10%, 25% or 50%), drawn
    after everything else, so the rest of a seed's case is the same with or without it.

    safe_requires: the `other` lever of every `requires` relation gets min_modules >= 1,
    which steers clear of a known relief bug (a requires relation is not enforced when
    the other lever's min_modules is 0; see test_known_answers.py)."""
    first = c.pick([2024, 2026, 2030])
    n_years = c.int(1, max_years)
    last = first + n_years - 1
    years = list(range(first, last + 1))
    meta = {
        "name": "gen",
        "first_year": first,
        "last_year": last,
        "data_year": first + c.int(-1, 1),
        "discount_rate": c.pick([0.0, 0.0, 0.05, 0.1, -0.05]),
    }
    if c.chance(0.4):
        meta["total_public_budget"] = c.pick([0.0, 1.0, 2.0, 3.5, 6.0, 9.0])

    n_levers = c.int(1, max_levers)
    levers = [f"L{i}" for i in range(1, n_levers + 1)]
    lever_rows = []
    for l in levers:
        mn = c.pick([0, 0, 0, 1, 2])
        mx = mn + c.int(0, 2) if mn else c.int(1, 3)
        lever_rows.append(
            {
                "lever": l,
                "capex_per_module": c.pick([0.0, 0.5, 1.0, 2.0, 3.0]),
                "public_share": c.pick([0.0, 0.25, 0.5, 1.0, 1.0]),
                "lead_time_years": c.int(0, 2),
                "earliest_year": first + c.pick([-1, 0, 0, 0, 1, 2, n_years]),
                "min_modules": float(mn),
                "max_modules": float(mx),
                "max_modules_per_year": float(c.pick([0, 1, 1, 1, 2, 2])),
                "integer": True,
            }
        )

    n_pillars = c.int(1, 3)
    pillars = [f"p{i}" for i in range(1, n_pillars + 1)]
    contributions = []
    for l in levers:
        for p in pillars:
            if c.chance(0.6):
                contributions.append({"lever": l, "pillar": p, "score_per_module": float(c.int(0, 5))})

    n_tracks = c.int(1, 2)
    tracks = [f"r{i}" for i in range(1, n_tracks + 1)]
    sectors = []
    for r in tracks:
        for j in range(c.int(1, 2)):
            sectors.append(
                {
                    "sector": f"{r}s{j}",
                    "track": r,
                    "exports_usd_bn": float(c.int(0, 10)),
                    "growth_rate": c.pick([0.0, 0.0, 0.05, -0.1]),
                }
            )

    n_scen = c.int(1, 3)
    scen = [f"s{i}" for i in range(1, n_scen + 1)]
    raw_p = [c.int(0, 4) for _ in scen]
    if sum(raw_p) == 0:
        raw_p[0] = 1
    scenarios = [
        {"scenario": s, "probability": w / sum(raw_p), "commitment_credit": c.pick([0.0, 0.25, 0.5, 1.0])}
        for s, w in zip(scen, raw_p)
    ]

    pillar_weights = []
    for s in scen:
        for r in tracks:
            for p in pillars:
                if c.chance(0.6):
                    pillar_weights.append(
                        {"scenario": s, "track": r, "pillar": p, "weight": c.pick([0.5, 1.0, 1.0, 2.0])}
                    )

    tiers, tariffs, non_base = [], [], []
    for s in scen:
        for r in tracks:
            n_tiers = c.int(1, 3)
            names = [f"k{i}" for i in range(n_tiers)]
            base = c.pick(names)  # the baseline need not be listed first
            for k in names:
                thr = 0.0 if k == base else c.int(1, 16) / 2
                tiers.append({"scenario": s, "track": r, "tier": k, "threshold": thr})
                if k != base:
                    non_base.append((s, r, k))
            for j in (x for x in sectors if x["track"] == r):
                base_rate = c.pick([0.1, 0.25, 0.5])
                for k in names:
                    if k == base:
                        rate = base_rate
                    elif c.chance(0.1):
                        rate = base_rate + 0.05  # a "tier" worse than the baseline
                    else:
                        rate = base_rate * c.pick([0.0, 0.2, 0.5, 0.8])
                    tariffs.append({"scenario": s, "track": r, "tier": k, "sector": j["sector"], "rate": rate})

    budget = [{"year": t, "public_budget_usd_bn": c.pick([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])} for t in years]
    if c.chance(0.2):
        budget.append({"year": last + 1, "public_budget_usd_bn": 0.0})  # a year outside the horizon

    tables = {
        "levers": lever_rows,
        "contributions": contributions,
        "sectors": sectors,
        "scenarios": scenarios,
        "pillar_weights": pillar_weights,
        "tiers": tiers,
        "tariffs": tariffs,
        "budget": budget,
    }

    if non_base and c.chance(0.35):
        reqs = []
        for s, r, k in c.sample(non_base, min(len(non_base), c.int(1, 2))):
            reqs.append(
                {"scenario": s, "track": r, "tier": k, "pillar": c.pick(pillars), "min_score": float(c.int(1, 8))}
            )
        tables["tier_requirements"] = reqs

    if c.chance(0.3):
        n_pools = c.int(1, 2)
        pools = [f"q{i}" for i in range(1, n_pools + 1)]
        tables["pools"] = [{"pool": q, "limit": float(c.int(0, 4))} for q in pools]
        tables["lever_pools"] = [
            {"lever": l, "pool": q, "use_per_module": float(c.int(0, 2))}
            for l in levers
            for q in pools
            if c.chance(0.6)
        ]

    if n_levers >= 2 and c.chance(0.35):
        rel = []
        for _ in range(c.int(1, 2)):
            a, b = c.sample(levers, 2)
            row = {"lever": a, "relation": c.pick(["requires", "excludes"]), "other": b}
            if not any(x["lever"] == a and x["other"] == b and x["relation"] == row["relation"] for x in rel):
                rel.append(row)
                if safe_requires and row["relation"] == "requires":
                    other = next(r for r in lever_rows if r["lever"] == b)
                    other["min_modules"] = max(other["min_modules"], 1.0)
                    other["max_modules"] = max(other["max_modules"], other["min_modules"])
        tables["relations"] = rel

    dated_rates_and_current(c, meta, tables, years)  # drawn last: the earlier draws are unchanged
    if obligations and c.chance(0.5):
        tables["obligations"] = _obligations(c, lever_rows, years)

    if c.chance(0.3):  # drawn last: the draws above (and the cases of existing seeds) stay as they were
        _envelopes(c, tables, levers, years)
    if margins and c.chance(0.6):  # after everything: the rest of the case is that of margins=False
        meta["tier_margin"] = c.pick([0.05, 0.1, 0.25, 0.5])
    return meta, tables


def _obligations(c, lever_rows: list, years: list) -> list:
    """For some levers, at least N modules by a year, N at most what the lever can commit by then."""
    rows = []
    for r in lever_rows:
        if not c.chance(0.6):
            continue
        by = c.pick(years)
        open_years = max(0, by - max(years[0], r["earliest_year"]) + 1)
        reachable = int(min(r["max_modules"], r["max_modules_per_year"] * open_years))
        rows.append({"lever": r["lever"], "by_year": by, "min_modules": float(c.int(0, reachable))})
    return rows


def dated_rates_and_current(c, meta: dict, tables: dict, years: list) -> None:
    """Sometimes date some rates (tariffs.csv from_year: a second rate from a later year of the
    horizon) and give every sector a current_rate (with case.yaml's as_of)."""
    if len(years) > 1 and c.chance(0.35):
        extra = []
        for row in tables["tariffs"]:
            if c.chance(0.4):
                fy = c.pick(years[1:])
                extra.append({**row, "rate": c.pick([0.0, 0.05, 0.1, 0.25, 0.5]), "from_year": fy})
                if c.chance(0.3):
                    row["from_year"] = years[0]  # written out, the same as blank
        tables["tariffs"] = tables["tariffs"] + extra
    if c.chance(0.35):
        meta["as_of"] = "2026-03-15"
        for j in tables["sectors"]:
            j["current_rate"] = c.pick([0.0, 0.1, 0.15, 0.25])


def _envelopes(c, tables: dict, levers: list, years: list) -> None:
    """Funding envelopes: each lever draws on `public` (the budget rows drawn above) or `e2`,
    whose yearly budgets (budget.csv) and total (envelopes.csv) are drawn, at least one of them;
    sometimes `public` gets a total too."""
    for r in tables["levers"]:
        r["envelope"] = c.pick(["public", "e2"])
    tables["levers"][-1]["envelope"] = "e2"  # e2 is used, so it is no warning
    for r in tables["budget"]:
        r["envelope"] = "public"
    yearly = c.chance(0.6)
    if yearly:
        tables["budget"] += [
            {"envelope": "e2", "year": t, "public_budget_usd_bn": c.pick([0.0, 1.0, 1.5, 2.0, 3.0])} for t in years
        ]
    totals = []
    if not yearly or c.chance(0.5):
        totals.append({"envelope": "e2", "total_usd_bn": c.pick([0.0, 1.0, 2.0, 3.0, 5.0])})
    if c.chance(0.3):
        totals.append({"envelope": "public", "total_usd_bn": c.pick([1.0, 2.0, 4.0])})
    if totals:
        tables["envelopes"] = totals


def plan_count(meta: dict, tables: dict) -> int:
    """Number of integer plans with 0 <= x[l,t] <= max_modules_per_year, x = 0 before
    earliest_year and sum_t x[l,t] <= max_modules (what brute force enumerates)."""
    years = list(range(meta["first_year"], meta["last_year"] + 1))
    total = 1
    for r in tables["levers"]:
        free = [t for t in years if t >= r["earliest_year"]]
        per_year, cap = int(r["max_modules_per_year"]), int(r["max_modules"])
        # count tuples over `free` years with entries in 0..per_year and sum <= cap
        counts = {0: 1}
        for _ in free:
            nxt: dict[int, int] = {}
            for s, n in counts.items():
                for v in range(per_year + 1):
                    if s + v <= cap:
                        nxt[s + v] = nxt.get(s + v, 0) + n
            counts = nxt
        total *= sum(counts.values())
    return total


def random_case(seed: int, min_plans: int = 1, max_plans: int = 3000, accept=None, **kw) -> tuple[dict, dict]:
    """A seeded random case with between `min_plans` and `max_plans` enumerable plans
    (and, if given, `accept(meta, tables)` true)."""
    for attempt in range(1000):
        meta, tables = generate(SeededChooser(seed * 1000 + attempt), **kw)
        if min_plans <= plan_count(meta, tables) <= max_plans and (accept is None or accept(meta, tables)):
            meta["name"] = f"gen-{seed}"
            return meta, tables
    raise RuntimeError(f"no case with {min_plans}..{max_plans} plans for seed {seed}")


def cases(
    max_levers: int = 3, max_years: int = 3, safe_requires: bool = False, obligations: bool = False, margins=False
):
    """Hypothesis strategy of (meta, tables)."""
    from hypothesis import strategies as st

    @st.composite
    def _cases(draw):
        return generate(
            DrawChooser(draw),
            max_levers=max_levers,
            max_years=max_years,
            safe_requires=safe_requires,
            obligations=obligations,
            margins=margins,
        )

    return _cases()


# ----------------------------------------------------------------------------------
# Writing and reshaping
# ----------------------------------------------------------------------------------


def write_case(folder, meta: dict, tables: dict) -> Path:
    """Write case.yaml and one CSV per table (optional tables only when present)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "case.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(meta, f, sort_keys=False)
    for name in COLUMNS:
        if name not in tables:
            continue
        cols = columns_of(name, tables[name])
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            for row in tables[name]:
                w.writerow([_cell(row.get(c)) for c in cols])
    return folder


# optional columns a generated table may carry (dated rates, current rates)
EXTRA_COLUMNS = {"tariffs": ["from_year"], "sectors": ["current_rate"], "levers": ["envelope"], "budget": ["envelope"]}


def columns_of(name: str, rows: list) -> list:
    """The table's columns, with the optional ones some row of it has."""
    extra = [c for c in EXTRA_COLUMNS.get(name, ()) if any(c in r for r in rows)]
    return COLUMNS[name] + extra


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # round-trips exactly
    return str(v)


def frames(tables: dict) -> dict:
    """The tables as DataFrames with their columns, also when a table has no rows (a
    bare empty list carries no column names)."""
    import pandas as pd

    return {name: pd.DataFrame(rows, columns=columns_of(name, rows)) for name, rows in tables.items()}
