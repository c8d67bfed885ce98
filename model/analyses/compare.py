"""Several solved roadmaps side by side, the first as the reference (`relief compare`).

A run is the tables of one solved plan, read from a run folder (`relief solve --out`, by
cli/runs.py: the model reads no files) or taken from a solve in process. The comparison
covers the portfolio by lever, public spending against the budget, expected relief by
scenario, track and sector, the tiers reached, and an attribution of the relief difference
(run minus reference) to scenario x track cells, ranked by absolute size. Everything is
tidy record lists, one per CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from relief.model.core.case import Case
    from relief.model.core.run import RunResult

TOL = 1e-6
# how strongly a change explains a cell's difference: a lever added or dropped first
CHANGE_ORDER = {"dropped": 0, "added": 0, "resized": 1, "advanced": 2, "delayed": 2}


class CompareError(ValueError):
    """A comparison that cannot be made: a folder that is not a run, fewer than two runs."""


@dataclass
class Run:
    """The tables of one solved run, from a folder or from an in-process solve."""

    label: str
    source: str
    summary: dict
    roadmap: pd.DataFrame  # [lever, year, committed, cumulative, operating, capex_spend, public_spend]
    relief: pd.DataFrame  # [scenario, track, sector, year, relief, discounted_relief, base_rate, rate]
    spending: pd.DataFrame  # [year, public_spend, capex_spend, budget]
    probability: dict[str, float]
    lever_tracks: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # the cells a lever scores in
    tiers: pd.DataFrame | None = None  # [scenario, track, year, tier, base_tier, ...] (tiers.csv), if present
    case: Case | None = None  # the case as solved (the run folder's case/), for the report; None if unreadable
    # an adaptive run (roadmap.csv with a `scenario` column): its roadmap and spending by stance, as
    # written; `roadmap` and `spending` then hold the expectation over the stances (what compare sets
    # side by side with a static run)
    roadmap_by_scenario: pd.DataFrame | None = None
    spending_by_scenario: pd.DataFrame | None = None

    def __post_init__(self):
        if "scenario" in self.roadmap.columns and self.roadmap_by_scenario is None:
            self.roadmap_by_scenario = self.roadmap
            self.roadmap = expected_over_stances(self.roadmap, ["lever", "year"], self.probability)
        if "scenario" in self.spending.columns and self.spending_by_scenario is None:
            self.spending_by_scenario = self.spending
            self.spending = expected_over_stances(self.spending, ["year"], self.probability, keep=("budget",))

    @property
    def adaptive(self) -> bool:
        return self.roadmap_by_scenario is not None


def expected_over_stances(df: pd.DataFrame, keys: list[str], probability: dict, keep=()) -> pd.DataFrame:
    """An adaptive run's table by stance as its probability-weighted expectation (columns in `keep`
    are the same in every stance and kept as they are)."""
    import pandas as pd

    w = df["scenario"].astype(str).map(probability).fillna(0.0)
    values = [c for c in df.columns if c not in (*keys, "scenario", *keep)]
    weighted = df[keys].copy()
    for c in values:
        weighted[c] = pd.to_numeric(df[c], errors="coerce") * w
    out = weighted.groupby(keys, sort=False, as_index=False)[values].sum()
    for c in keep:
        if c in df.columns:
            out[c] = df.groupby(keys, sort=False)[c].first().to_numpy()
    return out


# ---------------------------------------------------------------- loading


def lever_tracks(contributions, weights) -> dict[str, set[tuple[str, str]]]:
    """lever -> set of (scenario, track) whose tier score the lever raises."""
    out: dict = {}
    if contributions is None or weights is None:
        return out
    try:
        w = weights[weights["weight"].astype(float) > 0]
        c = contributions[contributions["score_per_module"].astype(float) > 0]
        m = c.merge(w, on="pillar")
        for r in m.itertuples():
            out.setdefault(str(r.lever), set()).add((str(r.scenario), str(r.track)))
    except (KeyError, ValueError):
        return {}
    return out


def run_from_result(label: str, result: RunResult) -> Run:
    """A run solved in process (a --case variant, an alternative roadmap)."""
    ev = result.evaluation
    t = result.case.tables
    prob = {str(s): float(p) for s, p in zip(t["scenarios"]["scenario"], t["scenarios"]["probability"])}
    return Run(
        label=label,
        source=f"{result.case.origin} (solved)",
        summary=result.report(),
        roadmap=ev.roadmap.copy(),
        relief=ev.relief.copy(),
        spending=ev.spending.copy(),
        probability=prob,
        lever_tracks=lever_tracks(t.get("contributions"), t.get("pillar_weights")),
        tiers=ev.tiers.copy(),
        case=result.case,
    )


# ---------------------------------------------------------------- the pieces of a run


def _portfolio(run: Run) -> dict[str, dict]:
    """lever -> modules committed over the horizon, first year committed, first year operating."""
    out = {}
    rm = run.roadmap
    for lever, g in rm.groupby("lever", sort=False):
        g = g.sort_values("year")
        total = float(g["committed"].sum())
        com = g[g["committed"] > TOL]["year"]
        op = g[g["operating"] > TOL]["year"]
        out[str(lever)] = {
            "modules": total,
            "first_commit": int(com.min()) if len(com) else None,
            "first_operating": int(op.min()) if len(op) else None,
        }
    return out


def _changes(ref: dict, cur: dict) -> list[str]:
    """What a lever's use changed from the reference: added, dropped, advanced, delayed, resized."""
    r_on, c_on = ref["modules"] > TOL, cur["modules"] > TOL
    if not r_on and c_on:
        return ["added"]
    if r_on and not c_on:
        return ["dropped"]
    if not r_on:
        return []
    tags = []
    if cur["first_commit"] is not None and ref["first_commit"] is not None:
        if cur["first_commit"] < ref["first_commit"]:
            tags.append("advanced")
        elif cur["first_commit"] > ref["first_commit"]:
            tags.append("delayed")
    if abs(cur["modules"] - ref["modules"]) > TOL:
        tags.append("resized")
    return tags


def _cells(run: Run) -> dict[tuple[str, str], float]:
    """(scenario, track) -> discounted relief (not weighted)."""
    g = run.relief.groupby(["scenario", "track"])["discounted_relief"].sum()
    return {(str(s), str(t)): float(v) for (s, t), v in g.items()}


def tier_map(run: Run) -> dict[tuple[str, str, int], str]:
    """(scenario, track, year) -> the tier reached, by the case's own name (the baseline's too)."""
    if run.tiers is None:
        return {}
    return {(str(r.scenario), str(r.track), int(r.year)): str(r.tier) for r in run.tiers.itertuples()}


# ---------------------------------------------------------------- the comparison


# What the differences of a comparison mean, in the words the terminal and the report use;
# `compare(...)["definitions"]` carries them with the records (docs/analyses.md says the same).
DEFINITIONS = {
    "runs.difference": "expected relief of the run minus the reference's (probability-weighted, discounted)",
    "relief_by_scenario.relief": "discounted relief over the horizon if that stance comes true (not weighted)",
    "relief_by_scenario.relief_change": (
        "the run's relief minus the reference's if that stance comes true (not weighted by its probability); "
        "null where the reference has no such stance"
    ),
    "relief_by_scenario.weighted_relief": "probability x relief: the stance's part of the expected relief",
    "runs.duty_paid_difference": (
        "expected duty paid under the run's plan minus the reference's (discounted); null where a run has none "
        "(a run folder from before duty was reported)"
    ),
    "runs.relief_vs_current_difference": (
        "expected relief against current rates of the run minus the reference's; null without current rates"
    ),
    "attribution.difference": (
        "probability-weighted: the cell's contribution to the difference in expected relief "
        "(run probability x run relief - reference probability x reference relief); the cells add up to "
        "runs.difference"
    ),
    "attribution.probability": "the stance's probability in the run (null where the run has no such stance)",
    "attribution.reference_probability": "the stance's probability in the reference (null where it has none)",
    "attribution_by_scenario.difference": (
        "probability-weighted: the stance's contribution to the difference in expected relief (its cells "
        "added up); not the difference if that stance comes true, which is relief_by_scenario.relief_change"
    ),
}


# the duty figures of summary.json (None in a run from before they were reported)
DUTY_KEYS = ("expected_duty_paid", "expected_duty_no_delivery", "expected_duty_current", "expected_relief_vs_current")


def comparability(runs: list[Run]) -> list[str]:
    """Plain warnings where runs do not solve the same case: another case name, other
    stances, other levers. Differences between such runs mix data and decisions."""
    ref = runs[0]
    out = []
    for r in runs[1:]:
        a, b = ref.summary.get("case"), r.summary.get("case")
        if a != b:
            out.append(
                f"these runs solve different cases ({ref.label}: {a}, {r.label}: {b}): "
                "differences mix data and decisions"
            )
        for what, x, y in (
            ("stances", set(ref.probability), set(r.probability)),
            ("levers", set(ref.roadmap["lever"].astype(str)), set(r.roadmap["lever"].astype(str))),
        ):
            if x != y:
                only_ref, only_run = sorted(x - y), sorted(y - x)

                def names(xs: list[str]) -> str:
                    return ", ".join(xs[:5]) + (f" and {len(xs) - 5} more" if len(xs) > 5 else "")

                parts = [
                    f"only in {ref.label}: {names(only_ref)}" if only_ref else "",
                    f"only in {r.label}: {names(only_run)}" if only_run else "",
                ]
                out.append(
                    f"{ref.label} and {r.label} have different {what} ({'; '.join(p for p in parts if p)}); "
                    "shown as missing (-) where a run has none"
                )
    return out


def compare(runs: list[Run]) -> dict:
    """The comparison as tidy record lists (one per CSV) plus a runs overview, the warnings
    of `comparability` and the `DEFINITIONS` of its differences."""
    if len(runs) < 2:
        raise CompareError("compare needs at least two runs (the first is the reference)")
    _unique_labels(runs)
    ref = runs[0]
    portfolio, changed = _portfolio_records(runs)
    cells = {r.label: _cells(r) for r in runs}
    overview, by_scen, by_track = _relief_records(runs, cells)
    attribution, attribution_scen = [], []
    for r in runs[1:]:
        total = next(o["difference"] for o in overview if o["run"] == r.label)
        rows, srows = _attribution(r, ref, cells, changed.get(r.label, {}), total)
        attribution += rows
        attribution_scen += srows
    return {
        "reference": ref.label,
        "runs": overview,
        "changes": changed,
        "portfolio": portfolio,
        "spending": _spending_records(runs),
        "relief_by_scenario": by_scen,
        "relief_by_track": by_track,
        "relief_by_sector": _sector_records(runs),
        "attribution": attribution,
        "attribution_by_scenario": attribution_scen,
        "tiers": _tier_records(runs),
        "obligations": _obligation_records(runs),
        "warnings": comparability(runs),
        "definitions": DEFINITIONS,
        "adaptive": {r.label: _tree_record(r) for r in runs if r.adaptive},
    }


def _tree_record(run: Run) -> dict:
    """An adaptive run's first moves (modules per lever in the years every stance shares) and
    each stance's modules per lever: its portfolio and spending above are expectations."""
    reveal = run.summary.get("reveal") or {}
    return {
        "reveal_year": reveal.get("reveal_year"),
        "first_moves_years": reveal.get("first_moves_years", []),
        "first_moves": {l: v for l, v in (run.summary.get("portfolio") or {}).items() if v},
        "portfolio_by_scenario": {
            s: {l: v for l, v in p.items() if v} for s, p in (run.summary.get("portfolio_by_scenario") or {}).items()
        },
    }


def _obligation_records(runs: list[Run]) -> list[dict]:
    """Each run's obligations (obligations.csv) and what its plan commits by each one's year; a run
    solved --without-obligations has none."""
    return [
        {"run": r.label, **{k: o.get(k) for k in ("lever", "by_year", "min_modules", "committed_by_year", "met")}}
        for r in runs
        for o in r.summary.get("obligations") or []
    ]


def _unique_labels(runs: list[Run]) -> None:
    """A second run labelled 'a' becomes 'a#2' (labels key every record)."""
    seen: dict[str, int] = {}
    for r in runs:
        if r.label in seen:
            seen[r.label] += 1
            r.label = f"{r.label}#{seen[r.label]}"
        else:
            seen[r.label] = 1


def _portfolio_records(runs: list[Run]) -> tuple[list[dict], dict[str, dict[str, list[str]]]]:
    """A row per run and lever, and each run's changes from the reference by lever."""
    ref = runs[0]
    ports = {r.label: _portfolio(r) for r in runs}
    levers = list(dict.fromkeys(l for r in runs for l in ports[r.label]))
    empty = {"modules": 0.0, "first_commit": None, "first_operating": None}
    portfolio, changed = [], {}
    for r in runs:
        for l in levers:
            cur, base = ports[r.label].get(l, empty), ports[ref.label].get(l, empty)
            tags = [] if r is ref else _changes(base, cur)
            if tags:
                changed.setdefault(r.label, {})[l] = tags
            portfolio.append(
                {
                    "run": r.label,
                    "lever": l,
                    "modules": cur["modules"],
                    "first_commit": cur["first_commit"],
                    "first_operating": cur["first_operating"],
                    "modules_change": None if r is ref else cur["modules"] - base["modules"],
                    "change": ",".join(tags),
                }
            )
    return portfolio, changed


def _spending_records(runs: list[Run]) -> list[dict]:
    spending = []
    for r in runs:
        for s in r.spending.sort_values("year").itertuples():
            row = {
                "run": r.label,
                "year": int(s.year),
                "public_spend": float(s.public_spend),
                "capex_spend": float(getattr(s, "capex_spend", float("nan"))),
                "budget": None if s.budget is None or s.budget != s.budget else float(s.budget),
            }
            # no common yearly budget (several funding envelopes): no headroom either
            row["headroom"] = None if row["budget"] is None else row["budget"] - row["public_spend"]
            spending.append(row)
    return spending


def _relief_records(runs: list[Run], cells: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """The runs overview, relief by scenario and expected relief by track, each with its
    change from the reference."""
    overview, by_scen, by_track = [], [], []
    for r in runs:
        scen: dict[str, float] = {}
        for (s, _), v in cells[r.label].items():
            scen[s] = scen.get(s, 0.0) + v
        overview.append(
            {
                "run": r.label,
                "source": r.source,
                "status": r.summary.get("status"),
                "expected_relief": sum(r.probability.get(s, 0.0) * v for s, v in scen.items()),
                "difference": 0.0,
                "public_spend": r.summary.get("public_spend"),
                "total_spend": r.summary.get("total_spend"),
                "reported_expected_relief": r.summary.get("expected_relief"),
                **{k: r.summary.get(k) for k in DUTY_KEYS},
            }
        )
        for s in sorted(set(scen) | set(r.probability)):
            p = r.probability.get(s, 0.0)
            by_scen.append(
                {
                    "run": r.label,
                    "scenario": s,
                    "probability": p,
                    "relief": scen.get(s, 0.0),
                    "weighted_relief": p * scen.get(s, 0.0),
                }
            )
        tracks: dict[str, float] = {}
        for (s, t), v in cells[r.label].items():
            tracks[t] = tracks.get(t, 0.0) + r.probability.get(s, 0.0) * v
        by_track += [{"run": r.label, "track": t, "expected_relief": tracks[t]} for t in sorted(tracks)]
    ref = runs[0].label
    for o in overview:
        o["difference"] = o["expected_relief"] - overview[0]["expected_relief"]
        for key, diff in (
            ("expected_duty_paid", "duty_paid_difference"),
            ("expected_relief_vs_current", "relief_vs_current_difference"),
        ):
            a, b = o.get(key), overview[0].get(key)
            o[diff] = None if a is None or b is None else a - b
    ref_scen = {x["scenario"]: x for x in by_scen if x["run"] == ref}
    for x in by_scen:
        b = ref_scen.get(x["scenario"])
        x["relief_change"] = None if x["run"] == ref or b is None else x["relief"] - b["relief"]
    ref_track = {x["track"]: x["expected_relief"] for x in by_track if x["run"] == ref}
    for x in by_track:
        x["change"] = None if x["run"] == ref else x["expected_relief"] - ref_track.get(x["track"], 0.0)
    return overview, by_scen, by_track


def _attribution(run: Run, ref: Run, cells: dict, changed: dict, total: float) -> tuple[list[dict], list[dict]]:
    """The run's difference in expected relief by scenario x track cell and by scenario,
    largest first, with the changed levers that score in each cell."""
    # levers this run was asked to exclude or force (unlike the reference) are named first
    asked = {l for k in ("exclude", "force") for l in (run.summary.get(k) or []) if l not in (ref.summary.get(k) or [])}
    rows = []
    for s, t in sorted(set(cells[run.label]) | set(cells[ref.label])):
        p_run, p_ref = run.probability.get(s), ref.probability.get(s)  # None: the run has no such stance
        a, b = cells[run.label].get((s, t), 0.0), cells[ref.label].get((s, t), 0.0)
        diff = (p_run or 0.0) * a - (p_ref or 0.0) * b
        levers_here = sorted(
            (l for l in changed if (s, t) in run.lever_tracks.get(l, set()) | ref.lever_tracks.get(l, set())),
            key=lambda l: -1 if l in asked else min(CHANGE_ORDER.get(g, 3) for g in changed[l]),
        )
        rows.append(
            {
                "run": run.label,
                "reference": ref.label,
                "scenario": s,
                "track": t,
                "probability": p_run,
                "reference_probability": p_ref,
                "reference_relief": b,
                "run_relief": a,
                "difference": diff,
                "share": diff / total if abs(total) > 1e-12 else None,
                "levers": ",".join(levers_here),
            }
        )
    rows.sort(key=lambda x: (-abs(x["difference"]), x["scenario"], x["track"]))
    for i, x in enumerate(rows, 1):
        x["rank"] = i
    scen: dict[str, float] = {}
    for x in rows:
        scen[x["scenario"]] = scen.get(x["scenario"], 0.0) + x["difference"]
    srows = [
        {
            "run": run.label,
            "reference": ref.label,
            "scenario": s,
            "difference": d,
            "share": d / total if abs(total) > 1e-12 else None,
        }
        for s, d in scen.items()
    ]
    srows.sort(key=lambda x: (-abs(x["difference"]), x["scenario"]))
    for i, x in enumerate(srows, 1):
        x["rank"] = i
    return rows, srows


def _sector_records(runs: list[Run]) -> list[dict]:
    ref = runs[0].label
    by_sector = []
    for r in runs:
        g = r.relief.assign(w=[r.probability.get(str(x), 0.0) for x in r.relief["scenario"]])
        sectors = (
            g.assign(v=g["w"] * g["discounted_relief"]).groupby("sector")["v"].sum() if "sector" in g.columns else {}
        )
        for sec, v in sectors.items():
            by_sector.append({"run": r.label, "sector": str(sec), "expected_relief": float(v)})
    ref_sector = {x["sector"]: x["expected_relief"] for x in by_sector if x["run"] == ref}
    for x in by_sector:
        x["change"] = None if x["run"] == ref else x["expected_relief"] - ref_sector.get(x["sector"], 0.0)
    return by_sector


def _tier_records(runs: list[Run]) -> list[dict]:
    ref = runs[0]
    tiers = []
    ref_tier = tier_map(ref)
    for r in runs:
        for key, tier in sorted(tier_map(r).items()):
            base = ref_tier.get(key)
            tiers.append(
                {
                    "run": r.label,
                    "scenario": key[0],
                    "track": key[1],
                    "year": key[2],
                    "tier": tier,
                    "reference_tier": base,
                    "changed": r is not ref and tier != base,
                }
            )
    return tiers


def tier_cells(report: dict, label: str) -> dict[tuple[str, str, int], str]:
    """{(scenario, track, year): tier} of one run of a comparison (its tiers records)."""
    return {(x["scenario"], x["track"], x["year"]): x["tier"] for x in report.get("tiers", []) if x["run"] == label}
