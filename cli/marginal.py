"""`relief marginal`: what one more unit of each budget, pool and lever limit is worth:
expected relief by finite difference (MILP re-solved), discounted public spending at the
same relief by LP dual (integer decisions fixed). docs/analyses.md explains which is which."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_FAILED, EXIT_INFEASIBLE, EXIT_INPUT, Failure, guarded
from relief.cli.format import number
from relief.cli.inputs import asked, check_levers, load

if TYPE_CHECKING:
    from rich.console import Console


@contextlib.contextmanager
def progress_bar(quiet: bool):
    """A progress bar on stderr while the limits are moved and re-solved (as sweeps have):
    yields the `on_progress(done, total, name)` callback of `marginal_values`. Rich shows
    it only on a terminal; with --json (quiet) there is none, so stdout stays pure JSON."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]marginal[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )
    task = progress.add_task("marginal", total=None, last="solving the case, then the duals")

    def on_progress(done: int, total: int, name: str | None) -> None:
        progress.update(task, total=total, completed=done, last=name or "moving each limit")

    with progress:
        yield on_progress


def _f(v, fmt="{:+.3f}") -> str:
    return number(v, fmt, missing="n/a")


def _yn(v) -> str:
    return "" if v is None else ("yes" if v else "no")


def _range(r) -> str:
    if r is None:
        return "n/a"
    return f"{r[0]:.4g} to {'inf' if r[1] == float('inf') else f'{r[1]:.4g}'}"


def table(m):
    import pandas as pd

    cols = [
        "limit",
        "kind",
        "name",
        "unit",
        "value",
        "use",
        "slack",
        "binding",
        "step",
        "fd_up",
        "fd_down",
        "integers_changed_up",
        "integers_changed_down",
        "change_up",
        "change_down",
        "status_up",
        "status_down",
        "fd_spend_up",
        "fd_spend_down",
        "dual_spend",
        "dual_relief",
        "lp_fd_up",
        "lp_fd_down",
        "dual_verified",
        "milp_check_up",
        "milp_check_down",
        "milp_check_agrees",
        "method_relief",
        "method_spend",
    ]
    return pd.DataFrame(m.rows(), columns=cols)


def render(m) -> None:
    """The finite differences, the spending duals, then the same in planner's words."""
    from relief.cli.render import console

    con = console()
    base = m.base.evaluation
    con.print(
        f"[bold]Marginal values of the limits[/]: {m.case.name}, expected relief {base.expected_relief:.2f}, "
        f"discounted public spending {base.discounted_public_spend:.2f} (USD bn); {m.resolves} MILP "
        f"solve(s), {m.seconds:.1f} s"
    )
    if m.risk_dropped:
        con.print("  The case's risk measure is set aside: marginal values are of expected relief.", style="dim")
    _render_differences(con, m)
    with_dual = [v for v in m.values if v.dual_spend is not None]
    if with_dual:
        _render_duals(con, m, with_dual)
    _render_words(con, m, with_dual)


def _render_differences(con: Console, m) -> None:
    from rich import box
    from rich.table import Table

    con.print()
    con.print(
        "[bold]Expected relief: finite differences (MILP re-solved)[/], change per unit when the limit "
        "moves by its step"
    )
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, just in (
        ("limit", "left"),
        ("value", "right"),
        ("used", "right"),
        ("binds", "left"),
        ("step", "right"),
        ("up", "right"),
        ("down", "right"),
        ("integer decisions\nchange up/down", "center"),
    ):
        t.add_column(name, justify=just, no_wrap=True)
    for v in m.values:
        lim = v.limit
        cells = []
        for mv, fd in ((v.up, v.fd_up), (v.down, v.fd_down)):
            if mv is not None and not mv.ok:
                cells.append(mv.point.status)
            else:  # a move solved only to a time or gap limit says so
                cells.append(_f(fd) + ("" if mv is None or mv.point.status == "optimal" else f" ({mv.point.status})"))
        t.add_row(
            lim.key,
            f"{lim.value:g}",
            f"{lim.use:.3g}",
            lim.status,
            f"{lim.step:.3g}",
            *cells,
            f"{_yn(v.integers_changed(v.up)) or '-'}/{_yn(v.integers_changed(v.down)) or '-'}",
        )
    con.print(t)


def _render_duals(con: Console, m, with_dual: list) -> None:
    from rich import box
    from rich.table import Table

    con.print()
    con.print(
        "[bold]Discounted public spending at the same relief: LP duals (integer decisions fixed)[/], USD bn per unit"
    )
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("limit", no_wrap=True)
    t.add_column("dual", justify="right")
    t.add_column(f"LP +{m.check_step:g}", justify="right")
    t.add_column(f"LP -{m.check_step:g}", justify="right")
    t.add_column("agrees", justify="center")
    t.add_column("holds for limit", justify="left", no_wrap=True)
    checked = any(v.milp_check for v in with_dual)
    if checked:
        t.add_column(f"MILP +{m.check_step:g}", justify="right")
        t.add_column(f"MILP -{m.check_step:g}", justify="right")
        t.add_column("integers\nsame +/-", justify="center")
        t.add_column("agrees\n+/-", justify="center")
    for v in with_dual:
        cells = [
            v.limit.key,
            _f(v.dual_spend, "{:+.4f}"),
            _f(v.lp_fd_up, "{:+.4f}"),
            _f(None if v.lp_fd_down is None else (-v.lp_fd_down or 0.0), "{:+.4f}"),
            _yn(v.dual_verified),
            _range(v.dual_range),
        ]
        if checked:
            c = v.milp_check or {}
            up, down = c.get("up") or {}, c.get("down") or {}
            cells += [
                _f(up.get("spend_derivative"), "{:+.4f}"),
                _f(down.get("spend_derivative"), "{:+.4f}"),
                "/".join(_yn(d.get("integers_unchanged")) or "-" for d in (up, down)),
                "/".join(_yn(d.get("agrees_with_dual")) or "-" for d in (up, down)),
            ]
        t.add_row(*cells)
    con.print(t)
    con.print(
        "  'LP ±h': the same LP re-solved with the limit moved by h, as a derivative (spend change / limit change); "
        "the dual agrees when it lies between them. 'holds for limit': the values of the limit over which the dual "
        "stays the same (HiGHS's ranging; n/a for a limit on many columns at once)."
        + (" 'MILP ±h': the whole MILP re-solved (relief and spending stages)." if checked else ""),
        style="dim",
    )


def _render_words(con: Console, m, with_dual: list) -> None:
    from relief.model.analyses.marginal import relief_words, spend_words

    con.print()
    con.print("[bold]In planner's words[/]")
    moving = sorted(
        (v for v in m.values if (v.fd_up or 0) != 0 or (v.fd_down or 0) != 0),
        key=lambda v: -max(abs(v.fd_up or 0), abs(v.fd_down or 0)),
    )
    for v in moving:
        for s, fd in ((1, v.fd_up), (-1, v.fd_down)):
            if fd:
                con.print(f"  • {relief_words(v, s)}")
    still = [v.limit.key for v in m.values if v not in moving]
    if still:
        con.print(
            "  • moving any other limit by its step changes no expected relief (finite difference (MILP "
            f"re-solved)): {', '.join(still)}"
        )
    saving = sorted((v for v in with_dual if v.dual_spend), key=lambda v: v.dual_spend)
    for v in saving:
        con.print(f"  • {spend_words(v)}")
    zero = [v.limit.key for v in with_dual if not v.dual_spend]
    if zero:
        con.print(
            "  • at the same relief, one more unit of any other limit saves no discounted public "
            f"spending [LP dual (integer decisions fixed)]: {', '.join(zero)}"
        )
    con.print()
    from relief.model.analyses.marginal import RELIEF_NOTE  # Pyomo and HiGHS: only once a command runs

    con.print("  " + RELIEF_NOTE, style="dim")
    if any(not v.limit.has_dual for v in m.values):
        con.print(
            "  Whole-module levers' limits have no spending dual: their modules are integer decisions, "
            "fixed in the LP.",
            style="dim",
        )


@click.command("marginal")
@o.case_argument
@o.overrides(o.ANALYSIS)
@o.force(o.ANALYSIS)
@o.exclude(o.ANALYSIS)
@click.option(
    "--limits",
    "families",
    default="budget,total,pools,levers",
    show_default=True,
    metavar="LIST",
    help="Which limits: budget (each year's), total, pools, levers (size limits that bind or nearly bind).",
)
@click.option("--all-levers", is_flag=True, help="Every lever's max_modules and max_modules_per_year, binding or not.")
@click.option(
    "--step",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Step of the budgets and pool limits, in their units (USD bn).",
)
@click.option(
    "--module-step",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Step of whole-module levers' limits, in modules.",
)
@click.option(
    "--divisible-step",
    type=click.FloatRange(min=0, min_open=True),
    default=0.1,
    show_default=True,
    help="Step of divisible levers' limits, as a fraction of the limit.",
)
@click.option(
    "--check",
    "milp_check",
    is_flag=True,
    help="Also re-solve the MILP with every limit that has a dual moved by +-0.001, and compare.",
)
@o.time_limit(o.ANALYSIS)
@o.mip_gap(o.MARGINAL)
@o.out_folder("marginal.csv and summary.json")
@o.as_json()
@guarded
def marginal_cmd(
    case,
    overrides,
    force,
    exclude,
    families,
    all_levers,
    step,
    module_step,
    divisible_step,
    milp_check,
    time_limit,
    mip_gap,
    out_dir,
    as_json,
):
    """Marginal values of the limits: what one more USD bn of each year's public budget,
    of the total budget and of each pool, and room for one more module of a lever, is
    worth.

    Expected relief by finite difference: each limit moved up and down by a step and the
    MILP re-solved (relief moves in steps, when a tier is reached or lost, so its LP duals,
    0 with the integers fixed, would mislead). Discounted public spending at the same
    relief by LP dual with the integer decisions fixed, each dual checked by re-solving
    that LP with the limit moved (docs/analyses.md).

    \b
    Examples:
      relief marginal
      relief marginal examples/tiny --json
      relief marginal --limits budget,total --step 2 --out runs/marginal
      relief marginal --check                 # duals against the MILP re-solved at +-0.001
    """
    from relief.model.analyses.marginal import FAMILIES, MarginalError, marginal_values
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides

    chosen = tuple(f.strip() for f in families.split(",") if f.strip())
    bad = [f for f in chosen if f not in FAMILIES]
    if bad or not chosen:
        raise Failure(
            EXIT_INPUT,
            f"relief: --limits: unknown kind(s) {', '.join(bad) or '(none)'} (choose from {', '.join(FAMILIES)})",
        )
    work = apply_overrides(load(case), list(overrides))
    check_levers(work, force, exclude)
    if set(force) & set(exclude):
        raise Failure(
            EXIT_INPUT, f"relief: lever(s) both forced and excluded: {', '.join(sorted(set(force) & set(exclude)))}"
        )
    options = SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap)
    try:
        with progress_bar(quiet=as_json) as on_progress:
            m = marginal_values(
                work,
                options,
                tuple(force),
                tuple(exclude),
                chosen,
                step,
                module_step,
                divisible_step,
                all_levers,
                milp_check=milp_check,
                on_progress=on_progress,
            )
    except MarginalError as e:
        raise Failure(
            EXIT_INFEASIBLE if e.status == "infeasible" else EXIT_FAILED, f"relief: marginal values: {e}"
        ) from None
    emit(
        {
            "analysis": "marginal",
            "case": m.case.name,
            "case_path": m.case.origin,
            "input_sha256": m.case.sha256(),
            **asked(overrides, force, exclude),
            **m.report(),
        },
        as_json=as_json,
        render=lambda: render(m),
        out_dir=out_dir,
        tables=lambda: {"marginal.csv": table(m)},
    )
