"""Build the contribution-portfolio MILP in Pyomo (docs/formulation.md, model-spec section 3).

The model is built once per case *structure* (levers, years, scenarios, ladders, lead
times). Everything a sweep varies is a mutable Param, set by `set_parameters`, so the
same built model and its persistent HiGHS instance can be re-solved at another point
without rebuilding. Each block of the formulation is one `define_*` function whose
docstring carries its mathematics, with the symbols of the docs.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost ~0.4 s per process, unused here

from relief.model.core.frames import memo, rows
from relief.model.core.information import Information, OneRoadmapOnly, scenarios_only
from relief.model.core.options import past_deadline
from relief.model.core.rates import yearly_rates
from relief.model.core.schema import PUBLIC

if TYPE_CHECKING:
    from relief.model.core.case import Case

# Smallest size at which a divisible lever counts as used (modules).
MIN_DIVISIBLE = 1e-3


@dataclass(frozen=True)
class Structure:
    """Index sets of a case, computed once in plain Python before Pyomo sees them."""

    years: tuple[int, ...]
    levers: tuple[str, ...]
    integer: dict[str, bool]  # by lever
    lead: dict[str, int]  # by lever: lead_time_years
    spread: dict[str, int]  # by lever: years over which capex is spent, max(lead, 1)
    lever_years: tuple[tuple[str, int], ...]  # (l, t) with t >= earliest_year: where x exists
    scenarios: tuple[str, ...]
    tracks: tuple[str, ...]
    pillars: tuple[str, ...]
    contributions: tuple[tuple[str, str], ...]  # (l, p) with a score
    weights: tuple[tuple[str, str, str], ...]  # (s, r, p) with a weight
    base: dict[tuple[str, str], str]  # (s, r) -> baseline tier
    tiers: tuple[tuple[str, str, str], ...]  # (s, r, k), k not the baseline
    requirements: tuple[tuple[str, str, str, str], ...]  # (s, r, k, p)
    pools: tuple[str, ...]
    pool_uses: tuple[tuple[str, str], ...]  # (l, q)
    track_levers: tuple[tuple[str, str, str], ...]  # (s, r, l) where some weighted pillar of (s, r) gets a score from l
    required_pillars: tuple[tuple[str, str], ...]  # (s, p) whose pillar score a tier requirement needs
    requires: tuple[tuple[str, str], ...]  # (l, other)
    excludes: tuple[tuple[str, str], ...]  # (l, other)
    has_total_budget: bool
    obligations: tuple[tuple[str, int], ...] = ()  # (l, by_year) of obligations.csv
    risk: str = "expected"  # risk_measure: expected | cvar | worst (model/risk.py)
    # funding envelopes (docs/formulation.md, Envelopes): each lever's, the (envelope, year) rows of
    # budget.csv other than `public`'s (whose yearly rows are year_budget's), envelopes.csv's totals
    envelope_of: tuple[tuple[str, str], ...] = ()  # (lever, envelope)
    public_yearly: bool = True  # the envelope `public` has yearly budgets
    envelope_years: tuple[tuple[str, int], ...] = ()
    envelope_totals: tuple[str, ...] = ()  # risk_measure: expected | cvar | worst (model/risk.py)

    @staticmethod
    def of(case: Case) -> Structure:
        lv = case.table("levers")
        years = tuple(case.years)
        lead = dict(zip(lv["lever"], (int(v) for v in lv["lead_time_years"])))
        earliest = dict(zip(lv["lever"], (int(v) for v in lv["earliest_year"])))
        tiers = case.table("tiers")
        base = {}
        non_base = []
        for r in rows(tiers):
            if r.threshold == 0:
                base[(r.scenario, r.track)] = r.tier
        for r in rows(tiers):
            if base.get((r.scenario, r.track)) != r.tier:
                non_base.append((r.scenario, r.track, r.tier))
        rel = case.table("relations")
        weights = case.table("pillar_weights")
        req = case.table("tier_requirements")
        return Structure(
            years=years,
            levers=tuple(lv["lever"]),
            integer=dict(zip(lv["lever"], (bool(v) for v in lv["integer"]))),
            lead=lead,
            spread={l: max(n, 1) for l, n in lead.items()},
            lever_years=tuple((l, t) for l in lv["lever"] for t in years if t >= earliest[l]),
            scenarios=tuple(case.scenarios),
            tracks=tuple(case.tracks),
            pillars=tuple(case.pillars),
            contributions=tuple(zip(case.table("contributions")["lever"], case.table("contributions")["pillar"])),
            weights=tuple(zip(weights["scenario"], weights["track"], weights["pillar"])),
            base=base,
            tiers=tuple(non_base),
            requirements=tuple(zip(req["scenario"], req["track"], req["tier"], req["pillar"])),
            pools=tuple(case.table("pools")["pool"]),
            pool_uses=tuple(zip(case.table("lever_pools")["lever"], case.table("lever_pools")["pool"])),
            track_levers=_track_levers(case, weights),
            required_pillars=tuple(dict.fromkeys((r.scenario, r.pillar) for r in rows(req))),
            requires=tuple((r.lever, r.other) for r in rows(rel) if r.relation == "requires"),
            excludes=tuple((r.lever, r.other) for r in rows(rel) if r.relation == "excludes"),
            has_total_budget=case.meta.get("total_public_budget") is not None,
            risk=case.meta.get("risk_measure") or "expected",
            obligations=tuple(
                zip(case.table("obligations")["lever"], (int(y) for y in case.table("obligations")["by_year"]))
            ),
            **_envelopes(case, years),
        )


def _envelopes(case: Case, years) -> dict:
    """The envelope fields of a Structure."""
    lv, b = case.table("levers"), case.table("budget")
    budgeted = [(e, int(t)) for e, t in zip(b["envelope"], b["year"]) if int(t) in years]
    return {
        "envelope_of": tuple(zip(lv["lever"], lv["envelope"])),
        "public_yearly": any(e == PUBLIC for e, _ in budgeted),
        "envelope_years": tuple((e, t) for e, t in budgeted if e != PUBLIC),
        "envelope_totals": tuple(case.table("envelopes")["envelope"]),
    }


def _track_levers(case: Case, weights) -> tuple:
    levers_of: dict = {}
    for l, p in zip(case.table("contributions")["lever"], case.table("contributions")["pillar"]):
        levers_of.setdefault(p, []).append(l)
    out: dict = {}
    for s, r, p in zip(weights["scenario"], weights["track"], weights["pillar"]):
        for l in levers_of.get(p, ()):
            out[(s, r, l)] = None
    return tuple(out)


# ----------------------------------------------------------------------------------
# Parameter values: everything a sweep may change, computed from the case tables
# ----------------------------------------------------------------------------------


def discount_factor(case: Case, year: int) -> float:
    """(1 + discount_rate)^-(t - first_year)."""
    return (1.0 + case.meta["discount_rate"]) ** -(year - case.meta["first_year"])


def required_score(threshold: float, meta: dict) -> float:
    """The track score a tier needs to count: threshold x (1 + tier_margin) (case.yaml; 0 by
    default, so the threshold itself). build's `threshold` Param holds it; evaluate's twin
    (`Ladders.required`) computes the same product."""
    return float(threshold) * (1.0 + float(meta.get("tier_margin") or 0.0))


def tier_relief(case: Case, st: Structure) -> dict:
    """V[s,r,t,k] = sum_j exports_j (1+g_j)^(t - data_year) (rate[s,r,base,j,t] - rate[s,r,k,j,t]),
    rate[...,t] the rate in force in year t (tariffs.csv's from_year, model/core/rates.py)."""
    sectors = case.table("sectors")
    rate = yearly_rates(case)
    by_track: dict[str, list] = {}
    for j in rows(sectors):
        by_track.setdefault(j.track, []).append(j)
    data_year = case.meta["data_year"]
    out = {}
    for s, r, k in st.tiers:
        b = st.base[(s, r)]
        for t in st.years:
            out[(s, r, t, k)] = sum(
                j.exports_usd_bn
                * (1.0 + j.growth_rate) ** (t - data_year)
                * (rate[(s, r, b, j.sector, t)] - rate[(s, r, k, j.sector, t)])
                for j in by_track.get(r, ())
            )
    return out


def _budget_values(case: Case, st: Structure, disc: dict) -> dict:
    """The Params of define_spending's limits: `public`'s yearly budgets, the other envelopes'
    yearly budgets, the envelopes' totals and total_public_budget."""
    budget = [(r.envelope, int(r.year), float(r.public_budget_usd_bn)) for r in rows(case.table("budget"))]
    return {
        "budget": {t: v for e, t, v in budget if t in disc and e == PUBLIC},
        "envelope_budget": {(e, t): v for e, t, v in budget if t in disc and e != PUBLIC},
        "envelope_total": {r.envelope: float(r.total_usd_bn) for r in rows(case.table("envelopes"))},
        "total_budget": {None: float(case.meta["total_public_budget"]) if st.has_total_budget else 0.0},
    }


class _Columns:
    """`.at[key, column]` of a table by its key, from plain dicts (DataFrame.at is ~10 us)."""

    def __init__(self, df, key: str):
        self._cols = {c: dict(zip(df[key], df[c])) for c in df.columns if c != key}
        self.at = self

    def __getitem__(self, kc):
        return self._cols[kc[1]][kc[0]]


def parameter_values(case: Case, st: Structure, force=(), exclude=()) -> dict[str, dict]:
    """Values of every mutable Param, keyed by Param name then index (computed once per case,
    structure and forced/excluded levers: validation's coefficient check and set_parameters
    both need them). Read-only."""
    known = memo(case, ("parameter_values", tuple(force), tuple(exclude)), list)  # [(structure, values)]
    for structure, values in known:
        if structure == st:
            return values
    values = _values(case, st, force, exclude)
    known.append((st, values))
    return values


def _values(case: Case, st: Structure, force=(), exclude=()) -> dict[str, dict]:
    lv = _Columns(case.table("levers"), "lever")  # plain dicts: a sweep recomputes these at every point
    sc = _Columns(case.table("scenarios"), "scenario")
    disc = {t: discount_factor(case, t) for t in st.years}
    rate = case.meta["discount_rate"]
    first = case.meta["first_year"]
    spend_pv = {}  # the second stage's cost: public money, or all capex (case.yaml second_stage)
    capex_stage = case.meta.get("second_stage") == "capex"
    for l, u in st.lever_years:
        share = 1.0 if capex_stage else lv.at[l, "public_share"]
        per_year = share * lv.at[l, "capex_per_module"] / st.spread[l]
        spend_pv[(l, u)] = per_year * sum((1.0 + rate) ** -(v - first) for v in range(u, u + st.spread[l]))
    forced = {l: (max(float(lv.at[l, "min_modules"]), 1.0) if l in force else 0.0) for l in st.levers}
    non_base = set(st.tiers)
    credit = {s: float(sc.at[s, "commitment_credit"]) for s in st.scenarios}
    probability = {s: float(sc.at[s, "probability"]) for s in st.scenarios}
    score = {(r.lever, r.pillar): float(r.score_per_module) for r in rows(case.table("contributions"))}
    weight = {(r.scenario, r.track, r.pillar): float(r.weight) for r in rows(case.table("pillar_weights"))}
    pillars_of = {}
    for s_, r_, p_ in weight:
        pillars_of.setdefault((s_, r_), []).append(p_)
    track_coef = {
        (s_, r_, l): sum(weight[(s_, r_, p_)] * score.get((l, p_), 0.0) for p_ in pillars_of[(s_, r_)])
        for (s_, r_, l) in st.track_levers
    }
    V = tier_relief(case, st)
    share = {l: float(lv.at[l, "public_share"]) * float(lv.at[l, "capex_per_module"]) for l in st.levers}
    risk = {}
    if st.risk != "expected":  # the Params of define_risk
        alpha = float(case.meta.get("risk_alpha", 0.8))
        risk = {
            "scenario_relief_coef": {(s_, r_, t, k): disc[t] * v for (s_, r_, t, k), v in V.items()},
            "probability": probability,
            "risk_weight": {None: float(case.meta.get("risk_weight", 0.5)) if st.risk == "cvar" else 1.0},
            "risk_tail": {None: 1.0 / (1.0 - alpha)},
        }
    return {
        **risk,
        "public_per_module": share,
        "public_per_year": {l: share[l] / st.spread[l] for l in st.levers},
        "min_used": {
            l: max(float(lv.at[l, "min_modules"]), 1.0 if st.integer[l] else MIN_DIVISIBLE) for l in st.levers
        },
        "max_modules": {l: float(lv.at[l, "max_modules"]) for l in st.levers},
        "max_per_year": {l: float(lv.at[l, "max_modules_per_year"]) for l in st.levers},
        "allowed": {l: (0 if l in exclude else 1) for l in st.levers},
        "forced_min": forced,
        "score": score,
        "score_building": {(s_, l, p_): credit[s_] * v for s_ in st.scenarios for (l, p_), v in score.items()},
        "track_coef": track_coef,
        "track_coef_building": {(s_, r_, l): credit[s_] * v for (s_, r_, l), v in track_coef.items()},
        "threshold": {  # the score a tier needs: its threshold raised by case.yaml's tier_margin
            (r.scenario, r.track, r.tier): required_score(r.threshold, case.meta)
            for r in rows(case.table("tiers"))
            if (r.scenario, r.track, r.tier) in non_base
        },
        "min_score": {
            (r.scenario, r.track, r.tier, r.pillar): float(r.min_score) for r in rows(case.table("tier_requirements"))
        },
        "relief_coef": {(s_, r_, t, k): probability[s_] * disc[t] * v for (s_, r_, t, k), v in V.items()},
        **_budget_values(case, st, disc),
        "pool_limit": {r.pool: float(r.limit) for r in rows(case.table("pools"))},
        "pool_use": {(r.lever, r.pool): float(r.use_per_module) for r in rows(case.table("lever_pools"))},
        "spend_pv": spend_pv,
        "obligation_min": {(r.lever, int(r.by_year)): float(r.min_modules) for r in rows(case.table("obligations"))},
    }


# ----------------------------------------------------------------------------------
# The model, one block at a time
# ----------------------------------------------------------------------------------


def define_sets_and_parameters(m, st: Structure, values: dict) -> None:
    """Index sets (sparse, precomputed) and mutable Params initialised from `values`."""
    m.L = pyo.Set(initialize=st.levers, ordered=True)
    m.T = pyo.Set(initialize=st.years, ordered=True)
    m.S = pyo.Set(initialize=st.scenarios, ordered=True)
    m.R = pyo.Set(initialize=st.tracks, ordered=True)
    m.P = pyo.Set(initialize=st.pillars, ordered=True)
    m.LT = pyo.Set(dimen=2, initialize=st.lever_years, ordered=True)
    m.LP = pyo.Set(dimen=2, initialize=st.contributions, ordered=True)
    m.SRP = pyo.Set(dimen=3, initialize=st.weights, ordered=True)
    m.SRK = pyo.Set(dimen=3, initialize=st.tiers, ordered=True)
    m.SRKP = pyo.Set(dimen=4, initialize=st.requirements, ordered=True)
    m.Q = pyo.Set(initialize=st.pools, ordered=True)
    m.LQ = pyo.Set(dimen=2, initialize=st.pool_uses, ordered=True)
    m.SRTK = pyo.Set(dimen=4, initialize=[(s, r, t, k) for (s, r, k) in st.tiers for t in st.years], ordered=True)
    m.SRL = pyo.Set(dimen=3, initialize=st.track_levers, ordered=True)
    m.OB = pyo.Set(dimen=2, initialize=st.obligations, ordered=True)
    m.SLP = pyo.Set(dimen=3, initialize=[(s, l, p) for s in st.scenarios for (l, p) in st.contributions], ordered=True)
    m.EY = pyo.Set(dimen=2, initialize=st.envelope_years, ordered=True)
    m.E_TOTAL = pyo.Set(initialize=st.envelope_totals, ordered=True)
    index_of = {
        "public_per_module": m.L,
        "public_per_year": m.L,
        "min_used": m.L,
        "max_modules": m.L,
        "max_per_year": m.L,
        "allowed": m.L,
        "forced_min": m.L,
        "score": m.LP,
        "score_building": m.SLP,
        "track_coef": m.SRL,
        "track_coef_building": m.SRL,
        "threshold": m.SRK,
        "min_score": m.SRKP,
        "relief_coef": m.SRTK,
        "budget": m.T,
        "total_budget": None,
        "envelope_budget": m.EY,
        "envelope_total": m.E_TOTAL,
        "pool_limit": m.Q,
        "pool_use": m.LQ,
        "spend_pv": m.LT,
        "obligation_min": m.OB,
    }
    if st.risk != "expected":
        index_of.update({"scenario_relief_coef": m.SRTK, "probability": m.S, "risk_weight": None, "risk_tail": None})
    for name, index in index_of.items():
        if index is None:
            m.add_component(name, pyo.Param(initialize=values[name][None], mutable=True))
        else:
            m.add_component(name, pyo.Param(index, initialize=values[name], mutable=True, default=0.0))
    m.relief_floor = pyo.Param(initialize=0.0, mutable=True)


def define_commitments(m, st: Structure) -> None:
    """x[l,t] in [0, max_modules_per_year] (integer where `integer`), only for t >= earliest_year;
    y[l] binary; min_used[l]*y[l] <= sum_t x[l,t] <= max_modules*y[l]; forced levers: sum_t x >= forced_min.

    min_used = max(min_modules, 1) for whole-module levers, max(min_modules, MIN_DIVISIBLE) for
    divisible ones, so that y[l] = 1 means the lever is really in the plan: a `requires`
    relation cannot be met by a lever switched on with no modules."""

    def x_domain(m, l, t):
        return pyo.NonNegativeIntegers if st.integer[l] else pyo.NonNegativeReals

    def x_bounds(m, l, t):
        return (0, m.max_per_year[l])

    m.x = pyo.Var(m.LT, domain=x_domain, bounds=x_bounds)
    m.y = pyo.Var(m.L, domain=pyo.Binary, bounds=lambda m, l: (0, m.allowed[l]))
    m.total_modules = pyo.Expression(m.L, rule=lambda m, l: sum(m.x[l, t] for t in m.T if (l, t) in m.LT))
    m.build_min = pyo.Constraint(m.L, rule=lambda m, l: m.total_modules[l] >= m.min_used[l] * m.y[l])
    m.build_max = pyo.Constraint(m.L, rule=lambda m, l: m.total_modules[l] <= m.max_modules[l] * m.y[l])
    m.forced = pyo.Constraint(m.L, rule=lambda m, l: m.total_modules[l] >= m.forced_min[l])


def define_obligations(m, st: Structure) -> None:
    """obligations.csv: sum_{t <= by_year} x[l,t] >= obligation_min[l,by_year] for each obligation (l, by_year)
    (the modules of l committed in the years up to and including by_year)."""
    years_of: dict = {}
    for l, t in st.lever_years:
        years_of.setdefault(l, []).append(t)

    def obligation(m, l, y):
        committed = [m.x[l, t] for t in years_of.get(l, ()) if t <= y]
        # no year open to l by y: validation allows only min_modules 0 (rules.rule_obligations)
        return sum(committed) >= m.obligation_min[l, y] if committed else pyo.Constraint.Skip

    m.obligation = pyo.Constraint(m.OB, rule=obligation)


def define_scores(m, st: Structure) -> None:
    """C[l,t] = sum_{u<=t} x[l,u] (committed), O[l,t] = sum_{u<=t-lead_l} x[l,u] (operating).
    P[s,p,t] = sum_l score[l,p] ((1-k_s) O[l,t] + k_s C[l,t]) and S[s,r,t] = sum_p weight[s,r,p] P[s,p,t],
    written per commitment so that each coefficient is one Param:
        S[s,r,t] = sum_l sum_{u<=t} a[s,r,l] * (1 if u <= t - lead_l else k_s) * x[l,u],
        a[s,r,l] = sum_p weight[s,r,p] score[l,p]  (track_coef; times k_s: track_coef_building).
    P[s,p,t] is built only where a tier requirement needs it."""
    levers_of: dict = {}
    for s, r, l in st.track_levers:
        levers_of.setdefault((s, r), []).append(l)
    years_of: dict = {}
    for l, u in st.lever_years:
        years_of.setdefault(l, []).append(u)

    def track_score(m, s, r, t):
        return sum(
            (m.track_coef[s, r, l] if u <= t - st.lead[l] else m.track_coef_building[s, r, l]) * m.x[l, u]
            for l in levers_of.get((s, r), ())
            for u in years_of.get(l, ())
            if u <= t
        )

    m.track_score = pyo.Expression(m.S, m.R, m.T, rule=track_score)
    pillar_levers: dict = {}
    for l, p in st.contributions:
        pillar_levers.setdefault(p, []).append(l)

    def pillar_score(m, s, p, t):
        return sum(
            (m.score[l, p] if u <= t - st.lead[l] else m.score_building[s, l, p]) * m.x[l, u]
            for l in pillar_levers.get(p, ())
            for u in years_of.get(l, ())
            if u <= t
        )

    m.SP_required = pyo.Set(dimen=2, initialize=st.required_pillars, ordered=True)
    m.pillar_score = pyo.Expression(m.SP_required, m.T, rule=pillar_score)


def define_tiers(m, st: Structure) -> None:
    """z[s,r,t,k] binary for the non-baseline tiers, at most one per (s,r,t) (none = baseline);
    S[s,r,t] >= sum_k (1 + tier_margin) threshold[s,r,k] z[s,r,t,k] (the Param holds the product);
    P[s,p,t] >= min_score[s,r,k,p] z[s,r,t,k]."""
    m.z = pyo.Var(m.SRTK, domain=pyo.Binary)
    tiers_of = {}
    for s, r, k in st.tiers:
        tiers_of.setdefault((s, r), []).append(k)

    def one_tier(m, s, r, t):
        ks = tiers_of.get((s, r), ())
        return sum(m.z[s, r, t, k] for k in ks) <= 1 if ks else pyo.Constraint.Skip

    def reach(m, s, r, t):
        ks = tiers_of.get((s, r), ())
        if not ks:
            return pyo.Constraint.Skip
        return m.track_score[s, r, t] >= sum(m.threshold[s, r, k] * m.z[s, r, t, k] for k in ks)

    m.one_tier = pyo.Constraint(m.S, m.R, m.T, rule=one_tier)
    m.tier_reach = pyo.Constraint(m.S, m.R, m.T, rule=reach)
    m.tier_requirement = pyo.Constraint(
        m.SRKP, m.T, rule=lambda m, s, r, k, p, t: m.pillar_score[s, p, t] >= m.min_score[s, r, k, p] * m.z[s, r, t, k]
    )


def define_spending(m, st: Structure) -> None:
    """public_spend[t] = sum_l public_share_l capex_l / max(lead_l,1) * sum_{u: u <= t < u+max(lead_l,1)} x[l,u];
    per envelope e (levers L_e): spend[e,t] = the same sum over l in L_e <= budget[e,t] (envelopes with
    yearly rows in budget.csv; `public`'s rows are year_budget[t], the others envelope_year_budget[e,t]);
    sum_{l in L_e,u} public_share_l capex_l x[l,u] <= total[e] (envelopes.csv);
    sum_{l,u} public_share_l capex_l x[l,u] <= total_public_budget.
    (public_per_year = public_share capex / max(lead,1) and public_per_module = public_share capex are Params.)"""
    envelope = dict(st.envelope_of)

    def spend(m, t, e=None):
        return sum(
            m.public_per_year[l] * m.x[l, u]
            for (l, u) in m.LT
            if u <= t < u + st.spread[l] and (e is None or envelope[l] == e)
        )

    def total(m, e):
        terms = [m.public_per_module[l] * m.x[l, u] for (l, u) in m.LT if envelope[l] == e]
        return sum(terms) <= m.envelope_total[e] if terms else pyo.Constraint.Skip

    used = set(envelope.values())
    m.public_spend = pyo.Expression(m.T, rule=spend)
    m.year_budget = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            spend(m, t, PUBLIC) <= m.budget[t] if st.public_yearly and PUBLIC in used else pyo.Constraint.Skip
        ),
    )
    m.envelope_year_budget = pyo.Constraint(
        m.EY, rule=lambda m, e, t: spend(m, t, e) <= m.envelope_budget[e, t] if e in used else pyo.Constraint.Skip
    )
    m.envelope_total_limit = pyo.Constraint(m.E_TOTAL, rule=total)
    m.all_public_spend = pyo.Expression(expr=sum(m.public_per_module[l] * m.x[l, u] for (l, u) in m.LT))
    if st.has_total_budget:
        m.total_budget_limit = pyo.Constraint(expr=m.all_public_spend <= m.total_budget)


def define_pools_and_relations(m, st: Structure) -> None:
    """sum_{l,t} use[l,q] x[l,t] <= limit[q];  requires: y[l] <= y[o];  excludes: y[l] + y[o] <= 1."""
    m.pool_limit_row = pyo.Constraint(
        m.Q,
        rule=lambda m, q: sum(m.pool_use[l, q] * m.total_modules[l] for (l, qq) in m.LQ if qq == q) <= m.pool_limit[q],
    )
    m.requires = pyo.Constraint(list(st.requires), rule=lambda m, l, o: m.y[l] <= m.y[o])
    m.excludes = pyo.Constraint(list(st.excludes), rule=lambda m, l, o: m.y[l] + m.y[o] <= 1)


def define_objectives(m, st: Structure) -> None:
    """expected_relief = sum_s prob_s sum_t d_t sum_{r,k} V[s,r,t,k] z[s,r,t,k]  (maximised first;
    relief_coef = prob_s d_t V[s,r,t,k] is one Param);
    then, with expected_relief kept, minimise discounted public spending.
    `m.lexicographic_stages` lists the stages in order for the engine."""
    m.expected_relief = pyo.Expression(expr=sum(m.relief_coef[s, r, t, k] * m.z[s, r, t, k] for (s, r, t, k) in m.SRTK))
    m.discounted_public_spend = pyo.Expression(expr=sum(m.spend_pv[l, u] * m.x[l, u] for (l, u) in m.LT))
    _lexicographic_stages(m)


def _lexicographic_stages(m) -> None:
    """Maximise m.expected_relief, then (keep_relief, activated by the engine's stage) minimise
    m.discounted_public_spend; `m.lexicographic_stages` lists them for the engine."""
    m.max_relief = pyo.Objective(expr=m.expected_relief, sense=pyo.maximize)
    m.min_spend = pyo.Objective(expr=m.discounted_public_spend, sense=pyo.minimize)
    m.min_spend.deactivate()
    m.keep_relief = pyo.Constraint(expr=m.expected_relief >= m.relief_floor)
    m.keep_relief.deactivate()
    m.lexicographic_stages = [("relief", m.expected_relief, "max"), ("spend", m.discounted_public_spend, "min")]


def define_risk(m, st: Structure) -> None:
    """Only with risk_measure cvar or worst (model/risk.py). R[s] = sum_{r,t,k} d_t V[s,r,t,k] z[s,r,t,k].
    cvar:  u[s] >= eta - R[s], u >= 0;  CVaR = eta - 1/(1-alpha) sum_s p_s u[s];
           risk_value = (1 - w) expected_relief + w CVaR.
    worst: worst <= R[s] for every s;  risk_value = worst.
    Stages: risk_value (max), then expected relief (max), then spending (min)."""
    if st.risk == "expected":
        return
    m.scenario_relief = pyo.Expression(
        m.S,
        rule=lambda m, s: sum(
            m.scenario_relief_coef[s_, r, t, k] * m.z[s_, r, t, k] for (s_, r, t, k) in m.SRTK if s_ == s
        ),
    )
    if st.risk == "worst":
        m.worst_relief = pyo.Var(domain=pyo.Reals)
        m.worst_row = pyo.Constraint(m.S, rule=lambda m, s: m.worst_relief <= m.scenario_relief[s])
        m.risk_value = pyo.Expression(expr=m.worst_relief)
    else:
        m.var_level = pyo.Var(domain=pyo.Reals)  # eta: at the optimum, the alpha-quantile of relief
        m.shortfall = pyo.Var(m.S, domain=pyo.NonNegativeReals)
        m.shortfall_row = pyo.Constraint(m.S, rule=lambda m, s: m.shortfall[s] >= m.var_level - m.scenario_relief[s])
        m.cvar = pyo.Expression(expr=m.var_level - sum(m.risk_tail * m.probability[s] * m.shortfall[s] for s in m.S))
        m.risk_value = pyo.Expression(expr=(1 - m.risk_weight) * m.expected_relief + m.risk_weight * m.cvar)
    m.lexicographic_stages = [("risk", m.risk_value, "max")] + m.lexicographic_stages


@contextmanager
def paused_gc():
    """Python's cyclic garbage collector re-scans the growing model again and again while
    it is built: pausing it saved about 40% of build and translation time at 1,000
    scenarios (benchmarks/results/build_profile.txt). Nothing cyclic is freed meanwhile."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_model(case: Case, force=(), exclude=(), deadline: float | None = None) -> pyo.ConcreteModel:
    """Load -> build: the Pyomo model of a case, with `m.structure` kept for re-use checks.
    `deadline` (time.perf_counter()): DeadlineReached if it passes while building."""
    with paused_gc():
        return _build(case, force, exclude, deadline)


def _build(case: Case, force=(), exclude=(), deadline: float | None = None) -> pyo.ConcreteModel:
    info = Information.of(case)
    if not info.static:
        return _build_tree(case, info, force, exclude, deadline)
    st = Structure.of(case)
    m = pyo.ConcreteModel(name=case.name)
    m.structure = st
    _define_blocks(m, st, parameter_values(case, st, force, exclude), deadline)
    define_risk(m, st)
    return m


def _define_blocks(m, st: Structure, values: dict, deadline: float | None = None) -> None:
    """The formulation of one roadmap (model-spec section 3) on `m`, a model or a branch's block."""
    past_deadline(deadline)
    define_sets_and_parameters(m, st, values)
    define_commitments(m, st)
    define_obligations(m, st)
    past_deadline(deadline)
    define_scores(m, st)
    past_deadline(deadline)
    define_tiers(m, st)
    define_spending(m, st)
    define_pools_and_relations(m, st)
    define_objectives(m, st)
    past_deadline(deadline)


# ----------------------------------------------------------------------------------
# Adaptive roadmaps: one block per branch, tied where the stances cannot yet be told apart
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeStructure:
    """The structure of an adaptive model: the groups of stances in each year (model/core/
    information.py) and each branch's Structure (its stances only)."""

    groups: tuple
    branches: tuple[Structure, ...]


def branch_cases(case: Case, info: Information) -> list:
    """Each branch's case: its stances only, their probabilities rescaled to sum to 1."""
    return [scenarios_only(case, stances) for stances in info.branches]


def structure_of(case: Case) -> Structure | TreeStructure:
    info = Information.of(case)
    if info.static:
        return Structure.of(case)
    return TreeStructure(info.groups, tuple(Structure.of(c) for c in branch_cases(case, info)))


def _build_tree(
    case: Case, info: Information, force=(), exclude=(), deadline: float | None = None
) -> pyo.ConcreteModel:
    """Adaptive: branch b (a group of stances of the last year, probability w_b) has its own
    x_b, y_b, z_b and every limit (budgets, envelopes, pools, sizes, relations, obligations);
    its relief is the expected relief of its stances at their probabilities given b. Then
        x_b[l,t] = x_{rep(b,t)}[l,t]  where rep(b,t) is the first branch sharing b's group in year t
    (non-anticipativity), expected_relief = sum_b w_b relief_b, and the spending stage
    minimises sum_b w_b discounted_public_spend_b."""
    if (case.meta.get("risk_measure") or "expected") != "expected":
        raise OneRoadmapOnly(
            "a risk measure (risk_measure, --risk) works on one roadmap for every U.S. stance, and this case adapts "
            "(reveal_year, information.csv): the adaptive roadmap maximises expected relief"
        )
    subs = branch_cases(case, info)
    m = pyo.ConcreteModel(name=case.name)
    m.structure = TreeStructure(info.groups, tuple(Structure.of(c) for c in subs))
    m.information = info
    m.B = pyo.Set(initialize=range(len(subs)), ordered=True)
    m.branch = pyo.Block(m.B)
    for b, (sub, st) in enumerate(zip(subs, m.structure.branches)):
        blk = m.branch[b]
        _define_blocks(blk, st, parameter_values(sub, st, force, exclude), deadline)
        blk.max_relief.deactivate()
    m.branch_weight = pyo.Param(m.B, initialize={b: info.weight(b) for b in m.B}, mutable=True)
    define_nonanticipativity(m, info)
    m.expected_relief = pyo.Expression(expr=sum(m.branch_weight[b] * m.branch[b].expected_relief for b in m.B))
    m.discounted_public_spend = pyo.Expression(
        expr=sum(m.branch_weight[b] * m.branch[b].discounted_public_spend for b in m.B)
    )
    m.relief_floor = pyo.Param(initialize=0.0, mutable=True)
    _lexicographic_stages(m)
    return m


def define_nonanticipativity(m, info: Information) -> None:
    """x_b[l,t] = x_{rep(b,t)}[l,t] for every branch b and year t where rep(b,t), the first branch
    whose stances share b's group in year t (case.yaml reveal_year, information.csv), is not b."""
    ties = [
        (b, l, t, info.representative(b, t))
        for b in m.B
        for (l, t) in m.structure.branches[b].lever_years
        if info.representative(b, t) != b
    ]
    m.NA = pyo.Set(dimen=4, initialize=ties, ordered=True)
    m.nonanticipativity = pyo.Constraint(
        m.NA, rule=lambda m, b, l, t, rep: m.branch[b].x[l, t] == m.branch[rep].x[l, t]
    )


class StructureChanged(ValueError):
    """The case needs another model: its levers, years, ladders or lead times differ."""


def set_parameters(m, case: Case, force=(), exclude=()) -> list:
    """Put a case's values into the mutable Params of a model built for the same structure.
    Returns the Param entries whose value changed (what a persistent solver must push)."""
    if structure_of(case) != m.structure:
        raise StructureChanged(
            "the case's structure (levers, years, ladders, lead times, what is known when ...) differs from the "
            "built model's"
        )
    if isinstance(m.structure, TreeStructure):
        info = Information.of(case)
        m.information = info
        changed = _set_values(m, {"branch_weight": {b: info.weight(b) for b in m.B}})
        for b, sub in enumerate(branch_cases(case, info)):
            changed += _set_values(m.branch[b], parameter_values(sub, m.structure.branches[b], force, exclude))
        return changed
    return _set_values(m, parameter_values(case, m.structure, force, exclude))


def _set_values(m, values: dict) -> list:
    changed = []
    for name, vals in values.items():
        comp = getattr(m, name)
        if not comp.is_indexed():
            if comp.value != vals[None]:
                comp.set_value(vals[None])
                changed.append(comp)
            continue
        for key, v in vals.items():
            data = comp[key]
            if data.value != v:
                data.set_value(v)
                changed.append(data)
    return changed
