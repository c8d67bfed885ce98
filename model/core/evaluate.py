"""Evaluate a plan from the case tables alone, without the Pyomo model.

Given modules committed per lever and year, recompute everything a planner reads:
spending by year, scores, the best tier each track reaches in each scenario and year,
the relief it brings, and every limit the plan might break. relief reports these
numbers (never the solver's), and checks them against the solver's objective, so a
wrong model or a sloppy solve shows up as an error instead of a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from relief.model.core.case import Case

FEAS_TOL = 1e-6  # relative (and absolute below 1) tolerance on limits and thresholds


def _tol(limit: float) -> float:
    return FEAS_TOL * max(1.0, abs(limit))


@dataclass
class Evaluation:
    expected_relief: float
    by_scenario: dict  # scenario -> discounted relief over the horizon
    public_spend: float  # all public spending of the plan, USD bn, undiscounted (also after the horizon)
    total_spend: float  # all capex of the plan, public and private
    discounted_public_spend: float
    portfolio: dict  # lever -> total modules
    roadmap: pd.DataFrame
    tiers: pd.DataFrame
    relief: pd.DataFrame
    spending: pd.DataFrame  # year, public_spend, budget
    violations: list = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def plan(self) -> dict:
        """{(lever, year): modules committed}, the years with a commitment only."""
        return {(str(r.lever), int(r.year)): float(r.committed) for r in self.roadmap.itertuples() if r.committed}


def clean_plan(case: Case, plan: dict) -> dict:
    """Round whole-module levers and drop solver noise: {(lever, year): modules > 0}."""
    integer = dict(zip(case.table("levers")["lever"], case.table("levers")["integer"]))
    out = {}
    for (l, t), v in plan.items():
        v = float(v or 0.0)
        v = float(round(v)) if integer[l] else (0.0 if abs(v) < 1e-9 else v)
        if v != 0.0:
            out[(l, int(t))] = v
    return out


def evaluate_plan(case: Case, plan: dict, force=(), exclude=()) -> Evaluation:
    """Recompute value and feasibility of `plan` ({(lever, year): modules}) from the tables."""
    meta = case.meta
    years = case.years
    first, last = meta["first_year"], meta["last_year"]
    rate_d = meta["discount_rate"]
    disc = lambda t: (1.0 + rate_d) ** -(t - first)
    lv = {r["lever"]: r for r in case.table("levers").to_dict("records")}
    violations: list[str] = []

    # --- commitments and the lever limits ---------------------------------------------
    x = {(l, t): 0.0 for l in lv for t in years}
    for (l, t), v in plan.items():
        if l not in lv:
            violations.append(f"unknown lever {l}")
            continue
        if (l, t) not in x:
            violations.append(f"{l}: {v:g} modules in {t}, outside the horizon")
            continue
        x[(l, t)] = float(v)
    portfolio = {l: sum(x[(l, t)] for t in years) for l in lv}
    for l, r in lv.items():
        for t in years:
            v = x[(l, t)]
            if v < -_tol(0):
                violations.append(f"{l}: negative commitment {v:g} in {t}")
            if r["integer"] and abs(v - round(v)) > 1e-6:
                violations.append(f"{l}: {v:g} modules in {t} is not a whole number")
            if v > _tol(0) and t < r["earliest_year"]:
                violations.append(f"{l}: committed in {t}, before its earliest year {r['earliest_year']}")
            if v > r["max_modules_per_year"] + _tol(r["max_modules_per_year"]):
                violations.append(
                    f"{l}: {v:g} modules in {t} exceed max_modules_per_year {r['max_modules_per_year']:g}"
                )
        total = portfolio[l]
        if total > _tol(0):
            if l in exclude:
                violations.append(f"{l}: excluded but committed")
            if total < r["min_modules"] - _tol(r["min_modules"]):
                violations.append(f"{l}: {total:g} modules in all, below min_modules {r['min_modules']:g}")
            if total > r["max_modules"] + _tol(r["max_modules"]):
                violations.append(f"{l}: {total:g} modules in all, above max_modules {r['max_modules']:g}")
        if l in force and total < max(r["min_modules"], 1.0) - _tol(1.0):
            violations.append(f"{l}: forced but only {total:g} modules committed")
    used = {l for l, v in portfolio.items() if v > _tol(0)}
    for r in case.table("relations").to_dict("records"):
        if r["relation"] == "requires" and r["lever"] in used and r["other"] not in used:
            violations.append(f"{r['lever']} requires {r['other']}, which is not in the plan")
        if r["relation"] == "excludes" and r["lever"] in used and r["other"] in used:
            violations.append(f"{r['lever']} excludes {r['other']}, but both are in the plan")

    # --- spending ------------------------------------------------------------------------
    spend_years = set(years)
    capex_by = {}
    public_by = {}
    for (l, t), v in x.items():
        if v == 0:
            continue
        n = max(int(lv[l]["lead_time_years"]), 1)
        for u in range(t, t + n):
            spend_years.add(u)
            capex_by[(l, u)] = capex_by.get((l, u), 0.0) + v * lv[l]["capex_per_module"] / n
            public_by[(l, u)] = public_by.get((l, u), 0.0) + v * lv[l]["capex_per_module"] * lv[l]["public_share"] / n
    budget = dict(zip(case.table("budget")["year"], case.table("budget")["public_budget_usd_bn"]))
    spend_rows = []
    for t in sorted(spend_years):
        spent = sum(v for (l, u), v in public_by.items() if u == t)
        b = budget.get(t) if first <= t <= last else None
        if b is not None and spent > b + _tol(b):
            violations.append(f"public spending of {spent:.6g} in {t} exceeds the budget {b:.6g}")
        spend_rows.append(
            {
                "year": t,
                "public_spend": spent,
                "capex_spend": sum(v for (l, u), v in capex_by.items() if u == t),
                "budget": b,
            }
        )
    public_total = sum(public_by.values())
    if meta.get("total_public_budget") is not None and public_total > meta["total_public_budget"] + _tol(
        meta["total_public_budget"]
    ):
        violations.append(
            f"public spending of {public_total:.6g} in all exceeds total_public_budget {meta['total_public_budget']:.6g}"
        )
    pools = dict(zip(case.table("pools")["pool"], case.table("pools")["limit"]))
    for q, limit in pools.items():
        use = sum(
            r["use_per_module"] * portfolio[r["lever"]]
            for r in case.table("lever_pools").to_dict("records")
            if r["pool"] == q
        )
        if use > limit + _tol(limit):
            violations.append(f"pool {q}: use {use:.6g} exceeds its limit {limit:.6g}")

    # --- roadmap ---------------------------------------------------------------------------
    roadmap = []
    for l in lv:
        lead = int(lv[l]["lead_time_years"])
        for t in sorted(spend_years):
            roadmap.append(
                {
                    "lever": l,
                    "year": t,
                    "committed": x.get((l, t), 0.0),
                    "cumulative": sum(x[(l, u)] for u in years if u <= t),
                    "operating": sum(x[(l, u)] for u in years if u <= t - lead),
                    "capex_spend": capex_by.get((l, t), 0.0),
                    "public_spend": public_by.get((l, t), 0.0),
                }
            )
    roadmap_df = pd.DataFrame(roadmap)
    committed = {(r["lever"], r["year"]): r["cumulative"] for r in roadmap}
    operating = {(r["lever"], r["year"]): r["operating"] for r in roadmap}

    # --- scores, tiers and relief ----------------------------------------------------------
    sc = {r["scenario"]: r for r in case.table("scenarios").to_dict("records")}
    contrib = case.table("contributions").to_dict("records")
    weights: dict = {}
    for w in case.table("pillar_weights").to_dict("records"):
        weights.setdefault((w["scenario"], w["track"]), []).append((w["pillar"], w["weight"]))
    sectors = case.table("sectors").to_dict("records")
    rate = {
        (r["scenario"], r["track"], r["tier"], r["sector"]): r["rate"] for r in case.table("tariffs").to_dict("records")
    }
    reqs: dict = {}
    for r in case.table("tier_requirements").to_dict("records"):
        reqs.setdefault((r["scenario"], r["track"], r["tier"]), []).append((r["pillar"], r["min_score"]))
    ladders: dict = {}
    for r in case.table("tiers").to_dict("records"):
        ladders.setdefault((r["scenario"], r["track"]), []).append((r["tier"], r["threshold"]))
    dy = meta["data_year"]
    tier_rows, relief_rows = [], []
    by_scenario = {}
    for s, srow in sc.items():
        k = srow["commitment_credit"]
        pillar = {}
        for t in years:
            for c in contrib:
                key = (c["pillar"], t)
                pillar[key] = pillar.get(key, 0.0) + c["score_per_module"] * (
                    (1 - k) * operating[(c["lever"], t)] + k * committed[(c["lever"], t)]
                )
        total_s = 0.0
        for r in dict.fromkeys(j["track"] for j in sectors):
            ladder = sorted(ladders[(s, r)], key=lambda kt: kt[1])
            base = next(name for name, thr in ladder if thr == 0)
            track_sectors = [j for j in sectors if j["track"] == r]
            for t in years:
                score = sum(w * pillar.get((p, t), 0.0) for p, w in weights.get((s, r), ()))

                def value(tier):
                    return sum(
                        j["exports_usd_bn"]
                        * (1 + j["growth_rate"]) ** (t - dy)
                        * (rate[(s, r, base, j["sector"])] - rate[(s, r, tier, j["sector"])])
                        for j in track_sectors
                    )

                def reached(tier, thr):
                    if tier == base:
                        return True
                    if score < thr - _tol(thr):
                        return False
                    return all(pillar.get((p, t), 0.0) >= ms - _tol(ms) for p, ms in reqs.get((s, r, tier), ()))

                best, best_thr, best_val = base, 0.0, 0.0
                for tier, thr in ladder:  # ascending threshold: ties go to the higher tier
                    if reached(tier, thr):
                        v = value(tier)
                        if v >= best_val - 1e-12:
                            best, best_thr, best_val = tier, thr, v
                nxt = next(((name, thr) for name, thr in ladder if thr > best_thr), (None, None))
                total_s += disc(t) * best_val
                changes = "; ".join(
                    f"{j['sector']} {rate[(s, r, base, j['sector'])]:.4g}->{rate[(s, r, best, j['sector'])]:.4g}"
                    for j in track_sectors
                    if rate[(s, r, base, j["sector"])] != rate[(s, r, best, j["sector"])]
                )
                tier_rows.append(
                    {
                        "scenario": s,
                        "track": r,
                        "year": t,
                        "tier": best,
                        "score": score,
                        "threshold": best_thr,
                        "base_tier": base,
                        "rate_changes": changes,
                        "relief": best_val,
                        "next_tier": nxt[0],
                        "next_threshold": nxt[1],
                    }
                )
                for j in track_sectors:
                    rel = (
                        j["exports_usd_bn"]
                        * (1 + j["growth_rate"]) ** (t - dy)
                        * (rate[(s, r, base, j["sector"])] - rate[(s, r, best, j["sector"])])
                    )
                    relief_rows.append(
                        {
                            "scenario": s,
                            "track": r,
                            "sector": j["sector"],
                            "year": t,
                            "relief": rel,
                            "discounted_relief": disc(t) * rel,
                            "base_rate": rate[(s, r, base, j["sector"])],
                            "rate": rate[(s, r, best, j["sector"])],
                        }
                    )
        by_scenario[s] = total_s
    expected = sum(sc[s]["probability"] * v for s, v in by_scenario.items())
    disc_public = sum(v * disc(u) for (l, u), v in public_by.items())
    return Evaluation(
        expected_relief=expected,
        by_scenario=by_scenario,
        public_spend=public_total,
        total_spend=sum(capex_by.values()),
        discounted_public_spend=disc_public,
        portfolio=portfolio,
        roadmap=roadmap_df,
        tiers=pd.DataFrame(tier_rows),
        relief=pd.DataFrame(relief_rows),
        spending=pd.DataFrame(spend_rows),
        violations=violations,
    )
