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


REGIME_NAMES = ("union", "first_come", "rationed", "in_turn")
SHORT = {
    "union": "union of picks alone",
    "first_come": "first come, first served",
    "rationed": "rationed public money",
    "in_turn": "in turn, seeing others",
}

COORDINATION_TABLES = {
    "regimes": (
        "regimes.csv",
        [
            "regime",
            "label",
            "attainable",
            "headline",
            "status",
            "expected_relief",
            "public_spend",
            "total_spend",
            "value_of_coordination",
            "value_share",
            "order",
        ],
    ),
    "why": ("why.csv", ["mechanism", "text", "owners", "track", "tier", "years", "scenarios", "amount"]),
    "fragility": (
        "fragility.csv",
        ["labelling", "changes", "coordinated", "headline_regime", "value", *[f"value_{g}" for g in REGIME_NAMES]],
    ),
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
            *[f"own_relief_{g}" for g in REGIME_NAMES],
            "capex_alone",
            "capex_coordinated",
            "public_spend_alone",
            "public_spend_coordinated",
        ],
    ),
    "relief_by_scenario": (
        "relief_by_scenario.csv",
        ["scenario", "probability", "coordinated", "fragmented", *REGIME_NAMES, "difference"],
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
            *[f"{g}_{x}" for g in REGIME_NAMES for x in ("modules", "first_year")],
            "change",
        ],
    ),
    "roadmap": ("roadmap.csv", ["plan", "lever", "owner", "year", "committed"]),
    "spending": (
        "spending.csv",
        ["year", "budget", "coordinated", "fragmented", *REGIME_NAMES, "fragmented_over_budget", "union_over_budget"],
    ),
    "shares": ("shares.csv", ["owner", "limit", "budget", "asked", "share"]),
    (lambda rep: [{"plan": g["regime"], "violation": v} for g in rep["regimes"] for v in g["violations"]]): (
        "violations.csv",
        ["plan", "violation"],
    ),
}


def render_coordination(rep: dict) -> None:
    from relief.cli.render import console

    con = console()
    c = rep["coordinated"]
    con.print(
        f"[bold]{rep['case']}[/]  value of coordination: one joint roadmap against each owner deciding for itself"
    )
    if c["expected_relief"] is None:
        con.print(f"[bold red]No coordinated plan[/] (status {c['status']}): nothing to compare.")
        return
    for part in (_render_plans, _render_why, _render_fragility, _render_scenarios, _render_owners):
        part(con, rep)
    for part in (_render_side_by_side, _render_spending, _render_sectors):
        part(con, rep)
    for line in rep.get("warnings", []):
        con.print(f"[yellow]warning: {line}[/]")


def headline_sentence(rep: dict) -> str:
    """The sentence a planner can quote."""
    by = {g["regime"]: g for g in rep["regimes"]}
    head = by[rep["headline_regime"]]
    other = by["rationed" if head["regime"] == "first_come" else "first_come"]
    share = "" if rep["difference_share"] is None else f" ({100 * rep['difference_share']:.0f}%)"
    return (
        f"Coordination is worth at least {rep['difference']:.2f} of expected relief{share}: what the owners lose "
        f"deciding for themselves, {head['label']} (with {other['label']}: {other['value_of_coordination']:.2f})."
    )


def _render_plans(con: Console, rep: dict) -> None:
    """Every plan, what coordination is worth against each, and the joint limits a plan breaks."""
    c = rep["coordinated"]
    t = table("plan", "attainable", "expected relief", "public spend", "total capex", "coordination worth")
    t.columns[0].no_wrap = True
    t.add_row(
        "coordinated (joint optimum)",
        "yes",
        number(c["expected_relief"]),
        number(c["public_spend"]),
        number(c["total_spend"]),
        "",
    )
    for g in rep["regimes"]:
        name = SHORT[g["regime"]] + (" [bold](headline)[/]" if g["headline"] else "")
        att = "yes" if g["feasible"] else "[red]no: breaks limits[/]"
        t.add_row(
            name,
            att,
            number(g["expected_relief"]),
            number(g["public_spend"]),
            number(g["total_spend"]),
            signed(g["value_of_coordination"], 2),
        )
    con.print(t)
    if rep["difference"] is not None:
        con.print(f"[bold]{headline_sentence(rep)}[/]")
    by = {g["regime"]: g for g in rep["regimes"]}
    if "in_turn" in by and by["in_turn"]["order"]:
        g = by["in_turn"]
        con.print(
            f"  Deciding in turn ({', '.join(g['order'])}), each seeing what the earlier ones committed, the owners "
            f"reach {g['expected_relief']:.2f}: coordination adds {g['value_of_coordination']:.2f} to that."
        )
    w = rep["without_owner_capacities"]
    if w["expected_relief"] is not None and abs(w["expected_relief"] - c["expected_relief"]) > 1e-6 * max(
        1, abs(w["expected_relief"])
    ):
        con.print(
            "  The owners' capacities bind: without them (relief solve) the joint optimum is "
            f"{w['expected_relief']:.2f}."
        )
    for g in rep["regimes"]:
        if g["violations"]:
            con.print(f"[bold red]The plan '{SHORT[g['regime']]}' breaks joint limits[/] (its relief cannot happen):")
            for v in g["violations"]:
                con.print(f"  - {v}")


def _render_why(con: Console, rep: dict) -> None:
    if not rep["why"]:
        return
    con.print("[bold]Why[/]")
    for w in rep["why"]:
        con.print(f"  - {w['text']}")


def _render_fragility(con: Console, rep: dict) -> None:
    rows = rep.get("fragility") or []
    if len(rows) < 2:
        if rep.get("labellings"):
            n = len(rep["labellings"])
            con.print(
                f"  labellings.csv has {n} labelling{'s' if n > 1 else ''}: --labellings gives the value under each."
            )
        return
    con.print("[bold]How fragile the number is[/]: the value of coordination under each labelling of labellings.csv")
    t = table("labelling", "changes", "headline", "first come", "rationed", "union", "in turn")
    for r in rows:
        t.add_row(
            r["labelling"],
            r["changes"] or "-",
            number(r["value"]),
            number(r["value_first_come"]),
            number(r["value_rationed"]),
            number(r["value_union"]) + ("" if r["union_feasible"] else " (breaks limits)"),
            number(r["value_in_turn"]),
        )
    t.columns[1].justify = "left"
    t.columns[1].overflow = "fold"
    con.print(t)


def _render_scenarios(con: Console, rep: dict) -> None:
    con.print("[bold]Relief by scenario[/] (discounted relief over the horizon if that scenario comes true)")
    t = table("scenario", "p", "coordinated", "first come", "rationed", "union", "in turn")
    for x in rep["relief_by_scenario"]:
        t.add_row(
            x["scenario"],
            number(x["probability"]),
            number(x["coordinated"]),
            number(x["first_come"]),
            number(x["rationed"]),
            number(x["union"]),
            number(x["in_turn"]),
        )
    con.print(t)


def _render_owners(con: Console, rep: dict) -> None:
    con.print("[bold]Owners[/]: expected relief of the sectors each cares about, and the capex it commits")
    con.print(
        "  relief: alone = its own plan in its own view (whole budget); others = its sectors' relief under each plan"
    )
    t = table(
        "owner",
        "capacity",
        "relief alone",
        "first come",
        "rationed",
        "coordinated",
        "capex alone",
        "capex coord.",
        "cares about",
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
            number(owner["own_relief_first_come"]),
            number(owner["own_relief_rationed"]),
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
    t = table("lever", "owner", "coordinated", "first come", "rationed", "union", "in turn", "headline vs coord.")
    for p in rep["plans"]:
        cells = [modules_since(p["coordinated_modules"], p["coordinated_first_year"])]
        cells += [
            modules_since(p[f"{g}_modules"], p[f"{g}_first_year"])
            for g in ("first_come", "rationed", "union", "in_turn")
        ]
        if any(c not in ("·", "-") for c in cells):
            t.add_row(p["lever"], p["owner"], *cells, p["change"])
    con.print(t)


def _render_spending(con: Console, rep: dict) -> None:
    con.print("[bold]Public spending by year against the budget[/], USD bn")
    t = table("year", "budget", "coordinated", "first come", "rationed", "union", "in turn")
    for s in rep["spending"]:
        t.add_row(
            str(s["year"]),
            number(s["budget"]),
            number(s["coordinated"]),
            number(s["first_come"]),
            number(s["rationed"]),
            number(s["union"]) + (" [red]over[/]" if s["union_over_budget"] else ""),
            number(s["in_turn"]),
        )
    con.print(t)


def _render_sectors(con: Console, rep: dict) -> None:
    con.print(f"[bold]Expected relief by sector[/] and who cares about it (headline: {rep['fragmented']['label']})")
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
    "summary.json, regimes.csv, why.csv, fragility.csv, owners.csv, relief_by_scenario.csv, relief_by_track.csv, "
    "relief_by_sector.csv, plans.csv, roadmap.csv, spending.csv, shares.csv and violations.csv"
)
@click.option(
    "--labellings",
    is_flag=True,
    help="Also the value under each labelling of labellings.csv: how fragile the number is "
    "(only the owners' solves a labelling changes run again: 20 s in all on the default case, 12 s without).",
)
@guarded
def coordination_cmd(
    case,
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
    labellings,
):
    """Value of coordination: the joint optimum against the plans that result when each
    owner of levers (owners.csv, levers.csv owner) decides for itself, with its own
    capacity, for the sectors it cares about (owner_sectors.csv).

    Four fragmented plans: the union of each owner's picks alone (optimistic: it may break
    a shared budget), first come first served (owners.csv order), public money rationed by
    what each asked, and owners deciding in turn while seeing the earlier commitments. The
    headline is the better of first come and rationed: coordination is worth at least that.
    With --labellings, also the value under each labelling of labellings.csv.

    \b
    Examples:
      relief coordination                       # the default case
      relief coordination --json
      relief coordination --labellings          # how fragile the number is
      relief coordination --set owners.kogas.kind=government --out runs/coord-kogas
      relief coordination my-case/ --mip-gap 0.001
    """
    from relief.model.analyses.coordination import value_of_coordination

    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations)
    try:
        analysis = value_of_coordination(
            work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides), labellings=labellings
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
