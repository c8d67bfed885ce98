"""`relief risk`: expected relief against CVaR as the weight on CVaR moves from 0 to 1, a
preset over the sweep machinery (model/analyses/risk_frontier.py computes it)."""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.inputs import check_levers, load
from relief.cli.sweep import default_out, execute, fail_on_check, solver_options


@click.command("risk")
@o.case_argument
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.8,
    show_default=True,
    help="CVaR level: the mean relief of the worst 1-ALPHA of probability.",
)
@click.option("--steps", type=click.IntRange(min=2), default=11, show_default=True, help="Weights from 0 to 1.")
@o.sweep_options
@guarded
def risk_cmd(
    case,
    alpha,
    steps,
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
    """Expected relief against CVaR (the mean relief of the worst 1-ALPHA of probability)
    as the weight on CVaR moves from 0 (expected relief only) to 1 (CVaR only): what
    protection against a bad U.S. stance costs in expected relief. A preset over the
    sweep machinery: one model, only the weight changes between points.

    \b
    Examples:
      relief risk                              # CVaR of the worst 20%, 11 weights
      relief risk --alpha 0.5 --steps 21 --set 'budget.*.public_budget_usd_bn*=0.5'

    Output: risk_frontier.csv (weight, expected relief, CVaR, worst-stance relief, public
    spend, the levers that change), risk_frontier.png, and the sweep's points.csv.
    """
    from relief.model.analyses.risk_frontier import risk_case, risk_definition, risk_frame, risk_rows
    from relief.model.core.io import atomic_write_csv, atomic_write_json
    from relief.model.sweeps.spec import SweepError

    try:
        from relief.model.core.information import require_static
        from relief.model.core.overrides import apply_overrides

        require_static(apply_overrides(load(case), list(overrides)), "relief risk")
        base = risk_case(load(case), alpha)
        check_levers(base, force, exclude)
        defn, p = risk_definition(steps, force, exclude, overrides)
        options = solver_options(base, time_limit, mip_gap)
        out = out_dir or default_out(base, defn, f"risk{alpha:g}")
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse, yes=yes
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rows = risk_rows(base, points, store.done, p.label, alpha)
    table = risk_frame(rows)
    atomic_write_csv(out / "risk_frontier.csv", table)
    try:
        from relief.cli import charts

        charts.risk_chart(table, alpha, out / "risk_frontier.png")
        summary["charts"] = sorted(set(summary.get("charts", [])) | {"risk_frontier.png"})
    except Exception as e:
        click.echo(f"relief: warning: the risk chart could not be drawn ({type(e).__name__}: {e})", err=True)
    summary["risk_frontier"] = {"alpha": alpha, "rows": rows}
    summary["analysis"] = "risk"
    atomic_write_json(out / "summary.json", summary)
    fail_on_check(summary, out)  # before printing: a risk frontier with unchecked points is not shown
    emit(summary, as_json=as_json, render=lambda: render(rows, alpha), written=out)


def render(rows: list[dict], alpha: float) -> None:
    from rich.table import Table

    from relief.cli.render import console

    con = console()
    con.print(
        f"[bold]Expected relief against CVaR{alpha:g} (the mean relief of the worst {1 - alpha:.0%} of probability)[/]"
    )
    t = Table()
    for c in ("weight", "expected relief", f"CVaR{alpha:g}", "worst stance", "public spend", "what changes"):
        t.add_column(c, justify="left" if c == "what changes" else "right", overflow="fold")
    for r in rows:
        t.add_row(
            f"{r['weight']:g}",
            f"{r['expected_relief']:.2f}",
            f"{r['cvar']:.2f}",
            f"{r['worst']:.2f} ({r['worst_scenario']})",
            f"{r['public_spend']:.2f}",
            r["changes"],
        )
    con.print(t)
    if rows:
        a, b = rows[0], rows[-1]
        con.print(
            f"From weight 0 to 1: CVaR {a['cvar']:.2f} -> {b['cvar']:.2f} ({b['cvar'] - a['cvar']:+.2f}), "
            f"expected relief {a['expected_relief']:.2f} -> {b['expected_relief']:.2f} "
            f"({b['expected_relief'] - a['expected_relief']:+.2f})."
        )
