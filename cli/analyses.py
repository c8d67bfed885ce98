"""`relief delay` and `relief coordination`: two questions asked of a case by transforming
it and solving again (the logic is in relief.model.analyses; docs/analyses.md explains it).

Both take the options of `relief solve` (CASE, --set, --force, --exclude, --time-limit,
--mip-gap, --threads, --seed), print a rich view, or one JSON object with --json, and
with --out DIR write tidy CSVs and summary.json (every file atomically, summary last).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from relief.cli.main import (
    CASE_ARG,
    EXIT_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    Failure,
    guarded,
    main,
    prepare,
    solve_options,
)


def write_tables(out_dir: Path, report: dict, tables: dict) -> None:
    """Tidy CSVs first, summary.json last: a summary.json on disk means the folder is complete."""
    import pandas as pd

    from relief.model.core.io import atomic_write_csv, atomic_write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, (name, columns) in tables.items():
        rows = (key(report) if callable(key) else report.get(key)) or []
        df = pd.DataFrame(rows, columns=columns if not rows else None)
        for c in df.columns:  # lists in a cell (levers of an owner) as 'a;b'
            if df[c].map(lambda v: isinstance(v, (list, tuple, dict))).any():
                df[c] = df[c].map(
                    lambda v: (
                        ";".join(map(str, v))
                        if isinstance(v, (list, tuple))
                        else (json.dumps(v) if isinstance(v, dict) else v)
                    )
                )
        atomic_write_csv(out_dir / name, df)
    atomic_write_json(out_dir / "summary.json", report)


def _emit(report, out_dir, as_json, tables, render):
    if out_dir is not None:
        write_tables(out_dir, report, tables)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=float))
    else:
        render(report)


def _finish_status(report: dict, reference_status: str, conflicts, reference: str) -> None:
    """Exit codes: 3 if the reference plan is infeasible, 4 if a solve found no plan; a
    plan at a time or gap limit is reported with a warning."""
    if reference_status == "infeasible":
        for line in conflicts:
            click.echo(f"  {line}", err=True)
        raise Failure(
            EXIT_INFEASIBLE,
            f"relief: {reference} is infeasible, so there is nothing to compare (see the conflicts above)",
        )
    if report["status"] in ("no_solution", "error", "unbounded"):
        raise Failure(EXIT_FAILED, f"relief: a solve of the analysis found no plan (status {report['status']})")
    if report["status"] != "optimal":
        click.echo(
            f"relief: warning: status {report['status']}: some plans are feasible but not proven optimal", err=True
        )


# ---------------------------------------------------------------- rendering helpers


def _table(*cols, left=("plan", "lever", "owner", "scenario", "track", "sector", "year", "")):
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for c in cols:
        t.add_column(c, overflow="fold", justify="left" if c in left else "right")
    return t


def _n(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


def _s(v):
    return "-" if v is None else f"{v:+.2f}"


def _yy(y):
    return "" if y is None else f" ('{str(y)[-2:]})"


def _mods(m, first):
    if m is None:
        return "-"
    if m <= 1e-9:
        return "·"
    return (f"{m:g}" if float(m).is_integer() else f"{m:.2f}") + _yy(first)


# ---------------------------------------------------------------- relief delay

DELAY_COLUMNS = ["delay_years", "start_year", "status", "expected_relief", "relief_lost", "share_lost", "public_spend"]
DELAY_TABLES = {
    (lambda rep: [{k: d.get(k) for k in DELAY_COLUMNS} for d in rep["delays"]]): ("delays.csv", DELAY_COLUMNS),
    "relief_lost": (
        "relief_lost.csv",
        [
            "delay_years",
            "scenario",
            "track",
            "probability",
            "relief_now",
            "relief_delayed",
            "relief_lost",
            "expected_lost",
        ],
    ),
    "plans": ("plans.csv", ["delay_years", "start_year", "lever", "modules", "first_year", "last_year", "change"]),
    "roadmap": ("roadmap.csv", ["delay_years", "lever", "year", "committed"]),
    "spending": ("spending.csv", ["delay_years", "year", "public_spend", "budget"]),
    "out_of_reach": (
        "out_of_reach.csv",
        ["delay_years", "lever", "earliest_year", "years_left", "reachable", "smallest", "forced", "reason"],
    ),
}


def _parse_years(text: str) -> list[int]:
    try:
        years = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise click.BadParameter(f"'{text}': write whole numbers of years separated by commas, e.g. 1,2") from None
    if not years or min(years) < 1:
        raise click.BadParameter(f"'{text}': delays are whole numbers of years >= 1, e.g. 1,2")
    return sorted(set(years))


def render_delay(rep: dict) -> None:
    from relief.cli.render import _console

    con = _console()
    now = rep["now"]
    con.print(
        f"[bold]{rep['case']}[/]  cost of delay: acting now (from {rep['first_year']}) against no commitment before a later year"
    )
    if now["expected_relief"] is None:
        con.print(f"[bold red]Acting now has no plan[/] (status {now['status']}): nothing to compare.")
        return
    t = _table("plan", "first year allowed", "status", "expected relief", "lost", "lost %", "public spend")
    t.add_row("now", str(rep["first_year"]), now["status"], _n(now["expected_relief"]), "", "", _n(now["public_spend"]))
    for d in rep["delays"]:
        t.add_row(
            f"delay {d['delay_years']}y",
            str(d["start_year"]),
            d["status"],
            _n(d["expected_relief"]),
            _n(d["relief_lost"]),
            _n(None if d["share_lost"] is None else 100 * d["share_lost"], "{:.0f}%"),
            _n(d["public_spend"]),
        )
    con.print(t)
    labels = [f"delay {d['delay_years']}y" for d in rep["delays"]]

    con.print("[bold]Expected relief lost by track[/] (discounted, probability-weighted)")
    t = _table("track", *labels)
    tracks = list(dict.fromkeys(r for d in rep["delays"] for r in d["lost_by_track"]))
    for r in tracks:
        t.add_row(r, *[_n(d["lost_by_track"].get(r)) for d in rep["delays"]])
    con.print(t)

    con.print("[bold]Relief lost by scenario[/] (discounted relief over the horizon if that scenario comes true)")
    t = _table("scenario", "p", "relief now", *[f"lost, {x}" for x in labels])
    prob = {x["scenario"]: x["probability"] for x in rep["relief_lost"]}
    for s, v in now["by_scenario"].items():
        t.add_row(s, _n(prob.get(s), "{:.2f}"), _n(v), *[_n(d["lost_by_scenario"].get(s)) for d in rep["delays"]])
    con.print(t)
    worst = {}
    for x in rep["relief_lost"]:
        if x["expected_lost"] > 1e-9 and x["delay_years"] not in worst:
            worst[x["delay_years"]] = x
    for d, x in worst.items():
        con.print(
            f"  largest loss at {d}y: {x['scenario']} / {x['track']}: {x['relief_lost']:.2f} if it comes true "
            f"(p {x['probability']:.2f}, expected {x['expected_lost']:.2f})"
        )

    con.print("[bold]Plans side by side[/]: modules (first year committed); · = not used")
    t = _table("lever", "now", *labels)
    by = {(p["delay_years"], p["lever"]): p for p in rep["plans"]}
    for l in dict.fromkeys(p["lever"] for p in rep["plans"]):
        cells = [_mods(by[(0, l)]["modules"], by[(0, l)]["first_year"])]
        for d in rep["delays"]:
            p = by[(d["delay_years"], l)]
            cells.append(_mods(p["modules"], p["first_year"]) + (f" {p['change']}" if p["change"] else ""))
        if any(c not in ("·", "-") for c in cells):
            t.add_row(l, *cells)
    con.print(t)
    for d in rep["delays"]:
        for r in d["out_of_reach"]:
            con.print(f"  [yellow]{d['delay_years']}y: {r['lever']}: {r['reason']}[/]")
        if d["status"] == "infeasible":
            con.print(
                f"  [red]{d['delay_years']}y: infeasible[/]: no roadmap meets every limit when nothing starts before {d['start_year']}"
            )
            for line in d.get("conflicts", []):
                con.print(f"    - {line}")


@main.command("delay")
@CASE_ARG
@click.option(
    "--years",
    "years_text",
    default="1,2",
    show_default=True,
    metavar="D1,D2,...",
    help="Delays to price, in years: no commitment before first_year + D.",
)
@solve_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write summary.json, delays.csv, relief_lost.csv, plans.csv, roadmap.csv, spending.csv and out_of_reach.csv to DIR.",
)
@guarded
def delay_cmd(case, years_text, overrides, force, exclude, time_limit, mip_gap, threads, seed, as_json, out_dir):
    """Cost of delay: the best roadmap if no commitment can start before first_year + D,
    against acting now: relief lost in total, by scenario and by track, and what moves
    later or drops.

    \b
    Examples:
      relief delay                              # the default case, delays of 1 and 2 years
      relief delay examples/tiny --years 1 --json
      relief delay --years 1,2,3 --out runs/delay
      relief delay --force korea_zinc_smelter --set budget.2026.public_budget_usd_bn=20
    """
    from relief.model.analyses.delay import cost_of_delay

    years = _parse_years(years_text)
    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed)
    try:
        analysis = cost_of_delay(
            work, options, years, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides)
        )
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rep = analysis.report()
    _emit(rep, out_dir, as_json, DELAY_TABLES, render_delay)
    _finish_status(rep, analysis.now.status, analysis.now.conflicts, "acting now")


# ---------------------------------------------------------------- relief coordination

COORDINATION_TABLES = {
    "owners": (
        "owners.csv",
        [
            "owner",
            "kind",
            "capacity_usd_bn",
            "levers",
            "sectors",
            "status_alone",
            "own_relief_alone",
            "own_relief_fragmented",
            "own_relief_coordinated",
            "capex_alone",
            "capex_coordinated",
            "public_spend_alone",
            "public_spend_coordinated",
        ],
    ),
    "relief_by_scenario": (
        "relief_by_scenario.csv",
        ["scenario", "probability", "coordinated", "fragmented", "difference"],
    ),
    "relief_by_track": ("relief_by_track.csv", ["track", "coordinated", "fragmented", "difference"]),
    "relief_by_sector": (
        "relief_by_sector.csv",
        ["sector", "track", "cared_by", "coordinated", "fragmented", "difference"],
    ),
    "plans": (
        "plans.csv",
        [
            "lever",
            "owner",
            "coordinated_modules",
            "coordinated_first_year",
            "fragmented_modules",
            "fragmented_first_year",
            "change",
        ],
    ),
    "roadmap": ("roadmap.csv", ["plan", "lever", "owner", "year", "committed"]),
    "spending": ("spending.csv", ["year", "budget", "coordinated", "fragmented", "fragmented_over_budget"]),
    (lambda rep: [{"plan": "fragmented", "violation": v} for v in rep["fragmented"]["violations"]]): (
        "violations.csv",
        ["plan", "violation"],
    ),
}


def render_coordination(rep: dict) -> None:
    from relief.cli.render import _console

    con = _console()
    c, f = rep["coordinated"], rep["fragmented"]
    con.print(f"[bold]{rep['case']}[/]  value of coordination: one joint roadmap against each owner choosing alone")
    if c["expected_relief"] is None:
        con.print(f"[bold red]No coordinated plan[/] (status {c['status']}): nothing to compare.")
        return
    t = _table("plan", "status", "expected relief", "public spend", "total capex")
    t.add_row(
        "coordinated (joint optimum)",
        c["status"],
        _n(c["expected_relief"]),
        _n(c["public_spend"]),
        _n(c["total_spend"]),
    )
    t.add_row(
        "fragmented (union of owners' picks)",
        f["status"],
        _n(f["expected_relief"]),
        _n(f["public_spend"]),
        _n(f["total_spend"]),
    )
    con.print(t)
    if rep["difference"] is not None:
        share = (
            ""
            if rep["difference_share"] is None
            else f" ({100 * rep['difference_share']:.0f}% of the coordinated relief)"
        )
        con.print(f"[bold]Coordination is worth {rep['difference']:.2f} of expected relief{share}.[/]")
    w = rep["without_owner_capacities"]
    if (
        w["expected_relief"] is not None
        and c["expected_relief"] is not None
        and abs(w["expected_relief"] - c["expected_relief"]) > 1e-6 * max(1, abs(w["expected_relief"]))
    ):
        con.print(
            f"  The owners' capacities bind: without them (relief solve) the joint optimum is {w['expected_relief']:.2f}."
        )
    if f["violations"]:
        con.print("[bold red]The fragmented plan breaks joint limits[/] (its relief is not attainable as it stands):")
        for v in f["violations"]:
            con.print(f"  - {v}")

    con.print("[bold]Relief by scenario[/] (discounted relief over the horizon if that scenario comes true)")
    t = _table("scenario", "p", "coordinated", "fragmented", "difference")
    for x in rep["relief_by_scenario"]:
        t.add_row(x["scenario"], _n(x["probability"]), _n(x["coordinated"]), _n(x["fragmented"]), _s(x["difference"]))
    con.print(t)

    con.print("[bold]Owners[/]: expected relief of the sectors each cares about, and the capex it commits")
    con.print(
        "  relief: alone = its own plan in its own view; fragmented / coordinated = its sectors' relief under each plan"
    )
    t = _table(
        "owner", "capacity", "relief alone", "fragmented", "coordinated", "capex alone", "capex coord.", "cares about"
    )
    t.columns[0].no_wrap = True
    for o in rep["owners"]:
        sectors = "all (government)" if isinstance(o["sectors"], str) else (", ".join(o["sectors"]) or "none")
        alone = _n(o["own_relief_alone"]) + (
            "" if o["status_alone"] in ("optimal", "no levers") else f" ({o['status_alone']})"
        )
        t.add_row(
            o["owner"],
            _n(o["capacity_usd_bn"], "{:.1f}"),
            alone,
            _n(o["own_relief_fragmented"]),
            _n(o["own_relief_coordinated"]),
            _n(o["capex_alone"]),
            _n(o["capex_coordinated"]),
            sectors,
        )
    t.columns[-1].justify = "left"
    t.columns[-1].overflow = "fold"
    con.print(t)

    con.print("[bold]Plans side by side[/]: modules (first year committed); · = not used")
    t = _table("lever", "owner", "coordinated", "fragmented", "fragmented vs coordinated")
    for p in rep["plans"]:
        a, b = (
            _mods(p["coordinated_modules"], p["coordinated_first_year"]),
            _mods(p["fragmented_modules"], p["fragmented_first_year"]),
        )
        if a not in ("·", "-") or b != "·":
            t.add_row(p["lever"], p["owner"], a, b, p["change"])
    con.print(t)

    con.print("[bold]Public spending by year against the budget[/], USD bn")
    t = _table("year", "budget", "coordinated", "fragmented", "")
    for s in rep["spending"]:
        t.add_row(
            str(s["year"]),
            _n(s["budget"]),
            _n(s["coordinated"]),
            _n(s["fragmented"]),
            "[red]over[/]" if s["fragmented_over_budget"] else "",
        )
    con.print(t)

    con.print("[bold]Expected relief by sector[/] and who cares about it")
    t = _table("sector", "track", "coordinated", "fragmented", "difference", "cared by")
    t.columns[0].no_wrap = True
    for x in rep["relief_by_sector"]:
        t.add_row(
            x["sector"],
            x["track"],
            _n(x["coordinated"]),
            _n(x["fragmented"]),
            _s(x["difference"]),
            x["cared_by"].replace(",", ", "),
        )
    t.columns[-1].justify = "left"
    con.print(t)
    for line in rep.get("warnings", []):
        con.print(f"[yellow]warning: {line}[/]")


@main.command("coordination")
@CASE_ARG
@solve_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write summary.json, owners.csv, relief_by_scenario.csv, relief_by_track.csv, relief_by_sector.csv, plans.csv, roadmap.csv, spending.csv and violations.csv to DIR.",
)
@guarded
def coordination_cmd(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, as_json, out_dir):
    """Value of coordination: the joint optimum against the plan that results when each
    owner of levers (owners.csv, levers.csv owner) picks alone, with its own capacity,
    for the sectors it cares about (owner_sectors.csv).

    The owners' capacities bind both plans (as pools on capex); alone, an owner sees the
    whole public budget, so the union of the picks may break it: that is reported.

    \b
    Examples:
      relief coordination                       # the default case
      relief coordination --json
      relief coordination --set owners.kogas.kind=government --out runs/coord-kogas
      relief coordination my-case/ --mip-gap 0.001
    """
    from relief.model.analyses.coordination import value_of_coordination

    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed)
    try:
        analysis = value_of_coordination(
            work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides)
        )
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rep = analysis.report()
    _emit(rep, out_dir, as_json, COORDINATION_TABLES, render_coordination)
    _finish_status(
        rep,
        analysis.coordinated.status,
        analysis.coordinated.conflicts,
        "the coordinated plan (with the owners' capacities)",
    )
