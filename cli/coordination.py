"""`relief coordination`: the value of coordination, the joint optimum against the plan
that results when each owner of levers picks alone (the logic is
model/analyses/coordination.py; docs/analyses.md explains it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from relief.cli import options as o
from relief.cli.emit import emit, exit_status, record_tables
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.format import modules_since, number, signed
from relief.cli.inputs import prepare
from relief.cli.render import table

if TYPE_CHECKING:
    from rich.console import Console


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
    from relief.cli.render import console

    con = console()
    c = rep["coordinated"]
    con.print(f"[bold]{rep['case']}[/]  value of coordination: one joint roadmap against each owner choosing alone")
    if c["expected_relief"] is None:
        con.print(f"[bold red]No coordinated plan[/] (status {c['status']}): nothing to compare.")
        return
    for part in (_render_plans, _render_scenarios, _render_owners, _render_side_by_side, _render_spending):
        part(con, rep)
    _render_sectors(con, rep)
    for line in rep.get("warnings", []):
        con.print(f"[yellow]warning: {line}[/]")


def _render_plans(con: Console, rep: dict) -> None:
    """The two plans, what coordination is worth, and the joint limits the fragmented plan breaks."""
    c, f = rep["coordinated"], rep["fragmented"]
    t = table("plan", "status", "expected relief", "public spend", "total capex")
    t.add_row(
        "coordinated (joint optimum)",
        c["status"],
        number(c["expected_relief"]),
        number(c["public_spend"]),
        number(c["total_spend"]),
    )
    t.add_row(
        "fragmented (union of owners' picks)",
        f["status"],
        number(f["expected_relief"]),
        number(f["public_spend"]),
        number(f["total_spend"]),
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
            "  The owners' capacities bind: without them (relief solve) the joint optimum is "
            f"{w['expected_relief']:.2f}."
        )
    if f["violations"]:
        con.print("[bold red]The fragmented plan breaks joint limits[/] (its relief is not attainable as it stands):")
        for v in f["violations"]:
            con.print(f"  - {v}")


def _render_scenarios(con: Console, rep: dict) -> None:
    con.print("[bold]Relief by scenario[/] (discounted relief over the horizon if that scenario comes true)")
    t = table("scenario", "p", "coordinated", "fragmented", "difference")
    for x in rep["relief_by_scenario"]:
        t.add_row(
            x["scenario"],
            number(x["probability"]),
            number(x["coordinated"]),
            number(x["fragmented"]),
            signed(x["difference"], 2),
        )
    con.print(t)


def _render_owners(con: Console, rep: dict) -> None:
    con.print("[bold]Owners[/]: expected relief of the sectors each cares about, and the capex it commits")
    con.print(
        "  relief: alone = its own plan in its own view; fragmented / coordinated = its sectors' relief under each plan"
    )
    t = table(
        "owner", "capacity", "relief alone", "fragmented", "coordinated", "capex alone", "capex coord.", "cares about"
    )
    t.columns[0].no_wrap = True
    for owner in rep["owners"]:
        sectors = "all (government)" if isinstance(owner["sectors"], str) else (", ".join(owner["sectors"]) or "none")
        alone = number(owner["own_relief_alone"]) + (
            "" if owner["status_alone"] in ("optimal", "no levers") else f" ({owner['status_alone']})"
        )
        t.add_row(
            owner["owner"],
            number(owner["capacity_usd_bn"], "{:.1f}"),
            alone,
            number(owner["own_relief_fragmented"]),
            number(owner["own_relief_coordinated"]),
            number(owner["capex_alone"]),
            number(owner["capex_coordinated"]),
            sectors,
        )
    t.columns[-1].justify = "left"
    t.columns[-1].overflow = "fold"
    con.print(t)


def _render_side_by_side(con: Console, rep: dict) -> None:
    con.print("[bold]Plans side by side[/]: modules (first year committed); · = not used")
    t = table("lever", "owner", "coordinated", "fragmented", "fragmented vs coordinated")
    for p in rep["plans"]:
        a, b = (
            modules_since(p["coordinated_modules"], p["coordinated_first_year"]),
            modules_since(p["fragmented_modules"], p["fragmented_first_year"]),
        )
        if a not in ("·", "-") or b != "·":
            t.add_row(p["lever"], p["owner"], a, b, p["change"])
    con.print(t)


def _render_spending(con: Console, rep: dict) -> None:
    con.print("[bold]Public spending by year against the budget[/], USD bn")
    t = table("year", "budget", "coordinated", "fragmented", "")
    for s in rep["spending"]:
        t.add_row(
            str(s["year"]),
            number(s["budget"]),
            number(s["coordinated"]),
            number(s["fragmented"]),
            "[red]over[/]" if s["fragmented_over_budget"] else "",
        )
    con.print(t)


def _render_sectors(con: Console, rep: dict) -> None:
    con.print("[bold]Expected relief by sector[/] and who cares about it")
    t = table("sector", "track", "coordinated", "fragmented", "difference", "cared by")
    t.columns[0].no_wrap = True
    for x in rep["relief_by_sector"]:
        t.add_row(
            x["sector"],
            x["track"],
            number(x["coordinated"]),
            number(x["fragmented"]),
            signed(x["difference"], 2),
            x["cared_by"].replace(",", ", "),
        )
    t.columns[-1].justify = "left"
    con.print(t)


@click.command("coordination")
@o.case_argument
@o.solve_options
@o.out_folder(
    "summary.json, owners.csv, relief_by_scenario.csv, relief_by_track.csv, relief_by_sector.csv, plans.csv, "
    "roadmap.csv, spending.csv and violations.csv"
)
@guarded
def coordination_cmd(
    case, overrides, force, exclude, without_obligations, time_limit, mip_gap, threads, seed, as_json, out_dir
):
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

    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations)
    try:
        analysis = value_of_coordination(
            work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides)
        )
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rep = analysis.report()
    if without_obligations:
        rep["without_obligations"] = True
    emit(
        rep,
        as_json=as_json,
        render=lambda: render_coordination(rep),
        out_dir=out_dir,
        tables=lambda: record_tables(rep, COORDINATION_TABLES),
    )
    exit_status(
        rep,
        analysis.coordinated.status,
        analysis.coordinated.conflicts,
        "the coordinated plan (with the owners' capacities)",
    )
