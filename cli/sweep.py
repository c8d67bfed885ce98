"""`relief sweep`: many solves, a progress bar, tables and charts; and the machinery its
presets `relief frontier` (cli/frontier.py) and `relief risk` (cli/risk.py) share."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_FAILED, EXIT_INPUT, Failure, guarded, interrupted_code
from relief.cli.inputs import check_levers, load
from relief.cli.render import console as make_console


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


CONFIRM_ENV = "RELIEF_SWEEP_CONFIRM_SECONDS"
CONFIRM_SECONDS = 600.0  # a sweep estimated longer than this asks first (--yes skips the question)


def confirm_seconds() -> float:
    """The estimated duration above which a sweep asks before going on: 10 minutes, or the
    environment variable RELIEF_SWEEP_CONFIRM_SECONDS (tests set it low)."""
    import os

    try:
        return float(os.environ.get(CONFIRM_ENV, CONFIRM_SECONDS))
    except ValueError:
        return CONFIRM_SECONDS


def duration(seconds: float) -> str:
    """'2 h 20 min', '12 min', '40 s'."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


class Declined(Exception):
    """A long sweep that the planner did not confirm (or could not, off a terminal, without --yes)."""

    def __init__(self, lines: list[str]):
        super().__init__(lines[0])
        self.lines = lines


class RunawayGuard:
    """Times the first points of a sweep and, if the rest would take longer than
    `threshold` seconds, says so plainly and asks (on a terminal) or refuses (off one,
    unless --yes). The pace is measured from the first finished point (which also paid for
    building the model) to the next `workers` ones and later, so model building does not
    count; the estimate is renewed at each point during the first minute."""

    WATCH_SECONDS = 60.0

    def __init__(self, workers: int, threshold: float, yes: bool, pause, where: str | None = None):
        self.workers, self.threshold, self.yes, self.pause = max(1, workers), threshold, yes, pause
        self.where = where or f"on {self.workers} worker{'s' if self.workers > 1 else ''}"
        self.first: tuple[float, int] | None = None  # (time, points done) at the first finished point
        self.decided = yes

    def __call__(self, done: int, total: int) -> None:
        if self.decided:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = (now, done)
            return
        t1, d1 = self.first
        if done - d1 < self.workers and done < total:
            return
        per_point = (now - t1) / (done - d1)  # wall seconds per point at this many workers
        left = (total - done) * per_point
        if left <= self.threshold:
            # re-estimated at every point for a minute: a pace set by reused plans can slow down
            self.decided = now - t1 > self.WATCH_SECONDS
            return
        self.decided = True
        says = (
            f"relief: this sweep has {total} points and would take about {duration(left + now - t1)} "
            f"{self.where} ({done} done, {per_point:.2f} s a point so far)"
        )
        import sys

        if not sys.stdin.isatty():
            raise Declined([says, "  add --yes to run it anyway, or use fewer points or more --workers"])
        with self.pause():
            if not click.confirm(says.removeprefix("relief: ") + ". Go on?", default=False, err=True):
                raise Declined([says, "  stopped at your answer"])


def execute(
    case,
    defn,
    options,
    out_dir: Path,
    workers: int,
    scheduler,
    resume: bool,
    quiet: bool,
    reuse: bool = True,
    yes: bool = False,
):
    """Run a sweep into out_dir with a progress bar; write summary.json and the charts.
    A Dask scheduler is reached before anything is written; a sweep that the first points
    show to be long asks first (RunawayGuard)."""
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

    @contextlib.contextmanager
    def paused():
        progress.stop()
        try:
            yield
        finally:
            progress.start()

    guard = RunawayGuard(
        workers if not scheduler else 1,
        confirm_seconds(),
        yes,
        paused,
        where=f"on the Dask cluster at {scheduler}" if scheduler else None,
    )

    def on_progress(done, total, row):
        nonlocal task
        if task is None:
            task = progress.add_task("sweep", total=total, completed=done, last="")
        if row is not None:
            guard(done, total)
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            last = f"{row['status']}" + (
                f" {row['expected_relief']:.2f}" if isinstance(row.get("expected_relief"), float) else ""
            )
            progress.update(task, completed=done, last=last)

    if scheduler:
        from relief.model.sweeps.runner import check_scheduler

        check_scheduler(scheduler)  # before the folder exists: a wrong address leaves nothing behind
    fresh = not out_dir.exists()
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
    except Declined as e:
        kept = _forget(out_dir, fresh)
        raise Failure(EXIT_INPUT, [*e.lines, kept]) from None
    except KeyboardInterrupt as e:
        code = interrupted_code(e)
        raise Failure(
            code,
            [
                f"relief: sweep {'interrupted' if code == 130 else 'terminated'}; the finished points "
                f"are in {out_dir / 'points.csv'}",
                "  continue it with the same command and --resume",
            ],
        ) from None
    summary = summarize(defn, case, options, points, store.done, matrix, time.perf_counter() - t0)
    summary["charts"] = _charts(out_dir, defn, summary, points, store.done)
    store.finalize(summary)
    return summary, points, store


def _forget(out_dir: Path, fresh: bool) -> str:
    """After a declined sweep: remove the folder this run created (nothing is left that
    would block a rerun); a resumed sweep's folder stays as it was, resumable."""
    import shutil

    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
        return "  nothing was kept"
    return f"  the finished points stay in {out_dir / 'points.csv'}; continue with the same command, --resume and --yes"


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
        from relief.model.sweeps.frontier import solved_points

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
            solved = solved_points(points, done)
            xs = [float(p.values[label]) for p, _ in solved]
            ys = [float(r["expected_relief"]) for _, r in solved]
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


def _render_summary(summary: dict) -> None:
    from rich import box
    from rich.table import Table

    console = make_console()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
    console.print(
        f"[bold]{summary['case']}[/]: {summary['finished']} of {summary['points']} points ({counts}) "
        f"in {summary['wall_seconds']:.1f} s; HiGHS {summary['solve_seconds_mean'] or 0:.3f} s a point on average."
    )
    if summary.get("expected_relief_min") is not None:
        console.print(
            f"Expected relief from USD {summary['expected_relief_min']:.2f}bn to "
            f"{summary['expected_relief_max']:.2f}bn."
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
    for line in ind.get("warnings", []):
        console.print(f"[yellow]warning: {line}[/]", highlight=False)


def warn_noise(summary: dict) -> None:
    """With --json, the indices' noise warnings also go to stderr (stdout holds only the JSON)."""
    for line in (summary.get("indices") or {}).get("warnings", []):
        click.echo(f"relief: warning: {line}", err=True)


def default_out(case, defn, kind: str) -> Path:
    from relief.model.core.options import SolveOptions
    from relief.model.sweeps.spec import definition_hash

    h = definition_hash(defn, case, SolveOptions())[:8]
    return Path("sweeps") / f"{case.name}-{kind}-{h}"


def solver_options(case, time_limit, mip_gap):
    """A sweep's solver options: case.yaml's time limit, else 60 s a point (not 600: many points)."""
    from relief.model.core.options import SolveOptions

    return SolveOptions.resolve(
        case.meta,
        time_limit=time_limit if time_limit is not None else (case.meta.get("time_limit") or 60.0),
        mip_gap=mip_gap,
    )


@click.command()
@o.case_argument
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
@o.design_seed
@o.sweep_options
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
    yes,
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
    """  # noqa: E501  (an example line of the help, shown as it is)
    from relief.model.sweeps.spec import SweepError, load_spec

    try:
        spec_case = load_spec(spec).case if spec is not None else None
        base = load(case if case is not None else (Path(spec_case) if spec_case else None))
        defn = _definition(spec, vary, method, samples, seed, overrides, force, exclude)
        check_levers(base, defn.force, defn.exclude)
        options = solver_options(base, time_limit, mip_gap)
        out = out_dir or default_out(base, defn, defn.method)
        summary, points, store = execute(
            base, defn, options, out, workers, scheduler, resume, quiet=as_json, reuse=not no_reuse, yes=yes
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    emit(summary, as_json=as_json, render=lambda: _render_summary(summary), written=out)
    if as_json:
        warn_noise(summary)
    fail_on_check(summary, out)
