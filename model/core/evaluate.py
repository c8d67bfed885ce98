"""Evaluate a plan from the case tables alone, without the Pyomo model.

Given modules committed per lever and year, recompute everything a planner reads:
spending by year, scores, the best tier each track reaches in each scenario and year,
the relief it brings, and every limit the plan might break. relief reports these
numbers (never the solver's), and checks them against the solver's objective, so a
wrong model or a sloppy solve shows up as an error instead of a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.frames import records
from relief.model.core.information import Information, scenarios_only
from relief.model.core.rates import yearly_rates
from relief.model.core.schema import PUBLIC

if TYPE_CHECKING:
    from relief.model.core.case import Case

FEAS_TOL = 1e-6  # relative (and absolute below 1) tolerance on limits and thresholds
NOISE = 1e-9  # a number written smaller than this in size is 0
DIGITS = 12  # significant digits a written number keeps (no binary noise: 0.33, not 0.32999999999999996)
MARGIN_TOLERANCE = 0.02  # a tier reached with less than this share of its threshold to spare is thin


def _tol(limit: float) -> float:
    return FEAS_TOL * max(1.0, abs(limit))


def tidy(v, *limits) -> float:
    """A number as relief writes it: the limit it is compared with where it lies within the
    feasibility tolerance of it (20.000000000000018 against a budget of 20 is 20; a score of
    129.99999999999582 against a threshold of 130 is 130), 0 below 1e-9 in size, otherwise
    rounded to 12 significant digits. Rounding keeps order, so a number at or under its
    limit is still at or under it when written."""
    if v is None:
        return v
    v = float(v)
    if v != v:
        return v
    for limit in limits:
        if limit is not None and limit == limit and abs(v - limit) <= _tol(limit):
            return float(limit)
    if abs(v) < NOISE:
        return 0.0
    return float(f"{v:.{DIGITS}g}")


def thin(margin_rel, tolerance: float = MARGIN_TOLERANCE) -> bool:
    """A tier above the baseline reached with less than `tolerance` of its threshold to spare
    (margin_rel is None or NaN for the baseline: never thin)."""
    return margin_rel is not None and margin_rel == margin_rel and margin_rel < tolerance


@dataclass
class Evaluation:
    expected_relief: float
    by_scenario: dict[str, float]  # scenario -> discounted relief over the horizon
    public_spend: float  # all public spending of the plan, USD bn, undiscounted (also after the horizon)
    total_spend: float  # all capex of the plan, public and private
    discounted_public_spend: float
    portfolio: dict[str, float]  # lever -> total modules
    roadmap: pd.DataFrame
    tiers: pd.DataFrame
    relief: pd.DataFrame
    spending: pd.DataFrame  # year, public_spend, budget (all envelopes)
    violations: list = field(default_factory=list)
    committed: dict = field(default_factory=dict)  # {(lever, year): modules}, as evaluated (not tidied)
    obligations: list = field(default_factory=list)  # one record per row of obligations.csv (check_obligations)
    duty: pd.DataFrame = field(default_factory=pd.DataFrame)  # duty.csv: yearly, undiscounted, USD bn
    duty_summary: dict = field(default_factory=dict)  # expected_duty_* and duty_by_scenario (duty_summary())
    # by funding envelope: envelope, year, public_spend, budget (None: no yearly limit); and all years
    envelope_spending: pd.DataFrame = field(default_factory=pd.DataFrame)
    envelope_totals: dict = field(default_factory=dict)  # envelope -> all public spending of its levers
    # an adaptive plan (evaluate_tree): each stance's {(lever, year): modules}, and the information
    # structure (Information.report()); `committed` and `portfolio` then hold the first moves only
    plan_by_scenario: dict = field(default_factory=dict)
    reveal: dict = field(default_factory=dict)
    portfolio_by_scenario: dict = field(default_factory=dict)  # stance -> {lever: modules}
    public_spend_by_scenario: dict = field(default_factory=dict)  # stance -> all public spending of its roadmap
    discounted_capex: float | None = None  # all capex, discounted (the second stage's cost when second_stage: capex)

    @property
    def adaptive(self) -> bool:
        return bool(self.plan_by_scenario)

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def plan(self) -> dict:
        """{(lever, year): modules committed}, the years with a commitment only, exactly as
        evaluated (the roadmap table holds them tidied for writing)."""
        return dict(self.committed)

    def mark_thin(self, tolerance: float) -> None:
        """Re-mark the tiers reached with a margin below `tolerance` (relief solve --warn-margin)."""
        if len(self.tiers):
            self.tiers["thin"] = [thin(m, tolerance) for m in self.tiers["margin_rel"]]


def clean_plan(case: Case, plan: dict) -> dict:
    """Round whole-module levers and drop solver noise: {(lever, year): modules > 0}
    ({(lever, year, stance): ...} for an adaptive plan)."""
    integer = dict(zip(case.table("levers")["lever"], case.table("levers")["integer"]))
    out = {}
    for key, v in plan.items():
        v = float(v or 0.0)
        v = float(round(v)) if integer[key[0]] else (0.0 if abs(v) < 1e-9 else v)
        if v != 0.0:
            out[(key[0], int(key[1]), *key[2:])] = v
    return out


def is_adaptive(plan: dict) -> bool:
    """A plan keyed (lever, year, stance): one roadmap per stance."""
    return any(len(k) == 3 for k in plan)


def evaluate_plan(case: Case, plan: dict, force=(), exclude=()) -> Evaluation:
    """Recompute value and feasibility of `plan` ({(lever, year): modules}) from the tables.

    Each block of the model has its checker here, named in the table of limits
    (model/core/limits.py) as the twin of its constraints. An adaptive plan ({(lever, year,
    stance): modules}) is evaluated by `evaluate_tree`."""
    if is_adaptive(plan) or (not plan and not Information.of(case).static):  # nothing committed: still a tree
        return evaluate_tree(case, plan, force, exclude)
    meta = case.meta
    lv = {r["lever"]: r for r in records(case.table("levers"))}
    violations: list[str] = []
    x = commitments(case, lv, plan, violations)
    portfolio = {l: sum(x[(l, t)] for t in case.years) for l in lv}
    violations += check_commitments(case, lv, x, portfolio, force, exclude)
    violations += check_relations(case, portfolio)
    obligation_rows, short = check_obligations(case, x)
    violations += short
    spend = Spending.of(lv, x, case.years)
    spend_rows, over = check_year_budgets(case, spend)
    violations += over
    envelope_rows, over = check_envelope_budgets(case, lv, spend)
    violations += over
    by_envelope, over = check_envelope_totals(case, lv, spend)
    violations += over
    public_total = sum(spend.public.values())
    violations += check_total_budget(meta, public_total)
    violations += check_pools(case, portfolio)
    roadmap = roadmap_rows(lv, x, case.years, spend)
    by_scenario, tier_rows, relief_rows = relief_by_scenario(case, roadmap)
    disc_public = sum(v * discount(meta, u) for (l, u), v in spend.public.items())
    duty_rows, duty = duty_paid(case, relief_rows)
    # every number below is written (terminal, --json, CSVs, report): tidied once, here
    return Evaluation(
        expected_relief=tidy(expected_relief(case, by_scenario)),
        by_scenario={s: tidy(v) for s, v in by_scenario.items()},
        public_spend=tidy(public_total, meta.get("total_public_budget")),
        total_spend=tidy(sum(spend.capex.values())),
        discounted_public_spend=tidy(disc_public),
        portfolio={l: tidy(v, round(v), lv[l]["min_modules"], lv[l]["max_modules"]) for l, v in portfolio.items()},
        roadmap=pd.DataFrame(tidy_roadmap(roadmap, lv)),
        tiers=pd.DataFrame(tier_rows),
        relief=pd.DataFrame(relief_rows),
        spending=pd.DataFrame(spend_rows).astype({"budget": float}),  # no common yearly budget: NaN, as read back
        violations=violations,
        committed={k: v for k, v in x.items() if v},
        obligations=obligation_rows,
        duty=pd.DataFrame(duty_rows),
        duty_summary=duty,
        envelope_spending=pd.DataFrame(envelope_rows, columns=["envelope", "year", "public_spend", "budget"]),
        envelope_totals=by_envelope,
        discounted_capex=tidy(sum(v * discount(meta, u) for (l, u), v in spend.capex.items())),
    )


def discount(meta: dict, t: int) -> float:
    """(1 + discount_rate)^-(t - first_year)."""
    return (1.0 + meta["discount_rate"]) ** -(t - meta["first_year"])


# --- commitments and the lever limits (define_commitments) ---------------------------


def commitments(case: Case, lv: dict, plan: dict, violations: list[str]) -> dict:
    """x[l,t] for every lever and year of the horizon (0 where the plan says nothing); a
    plan's entry for an unknown lever or a year outside the horizon is a violation."""
    x = {(l, t): 0.0 for l in lv for t in case.years}
    for (l, t), v in plan.items():
        if l not in lv:
            violations.append(f"unknown lever {l}")
            continue
        if (l, t) not in x:
            violations.append(f"{l}: {v:g} modules in {t}, outside the horizon")
            continue
        x[(l, t)] = float(v)
    return x


def check_commitments(case: Case, lv: dict, x: dict, portfolio: dict, force=(), exclude=()) -> list[str]:
    """Every lever's limits, lever by lever: its years, its size, and whether it is forced."""
    out: list[str] = []
    for l, r in lv.items():
        out += check_lever_years(l, r, {t: x[(l, t)] for t in case.years})
        out += check_lever_size(l, r, portfolio[l], l in exclude)
        out += check_forced(l, r, portfolio[l], l in force)
    return out


def check_lever_years(l: str, r: dict, by_year: dict) -> list[str]:
    """Twin of x's bounds and domain: 0 <= x[l,t] <= max_modules_per_year, whole where
    `integer`, nothing before earliest_year."""
    out: list[str] = []
    for t, v in by_year.items():
        if v < -_tol(0):
            out.append(f"{l}: negative commitment {v:g} in {t}")
        if r["integer"] and abs(v - round(v)) > 1e-6:
            out.append(f"{l}: {v:g} modules in {t} is not a whole number")
        if v > _tol(0) and t < r["earliest_year"]:
            out.append(f"{l}: committed in {t}, before its earliest year {r['earliest_year']}")
        if v > r["max_modules_per_year"] + _tol(r["max_modules_per_year"]):
            out.append(f"{l}: {v:g} modules in {t} exceed max_modules_per_year {r['max_modules_per_year']:g}")
    return out


def check_lever_size(l: str, r: dict, total: float, excluded: bool) -> list[str]:
    """Twin of build_min, build_max and of an excluded lever's y = 0: a lever in the plan
    has min_modules <= total <= max_modules, and an excluded one is not in the plan."""
    out: list[str] = []
    if total > _tol(0):
        if excluded:
            out.append(f"{l}: excluded but committed")
        if total < r["min_modules"] - _tol(r["min_modules"]):
            out.append(f"{l}: {total:g} modules in all, below min_modules {r['min_modules']:g}")
        if total > r["max_modules"] + _tol(r["max_modules"]):
            out.append(f"{l}: {total:g} modules in all, above max_modules {r['max_modules']:g}")
    return out


def check_forced(l: str, r: dict, total: float, forced: bool) -> list[str]:
    """Twin of `forced`: a forced lever has at least max(min_modules, 1) modules."""
    if forced and total < max(r["min_modules"], 1.0) - _tol(1.0):
        return [f"{l}: forced but only {total:g} modules committed"]
    return []


# --- obligations (define_obligations) ------------------------------------------------


def check_obligations(case: Case, x: dict) -> tuple[list[dict], list[str]]:
    """Twin of `obligation`: the modules of each obligation's lever committed in the years up to and
    including its by_year are at least its min_modules. Returns one record per obligation (lever,
    by_year, min_modules, committed_by_year, met, binding: committed exactly the minimum, so the
    obligation is what holds the plan there) and the violations."""
    rows, out = [], []
    for r in records(case.table("obligations")):
        l, y, need = r["lever"], int(r["by_year"]), float(r["min_modules"])
        done = sum(v for (ll, t), v in x.items() if ll == l and t <= y)
        met = done >= need - _tol(need)
        if not met:
            out.append(f"{l}: {done:g} modules committed by {y}, short of the obligation of {need:g}")
        done = tidy(done, need, round(done))
        rows.append(
            {
                "lever": l,
                "by_year": y,
                "min_modules": need,
                "committed_by_year": done,
                "met": bool(met),
                "binding": bool(need > 0 and abs(done - need) <= _tol(need)),
            }
        )
    return rows, out


# --- pools and relations (define_pools_and_relations) ---------------------------------


def check_relations(case: Case, portfolio: dict) -> list[str]:
    """Twin of `requires` and `excludes`, on the levers with modules in the plan."""
    out: list[str] = []
    used = {l for l, v in portfolio.items() if v > _tol(0)}
    for r in records(case.table("relations")):
        if r["relation"] == "requires" and r["lever"] in used and r["other"] not in used:
            out.append(f"{r['lever']} requires {r['other']}, which is not in the plan")
        if r["relation"] == "excludes" and r["lever"] in used and r["other"] in used:
            out.append(f"{r['lever']} excludes {r['other']}, but both are in the plan")
    return out


def pool_use(case: Case, portfolio: dict) -> dict:
    """{pool: sum_l use_per_module[l,q] * modules of l}."""
    uses = records(case.table("lever_pools"))
    return {
        q: sum(r["use_per_module"] * portfolio[r["lever"]] for r in uses if r["pool"] == q)
        for q in case.table("pools")["pool"]
    }


def check_pools(case: Case, portfolio: dict) -> list[str]:
    """Twin of pool_limit_row: each pool's use is at most its limit."""
    out: list[str] = []
    use = pool_use(case, portfolio)
    for q, limit in zip(case.table("pools")["pool"], case.table("pools")["limit"]):
        if use[q] > limit + _tol(limit):
            out.append(f"pool {q}: use {use[q]:.6g} exceeds its limit {limit:.6g}")
    return out


# --- spending and budgets (define_spending) -------------------------------------------


@dataclass
class Spending:
    """Capex and public money by (lever, year), spread evenly over max(lead_time_years, 1)
    years from the year of commitment (also past the horizon)."""

    years: set[int]  # the horizon and every year money is spent
    capex: dict[tuple[str, int], float]  # (lever, year) -> capex
    public: dict[tuple[str, int], float]  # (lever, year) -> public money

    @staticmethod
    def of(lv: dict, x: dict, years) -> Spending:
        spend_years = set(years)
        capex_by: dict = {}
        public_by: dict = {}
        for (l, t), v in x.items():
            if v == 0:
                continue
            n = max(int(lv[l]["lead_time_years"]), 1)
            for u in range(t, t + n):
                spend_years.add(u)
                capex_by[(l, u)] = capex_by.get((l, u), 0.0) + v * lv[l]["capex_per_module"] / n
                public_by[(l, u)] = (
                    public_by.get((l, u), 0.0) + v * lv[l]["capex_per_module"] * lv[l]["public_share"] / n
                )
        return Spending(spend_years, capex_by, public_by)


def yearly_budgets(case: Case) -> dict:
    """{(envelope, year): budget} of budget.csv, the horizon's years only."""
    first, last = case.meta["first_year"], case.meta["last_year"]
    b = case.table("budget")
    return {
        (e, int(t)): float(v)
        for e, t, v in zip(b["envelope"], b["year"], b["public_budget_usd_bn"])
        if first <= int(t) <= last
    }


def check_year_budgets(case: Case, spend: Spending) -> tuple[list[dict], list[str]]:
    """Twin of year_budget: public spending of the levers of the envelope `public` in each year
    of the horizon is at most its budget. Returns the spending rows of all envelopes together
    (year, public_spend, capex_spend, budget: the sum of the yearly budgets of the envelopes the
    levers draw on, None where one of them has no yearly limit that year)."""
    budgets = yearly_budgets(case)
    envelope = dict(zip(case.table("levers")["lever"], case.table("levers")["envelope"]))
    rows, out = [], []
    for t in sorted(spend.years):
        spent = sum(v for (l, u), v in spend.public.items() if u == t)
        own = sum(v for (l, u), v in spend.public.items() if u == t and envelope[l] == PUBLIC)
        b = budgets.get((PUBLIC, t))
        if b is not None and own > b + _tol(b):
            out.append(f"public spending of {own:.6g} in {t} exceeds the budget {b:.6g}")
        # one budget for all envelopes together only where every envelope a lever draws on has one
        # that year (else the sum would leave out money without a yearly limit, and look broken)
        year_total = [budgets.get((e, t)) for e in set(envelope.values())]
        b_all = sum(year_total) if None not in year_total else None
        rows.append(
            {
                "year": t,
                "public_spend": tidy(spent, b_all),
                "capex_spend": tidy(sum(v for (l, u), v in spend.capex.items() if u == t)),
                "budget": b_all,
            }
        )
    return rows, out


def check_envelope_budgets(case: Case, lv: dict, spend: Spending) -> tuple[list[dict], list[str]]:
    """Twin of envelope_year_budget: public spending of the levers of each envelope other than
    `public` in each year of the horizon is at most its budget.csv row for the year, where it
    has rows. Returns the rows (envelope, year, public_spend, budget) of every envelope a lever
    uses, for every year money is spent (budget None where the envelope has no limit that year)."""
    budgets = yearly_budgets(case)
    rows, out = [], []
    for e in dict.fromkeys(r["envelope"] for r in lv.values()):
        for t in sorted(spend.years):
            spent = sum(v for (l, u), v in spend.public.items() if u == t and lv[l]["envelope"] == e)
            b = budgets.get((e, t))
            if e != PUBLIC and b is not None and spent > b + _tol(b):
                out.append(f"public spending of envelope {e} of {spent:.6g} in {t} exceeds its budget {b:.6g}")
            rows.append({"envelope": e, "year": t, "public_spend": tidy(spent, b), "budget": b})
    return rows, out


def check_envelope_totals(case: Case, lv: dict, spend: Spending) -> tuple[dict, list[str]]:
    """Twin of envelope_total_limit: all public spending of each envelope's levers (also after
    the horizon) is at most its total_usd_bn (envelopes.csv). Returns {envelope: spending}."""
    by: dict = {}
    for (l, _), v in spend.public.items():
        by[lv[l]["envelope"]] = by.get(lv[l]["envelope"], 0.0) + v
    totals = dict(zip(case.table("envelopes")["envelope"], case.table("envelopes")["total_usd_bn"]))
    out = [
        f"public spending of envelope {e} of {by.get(e, 0.0):.6g} in all exceeds its total {cap:.6g}"
        for e, cap in totals.items()
        if by.get(e, 0.0) > cap + _tol(cap)
    ]
    return {e: tidy(v, totals.get(e)) for e, v in by.items()}, out


def check_total_budget(meta: dict, public_total: float) -> list[str]:
    """Twin of total_budget_limit: all public spending (also after the horizon) is at most
    total_public_budget, when the case sets one."""
    cap = meta.get("total_public_budget")
    if cap is not None and public_total > cap + _tol(cap):
        return [f"public spending of {public_total:.6g} in all exceeds total_public_budget {cap:.6g}"]
    return []


def tidy_roadmap(rows: list[dict], lv: dict) -> list[dict]:
    """The roadmap as written: modules within the tolerance of a whole number (or of the
    lever's max_modules_per_year for a year's commitment, its min_modules or max_modules
    for the cumulative and operating totals) are that number; spending without noise."""
    out = []
    for r in rows:
        lever = lv[r["lever"]]
        totals = (lever["min_modules"], lever["max_modules"])
        m = {k: tidy(r[k], round(r[k]), *totals) for k in ("cumulative", "operating")}
        m["committed"] = tidy(r["committed"], round(r["committed"]), lever["max_modules_per_year"])
        out.append({**r, **m, "capex_spend": tidy(r["capex_spend"]), "public_spend": tidy(r["public_spend"])})
    return out


def roadmap_rows(lv: dict, x: dict, years, spend: Spending) -> list[dict]:
    """Per lever and year: committed, cumulative (C), operating (O) modules and spending."""
    out = []
    for l in lv:
        lead = int(lv[l]["lead_time_years"])
        for t in sorted(spend.years):
            out.append(
                {
                    "lever": l,
                    "year": t,
                    "committed": x.get((l, t), 0.0),
                    "cumulative": sum(x[(l, u)] for u in years if u <= t),
                    "operating": sum(x[(l, u)] for u in years if u <= t - lead),
                    "capex_spend": spend.capex.get((l, t), 0.0),
                    "public_spend": spend.public.get((l, t), 0.0),
                }
            )
    return out


# --- scores, tiers and relief (define_scores, define_tiers, define_objectives) ---------


@dataclass(frozen=True)
class Ladders:
    """The tables that turn scores into tiers and tiers into relief, read once."""

    scenarios: dict[str, dict]  # scenario -> row
    contributions: list
    weights: dict[tuple[str, str], list[tuple[str, float]]]  # (scenario, track) -> [(pillar, weight)]
    sectors: list
    rate: dict[tuple[str, str, str, str, int], float]  # (scenario, track, tier, sector, year) -> rate in force
    # (scenario, track, tier) -> [(pillar, min_score)]
    requirements: dict[tuple[str, str, str], list[tuple[str, float]]]
    ladders: dict[tuple[str, str], list[tuple[str, float]]]  # (scenario, track) -> [(tier, threshold)]
    data_year: int
    margin: float = 0.0  # case.yaml's tier_margin: a tier counts where the score reaches threshold x (1 + margin)

    def required(self, threshold: float) -> float:
        """Twin of build's `threshold` Param (`required_score`): the score a tier needs."""
        return float(threshold) * (1.0 + self.margin)

    @staticmethod
    def of(case: Case) -> Ladders:
        weights: dict = {}
        for w in records(case.table("pillar_weights")):
            weights.setdefault((w["scenario"], w["track"]), []).append((w["pillar"], w["weight"]))
        reqs: dict = {}
        for r in records(case.table("tier_requirements")):
            reqs.setdefault((r["scenario"], r["track"], r["tier"]), []).append((r["pillar"], r["min_score"]))
        ladders: dict = {}
        for r in records(case.table("tiers")):
            ladders.setdefault((r["scenario"], r["track"]), []).append((r["tier"], r["threshold"]))
        rate = yearly_rates(case)
        return Ladders(
            {r["scenario"]: r for r in records(case.table("scenarios"))},
            records(case.table("contributions")),
            weights,
            records(case.table("sectors")),
            rate,
            reqs,
            ladders,
            case.meta["data_year"],
            float(case.meta.get("tier_margin") or 0.0),
        )


def pillar_scores(L: Ladders, years, credit: float, committed: dict, operating: dict) -> dict:
    """P[p,t] = sum_l score[l,p] ((1-k) O[l,t] + k C[l,t]) for one scenario's credit k."""
    pillar: dict = {}
    for t in years:
        for c in L.contributions:
            key = (c["pillar"], t)
            pillar[key] = pillar.get(key, 0.0) + c["score_per_module"] * (
                (1 - credit) * operating[(c["lever"], t)] + credit * committed[(c["lever"], t)]
            )
    return pillar


def tier_reached(score: float, threshold: float, pillar: dict, t: int, requirements) -> bool:
    """Twin of tier_reach and tier_requirement: the track score meets the tier's threshold
    and every pillar score P[p,t] it requires meets its min_score."""
    if score < threshold - _tol(threshold):
        return False
    return all(pillar.get((p, t), 0.0) >= ms - _tol(ms) for p, ms in requirements)


@dataclass(frozen=True)
class Track:
    """A tariff track in one scenario: its ladder by ascending threshold, baseline and sectors."""

    scenario: str
    track: str
    ladder: list[tuple[str, float]]  # [(tier, threshold)], ascending threshold
    base: str
    sectors: list

    @staticmethod
    def of(L: Ladders, s: str, r: str) -> Track:
        ladder = sorted(L.ladders[(s, r)], key=lambda kt: kt[1])
        base = next(name for name, thr in ladder if thr == 0)
        return Track(s, r, ladder, base, [j for j in L.sectors if j["track"] == r])


def tier_value(L: Ladders, track: Track, tier: str, t: int) -> float:
    """V[s,r,t,k]: relief of the tier over the baseline in year t, exports grown since data_year."""
    s, r, base = track.scenario, track.track, track.base
    return sum(
        j["exports_usd_bn"]
        * (1 + j["growth_rate"]) ** (t - L.data_year)
        * (L.rate[(s, r, base, j["sector"], t)] - L.rate[(s, r, tier, j["sector"], t)])
        for j in track.sectors
    )


def best_tier(L: Ladders, track: Track, t: int, score: float, pillar: dict) -> tuple[str, float, float]:
    """Twin of one_tier: the one tier the track holds, the most valuable of those reached
    (the baseline is always reached, worth 0; a tier is reached where the score meets its
    threshold raised by the tier margin). (tier, threshold, value), the threshold as in tiers.csv."""
    best, best_thr, best_val = track.base, 0.0, 0.0
    for tier, thr in track.ladder:  # ascending threshold: ties go to the higher tier
        requirements = L.requirements.get((track.scenario, track.track, tier), ())
        if tier == track.base or tier_reached(score, L.required(thr), pillar, t, requirements):
            v = tier_value(L, track, tier, t)
            if v >= best_val - 1e-12:
                best, best_thr, best_val = tier, thr, v
    return best, best_thr, best_val


def relief_by_scenario(case: Case, roadmap: list[dict]) -> tuple[dict, list[dict], list[dict]]:
    """Twin of the risk rows (worst_row, shortfall_row): each scenario's discounted relief
    over the horizon, from which model/core/risk.py recomputes the risk measure; with the
    tier reached by each track in each year, and the relief of each sector."""
    committed = {(r["lever"], r["year"]): r["cumulative"] for r in roadmap}
    operating = {(r["lever"], r["year"]): r["operating"] for r in roadmap}
    L = Ladders.of(case)
    tier_rows: list[dict] = []
    relief_rows: list[dict] = []
    by_scenario = {}
    for s, srow in L.scenarios.items():
        pillar = pillar_scores(L, case.years, srow["commitment_credit"], committed, operating)
        total_s = 0.0
        for r in dict.fromkeys(j["track"] for j in L.sectors):
            track = Track.of(L, s, r)
            for t in case.years:
                total_s += discount(case.meta, t) * _track_year(L, case, track, t, pillar, tier_rows, relief_rows)
        by_scenario[s] = total_s
    return by_scenario, tier_rows, relief_rows


def tier_margin(score: float, threshold: float, above_baseline: bool) -> tuple:
    """(margin, margin_rel) of a tier reached: score - threshold, and that as a share of the
    threshold; (None, None) for the baseline (nothing reached, nothing to lose)."""
    if not above_baseline or not threshold:
        return None, None
    return tidy(score - threshold), tidy((score - threshold) / threshold)


def _track_year(L: Ladders, case: Case, track: Track, t: int, pillar: dict, tier_rows: list, relief_rows: list):
    """The tier of a track in year t, its row and its sectors' relief rows; its relief."""
    s, r, base, track_sectors = track.scenario, track.track, track.base, track.sectors
    score = sum(w * pillar.get((p, t), 0.0) for p, w in L.weights.get((s, r), ()))
    best, best_thr, best_val = best_tier(L, track, t, score, pillar)
    required = L.required(best_thr)
    score = tidy(score, required)  # reached within the tolerance: written as the score required
    margin, margin_rel = tier_margin(score, best_thr, best != base)  # against the threshold itself
    nxt = next(((name, thr) for name, thr in track.ladder if thr > best_thr), (None, None))
    rate = {(k, j["sector"]): L.rate[(s, r, k, j["sector"], t)] for k in (base, best) for j in track_sectors}
    changes = "; ".join(
        f"{j['sector']} {rate[(base, j['sector'])]:.4g}->{rate[(best, j['sector'])]:.4g}"
        for j in track_sectors
        if rate[(base, j["sector"])] != rate[(best, j["sector"])]
    )
    tier_rows.append(
        {
            "scenario": s,
            "track": r,
            "year": t,
            "tier": best,
            "score": score,
            "threshold": best_thr,
            "required_score": tidy(required),
            "base_tier": base,
            "rate_changes": changes,
            "relief": tidy(best_val),
            "next_tier": nxt[0],
            "next_threshold": nxt[1],
            "margin": margin,
            "margin_rel": margin_rel,
            "thin": thin(margin_rel),
        }
    )
    for j in track_sectors:
        rel = (
            j["exports_usd_bn"]
            * (1 + j["growth_rate"]) ** (t - L.data_year)
            * (rate[(base, j["sector"])] - rate[(best, j["sector"])])
        )
        relief_rows.append(
            {
                "scenario": s,
                "track": r,
                "sector": j["sector"],
                "year": t,
                "relief": tidy(rel),
                "discounted_relief": tidy(discount(case.meta, t) * rel),
                "base_rate": rate[(base, j["sector"])],
                "rate": rate[(best, j["sector"])],
            }
        )
    return best_val


# --- duty paid, and relief against two references (reported, not optimised) ---------------


def duty_paid(case: Case, relief_rows: list[dict]) -> tuple[list[dict], dict]:
    """Duty by scenario, year, track and sector (exports grown since data_year times the rate of
    the tier reached; under no delivery, the baseline tier's rate; at current rates, sectors.csv's
    current_rate, the same in every stance), undiscounted; and the discounted sums over the
    horizon by scenario and in expectation. relief = duty_no_delivery - duty_paid (the
    objective); relief_vs_current = duty_current - duty_paid, which differs from it by a constant
    (duty_no_delivery - duty_current does not depend on the plan). The duty at current rates is
    None unless every sector has a current_rate."""
    sectors = {j["sector"]: j for j in records(case.table("sectors"))}
    current = {k: j.get("current_rate") for k, j in sectors.items()}
    has_current = bool(current) and all(v is not None and v == v for v in current.values())
    data_year = case.meta["data_year"]
    rows: list[dict] = []
    sums: dict[str, dict] = {}
    for rr in relief_rows:
        j = sectors[rr["sector"]]
        exports = j["exports_usd_bn"] * (1 + j["growth_rate"]) ** (rr["year"] - data_year)
        paid, none = exports * rr["rate"], exports * rr["base_rate"]
        cur = exports * current[rr["sector"]] if has_current else None
        rows.append(
            {
                "scenario": rr["scenario"],
                "year": rr["year"],
                "track": rr["track"],
                "sector": rr["sector"],
                "exports": tidy(exports),
                "rate": rr["rate"],
                "duty_paid": tidy(paid),
                "duty_no_delivery": tidy(none),
                "duty_current": tidy(cur),
            }
        )
        d = discount(case.meta, rr["year"])
        acc = sums.setdefault(rr["scenario"], {"duty_paid": 0.0, "duty_no_delivery": 0.0, "duty_current": 0.0})
        acc["duty_paid"] += d * paid
        acc["duty_no_delivery"] += d * none
        acc["duty_current"] += d * (cur or 0.0)
    return rows, _duty_summary(case, sums, has_current)


def _duty_summary(case: Case, sums: dict, has_current: bool) -> dict:
    prob = {r["scenario"]: r["probability"] for r in records(case.table("scenarios"))}
    by = {}
    for s, a in sums.items():
        by[s] = {
            "duty_paid": tidy(a["duty_paid"]),
            "duty_no_delivery": tidy(a["duty_no_delivery"]),
            "duty_current": tidy(a["duty_current"]) if has_current else None,
            "relief": tidy(a["duty_no_delivery"] - a["duty_paid"]),
            "relief_vs_current": tidy(a["duty_current"] - a["duty_paid"]) if has_current else None,
        }

    def expect(name: str):
        if not has_current and name in ("duty_current", "relief_vs_current"):
            return None
        raw = {"relief": lambda a: a["duty_no_delivery"] - a["duty_paid"]}
        raw["relief_vs_current"] = lambda a: a["duty_current"] - a["duty_paid"]
        return tidy(sum(prob[s] * (raw[name](a) if name in raw else a[name]) for s, a in sums.items()))

    return {
        "expected_duty_paid": expect("duty_paid"),
        "expected_duty_no_delivery": expect("duty_no_delivery"),
        "expected_duty_current": expect("duty_current"),
        "expected_relief_vs_current": expect("relief_vs_current"),
        "duty_by_scenario": by,
    }


def expected_relief(case: Case, by_scenario: dict) -> float:
    """Twin of keep_relief (and of the first stage's objective): sum_s probability_s relief_s."""
    probability = {r["scenario"]: r["probability"] for r in records(case.table("scenarios"))}
    return sum(probability[s] * v for s, v in by_scenario.items())


# --- adaptive plans (build._build_tree) ---------------------------------------------------


def stance_plans(case: Case, plan: dict) -> dict:
    """{stance: {(lever, year): modules}} of an adaptive plan (every stance, even with nothing)."""
    out: dict = {s: {} for s in case.scenarios}
    for (l, t, s), v in plan.items():
        out[s][(l, t)] = v
    return out


def check_nonanticipativity(case: Case, plans: dict) -> list[str]:
    """Twin of `nonanticipativity`: stances that cannot yet be told apart in year t (case.yaml's
    reveal_year, information.csv) commit the same modules of every lever in year t."""
    info = Information.of(case)
    out = []
    for t in info.years:
        for group in info.groups[info.years.index(t)]:
            first = group[0]
            for s in group[1:]:
                for l in case.levers:
                    a, b = plans[first].get((l, t), 0.0), plans[s].get((l, t), 0.0)
                    if abs(a - b) > _tol(max(abs(a), abs(b))):
                        out.append(
                            f"{l} {t}: stance {s} commits {b:g} modules but {first}, which cannot yet be told "
                            f"apart from it, commits {a:g}"
                        )
    return out


def evaluate_tree(case: Case, plan: dict, force=(), exclude=()) -> Evaluation:
    """An adaptive plan: each stance's roadmap evaluated as a static one (every limit binds
    every branch), its relief counted in its own stance only; spending in expectation over
    the stances; `portfolio` and `committed` are the first moves (the years every stance shares)."""
    info = Information.of(case)
    prob = dict(zip(info.scenarios, info.probability))
    plans = stance_plans(case, plan)
    users: dict = {}  # each distinct roadmap -> the stances that follow it
    for s, p in plans.items():
        users.setdefault(tuple(sorted(p.items())), []).append(s)
    evaluated: dict = {}
    per: dict = {}
    for key, stances in users.items():
        # on the case of its own stances: the limits do not depend on the stance, its relief does
        ev = evaluated[key] = evaluate_plan(scenarios_only(case, stances), dict(key), force, exclude)
        for s in stances:
            per[s] = ev
    violations = check_nonanticipativity(case, plans)
    for key, stances in users.items():
        violations += [f"roadmap of {', '.join(stances)}: {v}" for v in evaluated[key].violations]
    shared = set(info.shared_years)
    first = info.scenarios[0]
    moves = {k: v for k, v in plans[first].items() if k[1] in shared}

    def expect(name: str) -> float:
        return tidy(sum(prob[s] * getattr(per[s], name) for s in info.scenarios))

    def own(name: str) -> pd.DataFrame:
        parts = [getattr(per[s], name) for s in info.scenarios]
        parts = [df[df["scenario"] == s] for s, df in zip(info.scenarios, parts) if len(df)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def stacked(name: str) -> pd.DataFrame:
        parts = [getattr(per[s], name).assign(scenario=s) for s in info.scenarios]
        out = pd.concat(parts, ignore_index=True)
        return out[["scenario", *(c for c in out.columns if c != "scenario")]]

    by_scenario = {s: per[s].by_scenario[s] for s in info.scenarios}
    return Evaluation(
        expected_relief=tidy(sum(prob[s] * v for s, v in by_scenario.items())),
        by_scenario=by_scenario,
        public_spend=expect("public_spend"),
        total_spend=expect("total_spend"),
        discounted_public_spend=expect("discounted_public_spend"),
        portfolio={l: tidy(sum(v for (ll, _), v in moves.items() if ll == l)) for l in case.levers},
        roadmap=stacked("roadmap"),
        tiers=own("tiers"),
        relief=own("relief"),
        spending=stacked("spending"),
        violations=violations,
        committed=moves,
        obligations=_tree_obligations(info, per),
        duty=own("duty"),
        duty_summary=_tree_duty(case, info, per),
        envelope_spending=stacked("envelope_spending"),
        envelope_totals={
            e: tidy(sum(prob[s] * per[s].envelope_totals.get(e, 0.0) for s in info.scenarios))
            for e in per[first].envelope_totals
        },
        plan_by_scenario={s: dict(per[s].committed) for s in info.scenarios},
        reveal=info.report(),
        portfolio_by_scenario={s: dict(per[s].portfolio) for s in info.scenarios},
        public_spend_by_scenario={s: per[s].public_spend for s in info.scenarios},
    )


def _tree_obligations(info: Information, per: dict) -> list[dict]:
    """Each obligation met in every stance's roadmap; committed_by_year the least of them."""
    first = per[info.scenarios[0]].obligations
    out = []
    for i, rec in enumerate(first):
        recs = [per[s].obligations[i] for s in info.scenarios]
        out.append(
            {
                **rec,
                "committed_by_year": min(r["committed_by_year"] for r in recs),
                "met": all(r["met"] for r in recs),
                "binding": any(r["binding"] for r in recs),
                "committed_by_scenario": {s: r["committed_by_year"] for s, r in zip(info.scenarios, recs)},
            }
        )
    return out


def _tree_duty(case: Case, info: Information, per: dict) -> dict:
    """expected_duty_* and duty_by_scenario, each stance under its own roadmap (`_duty_summary` of
    each stance's discounted duties)."""
    if not per[info.scenarios[0]].duty_summary:
        return {}
    by = {s: per[s].duty_summary["duty_by_scenario"][s] for s in info.scenarios}
    has_current = all(d["duty_current"] is not None for d in by.values())
    sums = {s: {k: d[k] or 0.0 for k in ("duty_paid", "duty_no_delivery", "duty_current")} for s, d in by.items()}
    return _duty_summary(case, sums, has_current)
