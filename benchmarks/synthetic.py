"""Synthetic relief cases of any size, in the section-2 schema of model-spec.md.

A case is sized by six numbers (levers, scenarios, years, tracks, tiers per ladder,
pillars) and a seed; the same size and seed always give the same case, byte for byte.
The numbers are drawn to look like the shipped default case (inputs/korea-2026) and to
make the optimum non-trivial:

* levers cost 0.5-20 USD bn a module with a 15-90% public share, lead times of 0-4
  years, whole-module (70%) or divisible, and score about their capex in one pillar
  (sometimes a little in a second one);
* the total public budget is about a third of what committing every lever fully would
  cost, and the yearly budgets ramp up from a thin first year: both bind;
* each scenario has its own commitment credit, pillar weights and "stance" (how
  demanding the U.S. is). A ladder's thresholds are spread geometrically between 10% and
  80% of its *reach*, times the stance: the reach is the track score that the whole
  public budget would buy if it went to that track alone (best score per public dollar
  first, ignoring years). So low tiers are reachable, the top ones only by spending
  nearly everything on one track, and which tracks to serve is a real choice;
* a few top tiers require a minimum score in the track's main pillar; one pool caps
  the public money of about half the levers; one `requires` and one `excludes` relation.

The case is always feasible (committing nothing meets every limit).

Use from Python:

    from synthetic import Size, generate, make_case, write_case
    meta, tables = generate(Size(levers=10, scenarios=1000, years=8), seed=0)
    case = make_case(Size(scenarios=16))          # validated relief Case (Case.from_tables)
    write_case("/tmp/syn", meta, tables)          # case.yaml + CSVs

or from the command line:

    python benchmarks/synthetic.py --levers 10 --scenarios 1000 --years 8 --out /tmp/syn
    relief validate /tmp/syn
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from relief.model.core.schema import TABLES

# Column order of each table when written as CSV: the schema's (model-spec section 2).
# required columns only: optional ones (levers.owner, ...) are left to their defaults
COLUMNS = {name: [c.name for c in t.columns if c.required] for name, t in TABLES.items()}

FIRST_YEAR = 2026
BUDGET_FRACTION = 0.35  # total public budget / public cost of committing every lever fully
LOW_TIER, HIGH_TIER = 0.1, 0.8  # thresholds span these fractions of a ladder's reach (see above)


@dataclass(frozen=True)
class Size:
    """How big a synthetic case is. `tiers` counts the baseline: 3 = baseline + 2 tiers."""

    levers: int = 10
    scenarios: int = 4
    years: int = 8
    tracks: int = 4
    tiers: int = 3
    pillars: int = 7

    def __post_init__(self):
        for k, v in asdict(self).items():
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{k} must be a whole number >= 1, not {v!r}")
        if self.years > 100:
            raise ValueError("years must be <= 100 (relief's horizon limit)")

    def label(self) -> str:
        return f"L{self.levers}-S{self.scenarios}-T{self.years}-R{self.tracks}-K{self.tiers}-P{self.pillars}"


def _w(n: int) -> int:
    return max(2, len(str(n)))


def generate(size: Size | None = None, seed: int = 0) -> tuple[dict, dict[str, list[dict]]]:
    """(meta, tables): case.yaml fields and table name -> list of row dicts.

    Deterministic: one `random.Random(seed)` drawn in a fixed order."""
    size = size or Size()
    rng = random.Random(seed)

    def r2(x):
        return round(x, 2)

    first, last = FIRST_YEAR, FIRST_YEAR + size.years - 1
    years = list(range(first, last + 1))

    pillars = [f"pillar_{i:0{_w(size.pillars)}d}" for i in range(1, size.pillars + 1)]
    levers = [f"lever_{i:0{_w(size.levers)}d}" for i in range(1, size.levers + 1)]
    tracks = [f"track_{i:0{_w(size.tracks)}d}" for i in range(1, size.tracks + 1)]
    scenarios = [f"s{i:0{max(4, _w(size.scenarios))}d}" for i in range(1, size.scenarios + 1)]
    tier_names = ["base"] + [f"tier_{k}" for k in range(1, size.tiers)]

    # --- levers and their contributions ---------------------------------------------
    lever_rows, contrib_rows = [], []
    full_public = {}  # public cost of committing the lever fully
    full_score = dict.fromkeys(pillars, 0.0)  # pillar score of the full portfolio
    score_of = {l: {} for l in levers}  # lever -> {pillar: score per module}
    for i, l in enumerate(levers):
        capex = r2(math.exp(rng.uniform(math.log(0.5), math.log(20.0))))
        share = r2(rng.uniform(0.15, 0.9))
        lead = rng.randint(0, 4)
        earliest = min(first + rng.choice([0, 0, 0, 1, 2]), last)
        integer = rng.random() < 0.7
        if integer:
            mx = float(rng.randint(1, 6))
            per_year = float(rng.randint(1, min(3, int(mx))))
            mn = float(rng.choice([0, 1, 1]))
        else:
            mx = float(rng.randint(4, 30))
            per_year = float(max(1, round(mx / rng.uniform(2.0, 4.0))))
            mn = r2(rng.uniform(0.0, 1.0))
        lever_rows.append(
            {
                "lever": l,
                "capex_per_module": capex,
                "public_share": share,
                "lead_time_years": lead,
                "earliest_year": earliest,
                "min_modules": mn,
                "max_modules": mx,
                "max_modules_per_year": per_year,
                "integer": integer,
            }
        )
        full_public[l] = capex * share * mx
        main = pillars[i % size.pillars]
        s = r2(capex * rng.uniform(0.6, 1.6))
        contrib_rows.append({"lever": l, "pillar": main, "score_per_module": s})
        score_of[l][main] = s
        full_score[main] += s * mx
        if size.pillars > 1 and rng.random() < 0.4:
            other = rng.choice([p for p in pillars if p != main])
            s2 = r2(capex * rng.uniform(0.1, 0.5))
            contrib_rows.append({"lever": l, "pillar": other, "score_per_module": s2})
            score_of[l][other] = s2
            full_score[other] += s2 * mx
    total_public = r2(BUDGET_FRACTION * sum(full_public.values()))
    unit_cost = {r["lever"]: r["capex_per_module"] * r["public_share"] for r in lever_rows}
    max_mod = {r["lever"]: r["max_modules"] for r in lever_rows}

    def reach(weights: dict) -> float:
        """Track score the whole public budget buys on one track (greedy, fractional, no years)."""
        items = []
        for l in levers:
            v = sum(weights.get(p, 0.0) * sc for p, sc in score_of[l].items())
            if v > 0:
                items.append((v / unit_cost[l] if unit_cost[l] > 0 else math.inf, v, unit_cost[l], max_mod[l]))
        left, got = total_public, 0.0
        for _, v, c, m in sorted(items, reverse=True):
            n = m if c == 0 else min(m, left / c)
            got += v * n
            left -= n * c
            if left <= 1e-12 and c > 0:
                break
        return got

    # --- tracks: sectors and which pillars count on each -----------------------------
    sector_rows, sectors_of, track_pillars = [], {}, {}
    for ri, r in enumerate(tracks):
        n_sec = rng.randint(1, 3)
        sectors_of[r] = []
        for j in range(n_sec):
            sec = f"sector_{ri + 1:0{_w(size.tracks)}d}{chr(ord('a') + j)}"
            sectors_of[r].append(sec)
            sector_rows.append(
                {
                    "sector": sec,
                    "track": r,
                    "exports_usd_bn": r2(rng.uniform(1.0, 40.0)),
                    "growth_rate": round(rng.uniform(-0.02, 0.08), 3),
                }
            )
        # a general track (the first): every pillar counts
        chosen = list(pillars) if ri == 0 else rng.sample(pillars, min(len(pillars), rng.randint(2, 4)))
        track_pillars[r] = {p: rng.choice([0.25, 0.5, 1.0, 1.0]) for p in chosen}

    # --- scenarios ----------------------------------------------------------------
    raw_p = [rng.gammavariate(2.0, 1.0) for _ in scenarios]
    total = sum(raw_p)
    probs = [round(x / total, 9) for x in raw_p]
    probs[-1] = round(1.0 - sum(probs[:-1]), 9)
    scen_rows, weight_rows, tier_rows, tariff_rows, req_rows = [], [], [], [], []
    K = size.tiers
    if K > 2:
        fracs = [LOW_TIER * (HIGH_TIER / LOW_TIER) ** ((k - 1) / (K - 2)) for k in range(1, K)]
    else:
        fracs = [math.sqrt(LOW_TIER * HIGH_TIER)] * (K - 1)
    for si, s in enumerate(scenarios):
        credit = r2(rng.uniform(0.1, 0.9))
        stance = rng.uniform(0.7, 1.5)  # > 1: a demanding U.S.
        scen_rows.append({"scenario": s, "probability": probs[si], "commitment_credit": credit})
        for r in tracks:
            weights = {}
            for p, w in track_pillars[r].items():
                weights[p] = r2(w * rng.uniform(0.6, 1.4))
                weight_rows.append({"scenario": s, "track": r, "pillar": p, "weight": weights[p]})
            reach_sr = reach(weights)
            base_rate = {sec: round(rng.uniform(0.1, 0.4), 3) for sec in sectors_of[r]}
            benefit = {sec: rng.uniform(0.5, 1.0) for sec in sectors_of[r]}  # how much of a cut reaches each sector
            cut = 0.0
            prev = 0.0
            for k, tier in enumerate(tier_names):
                if k == 0:
                    thr = 0.0
                else:
                    thr = max(r2(reach_sr * stance * fracs[k - 1] * rng.uniform(0.85, 1.15)), prev + 0.5)
                    cut = min(0.95, cut + rng.uniform(0.15, 0.45) / (1 + 0.3 * (k - 1)))
                prev = thr
                tier_rows.append({"scenario": s, "track": r, "tier": tier, "threshold": thr})
                for sec in sectors_of[r]:
                    tariff_rows.append(
                        {
                            "scenario": s,
                            "track": r,
                            "tier": tier,
                            "sector": sec,
                            "rate": round(base_rate[sec] * (1.0 - cut * benefit[sec]), 4),
                        }
                    )
            # a few top tiers also need a minimum score in the track's heaviest pillar
            if K >= 3 and rng.random() < 0.15:
                main = max(weights, key=lambda p: (weights[p] * full_score[p], p))
                req_rows.append(
                    {
                        "scenario": s,
                        "track": r,
                        "tier": tier_names[-1],
                        "pillar": main,
                        "min_score": r2(prev * rng.uniform(0.1, 0.3)),
                    }
                )

    # --- money, pools, relations ----------------------------------------------------
    yearly = total_public / size.years * 1.5
    budget_rows = [{"year": t, "public_budget_usd_bn": r2(yearly * (0.4 if t == first else 1.0))} for t in years]
    pool_rows, lever_pool_rows, relation_rows = [], [], []
    if size.levers >= 3:
        pooled = sorted(rng.sample(levers, max(2, size.levers // 2)))
        use = {r["lever"]: r2(r["capex_per_module"] * r["public_share"]) for r in lever_rows}
        cap = sum(full_public[l] for l in pooled)
        pool_rows.append({"pool": "strategic_fund", "limit": r2(0.5 * cap)})
        lever_pool_rows = [{"lever": l, "pool": "strategic_fund", "use_per_module": use[l]} for l in pooled]
    if size.levers >= 4:
        a, b, c, d = rng.sample(levers, 4)
        relation_rows = [
            {"lever": a, "relation": "requires", "other": b},
            {"lever": c, "relation": "excludes", "other": d},
        ]

    meta = {
        "name": f"synthetic-{size.label()}-seed{seed}",
        "description": f"synthetic case (benchmarks/synthetic.py) size {asdict(size)} seed {seed}",
        "first_year": first,
        "last_year": last,
        "data_year": first - 1,
        "discount_rate": 0.05,
        "total_public_budget": total_public,
        "threads": 1,
        "seed": 0,
    }
    tables = {
        "levers": lever_rows,
        "contributions": contrib_rows,
        "sectors": sector_rows,
        "scenarios": scen_rows,
        "pillar_weights": weight_rows,
        "tiers": tier_rows,
        "tariffs": tariff_rows,
        "budget": budget_rows,
        "tier_requirements": req_rows,
        "pools": pool_rows,
        "lever_pools": lever_pool_rows,
        "relations": relation_rows,
    }
    return meta, tables


def frames(tables: dict) -> dict:
    """The tables as pandas DataFrames with their schema columns (also when empty)."""
    import pandas as pd

    return {name: pd.DataFrame(rows, columns=COLUMNS[name]) for name, rows in tables.items()}


def make_case(size: Size | None = None, seed: int = 0):
    """A validated relief `Case` (through `Case.from_tables`)."""
    from relief.model.core.case import Case

    meta, tables = generate(size, seed)
    return Case.from_tables(meta, frames(tables), origin=f"<synthetic {meta['name']}>")


def _cell(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # shortest text that reads back to the same float
    return str(v)


def write_case(folder, meta: dict, tables: dict) -> Path:
    """Write case.yaml and one CSV per table (optional tables only when they have rows)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in COLUMNS:  # a re-used folder must not keep a stale optional table
        if name not in tables or not tables[name]:
            (folder / f"{name}.csv").unlink(missing_ok=True)
    with open(folder / "case.yaml", "w", encoding="utf-8") as f:
        f.write("# Synthetic relief case written by benchmarks/synthetic.py; do not edit by hand.\n")
        yaml.safe_dump(meta, f, sort_keys=False)
    for name, cols in COLUMNS.items():
        rows = tables.get(name)
        if not rows:
            continue
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            w.writerows([_cell(row[c]) for c in cols] for row in rows)
    return folder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write a synthetic relief case folder (case.yaml + CSVs).")
    d = Size()
    ap.add_argument("--levers", type=int, default=d.levers)
    ap.add_argument("--scenarios", type=int, default=d.scenarios)
    ap.add_argument("--years", type=int, default=d.years)
    ap.add_argument("--tracks", type=int, default=d.tracks)
    ap.add_argument("--tiers", type=int, default=d.tiers, help="tiers per ladder, counting the baseline (default 3)")
    ap.add_argument("--pillars", type=int, default=d.pillars)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="case folder to write (created if missing)")
    a = ap.parse_args(argv)
    try:
        size = Size(a.levers, a.scenarios, a.years, a.tracks, a.tiers, a.pillars)
    except ValueError as e:
        ap.error(str(e))
    meta, tables = generate(size, a.seed)
    out = write_case(a.out, meta, tables)
    rows = ", ".join(f"{n} {len(t)}" for n, t in tables.items() if t)
    print(f"{out}: {meta['name']} ({rows} rows)")


if __name__ == "__main__":
    main()
