"""`relief compare`: several solved roadmaps side by side, the first as the reference.

Runs are run folders (`relief solve --out DIR`), or a case solved on the fly with
variants (`--case CASE --variant "LABEL: --set PATH=V --force L --exclude L"`).
The comparison covers the portfolio by lever, public spending against the budget,
expected relief by scenario and track, and an attribution of the relief difference
(run minus reference) to scenario x track cells, ranked by absolute size.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import click

from relief.cli.main import EXIT_FAILED, EXIT_INFEASIBLE, EXIT_INPUT, Failure, _load, guarded, main

RUN_FILES = ("summary.json", "roadmap.csv", "relief.csv", "spending.csv", "case/scenarios.csv")
TOL = 1e-6


@dataclass
class Run:
    """The tables of one solved run, from a folder or from an in-process solve."""

    label: str
    source: str
    summary: dict
    roadmap: object  # DataFrame [lever, year, committed, cumulative, operating, capex_spend, public_spend]
    relief: object  # DataFrame [scenario, track, sector, year, relief, discounted_relief, base_rate, rate]
    spending: object  # DataFrame [year, public_spend, capex_spend, budget]
    probability: dict  # scenario -> probability
    lever_tracks: dict = field(default_factory=dict)  # lever -> {(scenario, track)} it scores in
    tiers: object = None  # DataFrame [scenario, track, year, tier, base_tier, ...] (tiers.csv), if present
    case: object = None  # the Case as solved (the run folder's case/), for the report; None if unreadable


# ---------------------------------------------------------------- loading


def _lever_tracks(contributions, weights) -> dict:
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


def load_run_folder(path: Path) -> Run:
    import pandas as pd

    path = Path(path)
    if not path.is_dir():
        raise Failure(EXIT_INPUT, f"relief: {path} is not a run folder (no such folder)")
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise Failure(
            EXIT_INPUT, f"relief: {path} is not a run folder from `relief solve --out` (missing {', '.join(missing)})"
        )
    try:
        summary = json.loads((path / "summary.json").read_text())
        roadmap = pd.read_csv(path / "roadmap.csv")
        relief = pd.read_csv(path / "relief.csv")
        spending = pd.read_csv(path / "spending.csv")
        scen = pd.read_csv(path / "case" / "scenarios.csv")
        prob = {str(s): float(p) for s, p in zip(scen["scenario"], scen["probability"])}
        for df, cols, name in (
            (roadmap, ("lever", "year", "committed", "operating"), "roadmap.csv"),
            (relief, ("scenario", "track", "year", "discounted_relief"), "relief.csv"),
            (spending, ("year", "public_spend", "budget"), "spending.csv"),
        ):
            lacking = [c for c in cols if c not in df.columns]
            if lacking:
                raise ValueError(f"{name} lacks column(s) {', '.join(lacking)}")
        contrib = (
            pd.read_csv(path / "case" / "contributions.csv")
            if (path / "case" / "contributions.csv").is_file()
            else None
        )
        weights = (
            pd.read_csv(path / "case" / "pillar_weights.csv")
            if (path / "case" / "pillar_weights.csv").is_file()
            else None
        )
    except Failure:
        raise
    except Exception as e:  # unreadable JSON/CSV, missing columns
        raise Failure(EXIT_INPUT, f"relief: {path} is not a readable run folder: {type(e).__name__}: {e}") from None
    tiers = None
    if (path / "tiers.csv").is_file():
        try:
            tiers = pd.read_csv(path / "tiers.csv")
        except Exception as e:
            raise Failure(EXIT_INPUT, f"relief: {path / 'tiers.csv'} cannot be read: {type(e).__name__}") from None
    try:
        from relief.model.core.case import load_case

        case = load_case(path / "case")
    except Exception:  # the comparison needs only the tables above; the report says what it lacks
        case = None
    return Run(
        label=path.name or str(path),
        source=str(path),
        summary=summary,
        roadmap=roadmap,
        relief=relief,
        spending=spending,
        probability=prob,
        lever_tracks=_lever_tracks(contrib, weights),
        tiers=tiers,
        case=case,
    )


def run_from_result(label: str, result) -> Run:
    ev = result.evaluation
    t = result.case.tables
    prob = {str(s): float(p) for s, p in zip(t["scenarios"]["scenario"], t["scenarios"]["probability"])}
    return Run(
        label=label,
        source=f"{result.case.origin} (solved)",
        summary=result.summary(),
        roadmap=ev.roadmap.copy(),
        relief=ev.relief.copy(),
        spending=ev.spending.copy(),
        probability=prob,
        lever_tracks=_lever_tracks(t.get("contributions"), t.get("pillar_weights")),
        tiers=ev.tiers.copy(),
        case=result.case,
    )


def parse_variant(text: str) -> tuple[str, list, list, list]:
    """'LABEL: --set P=V --force L --exclude L' -> (label, overrides, force, exclude)."""
    text = text.strip()
    label = None
    if text and not text.startswith("-") and ":" in text:
        head, rest = text.split(":", 1)
        label, text = head.strip() or None, rest.strip()
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: --variant {text!r}: {e}") from None
    opts = {"--set": [], "--force": [], "--exclude": []}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, eq, val = tok.partition("=")
        if name in opts and eq:
            opts[name].append(val)
            i += 1
        elif tok in opts and i + 1 < len(tokens):
            opts[tok].append(tokens[i + 1])
            i += 2
        else:
            raise Failure(
                EXIT_INPUT,
                f"relief: --variant {label + ': ' if label else ''}{text!r}: cannot read {tok!r} "
                "(expected --set PATH=V, --force LEVER, --exclude LEVER)",
            )
    if not label:
        label = text or "variant"
    return label, opts["--set"], opts["--force"], opts["--exclude"]


def solve_variants(case_path, variants, time_limit=None, mip_gap=None) -> list[Run]:
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.run import run_case

    base = _load(case_path)
    specs = [("base", [], [], [])] + [parse_variant(v) for v in variants]
    runs = []
    for label, overrides, force, exclude in specs:
        work = apply_overrides(base, list(overrides))
        options = SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap)
        try:
            result = run_case(work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides))
        except ValueError as e:
            raise Failure(EXIT_INPUT, f"relief: variant {label}: {e}") from None
        if result.evaluation is None:
            code = EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_FAILED
            raise Failure(
                code,
                [f"relief: variant {label}: no plan (status {result.status}); nothing to compare"]
                + [f"  {line}" for line in result.conflicts],
            )
        runs.append(run_from_result(label, result))
    return runs


def run_options(fn):
    """RUNS and the --case/--variant/--time-limit/--mip-gap that solve runs on the fly
    (relief compare, relief report); `load_runs` reads them."""
    opts = [
        click.argument("runs", nargs=-1, type=click.Path(path_type=Path)),
        click.option(
            "--case",
            "case",
            type=click.Path(path_type=Path),
            help="Solve this case on the fly as the first run ('base'), with --variant runs after it; `--case default` for the shipped case.",
        ),
        click.option(
            "--variant",
            "variants",
            multiple=True,
            metavar='"LABEL: ARGS"',
            help='A variant of --case: "LABEL: --set PATH=V --force LEVER --exclude LEVER". Repeatable.',
        ),
        click.option(
            "--time-limit",
            type=click.FloatRange(min=0, min_open=True),
            help="Solver time limit per stage for --case solves.",
        ),
        click.option("--mip-gap", type=click.FloatRange(min=0), help="Relative MIP gap for --case solves."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def load_runs(runs, case, variants, time_limit, mip_gap) -> list[Run]:
    """--case and its --variants solved on the fly (the case first, as 'base'), then the run folders."""
    if variants and case is None:
        raise Failure(EXIT_INPUT, "relief: --variant needs --case (use --case default for the shipped case)")
    loaded: list[Run] = []
    if case is not None:
        loaded += solve_variants(None if str(case) == "default" else case, variants, time_limit, mip_gap)
    return loaded + [load_run_folder(p) for p in runs]


# ---------------------------------------------------------------- comparison


def _portfolio(run: Run) -> dict:
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


def _cells(run: Run) -> dict:
    """(scenario, track) -> discounted relief (not weighted)."""
    g = run.relief.groupby(["scenario", "track"])["discounted_relief"].sum()
    return {(str(s), str(t)): float(v) for (s, t), v in g.items()}


def compare(runs: list[Run]) -> dict:
    """The comparison as tidy record lists (one per CSV) plus a runs overview."""
    if len(runs) < 2:
        raise Failure(EXIT_INPUT, "relief: compare needs at least two runs (the first is the reference)")
    seen = {}
    for r in runs:  # unique labels
        if r.label in seen:
            seen[r.label] += 1
            r.label = f"{r.label}#{seen[r.label]}"
        else:
            seen[r.label] = 1
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

    spending = []
    for r in runs:
        for s in r.spending.sort_values("year").itertuples():
            row = {
                "run": r.label,
                "year": int(s.year),
                "public_spend": float(s.public_spend),
                "capex_spend": float(getattr(s, "capex_spend", float("nan"))),
                "budget": float(s.budget),
            }
            row["headroom"] = row["budget"] - row["public_spend"]
            spending.append(row)

    cells = {r.label: _cells(r) for r in runs}
    overview, by_scen, by_track = [], [], []
    for r in runs:
        c = cells[r.label]
        scen = {}
        for (s, t), v in c.items():
            scen[s] = scen.get(s, 0.0) + v
        expected = sum(r.probability.get(s, 0.0) * v for s, v in scen.items())
        overview.append(
            {
                "run": r.label,
                "source": r.source,
                "status": r.summary.get("status"),
                "expected_relief": expected,
                "difference": expected - 0.0,
                "public_spend": r.summary.get("public_spend"),
                "total_spend": r.summary.get("total_spend"),
                "reported_expected_relief": r.summary.get("expected_relief"),
            }
        )
        for s in sorted(set(scen) | set(r.probability)):
            by_scen.append(
                {
                    "run": r.label,
                    "scenario": s,
                    "probability": r.probability.get(s, 0.0),
                    "relief": scen.get(s, 0.0),
                    "weighted_relief": r.probability.get(s, 0.0) * scen.get(s, 0.0),
                }
            )
        tracks = {}
        for (s, t), v in c.items():
            tracks[t] = tracks.get(t, 0.0) + r.probability.get(s, 0.0) * v
        for t in sorted(tracks):
            by_track.append({"run": r.label, "track": t, "expected_relief": tracks[t]})
    ref_total = overview[0]["expected_relief"]
    for o in overview:
        o["difference"] = o["expected_relief"] - ref_total
    ref_scen = {x["scenario"]: x for x in by_scen if x["run"] == ref.label}
    for x in by_scen:
        b = ref_scen.get(x["scenario"])
        x["relief_change"] = None if x["run"] == ref.label else x["relief"] - (b["relief"] if b else 0.0)
    ref_track = {x["track"]: x["expected_relief"] for x in by_track if x["run"] == ref.label}
    for x in by_track:
        x["change"] = None if x["run"] == ref.label else x["expected_relief"] - ref_track.get(x["track"], 0.0)

    attribution, attribution_scen = [], []
    for r in runs[1:]:
        total = next(o["difference"] for o in overview if o["run"] == r.label)
        # levers this run was asked to exclude or force (unlike the reference) are named first
        asked = {
            l for k in ("exclude", "force") for l in (r.summary.get(k) or []) if l not in (ref.summary.get(k) or [])
        }
        keys = sorted(set(cells[r.label]) | set(cells[ref.label]))
        rows = []
        for s, t in keys:
            p_run, p_ref = r.probability.get(s, 0.0), ref.probability.get(s, 0.0)
            a, b = cells[r.label].get((s, t), 0.0), cells[ref.label].get((s, t), 0.0)
            diff = p_run * a - p_ref * b
            order = {"dropped": 0, "added": 0, "resized": 1, "advanced": 2, "delayed": 2}
            levers_here = sorted(
                (
                    l
                    for l, tags in changed.get(r.label, {}).items()
                    if (s, t) in r.lever_tracks.get(l, set()) | ref.lever_tracks.get(l, set())
                ),
                key=lambda l: -1 if l in asked else min(order.get(g, 3) for g in changed[r.label][l]),
            )
            rows.append(
                {
                    "run": r.label,
                    "reference": ref.label,
                    "scenario": s,
                    "track": t,
                    "probability": p_run,
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
        attribution += rows
        scen = {}
        for x in rows:
            scen[x["scenario"]] = scen.get(x["scenario"], 0.0) + x["difference"]
        srows = [
            {
                "run": r.label,
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
        attribution_scen += srows

    by_sector = []
    for r in runs:
        g = r.relief.assign(w=[r.probability.get(str(x), 0.0) for x in r.relief["scenario"]])
        sectors = (
            g.assign(v=g["w"] * g["discounted_relief"]).groupby("sector")["v"].sum() if "sector" in g.columns else {}
        )
        for sec, v in sectors.items():
            by_sector.append({"run": r.label, "sector": str(sec), "expected_relief": float(v)})
    ref_sector = {x["sector"]: x["expected_relief"] for x in by_sector if x["run"] == ref.label}
    for x in by_sector:
        x["change"] = None if x["run"] == ref.label else x["expected_relief"] - ref_sector.get(x["sector"], 0.0)

    tiers = []
    ref_tier = _tier_map(ref)
    for r in runs:
        for key, tier in sorted(_tier_map(r).items()):
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

    return {
        "reference": ref.label,
        "runs": overview,
        "changes": changed,
        "portfolio": portfolio,
        "spending": spending,
        "relief_by_scenario": by_scen,
        "relief_by_track": by_track,
        "relief_by_sector": by_sector,
        "attribution": attribution,
        "attribution_by_scenario": attribution_scen,
        "tiers": tiers,
    }


def _tier_map(run: Run) -> dict:
    """(scenario, track, year) -> the tier reached ('' for the baseline)."""
    if run.tiers is None:
        return {}
    t = run.tiers
    return {
        (str(r.scenario), str(r.track), int(r.year)): ("" if r.tier == r.base_tier else str(r.tier))
        for r in t.itertuples()
    }


def tier_path(cells: dict, scenario: str, track: str) -> str:
    """'baseline -> deal (2029) -> deal_plus (2031)' from {(s, r, year): tier}."""
    from relief.cli.render import tier_path as path

    return path(((y, tier) for (s, r, y), tier in sorted(cells.items()) if (s, r) == (scenario, track)), arrow=" -> ")


# ---------------------------------------------------------------- output

CSV_FILES = {
    "portfolio": "portfolio.csv",
    "spending": "spending.csv",
    "relief_by_scenario": "relief_by_scenario.csv",
    "relief_by_track": "relief_by_track.csv",
    "relief_by_sector": "relief_by_sector.csv",
    "tiers": "tiers.csv",
    "attribution": "attribution.csv",
    "attribution_by_scenario": "attribution_by_scenario.csv",
    "runs": "runs.csv",
}


def write_out(out_dir: Path, report: dict) -> None:
    import pandas as pd

    from relief.model.core.io import atomic_write_csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, name in CSV_FILES.items():
        atomic_write_csv(out_dir / name, pd.DataFrame(report[key]))


def _num(v, fmt="{:.3f}"):
    if v is None:
        return "-"
    try:
        if v != v:
            return "-"
    except TypeError:
        pass
    return fmt.format(v) if isinstance(v, float) else str(v)


def _signed(v):
    return "-" if v is None else f"{v:+.3f}"


def _levers_cell(levers: str, changes: dict, show: int = 2) -> str:
    ls = [l for l in levers.split(",") if l]
    text = ", ".join(f"{l} ({'/'.join(changes[l])})" for l in ls[:show])
    return text + (f" +{len(ls) - show} more" if len(ls) > show else "")


def portfolio_rows(report: dict, modules=lambda v: f"{v:g}") -> list[list[str]]:
    """[lever, 'modules (first commit/first operating)' per run, changes] for every lever
    used by some run or changed; `modules` formats a number of modules."""
    labels = [o["run"] for o in report["runs"]]
    by = {(p["run"], p["lever"]): p for p in report["portfolio"]}
    rows = []
    for l in dict.fromkeys(p["lever"] for p in report["portfolio"]):
        cells = []
        for lab in labels:
            p = by[(lab, l)]
            cells.append(
                "-"
                if p["modules"] <= TOL
                else f"{modules(p['modules'])} ({p['first_commit']}/{p['first_operating'] or '-'})"
            )
        change = "; ".join(
            f"{lab}: {', '.join(report['changes'][lab][l])}"
            for lab in labels[1:]
            if l in report["changes"].get(lab, {})
        )
        if any(c != "-" for c in cells) or change:
            rows.append([l, *cells, change])
    return rows


def render(report: dict, top: int = 10) -> None:
    from rich import box
    from rich.table import Table

    from relief.cli.render import _console

    con = _console()
    labels = [o["run"] for o in report["runs"]]
    ref = report["reference"]

    def table(*cols, title=None):
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        for c in cols:
            t.add_column(
                c,
                overflow="fold",
                justify="left" if c in ("run", "lever", "scenario", "track", "change", "levers", "year") else "right",
            )
        return t

    def heading(text):
        con.print()
        con.print(f"[bold]{text}[/]")

    heading(f"Runs (reference: {ref})")
    t = table("run", "status", "expected relief", "vs ref", "public spend", "total spend")
    for o in report["runs"]:
        t.add_row(
            o["run"],
            str(o["status"]),
            _num(o["expected_relief"]),
            "" if o["run"] == ref else _signed(o["difference"]),
            _num(o["public_spend"]),
            _num(o["total_spend"]),
        )
    con.print(t)

    heading("Portfolio by lever (modules, first commit / first operating year)")
    t = table("lever", *labels, "change")
    for row in portfolio_rows(report):
        t.add_row(*row)
    con.print(t)

    heading("Public spending by year vs budget")
    years = sorted({s["year"] for s in report["spending"]})
    sp = {(s["run"], s["year"]): s for s in report["spending"]}
    t = table("year", *labels, "budget")
    for y in years:
        budgets = {sp[(lab, y)]["budget"] for lab in labels if (lab, y) in sp}
        t.add_row(
            str(y),
            *[_num(sp[(lab, y)]["public_spend"], "{:.2f}") if (lab, y) in sp else "-" for lab in labels],
            ", ".join(f"{b:.2f}" for b in sorted(budgets)),
        )
    con.print(t)

    heading("Relief by scenario (discounted, if that scenario comes true; its probability p in brackets)")
    scen = list(dict.fromkeys(x["scenario"] for x in report["relief_by_scenario"]))
    rs = {(x["run"], x["scenario"]): x for x in report["relief_by_scenario"]}
    t = table("scenario", *labels)
    for s in scen:
        row = []
        for lab in labels:
            x = rs.get((lab, s))
            row.append(
                "-"
                if x is None
                else f"{x['relief']:.3f} (p {x['probability']:.2f})"
                + ("" if lab == ref or x["relief_change"] is None else f" {x['relief_change']:+.3f}")
            )
        t.add_row(s, *row)
    t.add_row("expected", *[_num(o["expected_relief"]) for o in report["runs"]])
    con.print(t)

    for key, rows in (("track", report["relief_by_track"]), ("sector", report.get("relief_by_sector", []))):
        if not rows:
            continue
        heading(f"Expected relief by {key} (discounted, probability-weighted)")
        by = {(x["run"], x[key]): x for x in rows}
        t = table(key, *labels)
        for name in dict.fromkeys(x[key] for x in rows):
            t.add_row(
                name,
                *[
                    "-"
                    if (lab, name) not in by
                    else _num(by[(lab, name)]["expected_relief"])
                    + ("" if lab == ref else f" ({by[(lab, name)]['change']:+.3f})")
                    for lab in labels
                ],
            )
        con.print(t)

    cells = {
        lab: {(x["scenario"], x["track"], x["year"]): x["tier"] for x in report.get("tiers", []) if x["run"] == lab}
        for lab in labels
    }
    for lab in labels[1:]:
        moved = sorted(
            {(x["scenario"], x["track"]) for x in report.get("tiers", []) if x["run"] == lab and x["changed"]}
        )
        if not moved:
            continue
        heading(f"Tiers that {lab} reaches differently from {ref}")
        t = table("scenario", "track", ref, lab)
        for s_, r_ in moved[:top]:
            t.add_row(s_, r_, tier_path(cells[ref], s_, r_), tier_path(cells[lab], s_, r_))
        if len(moved) > top:
            t.add_row(f"{len(moved) - top} more", "", "", "")
        con.print(t)

    for lab in labels[1:]:
        diff = next(o["difference"] for o in report["runs"] if o["run"] == lab)
        heading(f"Why {lab} differs from {ref}: {diff:+.3f} expected relief")
        rows = [x for x in report["attribution"] if x["run"] == lab and abs(x["difference"]) > 1e-9]
        t = table("#", "scenario", "track", "p", "difference", "share", "levers")
        for x in rows[:top]:
            t.add_row(
                str(x["rank"]),
                x["scenario"],
                x["track"],
                f"{x['probability']:.2f}",
                _signed(x["difference"]),
                "-" if x["share"] is None else f"{x['share']:.0%}",
                _levers_cell(x["levers"], report["changes"][lab]),
            )
        if len(rows) > top:
            rest = sum(x["difference"] for x in rows[top:])
            t.add_row("", f"{len(rows) - top} more", "", "", _signed(rest), "", "")
        if not rows:
            con.print("  no difference in relief")
        else:
            con.print(t)
        srows = [x for x in report["attribution_by_scenario"] if x["run"] == lab and abs(x["difference"]) > 1e-9]
        if srows:
            con.print("  by scenario: " + "; ".join(f"{x['scenario']} {x['difference']:+.3f}" for x in srows))


@main.command("compare")
@run_options
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="Attribution rows to show per run."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write runs.csv, portfolio.csv, spending.csv, relief_by_scenario.csv, relief_by_track.csv, relief_by_sector.csv, tiers.csv, attribution.csv, attribution_by_scenario.csv to DIR.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout instead of the tables.")
@guarded
def compare_cmd(runs, case, variants, time_limit, mip_gap, top, out_dir, as_json):
    """Compare solved roadmaps side by side; the first run is the reference.

    RUNS are run folders written by `relief solve --out`. Or give --case (a case
    folder; `--case default` for the shipped case) with --variant strings to solve on
    the fly: the case as given is the reference 'base', the variants follow, then any
    RUNS folders.

    \b
    Examples:
      relief compare runs/base runs/no-smelter
      relief compare runs/a runs/b --json
      relief compare --case examples/tiny --variant "no-chips: --exclude chips" --out cmp/
      relief compare --case default --variant "half: --set budget.*.public_budget_usd_bn*=0.5"
    """
    report = compare(load_runs(runs, case, variants, time_limit, mip_gap))
    if out_dir is not None:
        write_out(out_dir, report)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=float))
    else:
        render(report, top=top)
