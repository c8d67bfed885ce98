"""`relief obligations`: the price of each obligation of obligations.csv (the logic is
model/analyses/obligations.py; docs/analyses.md explains it)."""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.emit import emit, exit_status, record_tables
from relief.cli.errors import guarded
from relief.cli.format import modules, number
from relief.cli.inputs import asked, prepare
from relief.cli.render import table

OBLIGATION_COLUMNS = [
    "lever",
    "by_year",
    "min_modules",
    "committed_without_obligations",
    "binds_alone",
    "alone_status",
    "alone_expected_relief",
    "alone_discounted_public_spend",
    "relief_cost_alone",
    "spend_cost_alone",
    "all_but_status",
    "all_but_expected_relief",
    "all_but_discounted_public_spend",
    "relief_cost_last",
    "spend_cost_last",
    "source",
]
OBLIGATION_TABLES = {"obligations": ("obligations.csv", OBLIGATION_COLUMNS)}


def render_obligations(rep: dict) -> None:
    from relief.cli.render import console

    con = console()
    con.print(
        f"[bold]{rep['case']}[/]  the price of each obligation: expected relief and discounted public spending, USD bn"
    )
    t = table("plan", "status", "expected relief", "public spend (disc.)")
    for label, w in (("no obligation", rep["none"]), ("every obligation", rep["all"])):
        t.add_row(label, w["status"], number(w["expected_relief"]), number(w["discounted_public_spend"]))
    con.print(t)
    con.print(
        f"All {rep['count']} together cost {number(rep['relief_cost_all'])} of relief and "
        f"{number(rep['spend_cost_all'])} more public spending (discounted)."
    )
    t = table(
        "obligation", "owing nothing", "relief lost alone", "spend alone", "relief lost last", "spend last", "binds"
    )
    for r in rep["obligations"]:
        t.add_row(
            f"{r['lever']} {modules(r['min_modules'])} by {r['by_year']}",
            "-" if r["committed_without_obligations"] is None else modules(r["committed_without_obligations"]),
            number(r["relief_cost_alone"]),
            number(r["spend_cost_alone"]),
            number(r["relief_cost_last"]),
            number(r["spend_cost_last"]),
            {True: "yes", False: "no", None: "?"}[r["binds_alone"]],
        )
    con.print(t)
    con.print(
        "  alone: against no obligation; last: against every other obligation; owing nothing: modules committed by "
        "its year when nothing is owed; binds: fewer than it requires."
    )
    for label, w in (("every obligation", rep["all"]), ("no obligation", rep["none"])):
        for line in w.get("conflicts", []):
            con.print(f"  [red]{label}: infeasible[/]: {line}")


@click.command("obligations")
@o.case_argument
@o.solve_options
@o.out_folder("obligations.csv and summary.json")
@guarded
def obligations_cmd(
    case, overrides, force, exclude, without_obligations, time_limit, mip_gap, threads, seed, as_json, out_dir
):
    """The price of each obligation (obligations.csv): relief and discounted public spending
    with no obligation, with all, with each alone and with all but each; so what each costs
    alone and as the last one added.

    \b
    Examples:
      relief obligations examples/pledges
      relief obligations examples/pledges --json --out runs/obligations
    """
    from relief.model.analyses.obligations import price_obligations

    if without_obligations:
        click.echo("relief: --without-obligations leaves nothing to price: every obligation is priced here anyway.")
        return
    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed)
    analysis = price_obligations(work, options, tuple(force), tuple(exclude), tuple(overrides))
    if analysis is None:
        click.echo(f"relief: {work.name} has no obligations (obligations.csv): nothing to price.")
        return
    rep = {**analysis.report(), **asked(overrides, force, exclude)}
    emit(
        rep,
        as_json=as_json,
        render=lambda: render_obligations(rep),
        out_dir=out_dir,
        tables=lambda: record_tables(rep, OBLIGATION_TABLES),
    )
    exit_status(rep, analysis.all.status, analysis.all.conflicts, "the plan with every obligation")
