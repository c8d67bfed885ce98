"""`relief delay`: the cost of delay, the best roadmap if no commitment can start before
first_year + D against acting now (the logic is model/analyses/delay.py; docs/analyses.md
explains it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from relief.cli import options as o
from relief.cli.emit import emit, exit_status, record_tables
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.format import modules_since, number
from relief.cli.inputs import prepare
from relief.cli.render import table

if TYPE_CHECKING:
    from rich.console import Console

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
    from relief.cli.render import console

    con = console()
    now = rep["now"]
    con.print(
        f"[bold]{rep['case']}[/]  cost of delay: acting now (from {rep['first_year']}) against no "
        "commitment before a later year"
    )
    if now["expected_relief"] is None:
        con.print(f"[bold red]Acting now has no plan[/] (status {now['status']}): nothing to compare.")
        return
    t = table("plan", "first year allowed", "status", "expected relief", "lost", "lost %", "public spend")
    t.add_row(
        "now",
        str(rep["first_year"]),
        now["status"],
        number(now["expected_relief"]),
        "",
        "",
        number(now["public_spend"]),
    )
    for d in rep["delays"]:
        t.add_row(
            f"delay {d['delay_years']}y",
            str(d["start_year"]),
            d["status"],
            number(d["expected_relief"]),
            number(d["relief_lost"]),
            number(None if d["share_lost"] is None else 100 * d["share_lost"], "{:.0f}%"),
            number(d["public_spend"]),
        )
    con.print(t)
    _render_losses(con, rep)
    _render_plans(con, rep)


def _labels(rep: dict) -> list[str]:
    return [f"delay {d['delay_years']}y" for d in rep["delays"]]


def _render_losses(con: Console, rep: dict) -> None:
    """Relief lost by track and by scenario, and each delay's largest loss."""
    now, labels = rep["now"], _labels(rep)
    con.print("[bold]Expected relief lost by track[/] (discounted, probability-weighted)")
    t = table("track", *labels)
    tracks = list(dict.fromkeys(r for d in rep["delays"] for r in d["lost_by_track"]))
    for r in tracks:
        t.add_row(r, *[number(d["lost_by_track"].get(r)) for d in rep["delays"]])
    con.print(t)

    con.print("[bold]Relief lost by scenario[/] (discounted relief over the horizon if that scenario comes true)")
    t = table("scenario", "p", "relief now", *[f"lost, {x}" for x in labels])
    prob = {x["scenario"]: x["probability"] for x in rep["relief_lost"]}
    for s, v in now["by_scenario"].items():
        t.add_row(
            s, number(prob.get(s), "{:.2f}"), number(v), *[number(d["lost_by_scenario"].get(s)) for d in rep["delays"]]
        )
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


def _render_plans(con: Console, rep: dict) -> None:
    """The plans side by side, the levers out of reach, the delays that are infeasible."""
    con.print("[bold]Plans side by side[/]: modules (first year committed); · = not used")
    t = table("lever", "now", *_labels(rep))
    by = {(p["delay_years"], p["lever"]): p for p in rep["plans"]}
    for l in dict.fromkeys(p["lever"] for p in rep["plans"]):
        cells = [modules_since(by[(0, l)]["modules"], by[(0, l)]["first_year"])]
        for d in rep["delays"]:
            p = by[(d["delay_years"], l)]
            cells.append(modules_since(p["modules"], p["first_year"]) + (f" {p['change']}" if p["change"] else ""))
        if any(c not in ("·", "-") for c in cells):
            t.add_row(l, *cells)
    con.print(t)
    for d in rep["delays"]:
        for r in d["out_of_reach"]:
            con.print(f"  [yellow]{d['delay_years']}y: {r['lever']}: {r['reason']}[/]")
        if d["status"] == "infeasible":
            con.print(
                f"  [red]{d['delay_years']}y: infeasible[/]: no roadmap meets every limit when nothing "
                f"starts before {d['start_year']}"
            )
            for line in d.get("conflicts", []):
                con.print(f"    - {line}")


@click.command("delay")
@o.case_argument
@click.option(
    "--years",
    "years_text",
    default="1,2",
    show_default=True,
    metavar="D1,D2,...",
    help="Delays to price, in years: no commitment before first_year + D.",
)
@o.solve_options
@o.out_folder("summary.json, delays.csv, relief_lost.csv, plans.csv, roadmap.csv, spending.csv and out_of_reach.csv")
@guarded
def delay_cmd(
    case,
    years_text,
    overrides,
    force,
    exclude,
    without_obligations,
    time_limit,
    mip_gap,
    threads,
    seed,
    as_json,
    out_dir,
):
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
    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations)
    try:
        analysis = cost_of_delay(
            work, options, years, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides)
        )
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rep = analysis.report()
    if without_obligations:
        rep["without_obligations"] = True
    emit(
        rep,
        as_json=as_json,
        render=lambda: render_delay(rep),
        out_dir=out_dir,
        tables=lambda: record_tables(rep, DELAY_TABLES),
    )
    exit_status(rep, analysis.now.status, analysis.now.conflicts, "acting now")
