"""An independent checker of relief plans, written from docs/model-spec sections 2-3 only.

It does NOT import relief.model (no evaluate, build or schema): it reads a case folder's
case.yaml and CSV files itself (or the same data as plain row dicts), and recomputes
for a plan {(lever, year): modules}:

* feasibility against every limit of the formulation: x >= 0, whole modules where
  `integer`, x <= max_modules_per_year, nothing before earliest_year or outside the
  horizon, the built indicator (a used lever has min_modules <= total <= max_modules),
  yearly public budgets with capex spread evenly over max(lead_time_years, 1) years
  from the year of commitment, total_public_budget over all public spending (also what
  falls after the horizon), pools, requires / excludes, --force / --exclude, obligations
  (the modules of a lever committed in the years up to by_year are at least min_modules);
  funding envelopes (levers.csv's and budget.csv's `envelope`, blank or absent: `public`):
  each envelope with rows in budget.csv bounds its own levers' public spending in each
  horizon year by its row for that year; envelopes.csv's total_usd_bn bounds all public
  spending of its levers (also after the horizon);
* the expected relief: per scenario, track and year, the best tier whose threshold,
  raised by case.yaml's tier_margin (threshold x (1 + tier_margin), default 0; min_score
  is not raised), the track score reaches and whose tier_requirements the pillar scores meet (the
  baseline is always reached and worth 0), valued by the rate cut on the track's
  sectors with grown exports, discounted to first_year and weighted by probability;
  a rate applies from its row's from_year (blank: first_year) until the next from_year
  of the same (scenario, track, tier, sector);
* duty (`duty_of`): per scenario, discounted over the horizon, grown exports times the
  rate of the tier reached (paid), of the baseline (no delivery) and sectors.csv's
  current_rate (current rates, when every sector has one).

Semantics chosen where the formulation's algebra leaves room (a planner's reading):
"lever l requires other" means other is really in the plan (some modules of it) when
l is; "forced" means at least max(min_modules, 1) modules.

`check_run_folder` checks a folder written by `relief solve CASE --out DIR`.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REL_TOL = 1e-6  # agreement of reported numbers
FEAS_TOL = 1e-6  # slack allowed on limits and thresholds (relative, absolute below 1)


def tol(limit: float) -> float:
    return FEAS_TOL * max(1.0, abs(limit))


def close(a: float, b: float, rel: float = REL_TOL) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# ----------------------------------------------------------------------------------
# Reading a case
# ----------------------------------------------------------------------------------

_NUM = {
    "levers": {
        "capex_per_module": float,
        "public_share": float,
        "lead_time_years": int,
        "earliest_year": int,
        "min_modules": float,
        "max_modules": float,
        "max_modules_per_year": float,
    },
    "contributions": {"score_per_module": float},
    "sectors": {"exports_usd_bn": float, "growth_rate": float},
    "scenarios": {"probability": float, "commitment_credit": float},
    "pillar_weights": {"weight": float},
    "tiers": {"threshold": float},
    "tariffs": {"rate": float},
    "budget": {"year": int, "public_budget_usd_bn": float},
    "envelopes": {"total_usd_bn": float},
    "tier_requirements": {"min_score": float},
    "pools": {"limit": float},
    "lever_pools": {"use_per_module": float},
    "relations": {},
    "obligations": {"by_year": int, "min_modules": float},
}


def _to_int(v) -> int:
    f = float(v)
    assert f.is_integer(), f"{v!r} is not a whole number"
    return int(f)


def _to_bool(v) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "t"):
        return True
    if s in ("false", "0", "no", "n", "f"):
        return False
    raise ValueError(f"{v!r} is not a boolean")


def _typed(name: str, rows) -> list[dict]:
    out = []
    for r in rows:
        r = {str(k).strip(): v for k, v in dict(r).items()}
        if all(v is None or str(v).strip() == "" for v in r.values()):
            continue
        for col, kind in _NUM[name].items():
            r[col] = _to_int(r[col]) if kind is int else float(r[col])
        if name == "levers":
            r["integer"] = _to_bool(r["integer"])
        for col in ("lever", "pillar", "sector", "track", "scenario", "tier", "pool", "relation", "other"):
            if col in r:
                r[col] = str(r[col]).strip()
        if name in ("levers", "budget"):  # the funding envelope: `public` unless named
            e = r.get("envelope")
            r["envelope"] = "public" if e is None or str(e).strip() == "" else str(e).strip()
        if name == "envelopes":
            r["envelope"] = str(r["envelope"]).strip()
        out.append(r)
    return out


def _opt_float(v):
    return None if v is None or (isinstance(v, float) and v != v) or str(v).strip() in ("", "<NA>", "nan") else float(v)


def _schedules(rows: list) -> dict:
    out: dict = {}
    for r in rows:
        fy = _opt_float(r.get("from_year"))
        out.setdefault((r["scenario"], r["track"], r["tier"], r["sector"]), []).append(
            (None if fy is None else int(fy), r["rate"])
        )
    return out


@dataclass
class SpecCase:
    """A case as the spec describes it, in plain Python structures."""

    first: int
    last: int
    data_year: int
    discount_rate: float
    total_public_budget: float | None
    levers: dict  # lever -> row
    contributions: list
    sectors: list
    scenarios: dict  # scenario -> row
    weights: list
    tiers: list
    rates: dict  # (s, r, k, j) -> [(from_year, rate)], any order (blank from_year = first)
    budget: dict  # (envelope, year) -> public budget of that envelope's levers
    requirements: list
    pools: dict  # pool -> limit
    lever_pools: list
    relations: list
    obligations: list = field(default_factory=list)  # obligations.csv: lever, by_year, min_modules
    envelope_totals: dict = field(default_factory=dict)  # envelope -> total over all years
    tier_margin: float = 0.0  # case.yaml: a tier counts where the score reaches threshold x (1 + tier_margin)
    # derived, filled in __post_init__
    years: list = field(default_factory=list)
    tracks: list = field(default_factory=list)
    ladders: dict = field(default_factory=dict)  # (s, r) -> [(tier, threshold)]
    base: dict = field(default_factory=dict)  # (s, r) -> baseline tier
    values: dict = field(default_factory=dict)  # (s, r, t, k) -> relief V

    def __post_init__(self):
        self.years = list(range(self.first, self.last + 1))
        self.tracks = list(dict.fromkeys(j["track"] for j in self.sectors))
        for row in self.tiers:
            self.ladders.setdefault((row["scenario"], row["track"]), []).append((row["tier"], row["threshold"]))
        for key, ladder in self.ladders.items():
            zero = [k for k, thr in ladder if thr == 0]
            assert len(zero) == 1, f"ladder {key} needs exactly one tier with threshold 0"
            self.base[key] = zero[0]
        for (s, r), ladder in self.ladders.items():
            b = self.base[(s, r)]
            for t in self.years:
                for k, _ in ladder:
                    self.values[(s, r, t, k)] = sum(
                        j["exports_usd_bn"]
                        * (1 + j["growth_rate"]) ** (t - self.data_year)
                        * (self.rate(s, r, b, j["sector"], t) - self.rate(s, r, k, j["sector"], t))
                        for j in self.sectors
                        if j["track"] == r
                    )

    def discount(self, year: int) -> float:
        return (1 + self.discount_rate) ** -(year - self.first)

    def rate(self, s, r, k, j, year: int) -> float:
        """The rate whose from_year is the latest on or before `year`."""
        dated = [(self.first if fy is None else fy, v) for fy, v in self.rates[(s, r, k, j)]]
        return max((p for p in dated if p[0] <= year), key=lambda p: p[0])[1]

    @staticmethod
    def from_tables(meta: dict, tables: dict) -> SpecCase:
        """From case.yaml fields and {table: rows (list of dicts or a DataFrame)}."""

        def rows(name):
            t = tables.get(name)
            if t is None:
                return []
            if hasattr(t, "to_dict"):
                t = t.to_dict("records")
            return _typed(name, t)

        lv = rows("levers")
        total = meta.get("total_public_budget")
        return SpecCase(
            first=int(meta["first_year"]),
            last=int(meta["last_year"]),
            data_year=int(meta["data_year"]),
            discount_rate=float(meta.get("discount_rate") or 0.0),
            total_public_budget=None if total is None or str(total).strip() == "" else float(total),
            levers={r["lever"]: r for r in lv},
            contributions=rows("contributions"),
            sectors=rows("sectors"),
            scenarios={r["scenario"]: r for r in rows("scenarios")},
            weights=rows("pillar_weights"),
            tiers=rows("tiers"),
            rates=_schedules(rows("tariffs")),
            budget={(r["envelope"], r["year"]): r["public_budget_usd_bn"] for r in rows("budget")},
            requirements=rows("tier_requirements"),
            pools={r["pool"]: r["limit"] for r in rows("pools")},
            lever_pools=rows("lever_pools"),
            relations=rows("relations"),
            obligations=rows("obligations"),
            envelope_totals={r["envelope"]: r["total_usd_bn"] for r in rows("envelopes")},
            tier_margin=float(meta.get("tier_margin") or 0.0),
        )

    @staticmethod
    def from_folder(folder) -> SpecCase:
        """Read case.yaml and the CSV files of a case folder with the csv module."""
        folder = Path(folder)
        meta = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8")) or {}
        tables = {}
        for name in _NUM:
            p = folder / f"{name}.csv"
            if p.exists():
                with open(p, newline="", encoding="utf-8-sig") as f:
                    tables[name] = list(csv.DictReader(f))
        return SpecCase.from_tables(meta, tables)


# ----------------------------------------------------------------------------------
# Checking one plan
# ----------------------------------------------------------------------------------


@dataclass
class Report:
    violations: list
    expected_relief: float
    by_scenario: dict
    public_spend: float  # all public spending, undiscounted, also after the horizon
    discounted_public_spend: float
    public_by_year: dict  # year -> public spending (also years after the horizon)
    portfolio: dict  # lever -> total modules
    tiers: dict  # (s, r, t) -> tier reached

    @property
    def feasible(self) -> bool:
        return not self.violations


def check_plan(case: SpecCase, plan: dict, force=(), exclude=(), value: bool = True) -> Report:
    """Feasibility and worth of `plan` = {(lever, year): modules} (missing entries are 0)."""
    V: list[str] = []
    x = {}
    for (l, t), v in plan.items():
        v = float(v)
        if v == 0:
            continue
        if l not in case.levers:
            V.append(f"unknown lever {l}")
            continue
        if not case.first <= int(t) <= case.last:
            V.append(f"{l}: {v:g} modules in {t}, outside the horizon")
            continue
        x[(l, int(t))] = x.get((l, int(t)), 0.0) + v

    # lever limits and the built indicator
    portfolio = dict.fromkeys(case.levers, 0.0)
    for (l, _t), v in x.items():
        portfolio[l] += v
    for l, r in case.levers.items():
        for t in case.years:
            v = x.get((l, t), 0.0)
            if v < 0:
                V.append(f"{l}: negative commitment in {t}")
            if r["integer"] and abs(v - round(v)) > 1e-9:
                V.append(f"{l}: fractional commitment {v} in {t}")
            if v > 0 and t < r["earliest_year"]:
                V.append(f"{l}: commitment in {t} before earliest_year {r['earliest_year']}")
            if v > r["max_modules_per_year"] + tol(r["max_modules_per_year"]):
                V.append(f"{l}: {v:g} in {t} above max_modules_per_year")
        n = portfolio[l]
        if n > 0:
            if n < r["min_modules"] - tol(r["min_modules"]):
                V.append(f"{l}: total {n:g} below min_modules {r['min_modules']:g}")
            if n > r["max_modules"] + tol(r["max_modules"]):
                V.append(f"{l}: total {n:g} above max_modules {r['max_modules']:g}")
            if l in exclude:
                V.append(f"{l}: excluded but used")
        if l in force and n < max(r["min_modules"], 1.0) - tol(1.0):
            V.append(f"{l}: forced but only {n:g} modules")
    used = {l for l, n in portfolio.items() if n > 0}
    for rel in case.relations:
        a, b = rel["lever"], rel["other"]
        if rel["relation"] == "requires" and a in used and b not in used:
            V.append(f"{a} requires {b}, which has no modules")
        elif rel["relation"] == "excludes" and a in used and b in used:
            V.append(f"{a} excludes {b}, both used")

    # obligations: the modules of the lever committed in the years up to and including by_year
    for ob in case.obligations:
        done = sum(v for (l, t), v in x.items() if l == ob["lever"] and t <= ob["by_year"])
        if done < ob["min_modules"] - tol(ob["min_modules"]):
            V.append(
                f"{ob['lever']}: {done:g} committed by {ob['by_year']}, below the obligation {ob['min_modules']:g}"
            )

    # spending: capex spread evenly over max(lead, 1) years from the commitment year
    public_by_year: dict = {}
    by_envelope: dict = {}  # (envelope, year) -> public spending of its levers
    disc_spend = 0.0
    for (l, t), v in x.items():
        r = case.levers[l]
        n_years = max(r["lead_time_years"], 1)
        per_year = v * r["capex_per_module"] * r["public_share"] / n_years
        for u in range(t, t + n_years):
            public_by_year[u] = public_by_year.get(u, 0.0) + per_year
            by_envelope[(r["envelope"], u)] = by_envelope.get((r["envelope"], u), 0.0) + per_year
            disc_spend += per_year * case.discount(u)
    for (e, t), cap in case.budget.items():
        spent = by_envelope.get((e, t), 0.0)
        if case.first <= t <= case.last and spent > cap + tol(cap):
            whose = "" if e == "public" else f" of envelope {e}"
            V.append(f"public spending {spent:.6g}{whose} in {t} above the budget {cap:.6g}")
    for e, cap in case.envelope_totals.items():
        spent = sum(v for (ee, _), v in by_envelope.items() if ee == e)
        if spent > cap + tol(cap):
            V.append(f"public spending {spent:.6g} of envelope {e} above its total {cap:.6g}")
    public_total = sum(public_by_year.values())
    if case.total_public_budget is not None and public_total > case.total_public_budget + tol(case.total_public_budget):
        V.append(f"public spending {public_total:.6g} above total_public_budget {case.total_public_budget:.6g}")
    for q, limit in case.pools.items():
        use = sum(lp["use_per_module"] * portfolio[lp["lever"]] for lp in case.lever_pools if lp["pool"] == q)
        if use > limit + tol(limit):
            V.append(f"pool {q}: use {use:.6g} above limit {limit:.6g}")

    report = Report(V, float("nan"), {}, public_total, disc_spend, public_by_year, portfolio, {})
    if value:
        report.expected_relief, report.by_scenario, report.tiers = relief_of(case, x)
    return report


def relief_of(case: SpecCase, x: dict):
    """(expected relief, {scenario: discounted relief}, {(s, r, t): tier}) of commitments x."""
    committed = {}
    operating = {}
    for l, r in case.levers.items():
        for t in case.years:
            committed[(l, t)] = sum(v for (ll, u), v in x.items() if ll == l and u <= t)
            operating[(l, t)] = sum(v for (ll, u), v in x.items() if ll == l and u <= t - r["lead_time_years"])
    by_scenario, tiers = {}, {}
    for s, srow in case.scenarios.items():
        k = srow["commitment_credit"]
        P = {}
        for c in case.contributions:
            for t in case.years:
                key = (c["pillar"], t)
                P[key] = P.get(key, 0.0) + c["score_per_module"] * (
                    (1 - k) * operating[(c["lever"], t)] + k * committed[(c["lever"], t)]
                )
        total = 0.0
        for r in case.tracks:
            for t in case.years:
                S = sum(
                    w["weight"] * P.get((w["pillar"], t), 0.0)
                    for w in case.weights
                    if w["scenario"] == s and w["track"] == r
                )
                best_k, best_v = case.base[(s, r)], 0.0
                for tier, thr in case.ladders[(s, r)]:
                    need = thr * (1 + case.tier_margin)
                    if need - tol(need) > S:
                        continue
                    reqs = [q for q in case.requirements if (q["scenario"], q["track"], q["tier"]) == (s, r, tier)]
                    if any(P.get((q["pillar"], t), 0.0) < q["min_score"] - tol(q["min_score"]) for q in reqs):
                        continue
                    v = case.values[(s, r, t, tier)]
                    if v > best_v:
                        best_k, best_v = tier, v
                tiers[(s, r, t)] = best_k
                total += case.discount(t) * best_v
        by_scenario[s] = total
    expected = sum(case.scenarios[s]["probability"] * v for s, v in by_scenario.items())
    return expected, by_scenario, tiers


def duty_of(case: SpecCase, tiers: dict) -> dict:
    """{scenario: {duty_paid, duty_no_delivery, duty_current (None without current rates),
    relief, relief_vs_current}} discounted over the horizon, for the tiers reached
    {(s, r, t): tier} (relief_of's third result)."""
    current = {j["sector"]: _opt_float(j.get("current_rate")) for j in case.sectors}
    has_current = all(v is not None for v in current.values())
    out = {}
    for s in case.scenarios:
        paid = none = cur = 0.0
        for j in case.sectors:
            r = j["track"]
            for t in case.years:
                e = j["exports_usd_bn"] * (1 + j["growth_rate"]) ** (t - case.data_year) * case.discount(t)
                paid += e * case.rate(s, r, tiers[(s, r, t)], j["sector"], t)
                none += e * case.rate(s, r, case.base[(s, r)], j["sector"], t)
                cur += e * (current[j["sector"]] or 0.0)
        out[s] = {
            "duty_paid": paid,
            "duty_no_delivery": none,
            "duty_current": cur if has_current else None,
            "relief": none - paid,
            "relief_vs_current": cur - paid if has_current else None,
        }
    return out


# ----------------------------------------------------------------------------------
# Brute force
# ----------------------------------------------------------------------------------


def lever_schedules(case: SpecCase, lever: str):
    """Every integer schedule of one lever within its per-year bound, after its earliest
    year, with total <= max_modules (a cheap pre-filter; check_plan checks everything)."""
    r = case.levers[lever]
    free = [t for t in case.years if t >= r["earliest_year"]]
    per_year = int(math.floor(r["max_modules_per_year"] + 1e-9))
    out = []
    for combo in itertools.product(range(per_year + 1), repeat=len(free)):
        if sum(combo) <= r["max_modules"] + 1e-9:
            out.append({(lever, t): v for t, v in zip(free, combo) if v})
    return out


def all_plans(case: SpecCase):
    for parts in itertools.product(*(lever_schedules(case, l) for l in case.levers)):
        plan = {}
        for p in parts:
            plan.update(p)
        yield plan


@dataclass
class BruteForce:
    n_plans: int
    n_feasible: int
    best_relief: float | None
    min_spend_at_best: float | None  # least discounted public spending among the best plans
    best_plans: list  # (plan, report) with the best relief


def brute_force(case: SpecCase, force=(), exclude=(), rel: float = 1e-9) -> BruteForce:
    n, feasible = 0, []
    for plan in all_plans(case):
        n += 1
        rep = check_plan(case, plan, force, exclude, value=False)
        if rep.feasible:
            feasible.append((plan, rep))
    if not feasible:
        return BruteForce(n, 0, None, None, [])
    for plan, rep in feasible:
        rep.expected_relief, rep.by_scenario, rep.tiers = relief_of(case, {k: float(v) for k, v in plan.items()})
    best = max(rep.expected_relief for _, rep in feasible)
    at_best = [(p, r) for p, r in feasible if r.expected_relief >= best - rel * max(1.0, abs(best))]
    return BruteForce(n, len(feasible), best, min(r.discounted_public_spend for _, r in at_best), at_best)


# ----------------------------------------------------------------------------------
# Run folders
# ----------------------------------------------------------------------------------


def read_plan(roadmap_csv) -> dict:
    """{(lever, year): committed} from a roadmap.csv (rows with committed 0 dropped)."""
    plan = {}
    with open(roadmap_csv, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            v = float(row["committed"])
            if v != 0:
                key = (row["lever"].strip(), _to_int(row["year"]))
                plan[key] = plan.get(key, 0.0) + v
    return plan


def check_run_folder(run_dir, case_dir=None, force=None, exclude=None) -> Report:
    """Check a `relief solve CASE --out DIR` folder against the case: the roadmap's plan
    is feasible and summary.json's expected_relief, by_scenario and public_spend equal
    their recomputation (REL_TOL). `case_dir` defaults to DIR/case (the case as solved);
    force / exclude default to summary.json's. Returns the checker's report; raises
    AssertionError listing every disagreement."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    case = SpecCase.from_folder(case_dir if case_dir is not None else run_dir / "case")
    force = tuple(summary.get("force", ())) if force is None else tuple(force)
    exclude = tuple(summary.get("exclude", ())) if exclude is None else tuple(exclude)
    plan = read_plan(run_dir / "roadmap.csv")
    rep = check_plan(case, plan, force, exclude)
    problems = list(rep.violations)
    if not close(float(summary["expected_relief"]), rep.expected_relief):
        problems.append(f"expected_relief {summary['expected_relief']!r} != recomputed {rep.expected_relief!r}")
    if set(summary["by_scenario"]) != set(rep.by_scenario):
        problems.append(f"by_scenario names {sorted(summary['by_scenario'])} != {sorted(rep.by_scenario)}")
    for s, v in rep.by_scenario.items():
        if s in summary["by_scenario"] and not close(float(summary["by_scenario"][s]), v):
            problems.append(f"by_scenario[{s}] {summary['by_scenario'][s]!r} != recomputed {v!r}")
    if not close(float(summary["public_spend"]), rep.public_spend):
        problems.append(f"public_spend {summary['public_spend']!r} != recomputed {rep.public_spend!r}")
    if "portfolio" in summary:
        for l, n in rep.portfolio.items():
            if not close(float(summary["portfolio"].get(l, 0.0)), n):
                problems.append(f"portfolio[{l}] {summary['portfolio'].get(l)!r} != {n!r}")
    if "expected_duty_paid" in summary:
        problems += _duty_problems(case, rep, summary, run_dir)
    assert not problems, "run folder disagrees with the independent check:\n  " + "\n  ".join(problems)
    return rep


def _duty_problems(case: SpecCase, rep: Report, summary: dict, run_dir: Path) -> list[str]:
    """summary.json's duty figures and duty.csv's rows against duty_of."""
    duty = duty_of(case, rep.tiers)
    prob = {s: case.scenarios[s]["probability"] for s in case.scenarios}
    problems = []
    for name, key in (("expected_duty_paid", "duty_paid"), ("expected_relief_vs_current", "relief_vs_current")):
        if any(d[key] is None for d in duty.values()):
            if summary.get(name) is not None:
                problems.append(f"{name} {summary[name]!r} given without current rates")
            continue
        want = sum(prob[s] * d[key] for s, d in duty.items())
        if summary.get(name) is None or not close(float(summary[name]), want):
            problems.append(f"{name} {summary.get(name)!r} != recomputed {want!r}")
    path = run_dir / "duty.csv"
    if path.exists():
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        for s, d in duty.items():
            got = sum(float(r["duty_paid"]) * case.discount(_to_int(r["year"])) for r in rows if r["scenario"] == s)
            if not close(got, d["duty_paid"]):
                problems.append(f"duty.csv duty_paid of {s} {got!r} != recomputed {d['duty_paid']!r}")
    return problems


def plan_of_roadmap(roadmap) -> dict:
    """{(lever, year): committed} from a roadmap DataFrame (RunResult.evaluation.roadmap)."""
    plan = {}
    for r in roadmap.to_dict("records"):
        if float(r["committed"]) != 0:
            plan[(str(r["lever"]), int(r["year"]))] = float(r["committed"])
    return plan


# ----------------------------------------------------------------------------------
# Adaptive roadmaps (issue 13): brute force over a two-level tree, from the contract only
# ----------------------------------------------------------------------------------


@dataclass
class AdaptiveBruteForce:
    best_relief: float | None  # the best expected relief of an adaptive roadmap
    min_spend_at_best: float | None  # least expected discounted public spending among the best
    static_relief: float | None  # the best one roadmap for every stance
    wait_and_see: float | None  # sum_s p_s max_x R_s(x)


def brute_force_adaptive(case: SpecCase, year: int, groups, rel: float = 1e-9) -> AdaptiveBruteForce:
    """Commitments of the years before `year` are one first move F shared by every stance; from
    `year` on, the stances of each group in `groups` (a list of lists of stances; singletons =
    each stance revealed) share one continuation. Every feasible plan is enumerated once; the
    best adaptive relief is max_F sum_g max_{plans P starting with F} sum_{s in g} p_s R_s(P),
    and the spending stage takes, in each group, the cheapest P at that group's best."""
    feasible = []
    for plan in all_plans(case):
        rep = check_plan(case, plan, value=False)
        if rep.feasible:
            _, rep.by_scenario, _ = relief_of(case, {k: float(v) for k, v in plan.items()})
            feasible.append((plan, rep))
    if not feasible:
        return AdaptiveBruteForce(None, None, None, None)
    p = {s: case.scenarios[s]["probability"] for s in case.scenarios}
    by_prefix: dict = {}
    for plan, rep in feasible:
        prefix = tuple(sorted((k, v) for k, v in plan.items() if k[1] < year and v))
        by_prefix.setdefault(prefix, []).append(rep)
    best, spend = None, None
    for reps in by_prefix.values():
        value, cost = 0.0, 0.0
        for g in groups:
            worth = [sum(p[s] * r.by_scenario[s] for s in g) for r in reps]
            top = max(worth)
            at = [r for r, w in zip(reps, worth) if w >= top - rel * max(1.0, abs(top))]
            value += top
            cost += sum(p[s] for s in g) * min(r.discounted_public_spend for r in at)
        if best is None or value > best + rel * max(1.0, abs(best)):
            best, spend = value, cost
        elif abs(value - best) <= rel * max(1.0, abs(best)):
            spend = min(spend, cost)
    static = max(sum(p[s] * r.by_scenario[s] for s in p) for _, r in feasible)
    ws = sum(p[s] * max(r.by_scenario[s] for _, r in feasible) for s in p)
    return AdaptiveBruteForce(best, spend, static, ws)


def read_adaptive_plans(roadmap_csv) -> dict:
    """{stance: {(lever, year): committed}} from an adaptive roadmap.csv (its `scenario` column)."""
    plans: dict = {}
    with open(roadmap_csv, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            plan = plans.setdefault(row["scenario"].strip(), {})
            v = float(row["committed"])
            if v != 0:
                plan[(row["lever"].strip(), _to_int(row["year"]))] = v
    return plans
