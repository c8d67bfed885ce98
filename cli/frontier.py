"""`relief frontier`: expected relief against the total public budget (or another
parameter), a preset over the sweep machinery (model/sweeps/frontier.py computes it)."""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.inputs import check_levers, load
from relief.cli.sweep import default_out, execute, fail_on_check, solver_options


@click.command()
@o.case_argument
@click.option(
    "--param",
    "param",
    default="case.total_public_budget",
    show_default=True,
    metavar="PATH",
    help="The parameter on the x axis (a --set path; PATH* for a factor).",
)
@click.option(
    "--range",
    "range_",
    metavar="START:STOP:STEPS",
    help="Values of the parameter (default, 21 steps from 0: for the total public budget up to 1.5x what the "
    "optimum spends without that cap (yearly budgets still apply), to 2 significant digits; for a factor up to 2; "
    "for case.tier_margin up to 20%; otherwise up to twice the case's value).",
)
@o.sweep_options
@guarded
def frontier(
    case,
    param,
    range_,
    overrides,
    force,
    exclude,
    workers,
    scheduler,
    time_limit,
    mip_gap,
    out_dir,
    resume,
    as_json,
    no_reuse,
    yes,
):
    """Expected relief against the total public budget (or another --param): the knees
    and the marginal relief per extra unit (USD bn for budgets) between points. A preset
    over the sweep machinery.

    \b
    Examples:
      relief frontier                                       # total budget, 21 points, 0 to 1.5x the optimum spend
      relief frontier --range 0:300:61 --workers 2
      relief frontier --param 'budget.*.public_budget_usd_bn*' --range 0.25:2:15
      relief frontier --param budget.2027.public_budget_usd_bn --range 0:40:21
      relief frontier --param case.tier_margin --range 0:0.1:5   # relief against a margin above every threshold

    Output: frontier.csv (value, expected relief, public spend, marginal relief, knee),
    frontier.png, and the sweep's own points.csv and summary.json.
    """
    from relief.model.core.io import atomic_write_csv, atomic_write_json
    from relief.model.sweeps.frontier import frontier_definition, frontier_frame, frontier_rows
    from relief.model.sweeps.spec import SweepError

    try:
        base = load(case)
        check_levers(base, force, exclude)
        defn, p = frontier_definition(base, param, range_, force, exclude, overrides)
        options = solver_options(base, time_limit, mip_gap)
        out = out_dir or default_out(base, defn, "frontier")
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse, yes=yes
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rows = frontier_rows(points, store.done, p.label)
    atomic_write_csv(out / "frontier.csv", frontier_frame(rows, p.label))
    _chart(rows, p.label, out, summary)
    summary["frontier"] = rows
    atomic_write_json(out / "summary.json", summary)
    emit(summary, as_json=as_json, render=lambda: render(rows, p.label), written=out)
    fail_on_check(summary, out)


def _chart(rows: list[dict], label: str, out, summary: dict) -> None:
    """frontier.png; a chart that cannot be drawn is a warning, never a lost frontier."""
    try:
        from relief.cli import charts

        charts.frontier_chart(
            [r["x"] for r in rows],
            [r["expected_relief"] for r in rows],
            out / "frontier.png",
            knees=[i for i, r in enumerate(rows) if r["knee"]],
            marginal=[r["marginal"] for r in rows],
            xlabel=label,
            ylabel="expected relief, USD bn",
        )
        summary["charts"] = sorted(set(summary.get("charts", [])) | {"frontier.png"})
    except Exception as e:
        click.echo(f"relief: warning: the frontier chart could not be drawn ({type(e).__name__}: {e})", err=True)


def render(rows: list[dict], label: str) -> None:
    from rich.table import Table

    from relief.cli.format import number
    from relief.cli.render import console

    con = console()
    con.print(f"[bold]Frontier: expected relief against {label}[/]")
    t = Table()
    for c in (label, "expected relief", "public spend", "marginal / unit", "knee"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(
            f"{r['x']:g}",
            f"{r['expected_relief']:.2f}",
            number(r["public_spend"], missing=""),
            number(r["marginal"], "{:.3f}", missing=""),
            "knee" if r["knee"] else "",
        )
    con.print(t)
