"""Warnings about a valid case: data that is legal but probably not what the planner meant.

`validate` (model/case.py) rejects what the model cannot use; the checks here take a case
it accepted and point at what looks wrong: a tier no portfolio can reach, a lever that can
never raise a score, a ladder whose higher tier raises a rate, a lever that cannot operate
within the horizon, numbers so far apart in scale that the solver may struggle. Each check
is one function returning `CaseWarning`s that name the file, row(s) and column the way
validation errors do; `check_case` runs them all. None of them builds the model: they
read the tables once and take a few milliseconds on the default case (docs/validation.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from relief.model.core.case import Case, Problem

# A tier is unreachable when even the score bound misses its threshold by more than the
# tolerance with which model/evaluate.py counts a threshold as met (1e-6 relative), twice
# over, so the warning is never wrong because of rounding.
REACH_TOLERANCE = 2e-6
# Largest ratio between the largest and smallest non-zero number the model multiplies or
# compares before `check_coefficient_range` warns (reasons in docs/validation.md).
COEFFICIENT_RANGE = 1e6
# Columns whose values become coefficients, bounds or right-hand sides of the model.
# Left out on purpose: probability, commitment_credit, public_share, growth_rate and
# discount_rate (factors near or inside 0..1 whose small values are modelling choices,
# not unit mistakes) and years and lead times (structure, not coefficients).
SCALE_COLUMNS = {
    "levers": ("capex_per_module", "min_modules", "max_modules", "max_modules_per_year"),
    "contributions": ("score_per_module",),
    "sectors": ("exports_usd_bn",),
    "pillar_weights": ("weight",),
    "tiers": ("threshold",),
    "tariffs": ("rate",),
    "budget": ("public_budget_usd_bn",),
    "envelopes": ("total_usd_bn",),
    "tier_requirements": ("min_score",),
    "pools": ("limit",),
    "lever_pools": ("use_per_module",),
}


@dataclass(frozen=True)
class CaseWarning(Problem):
    """A suspicious but legal piece of a case: `rows` are all the rows concerned (`row` is
    the first of them), `check` names the check that found it."""

    level: str = "warning"
    rows: tuple[int, ...] = ()
    check: str = ""

    def __str__(self) -> str:
        where = self.file
        if len(self.rows) > 1:
            where += ", rows " + ", ".join(str(r) for r in self.rows)
        elif self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


def _warning(check: str, file: str, rows, column: str | None, message: str) -> CaseWarning:
    rows = tuple(int(r) for r in rows if r is not None)
    return CaseWarning(file=file, message=message, row=rows[0] if rows else None, column=column, rows=rows, check=check)


def _records(case: Case, name: str) -> list[dict]:
    """The table's rows as dicts (`_row` included); much cheaper than DataFrame.to_dict."""
    df = case.table(name)
    cols = list(df.columns)
    return [dict(zip(cols, vals)) for vals in zip(*(df[c].tolist() for c in cols))]


def _num(v: float) -> str:
    return f"{v:.4g}"


# ----------------------------------------------------------------------------------
# 1. unreachable tiers
# ----------------------------------------------------------------------------------


def _whole(v: float, integer: bool) -> float:
    return math.floor(v + 1e-9) if integer else v


def max_credited_modules(lever: dict, credit: float, first: int, year: int) -> float:
    """Upper bound of Σ_{u ≤ year} ((1 - k) [u ≤ year - λ] + k) x_lu over the lever's own
    limits (x_lu ≤ max_modules_per_year, Σ_u x_lu ≤ max_modules, x_lu = 0 before
    max(earliest_year, first_year)): a module counts 1 if it operates by `year`, k if it
    is only committed. The weights fall with u, so filling the earliest years first is
    optimal. Whole-module levers use whole limits."""
    integer = bool(lever["integer"])
    per_year = _whole(lever["max_modules_per_year"], integer)
    cap = _whole(lever["max_modules"], integer)
    start = max(int(lever["earliest_year"]), first)
    if start > year or per_year <= 0 or cap <= 0:
        return 0.0
    operating_years = max(0, year - int(lever["lead_time_years"]) - start + 1)
    operating = min(cap, per_year * operating_years)
    committed_only = min(cap - operating, per_year * (year - start + 1 - operating_years))
    return operating + credit * committed_only


def score_upper_bounds(case: Case, year: int | None = None) -> tuple[dict, dict]:
    """Upper bounds of the track scores S_srt and pillar scores P_spt in `year` (default:
    last_year, where every plan's scores are highest since C and O only grow).

    Every lever at its own limits, as early as allowed (`max_credited_modules`); budgets,
    pools, relations and the other levers are ignored, which only loosens the bound. With
    a_lp, w_srp >= 0: P_spt <= Σ_l a_lp M_lst and S_srt <= Σ_p w_srp P̄_spt, M the bound of
    credited modules. Returns ({(s, r): bound}, {(s, p): bound})."""
    year = case.meta["last_year"] if year is None else year
    first = case.meta["first_year"]
    levers = {r["lever"]: r for r in _records(case, "levers")}
    contributions = _records(case, "contributions")
    pillar_ub: dict = {}
    for s in _records(case, "scenarios"):
        credited = {l: max_credited_modules(r, s["commitment_credit"], first, year) for l, r in levers.items()}
        for c in contributions:
            key = (s["scenario"], c["pillar"])
            pillar_ub[key] = pillar_ub.get(key, 0.0) + c["score_per_module"] * credited[c["lever"]]
    track_ub = {(s, r): 0.0 for s in case.scenarios for r in case.tracks}
    for w in _records(case, "pillar_weights"):
        key = (w["scenario"], w["track"])
        track_ub[key] = track_ub.get(key, 0.0) + w["weight"] * pillar_ub.get((w["scenario"], w["pillar"]), 0.0)
    return track_ub, pillar_ub


def _unreachable(bound: float, need: float) -> bool:
    return bound < need - REACH_TOLERANCE * max(1.0, abs(need))


def _raised(threshold: float, margin: float) -> str:
    """', raised by the tier margin to X' where case.yaml's tier_margin is not 0."""
    return f" raised by the {margin:.4g} tier_margin to {_num(threshold * (1 + margin))}" if margin else ""


def check_unreachable_tiers(case: Case) -> list[CaseWarning]:
    """Tiers that no portfolio can reach, even with every lever at max_modules, committed
    as early as earliest_year and max_modules_per_year allow and fully credited
    (`score_upper_bounds` at last_year): the bound of the track score is below the tier's
    threshold, or the bound of a pillar score is below the tier's min_score. The bound is
    sound, so the warning is never wrong; usually a threshold has a typo or a unit slip,
    or the ladder belongs to a longer horizon. A tier missed only through budgets, pools
    or relations is not reported (the bound ignores them)."""
    last = case.meta["last_year"]
    track_ub, pillar_ub = score_upper_bounds(case, last)
    base = {(r["scenario"], r["track"]): r["tier"] for r in _records(case, "tiers") if r["threshold"] == 0}
    margin = float(case.meta.get("tier_margin") or 0.0)  # a tier counts at threshold x (1 + margin)
    out = []
    for t in _records(case, "tiers"):
        s, r, k = t["scenario"], t["track"], t["tier"]
        if k != base.get((s, r)) and _unreachable(track_ub.get((s, r), 0.0), t["threshold"] * (1 + margin)):
            out.append(
                _warning(
                    "unreachable_tier",
                    "tiers.csv",
                    [t.get("_row")],
                    "threshold",
                    f"{s}/{r}/{k} is unreachable: the highest possible score by {last} is "
                    f"{_num(track_ub.get((s, r), 0.0))} (every lever at max_modules, as early as allowed), "
                    f"below the threshold {_num(t['threshold'])}" + _raised(t["threshold"], margin),
                )
            )
    for q in _records(case, "tier_requirements"):
        s, r, k, p = q["scenario"], q["track"], q["tier"], q["pillar"]
        if k != base.get((s, r)) and _unreachable(pillar_ub.get((s, p), 0.0), q["min_score"]):
            out.append(
                _warning(
                    "unreachable_tier",
                    "tier_requirements.csv",
                    [q.get("_row")],
                    "min_score",
                    f"{s}/{r}/{k} is unreachable: the highest possible {p} score by {last} is "
                    f"{_num(pillar_ub.get((s, p), 0.0))} (every lever at max_modules, as early as allowed), "
                    f"below the {_num(q['min_score'])} the tier requires",
                )
            )
    return out


# ----------------------------------------------------------------------------------
# 2. levers that score nowhere that counts
# ----------------------------------------------------------------------------------


def check_unscored_levers(case: Case) -> list[CaseWarning]:
    """Levers with no positive score in any pillar that counts: a pillar counts when some
    track weights it (> 0) in some scenario, or some tier requires a positive min_score in
    it. Such a lever can never raise a track score or meet a requirement, so it buys no
    relief; usually a pillar's name is misspelt in contributions.csv or pillar_weights.csv,
    or its weights were left out."""
    weighted = {w["pillar"] for w in _records(case, "pillar_weights") if w["weight"] > 0}
    base = {(r["scenario"], r["track"], r["tier"]) for r in _records(case, "tiers") if r["threshold"] == 0}
    required = {
        q["pillar"]
        for q in _records(case, "tier_requirements")
        if q["min_score"] > 0 and (q["scenario"], q["track"], q["tier"]) not in base
    }
    counts = weighted | required
    scored: dict = {}
    for c in _records(case, "contributions"):
        if c["score_per_module"] > 0:
            scored.setdefault(c["lever"], []).append(c["pillar"])
    out = []
    for l in _records(case, "levers"):
        pillars = scored.get(l["lever"], [])
        if any(p in counts for p in pillars):
            continue
        if pillars:
            why = (
                f"scores only in {', '.join(pillars)}, which no track weights in any scenario (pillar_weights.csv) "
                "and no tier requires"
            )
        else:
            why = "has no positive score in contributions.csv"
        out.append(
            _warning(
                "unscored_lever",
                "levers.csv",
                [l.get("_row")],
                None,
                f"lever '{l['lever']}' {why}: it can never raise a track score",
            )
        )
    return out


# ----------------------------------------------------------------------------------
# 3. ladders whose higher tier raises a rate
# ----------------------------------------------------------------------------------


def _rates_by_year(case: Case) -> dict:
    """(scenario, track, tier, sector) -> {year: the tariffs.csv row in force} (dated rates)."""
    from relief.model.core.rates import effective_from

    first = case.meta.get("first_year")
    rows: dict = {}
    for r in _records(case, "tariffs"):
        rows.setdefault((r["scenario"], r["track"], r["tier"], r["sector"]), []).append(r)
    out = {}
    for key, rs in rows.items():
        rs = sorted(rs, key=lambda r: effective_from(r.get("from_year"), first))
        out[key] = {
            t: next(r for r in reversed(rs) if effective_from(r.get("from_year"), first) <= t)
            for t in case.years
            if effective_from(rs[0].get("from_year"), first) <= t
        }
    return out


def _year_pairs(rate: dict, a: tuple, b: tuple):
    """The rows of two schedules in force in the same year, year by year."""
    ra, rb = rate.get(a, {}), rate.get(b, {})
    return [(ra[t], rb[t], t) for t in sorted(ra) if t in rb]


def check_ladder_rates(case: Case) -> list[CaseWarning]:
    """Ladders in which a tier with a higher threshold has a higher rate on some sector
    than the tier just below it (the highest threshold below; all of them if tied). A
    higher tier normally lowers every rate, so this is usually two rates swapped or a
    tier put on the wrong rung. One warning per pair of tiers, on the tariffs.csv rows of
    the higher tier; a non-monotone ladder always shows in some such adjacent pair."""
    rate = _rates_by_year(case)
    sectors: dict = {}
    for j in _records(case, "sectors"):
        sectors.setdefault(j["track"], []).append(j["sector"])
    ladders: dict = {}
    for t in _records(case, "tiers"):
        ladders.setdefault((t["scenario"], t["track"]), []).append(t)
    out = []
    for (s, r), ladder in ladders.items():
        for upper in ladder:
            below = [t["threshold"] for t in ladder if t["threshold"] < upper["threshold"]]
            if not below:
                continue
            for lower in (t for t in ladder if t["threshold"] == max(below)):
                worse = []
                for j in sectors.get(r, ()):
                    for hi, lo, year in _year_pairs(rate, (s, r, upper["tier"], j), (s, r, lower["tier"], j)):
                        if hi["rate"] > lo["rate"] + 1e-12:
                            worse.append((j + ("" if year == case.meta["first_year"] else f" in {year}"), hi, lo))
                            break  # one warning per sector: the first year it happens
                if not worse:
                    continue
                what = "; ".join(f"{j} {_num(hi['rate'])} > {_num(lo['rate'])}" for j, hi, lo in worse)
                out.append(
                    _warning(
                        "ladder_rates",
                        "tariffs.csv",
                        [hi.get("_row") for _, hi, _ in worse],
                        "rate",
                        f"{s}/{r}/{upper['tier']} (threshold {_num(upper['threshold'])}) "
                        f"has a higher rate than the lower tier {lower['tier']} "
                        f"(threshold {_num(lower['threshold'])}, tariffs.csv row(s) "
                        f"{', '.join(str(lo.get('_row')) for _, _, lo in worse)}): {what}",
                    )
                )
    return out


# ----------------------------------------------------------------------------------
# 4. levers that cannot operate within the horizon
# ----------------------------------------------------------------------------------


def check_late_levers(case: Case) -> list[CaseWarning]:
    """Levers whose first possible commitment year, max(earliest_year, first_year), plus
    lead_time_years falls after last_year: no module can operate within the horizon, so
    the lever scores at most commitment credit (and nothing in scenarios without it). If
    earliest_year itself is after last_year, the lever cannot even be committed. Usually
    a lead time in months, a wrong earliest year, or a horizon that is too short."""
    first, last = case.meta["first_year"], case.meta["last_year"]
    out = []
    for l in _records(case, "levers"):
        start = max(int(l["earliest_year"]), first)
        lead = int(l["lead_time_years"])
        if start > last:
            out.append(
                _warning(
                    "late_lever",
                    "levers.csv",
                    [l.get("_row")],
                    "earliest_year",
                    f"lever '{l['lever']}' can never be committed: "
                    f"earliest_year {l['earliest_year']} is after last_year {last}",
                )
            )
        elif start + lead > last:
            out.append(
                _warning(
                    "late_lever",
                    "levers.csv",
                    [l.get("_row")],
                    "lead_time_years",
                    f"lever '{l['lever']}' can never operate within the horizon: committed in {start} at the earliest, "
                    f"it operates from {start + lead} (lead_time_years {lead}), after last_year {last}; "
                    f"it scores only through commitment credit",
                )
            )
    return out


# ----------------------------------------------------------------------------------
# 5. numbers far apart in scale
# ----------------------------------------------------------------------------------


def check_coefficient_range(case: Case) -> list[CaseWarning]:
    """The largest and the smallest non-zero absolute value among the numbers the model
    multiplies or compares (SCALE_COLUMNS, and total_public_budget) more than
    COEFFICIENT_RANGE apart. HiGHS works to tolerances of about 1e-7 relative to numbers
    near 1; beyond a range of 1e6 its scaling can no longer bring every row near 1 and
    small coefficients drown in the tolerances. In a case in USD bn with rates as
    fractions the range is rarely above 1e4, so a warning usually means a unit slip
    (exports in USD instead of USD bn, a rate in percent). One warning, at the largest
    value, naming the smallest."""
    values: list[tuple[float, str, int | None, str, float]] = []  # (abs value, file, row, column, value)
    for name, cols in SCALE_COLUMNS.items():
        file = f"{name}.csv"
        for r in _records(case, name):
            for c in cols:
                v = r[c]
                if v:
                    values.append((abs(v), file, r.get("_row"), c, v))
    tb = case.meta.get("total_public_budget")
    if tb:
        values.append((abs(tb), "case.yaml", None, "total_public_budget", tb))
    if not values:
        return []
    big = max(values, key=lambda x: x[0])
    small = min(values, key=lambda x: x[0])
    ratio = big[0] / small[0]
    if ratio <= COEFFICIENT_RANGE:
        return []
    where = small[1] + (f", row {small[2]}" if small[2] is not None else "") + f", column {small[3]}"
    return [
        _warning(
            "coefficient_range",
            big[1],
            [big[2]],
            big[3],
            f"{_num(big[4])} is {ratio:.1e} times the smallest non-zero number of the case "
            f"({_num(small[4])} in {where}); above {COEFFICIENT_RANGE:.0e} the solver may struggle: "
            "check the units (money in USD bn, rates as fractions)",
        )
    ]


def check_unused_envelopes(case: Case) -> list[CaseWarning]:
    """An envelope of budget.csv or envelopes.csv that no lever draws on limits nothing."""
    used = set(case.table("levers")["envelope"])
    out = []
    for name in ("budget", "envelopes"):
        rows: dict = {}
        for r in _records(case, name):
            if r["envelope"] not in used:
                rows.setdefault(r["envelope"], []).append(r["_row"])
        for e, rs in rows.items():
            out.append(
                _warning(
                    "unused_envelope",
                    f"{name}.csv",
                    rs,
                    "envelope",
                    f"no lever draws on envelope '{e}' (levers.csv, column envelope): its limits change nothing",
                )
            )
    return out


CHECKS = (
    check_unreachable_tiers,
    check_unscored_levers,
    check_ladder_rates,
    check_late_levers,
    check_coefficient_range,
    check_unused_envelopes,
)


def check_case(case: Case) -> list[CaseWarning]:
    """Every check's warnings, in the order of CHECKS."""
    return [w for check in CHECKS for w in check(case)]


def with_checks(case: Case) -> Case:
    """The case with the checks' warnings added to the ones validation found."""
    return replace(case, warnings=tuple(case.warnings) + tuple(check_case(case)))
