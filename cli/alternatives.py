"""`relief alternatives`: distinct roadmaps within a tolerance of the optimum, and what
each does differently (model/analyses/alternatives.py)."""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_FAILED, EXIT_INPUT, Failure, guarded
from relief.cli.format import what_differs
from relief.cli.inputs import asked, prepare


def parse_within(text: str) -> float:
    t = str(text).strip()
    try:
        v = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise Failure(EXIT_INPUT, f"relief: --within {text!r}: write a share like 5% or 0.05") from None
    if not 0.0 <= v < 1.0:
        raise Failure(EXIT_INPUT, f"relief: --within {text!r}: must be at least 0% and below 100%")
    return v


def render(rep: dict, count: int) -> None:
    from rich import box
    from rich.table import Table

    from relief.cli.render import console

    con = console()
    plans = rep["plans"]
    con.print(
        f"[bold]Roadmaps within {rep['within']:.1%} of the optimum[/] (expected relief at least {rep['floor']:.2f}; "
        "each leaves out a lever of every roadmap above it, best first)"
    )
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for c in ("plan", "expected relief", "of optimum", "public spend", "what it does differently"):
        t.add_column(c, justify="left" if c in ("plan", "what it does differently") else "right", overflow="fold")
    for p in plans:
        diff = what_differs(p)
        t.add_row(
            p["plan"], f"{p['expected_relief']:.2f}", f"{p['share_of_optimum']:.1%}", f"{p['public_spend']:.2f}", diff
        )
    con.print(t)
    found = len(plans) - 1
    if found < count:
        con.print(
            f"Only {found} such roadmap{'s' if found != 1 else ''} reach{'es' if found == 1 else ''} the floor."
            if rep["exhausted"]
            else f"Stopped after {found}: the solver found no further plan in its time.",
            style="dim",
        )
    scen = [k[len("relief:") :] for k in plans[0] if k.startswith("relief:")]
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, title="Relief if each stance comes true", title_justify="left")
    t.add_column("stance", no_wrap=True)
    for p in plans:
        t.add_column(p["plan"].replace("alternative ", "alt "), justify="right")
    for s in scen:
        t.add_row(s, *[f"{p['relief:' + s]:.2f}" for p in plans])
    con.print(t)


@click.command("alternatives")
@o.case_argument
@click.option(
    "--within",
    default="5%",
    show_default=True,
    help="How far below the optimum's expected relief an alternative may be (5% or 0.05).",
)
@click.option(
    "--count", type=click.IntRange(min=1), default=5, show_default=True, help="How many alternatives to look for."
)
@o.out_folder("alternatives.csv, portfolio.csv, schedule.csv, summary.json")
@o.solve_options
@guarded
def alternatives_cmd(
    case,
    within,
    count,
    out_dir,
    overrides,
    force,
    exclude,
    without_obligations,
    time_limit,
    mip_gap,
    threads,
    seed,
    as_json,
):
    """Distinct roadmaps whose expected relief is within a tolerance of the optimum: room
    to negotiate. Each leaves out at least one lever of every roadmap found before it (a
    cut on the build decisions), best first, and each is re-checked independently.

    \b
    Examples:
      relief alternatives                          # up to 5 roadmaps within 5%
      relief alternatives --within 10% --count 8 --out runs/alternatives
      relief alternatives --force korea_zinc_smelter --within 2%
    """
    import pandas as pd

    from relief.model.analyses.alternatives import near_optimal
    from relief.model.core.run import NoPlan

    share = parse_within(within)
    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations)
    try:
        alts = near_optimal(work, options, share, count, tuple(force), tuple(exclude))
    except NoPlan as e:
        raise Failure(EXIT_FAILED, f"relief: alternatives: {e}") from None
    rep = alts.report()
    summary = {
        "analysis": "alternatives",
        "case": work.name,
        "case_path": work.origin,
        "input_sha256": work.sha256(),
        **asked(overrides, force, exclude, without_obligations),
        **rep,
    }
    files = {"alternatives.csv": "plans", "portfolio.csv": "portfolio", "schedule.csv": "schedule"}
    emit(
        summary,
        as_json=as_json,
        render=lambda: render(rep, count),
        out_dir=out_dir,
        tables=lambda: {name: pd.DataFrame(rep[key]) for name, key in files.items()},
    )
