"""`relief sweep` and `relief frontier`: many solves, a progress bar, tables and charts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from relief.cli.main import CASE_ARG, EXIT_FAILED, EXIT_INPUT, Failure, _load, guarded, interrupted_code, main
from relief.cli.render import _console


def _definition(spec, vary, method, samples, seed, overrides, force, exclude):
    from relief.model.sweeps.spec import SweepDefinition, load_spec, parse_vary

    if spec is not None:
        defn = load_spec(spec)
        if vary:
            raise Failure(EXIT_INPUT, "relief: give either --spec or --vary, not both")
    else:
        defn = SweepDefinition(parameters=[parse_vary(v) for v in vary], method=method or "grid")
    if method:
        defn.method = method
    if samples is not None:
        defn.samples = samples
    if seed is not None:
        defn.seed = seed
    defn.force = tuple(defn.force) + tuple(force)
    defn.exclude = tuple(defn.exclude) + tuple(exclude)
    defn.fixed = tuple(defn.fixed) + tuple(overrides)
    return defn


def execute(case, defn, options, out_dir: Path, workers: int, scheduler, resume: bool, quiet: bool, reuse: bool = True):
    """Run a sweep into out_dir with a progress bar; write summary.json and the charts."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from relief.model.sweeps.runner import run_sweep
    from relief.model.sweeps.spec import summarize

    console = Console(stderr=True)
    t0 = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]sweep[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )
    task = None
    counts: dict[str, int] = {}

    def on_progress(done, total, row):
        nonlocal task
        if task is None:
            task = progress.add_task("sweep", total=total, completed=done, last="")
        if row is not None:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            last = f"{row['status']}" + (
                f" {row['expected_relief']:.2f}" if isinstance(row.get("expected_relief"), float) else ""
            )
            progress.update(task, completed=done, last=last)

    try:
        with progress:
            store, points, matrix = run_sweep(
                defn,
                case,
                options,
                out_dir,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                on_progress=on_progress,
                reuse=reuse,
            )
    except KeyboardInterrupt as e:
        code = interrupted_code(e)
        raise Failure(
            code,
            [
                f"relief: sweep {'interrupted' if code == 130 else 'terminated'}; the finished points are in {out_dir / 'points.csv'}",
                "  continue it with the same command and --resume",
            ],
        ) from None
    summary = summarize(defn, case, options, points, store.done, matrix, time.perf_counter() - t0)
    summary["charts"] = _charts(out_dir, defn, summary, points, store.done)
    store.finalize(summary)
    return summary, points, store


def fail_on_check(summary: dict, out_dir: Path) -> None:
    """Points whose plan failed relief's independent check carry no numbers (status
    check_failed, the reason in `message`); the sweep keeps the others, but says so and
    exits 4: a planner must not read such a sweep as complete."""
    n = summary["counts"].get("check_failed", 0)
    if n:
        raise Failure(
            EXIT_FAILED,
            [
                f"relief: {n} point(s) failed relief's independent check, so their plans are not reported "
                f"(status check_failed in {out_dir / 'points.csv'}, the reason in its message column)"
            ],
        )


def _charts(out_dir: Path, defn, summary: dict, points, done: dict) -> list[str]:
    """Tornado (oat), sensitivity indices (lhs/sobol/morris), lever frequency, and a line for a 1-D grid."""
    made = []
    try:
        from relief.cli import charts

        freq = {l: v for l, v in summary["lever_frequency"].items() if v is not None}
        if freq:
            made.append(charts.lever_frequency(freq, out_dir / "lever_frequency.png"))
        if defn.method == "oat" and summary.get("tornado") and summary.get("base_relief") is not None:
            made.append(charts.tornado(summary["base_relief"], summary["tornado"], out_dir / "tornado.png"))
        ind = summary.get("indices")
        if ind and "error" not in ind:
            made.append(charts.indices_chart(ind, defn.method, out_dir / "sensitivity.png"))
        if defn.method == "grid" and len(defn.parameters) == 1:
            label = defn.parameters[0].label
            xs, ys = [], []
            for p in points:
                r = done.get(p.id)
                if r and r["status"] in ("optimal", "time_limit", "limit") and r["expected_relief"] != "":
                    xs.append(float(p.values[label]))
                    ys.append(float(r["expected_relief"]))
            if xs:
                made.append(
                    charts.line_chart(
                        xs,
                        ys,
                        out_dir / "relief.png",
                        xlabel=label,
                        ylabel="expected relief, USD bn",
                        title=f"Expected relief as {label} varies",
                    )
                )
    except Exception as e:  # a chart must never cost a planner the sweep's numbers
        click.echo(f"relief: warning: a chart could not be drawn ({type(e).__name__}: {e})", err=True)
    return [Path(p).name for p in made]


def _render_summary(summary: dict, out_dir: Path) -> None:
    from rich import box
    from rich.table import Table

    console = _console()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
    console.print(
        f"[bold]{summary['case']}[/]: {summary['finished']} of {summary['points']} points ({counts}) "
        f"in {summary['wall_seconds']:.1f} s; HiGHS {summary['solve_seconds_mean'] or 0:.3f} s a point on average."
    )
    if summary.get("expected_relief_min") is not None:
        console.print(
            f"Expected relief from USD {summary['expected_relief_min']:.2f}bn to {summary['expected_relief_max']:.2f}bn."
        )
    console.print("[bold]How often each lever is chosen[/]")
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("lever")
    t.add_column("share of points", justify="right")
    for l, v in sorted(summary["lever_frequency"].items(), key=lambda kv: -(kv[1] or 0)):
        t.add_row(l, "" if v is None else f"{v:.0%}")
    console.print(t)
    if summary.get("tornado"):
        console.print(f"[bold]One at a time around the base (expected relief {summary['base_relief']:.2f})[/]")
        t = Table(box=box.SIMPLE_HEAD)
        for c in ("parameter", "low", "relief", "high", "relief", "swing"):
            t.add_column(c, justify="left" if c == "parameter" else "right")
        for r in summary["tornado"]:
            t.add_row(
                r["label"],
                f"{r['low_value']:g}",
                f"{r['relief_at_low']:.2f}",
                f"{r['high_value']:g}",
                f"{r['relief_at_high']:.2f}",
                f"{r['swing']:.2f}",
            )
        console.print(t)
    ind = summary.get("indices")
    if ind:
        if "error" in ind:
            console.print(f"[yellow]sensitivity indices: {ind['error']}[/]")
        else:
            _render_indices(console, ind)
    if summary.get("design_note"):
        console.print(f"[dim]{summary['design_note']}[/]")
    console.print(f"Results: {out_dir}/points.csv, summary.json" + "".join(f", {c}" for c in summary.get("charts", [])))


def _render_indices(console, ind: dict) -> None:
    from rich import box
    from rich.table import Table

    rows = ind.get("indices", {})
    if not rows:
        return
    cols = [
        c
        for c in (
            "S1",
            "S1_conf",
            "ST",
            "ST_conf",
            "mu_star",
            "mu_star_conf",
            "sigma",
            "spearman",
            "spearman_low",
            "spearman_high",
        )
        if any(c in v for v in rows.values())
    ]
    console.print(f"[bold]Sensitivity of expected relief ({ind.get('design', '')}, {ind.get('points', '?')} points)[/]")
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("parameter")
    for c in cols:
        t.add_column(c, justify="right")
    for label, v in rows.items():
        t.add_row(label, *["" if v.get(c) is None else f"{v[c]:.3g}" for c in cols])
    console.print(t)
    if ind.get("note"):
        console.print(f"[dim]{ind['note']}[/]")


def _default_high(base, path: str, force, exclude, overrides) -> float:
    """Upper end of a frontier's default range: for the total public budget, 1.5 times what
    the base case's optimal plan spends (beyond that relief cannot grow); otherwise twice
    the parameter's value in the case."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides, resolve_path
    from relief.model.core.run import run_case

    if path == "case.total_public_budget":
        work = apply_overrides(base, list(overrides) + ["case.total_public_budget=1e6"])
        res = run_case(work, SolveOptions.resolve(work.meta), tuple(force), tuple(exclude))
        if res.evaluation is not None and res.evaluation.public_spend > 0:
            return float(f"{1.5 * res.evaluation.public_spend:.2g}")
    target, column, rows = resolve_path(base, path)
    cur = base.meta.get(column) if target == "case" else float(base.table(target)[column].iloc[rows[0]])
    if not cur:
        cur = float(base.table("budget")["public_budget_usd_bn"].sum())
    return 2 * float(cur)


def _default_out(case, defn, kind: str) -> Path:
    from relief.model.core.options import SolveOptions
    from relief.model.sweeps.spec import definition_hash

    h = definition_hash(defn, case, SolveOptions())[:8]
    return Path("sweeps") / f"{case.name}-{kind}-{h}"


SWEEP_OPTIONS = [
    click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Change a number at every point (as in relief solve).",
    ),
    click.option("--force", multiple=True, metavar="LEVER", help="Force LEVER at every point."),
    click.option("--exclude", multiple=True, metavar="LEVER", help="Exclude LEVER at every point."),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Local worker processes (one HiGHS thread each).",
    ),
    click.option(
        "--scheduler", metavar="ADDRESS", help="Run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786."
    ),
    click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        help="Time limit per point, seconds (default: case.yaml, else 60).",
    ),
    click.option(
        "--mip-gap", type=click.FloatRange(min=0), help="Relative MIP gap per point (default: case.yaml, else 1e-6)."
    ),
    click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Output folder (default: sweeps/CASE-KIND-HASH).",
    ),
    click.option(
        "--resume", is_flag=True, help="Continue an interrupted sweep in --out without redoing finished points."
    ),
    click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout instead of the tables."),
    click.option(
        "--no-reuse",
        is_flag=True,
        help="Solve every point afresh, even where a looser point's plan is provably still optimal.",
    ),
]


def sweep_options(fn):
    for opt in reversed(SWEEP_OPTIONS):
        fn = opt(fn)
    return fn


def _options(case, time_limit, mip_gap):
    from relief.model.core.options import SolveOptions

    return SolveOptions.resolve(
        case.meta,
        time_limit=time_limit if time_limit is not None else (case.meta.get("time_limit") or 60.0),
        mip_gap=mip_gap,
    )


@main.command()
@CASE_ARG
@click.option(
    "--vary",
    multiple=True,
    metavar="PATH=START:STOP:STEPS|V1,V2,...",
    help="A parameter to vary (same paths as --set; PATH*=... varies a factor). Several give the full grid.",
)
@click.option(
    "--spec",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A sweep file (YAML): case, method, samples, seed, parameters.",
)
@click.option(
    "--method",
    type=click.Choice(["grid", "oat", "lhs", "sobol", "morris"]),
    help="Design (default grid; with --spec, the file's).",
)
@click.option(
    "--samples", type=click.IntRange(min=1), help="Samples for lhs, sobol (base samples) and morris (trajectories)."
)
@click.option("--seed", type=int, help="Seed of the sampling design.")
@sweep_options
@guarded
def sweep(
    case,
    vary,
    spec,
    method,
    samples,
    seed,
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
):
    """Solve a case at many parameter values: grids, one-at-a-time, or sampling designs
    with sensitivity indices (SALib). The model is built once; each point changes only
    numbers and re-solves. Finished points are saved as they complete; --resume
    continues an interrupted sweep.

    \b
    Examples:
      relief sweep --vary 'budget.*.public_budget_usd_bn*=0.5:1.5:11'
      relief sweep --vary case.total_public_budget=50:250:1000 --workers 2 --out sweeps/budget
      relief sweep --vary scenarios.hardline_301.probability=0.1,0.2,0.4 --vary 'levers.us_fab_module.capex_per_module*=0.8,1,1.2'
      relief sweep --spec examples/sweeps/oat.yaml            # tornado chart
      relief sweep --spec examples/sweeps/sobol.yaml --workers 2
      relief sweep --out sweeps/budget --vary case.total_public_budget=50:250:1000 --resume
      relief sweep ... --scheduler tcp://scheduler:8786       # a Dask cluster

    Output: points.csv (a row per point), summary.json, and charts (tornado.png,
    sensitivity.png, lever_frequency.png, relief.png).
    """
    from relief.model.sweeps.spec import SweepError, load_spec

    try:
        spec_case = load_spec(spec).case if spec is not None else None
        base = _load(case if case is not None else (Path(spec_case) if spec_case else None))
        defn = _definition(spec, vary, method, samples, seed, overrides, force, exclude)
        unknown = [l for l in (*defn.force, *defn.exclude) if l not in base.levers]
        if unknown:
            raise Failure(
                EXIT_INPUT, f"relief: unknown lever(s): {', '.join(unknown)} (levers: {', '.join(base.levers)})"
            )
        options = _options(base, time_limit, mip_gap)
        out = out_dir or _default_out(base, defn, defn.method)
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
    else:
        _render_summary(summary, out)
    fail_on_check(summary, out)


@main.command()
@CASE_ARG
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
    "unconstrained optimum spends; for a factor up to 2; otherwise up to twice the case's value).",
)
@sweep_options
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
):
    """Expected relief against the total public budget (or another --param): the knees
    and the marginal relief per extra unit (USD bn for budgets) between points. A preset
    over the sweep machinery.

    \b
    Examples:
      relief frontier                                       # total public budget, 21 points
      relief frontier --range 0:300:61 --workers 2
      relief frontier --param 'budget.*.public_budget_usd_bn*' --range 0.25:2:15
      relief frontier --param budget.2027.public_budget_usd_bn --range 0:40:21

    Output: frontier.csv (value, expected relief, public spend, marginal relief, knee),
    frontier.png, and the sweep's own points.csv and summary.json.
    """
    import pandas as pd

    from relief.model.core.io import atomic_write_csv, atomic_write_json
    from relief.model.sweeps.frontier import frontier_table
    from relief.model.sweeps.spec import SweepDefinition, SweepError, parse_vary

    try:
        base = _load(case)
        scale = param.endswith("*")
        path = param[:-1] if scale else param
        if range_ is None:
            if scale:
                range_ = "0:2:21"
            else:
                range_ = f"0:{_default_high(base, path, force, exclude, overrides)}:21"
        p = parse_vary(f"{path}{'*=' if scale else '='}{range_}")
        defn = SweepDefinition(
            parameters=[p], method="grid", force=tuple(force), exclude=tuple(exclude), fixed=tuple(overrides)
        )
        options = _options(base, time_limit, mip_gap)
        out = out_dir or _default_out(base, defn, "frontier")
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    xs, ys, spend = [], [], {}
    for pt in points:
        r = store.done.get(pt.id)
        if r and r["status"] in ("optimal", "time_limit", "limit") and r["expected_relief"] != "":
            xs.append(float(pt.values[p.label]))
            ys.append(float(r["expected_relief"]))
            spend[float(pt.values[p.label])] = float(r["public_spend"])
    rows = frontier_table(xs, ys)
    for r in rows:
        r["public_spend"] = spend.get(r["x"])
    table = pd.DataFrame(rows, columns=["x", "expected_relief", "public_spend", "marginal", "knee"]).rename(
        columns={"x": p.label}
    )
    atomic_write_csv(out / "frontier.csv", table)
    try:
        from relief.cli import charts

        charts.frontier_chart(
            [r["x"] for r in rows],
            [r["expected_relief"] for r in rows],
            out / "frontier.png",
            knees=[i for i, r in enumerate(rows) if r["knee"]],
            marginal=[r["marginal"] for r in rows],
            xlabel=p.label,
            ylabel="expected relief, USD bn",
        )
        summary["charts"] = sorted(set(summary.get("charts", [])) | {"frontier.png"})
    except Exception as e:
        click.echo(f"relief: warning: the frontier chart could not be drawn ({type(e).__name__}: {e})", err=True)
    summary["frontier"] = rows
    atomic_write_json(out / "summary.json", summary)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
        fail_on_check(summary, out)
        return
    from rich.table import Table

    console = _console()
    console.print(f"[bold]Frontier: expected relief against {p.label}[/]")
    t = Table()
    for c in (p.label, "expected relief", "public spend", "marginal / unit", "knee"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(
            f"{r['x']:g}",
            f"{r['expected_relief']:.2f}",
            "" if r["public_spend"] is None else f"{r['public_spend']:.2f}",
            "" if r["marginal"] is None else f"{r['marginal']:.3f}",
            "knee" if r["knee"] else "",
        )
    console.print(t)
    console.print(f"Results: {out}/frontier.csv, frontier.png, points.csv, summary.json")
    fail_on_check(summary, out)


@main.command("risk")
@CASE_ARG
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.8,
    show_default=True,
    help="CVaR level: the mean relief of the worst 1-ALPHA of probability.",
)
@click.option("--steps", type=click.IntRange(min=2), default=11, show_default=True, help="Weights from 0 to 1.")
@sweep_options
@guarded
def risk_frontier(
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
    import pandas as pd

    from relief.model.core.io import atomic_write_csv, atomic_write_json
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.risk import Risk, cvar
    from relief.model.sweeps.spec import SweepDefinition, SweepError, parse_vary
    from relief.model.sweeps.store import relief_column

    try:
        # the risk rows belong to the base case, so every point re-uses one model
        base = apply_overrides(_load(case), Risk("cvar", alpha, 0.0).overrides())
        p = parse_vary(f"case.risk_weight=0:1:{steps}")
        defn = SweepDefinition(
            parameters=[p], method="grid", force=tuple(force), exclude=tuple(exclude), fixed=tuple(overrides)
        )
        options = _options(base, time_limit, mip_gap)
        out = out_dir or _default_out(base, defn, f"risk{alpha:g}")
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    prob = dict(zip(base.table("scenarios")["scenario"], base.table("scenarios")["probability"]))
    rows, prev = [], None
    for pt in sorted(points, key=lambda q: float(q.values[p.label])):
        r = store.done.get(pt.id)
        if not r or r["status"] not in ("optimal", "time_limit", "limit") or r["expected_relief"] == "":
            continue
        by = {s: float(r[relief_column(s)]) for s in base.scenarios}
        modules = {l: float(r[l] or 0) for l in base.levers}
        changed = (
            ""
            if prev is None
            else ", ".join(f"{l} {prev[l]:g}->{modules[l]:g}" for l in base.levers if abs(modules[l] - prev[l]) > 1e-6)
        )
        rows.append(
            {
                "weight": float(pt.values[p.label]),
                "expected_relief": float(r["expected_relief"]),
                "cvar": cvar(by, prob, alpha),
                "worst": min(by.values()),
                "worst_scenario": min(by, key=lambda s: (by[s], s)),
                "public_spend": float(r["public_spend"]),
                "status": r["status"],
                "changes": changed,
            }
        )
        prev = modules
    table = pd.DataFrame(
        rows,
        columns=["weight", "expected_relief", "cvar", "worst", "worst_scenario", "public_spend", "status", "changes"],
    )
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
    fail_on_check(summary, out)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
        return
    from rich.table import Table

    console = _console()
    console.print(
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
    console.print(t)
    if rows:
        a, b = rows[0], rows[-1]
        console.print(
            f"From weight 0 to 1: CVaR {a['cvar']:.2f} -> {b['cvar']:.2f} ({b['cvar'] - a['cvar']:+.2f}), "
            f"expected relief {a['expected_relief']:.2f} -> {b['expected_relief']:.2f} ({b['expected_relief'] - a['expected_relief']:+.2f})."
        )
    console.print(f"Results: {out}/risk_frontier.csv, risk_frontier.png, points.csv, summary.json")
