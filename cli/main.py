"""The `relief` command line: solve and validate cases (model-spec section 4).

Exit codes: 0 solved (optimal, or a plan found at a time or gap limit, with its status
said); 2 invalid input or usage; 3 infeasible; 4 no solution or solver failure.
Errors are one or a few plain lines on stderr, never a traceback (unless --debug).
"""

from __future__ import annotations

import json
import signal
from importlib.resources import files
from pathlib import Path

import click

from relief.cli import Terminated, on_sigterm

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_FAILED = 0, 2, 3, 4
DEFAULT_CASE_NAME = "korea-2026"


def default_case_path() -> Path:
    """The shipped default case, found from the installed package, from any directory."""
    return Path(str(files("relief.inputs") / DEFAULT_CASE_NAME))


class Failure(Exception):
    """An error to report in plain words with an exit code."""

    def __init__(self, code: int, lines):
        self.code = code
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


def interrupted_code(e: KeyboardInterrupt) -> int:
    return 128 + signal.SIGTERM if isinstance(e, Terminated) else 130


def note_written(path) -> None:
    """Remember that a result is on disk, so that an interrupt after it says so."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().obj is not None:
        ctx.find_root().obj.setdefault("written", []).append(str(path))


def _fail(ctx: click.Context, exc: Failure):
    for line in exc.lines:
        click.echo(line, err=True)
    ctx.exit(exc.code)


def guarded(fn):
    """Turn every error into short lines on stderr and the contract's exit code."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = (ctx.find_root().obj or {}).get("debug", False)
        from relief.model.core.case import CaseError
        from relief.model.core.io import FolderInUse
        from relief.model.core.overrides import OverrideError
        from relief.model.core.run import CheckError

        try:
            return fn(*args, **kwargs)
        except Failure as e:
            _fail(ctx, e)
        except CaseError as e:
            if debug:
                raise
            n = len(e.problems)
            _fail(
                ctx,
                Failure(
                    EXIT_INPUT,
                    [f"relief: the case has {n} problem{'s' if n > 1 else ''}:"] + [f"  {p}" for p in e.problems],
                ),
            )
        except OverrideError as e:
            if debug:
                raise
            _fail(ctx, Failure(EXIT_INPUT, f"relief: --set {e}"))
        except FolderInUse as e:
            _fail(ctx, Failure(EXIT_INPUT, f"relief: --out {e}"))
        except CheckError as e:
            if debug:
                raise
            _fail(
                ctx,
                Failure(EXIT_FAILED, f"relief: the plan failed relief's independent check, so it is not reported: {e}"),
            )
        except KeyboardInterrupt as e:
            written = (ctx.find_root().obj or {}).get("written")
            what = "terminated" if isinstance(e, Terminated) else "interrupted"
            click.echo(
                f"relief: {what}; "
                + (f"the results were already written to {', '.join(written)}" if written else "no output was changed"),
                err=True,
            )
            ctx.exit(interrupted_code(e))
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # the last line of defence: no traceback for planners
            if debug:
                raise
            _fail(
                ctx,
                Failure(
                    EXIT_FAILED,
                    [f"relief: unexpected error: {type(e).__name__}: {e}", "  (run with --debug for the details)"],
                ),
            )

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="relief", prog_name="relief")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors (for developers).")
@click.pass_context
def main(ctx, debug):
    """relief: which contributions to U.S. strategic supply chains to commit, when and
    how much, to maximise the expected tariff relief across U.S. negotiating stances.

    \b
    Examples:
      relief solve                         # the default Korea case, shipped with relief
      relief solve examples/tiny --json    # one JSON object on stdout
      relief solve --set budget.*.public_budget_usd_bn*=0.5 --out runs/half-budget
      relief solve --force korea_zinc_smelter --exclude us_steel_mill
      relief validate my-case/             # list every problem with file, row, column

    A case is a folder with case.yaml and CSV tables (or one .xlsx workbook with the
    same tables as sheets). Exit codes: 0 solved, 2 invalid input, 3 infeasible,
    4 no solution or solver failure.
    """
    ctx.obj = {"debug": debug}
    # SIGTERM (kill, a scheduler's stop) ends relief like Ctrl-C: cleanly, nothing half-written
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_sigterm)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def _load(case_path):
    from relief.model.core.case import load_case

    return load_case(case_path if case_path is not None else default_case_path())


CASE_ARG = click.argument("case", required=False, type=click.Path(path_type=Path))


def prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed):
    """(case with the overrides applied, solve options) for a command with `solve_options`;
    unknown levers in --force/--exclude are bad input (exit 2)."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides

    work = apply_overrides(_load(case), list(overrides))
    unknown = [l for l in (*force, *exclude) if l not in work.levers]
    if unknown:
        raise Failure(EXIT_INPUT, f"relief: unknown lever(s): {', '.join(unknown)} (levers: {', '.join(work.levers)})")
    return work, SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)


def solve_options(fn):
    """The options every analysis shares with `relief solve`."""
    opts = [
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="PATH=VALUE",
            help="Change a number first, as in relief solve: case.FIELD=V or TABLE.KEY.COLUMN=V; PATH*=F scales. Repeatable.",
        ),
        click.option(
            "--force",
            multiple=True,
            metavar="LEVER",
            help="Commit at least max(min_modules, 1) module(s) of LEVER in every plan. Repeatable.",
        ),
        click.option("--exclude", multiple=True, metavar="LEVER", help="Never use LEVER. Repeatable."),
        click.option(
            "--time-limit",
            type=click.FloatRange(min=0, min_open=True),
            help="Solver time limit in seconds per solve (default: case.yaml, else 600).",
        ),
        click.option(
            "--mip-gap",
            type=click.FloatRange(min=0),
            help="Relative MIP gap at which to stop (default: case.yaml, else 1e-6).",
        ),
        click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads (default 1: deterministic)."),
        click.option("--seed", type=click.IntRange(min=0), help="HiGHS random seed (default 0)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout instead of the tables."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@main.command()
@CASE_ARG
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change a number: case.FIELD=V or TABLE.KEY.COLUMN=V (composite keys joined by ':', "
    "'*' matches any part); PATH*=F scales. Repeatable.",
)
@click.option(
    "--force",
    multiple=True,
    metavar="LEVER",
    help="Commit at least max(min_modules, 1) module(s) of LEVER. Repeatable.",
)
@click.option("--exclude", multiple=True, metavar="LEVER", help="Never use LEVER. Repeatable.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    help="Solver time limit in seconds, both stages together (default: case.yaml, else 600). "
    "At the limit, the best plan found is reported with its bound and gap (status time_limit).",
)
@click.option(
    "--mip-gap", type=click.FloatRange(min=0), help="Relative MIP gap at which to stop (default: case.yaml, else 1e-6)."
)
@click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads (default 1: deterministic).")
@click.option("--seed", type=click.IntRange(min=0), help="HiGHS random seed (default 0).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write summary.json, roadmap.csv, tiers.csv, relief.csv, spending.csv and the case used to DIR "
    "(replacing a previous run there as a whole, in one step); or, if it ends in .xlsx, the same tables as sheets of one workbook.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout instead of the tables.")
@click.option(
    "--risk",
    metavar="MEASURE",
    help="What to maximise: expected (default), worst (the worst stance's relief) or "
    "cvar:ALPHA:WEIGHT ((1-WEIGHT) x expected + WEIGHT x mean relief of the worst 1-ALPHA of probability).",
)
@click.option("--verbose", is_flag=True, help="Show the solver's log (on stderr).")
@guarded
def solve(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, out_dir, as_json, risk, verbose):
    """Solve a case: the roadmap that maximises expected tariff relief, then spends
    the least public money for that relief.

    CASE is a case folder or .xlsx workbook; without it, the shipped default case
    (South Korea, 2026) is solved.

    \b
    Examples:
      relief solve
      relief solve inputs/korea-2026 --mip-gap 0 --json
      relief solve --set scenarios.hardline_301.probability=0.5      # others rescale to sum 1
      relief solve --set levers.korea_zinc_smelter.capex_per_module*=1.3
      relief solve --set tariffs.*:general:*:*.rate*=1.1 --out runs/higher-rates
      relief solve --force korea_zinc_smelter --out runs/with-smelter
      relief solve --risk worst                  # the best relief if the worst stance comes true
      relief solve --risk cvar:0.8:0.5           # half expected relief, half the worst 20%'s mean
    """
    from relief.model.core.checks import with_checks
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.run import run_case

    if out_dir is not None and out_dir.suffix.lower() != ".xlsx":
        from relief.cli.output import check_run_dir

        check_run_dir(out_dir)  # before solving: a folder relief would refuse to replace
    base = _load(case)
    overrides = tuple(overrides) + risk_overrides(risk)
    work = with_checks(apply_overrides(base, list(overrides)))  # the warnings go to stderr and summary.json
    for w in work.warnings:
        click.echo(f"warning: {w}", err=True)
    options = SolveOptions.resolve(
        work.meta, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose
    )
    try:
        result = run_case(work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides))
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    summary = result.summary()
    _finish(result, summary, out_dir, as_json)


def risk_overrides(text) -> tuple:
    """--risk MEASURE as the case.yaml overrides it stands for (case.risk_measure, ...)."""
    if text is None:
        return ()
    from relief.model.core.risk import Risk

    try:
        return tuple(Risk.parse(text).overrides())
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None


def _finish(result, summary, out_dir, as_json):
    from relief.cli.output import write_run
    from relief.cli.render import render_infeasible, render_solution

    if out_dir is not None:
        if out_dir.suffix.lower() == ".xlsx":
            from relief.cli.output import write_run_workbook

            write_run_workbook(out_dir, result, summary)
        else:
            write_run(out_dir, result, summary)
        note_written(out_dir)
    status = result.status
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
    elif result.evaluation is not None:
        render_solution(result)
    elif status == "infeasible":
        render_infeasible(result)
    if status == "infeasible":
        if as_json:
            for line in result.conflicts:
                click.echo(f"  {line}", err=True)
        raise Failure(
            EXIT_INFEASIBLE,
            "relief: the request is infeasible (see the conflicts above)"
            if not as_json
            else "relief: the request is infeasible",
        )
    if result.evaluation is None:
        raise Failure(EXIT_FAILED, f"relief: the solver found no plan (status {status})")
    if status != "optimal":
        click.echo(limit_warning(result, summary), err=True)


def limit_warning(result, summary) -> str:
    """What a plan found at a time (or other) limit is worth: its relief, the bound, the gap."""
    gap, bound = summary.get("mip_gap"), summary.get("objective_bound")
    worth = f"expected relief USD {summary['expected_relief']:.4g}bn"
    if bound is not None:
        worth += f"; no plan can give more than USD {bound:.4g}bn"
    if gap is not None:
        worth += f" (gap {gap:.2%})"
    if result.status == "time_limit":
        limit = result.options.time_limit
        return (
            f"relief: warning: status time_limit: the time limit ({limit:g} s) ran out before HiGHS proved the plan "
            f"optimal; this is the best plan found: {worth}. Give more time with --time-limit."
        )
    return f"relief: warning: status {result.status}: the plan is feasible but not proven optimal: {worth}."


@main.command()
@CASE_ARG
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The workbook to write (.xlsx).",
)
@guarded
def template(case, out_path):
    """Write a case as an Excel workbook to edit: one sheet per table, a `case` sheet
    (field, value), and a `notes` sheet with every column's meaning, type and range.
    `relief solve WORKBOOK.xlsx` reads it back.

    \b
    Examples:
      relief template --out korea.xlsx                 # the shipped default case
      relief template examples/tiny --out tiny.xlsx
      relief solve tiny.xlsx
    """
    from relief.model.core.io import write_case_workbook

    if out_path.suffix.lower() != ".xlsx":
        raise Failure(EXIT_INPUT, f"relief: {out_path}: the workbook's name must end in .xlsx")
    c = _load(case)
    write_case_workbook(c, out_path)
    click.echo(
        f"wrote {out_path}: {len(c.levers)} levers, {len(c.scenarios)} scenarios; edit it and run relief solve {out_path}"
    )


@main.command()
@CASE_ARG
@click.option("--json", "as_json", is_flag=True, help="Print the problems and warnings as JSON.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors: exit 2 if there is any.")
@guarded
def validate(case, as_json, strict):
    """Check a case and list every problem with its file, row and column, then the
    warnings: data that is legal but suspicious (a tier no portfolio can reach, a lever
    that scores in no weighted pillar, a ladder whose higher tier raises a rate, a lever
    that cannot operate within the horizon, numbers far apart in scale; see
    docs/validation.md).

    Exit code 0 when the case can be solved (warnings may still be listed), 2 when it
    cannot, or with --strict when there is any warning. Without CASE, the shipped
    default case is checked.

    \b
    Examples:
      relief validate
      relief validate my-case/
      relief validate my-case/ --strict        # warnings fail too (for CI)
      relief validate my-case.xlsx --json
    """
    from relief.model.core.case import CaseError
    from relief.model.core.checks import with_checks

    path = case if case is not None else default_case_path()
    try:
        c = with_checks(_load(case))
    except CaseError as e:
        if as_json:
            click.echo(
                json.dumps({"valid": False, "problems": [p.__dict__ for p in e.problems], "warnings": []}, indent=2)
            )
            raise Failure(EXIT_INPUT, []) from None
        raise
    failed = strict and bool(c.warnings)
    if as_json:
        warnings = [p.__dict__ for p in c.warnings]
        click.echo(
            json.dumps(
                {
                    "valid": not failed,
                    "case": c.name,
                    "strict": strict,
                    "problems": warnings if failed else [],
                    "warnings": warnings,
                },
                indent=2,
            )
        )
        if failed:
            raise Failure(EXIT_INPUT, [])
        return
    if failed:
        n = len(c.warnings)
        raise Failure(
            EXIT_INPUT,
            [f"relief: the case has {n} warning{'s' if n > 1 else ''}, which --strict makes errors:"]
            + [f"  warning: {w}" for w in c.warnings],
        )
    t = c.tables
    click.echo(
        f"{path}: valid. '{c.name}', {c.meta['first_year']}-{c.meta['last_year']}: {len(t['levers'])} levers, "
        f"{len(c.scenarios)} scenarios, {len(c.tracks)} tracks, {len(t['sectors'])} sectors, {len(c.pillars)} pillars, "
        f"{len(t['tiers'])} tiers."
    )
    for w in c.warnings:
        click.echo(f"warning: {w}", err=True)


# The sweep commands live in their own module; importing it registers them on `main`.
# `relief alternatives` (near-optimal roadmaps) lives in its own module.
from relief.cli import alternatives as _alternatives  # noqa: E402,F401

# `relief delay` and `relief coordination` live in their own module; importing it registers them on `main`.
from relief.cli import analyses as _analyses  # noqa: E402,F401

# `relief compare` lives in its own module; importing it registers it on `main`.
from relief.cli import compare as _compare  # noqa: E402,F401

# `relief marginal` (marginal values of the limits) lives in its own module.
from relief.cli import marginal as _marginal  # noqa: E402,F401

# `relief report` lives in its own module; importing it registers it on `main`.
from relief.cli import report as _report  # noqa: E402,F401
from relief.cli import sweep as _sweep  # noqa: E402,F401

# `relief value` (value of information) lives in its own module.
from relief.cli import value as _value  # noqa: E402,F401
