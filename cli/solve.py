"""`relief solve`: the roadmap that maximises expected tariff relief (model-spec section 4)."""

from __future__ import annotations

import dataclasses
import time

import click

from relief.cli import options as o
from relief.cli.emit import to_json
from relief.cli.errors import EXIT_FAILED, EXIT_INFEASIBLE, EXIT_INPUT, Failure, guarded, note_written, say_written
from relief.cli.inputs import load


@click.command()
@o.case_argument
@o.overrides(o.SOLVE)
@o.force(o.SOLVE)
@o.exclude(o.SOLVE)
@o.without_obligations(o.SOLVE)
@o.margin(o.SOLVE)
@o.time_limit(o.SOLVE)
@o.mip_gap(o.SOLVE)
@o.threads
@o.solve_seed
@o.out_run
@o.as_json()
@o.risk()
@o.reveal
@o.warn_margin
@o.verbose
@o.sampled
@o.decompose
@guarded
def solve(
    case,
    overrides,
    force,
    exclude,
    without_obligations,
    time_limit,
    mip_gap,
    threads,
    seed,
    out_dir,
    as_json,
    risk,
    reveal,
    warn_margin,
    verbose,
    sample,
    replications,
    sample_spec,
    evaluate_sample,
    confidence,
    workers,
    scheduler,
    decompose,
    ph_iterations,
    ph_bundle,
    ph_spokes,
):
    """Solve a case: the roadmap that maximises expected tariff relief, then spends
    the least public money for that relief.

    CASE is a case folder or .xlsx workbook; without it, the shipped default case
    (South Korea, 2026) is solved: the copy inside the installation (`relief init DIR`
    makes one to edit).

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
      relief solve --warn-margin 5%              # flag tiers reached with less than 5% to spare
      relief solve --reveal 2027                 # commit 2026 now, adapt to the stance from 2027
      relief solve --margin 5%                   # a plan whose tiers all keep 5% above their thresholds
      relief solve examples/pledges --without-obligations   # as if nothing were owed
      relief solve --sample 20 --replications 10 --seed 1 --workers 2   # sampled stances, gap bound
      mpiexec -n 2 relief solve /tmp/fam1000 --decompose ph --json   # progressive hedging, 2 processes
    """
    started = time.perf_counter()  # --time-limit counts from here: loading and building are inside it
    if decompose is not None:  # mpi-sppy's progressive hedging; only MPI rank 0 shows and writes
        from relief.cli.decompose import describe, solve_decomposed

        ph = solve_decomposed(dict(locals()))
        if ph is not None:
            written = _write(ph[0], ph[1], out_dir)
            _show(ph[0], ph[1], as_json)
            if not as_json:
                click.echo(describe(ph[1]["decompose"]))
            if written is not None:
                say_written(out_dir, written)
            _exit_status(*ph, as_json)
        return
    from relief.cli.solve_sample import sample_request, solve_sampled
    from relief.model.core.checks import with_checks
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.run import run_case

    sampled = sample_request(
        sample, replications, sample_spec, evaluate_sample, confidence, seed, workers, scheduler, out_dir
    )
    if out_dir is not None and out_dir.suffix.lower() != ".xlsx":
        from relief.cli.output import check_run_dir

        check_run_dir(out_dir)  # before solving: a folder relief would refuse to replace
    base = load(case)
    overrides = tuple(overrides) + risk_overrides(risk)
    if reveal is not None:
        overrides += (f"case.reveal_year={reveal}",)
    work = apply_overrides(base, list(overrides))
    if without_obligations:
        work = work.without_obligations()
    work = with_checks(work)  # the warnings go to stderr and summary.json
    say_warnings(work.warnings)
    options = SolveOptions.resolve(
        work.meta, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose
    )
    if sampled is not None:  # relief solve --sample N: cli/solve_sample.py (--time-limit: per solve)
        result, summary = solve_sampled(work, options, sampled, force, exclude, overrides, risk, without_obligations)
        sampled.emit(result, summary, out_dir, as_json)
        _exit_status(result, summary, as_json)
        return
    if options.time_limit:
        options = dataclasses.replace(options, deadline=started + options.time_limit)
    try:
        result = run_case(
            work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides), check_force=True
        )
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    result.warn_margin(warn_margin)
    result.without_obligations = bool(without_obligations)
    result.risk_option = risk  # echoed as typed: --risk worst, not --set case.risk_measure=worst
    summary = result.report()
    for note in result.notes:
        click.echo(f"relief: note: {note}", err=True)
    written = _write(result, summary, out_dir)
    _show(result, summary, as_json)
    if written is not None:
        say_written(out_dir, written)
    _exit_status(result, summary, as_json)


SHOWN_WARNINGS = 10  # on stderr; summary.json keeps them all


def say_warnings(warnings) -> None:
    """The case's warnings on stderr: the first SHOWN_WARNINGS, then how many more (a case of
    hundreds of stances can have hundreds of the same kind; `relief validate` lists them all)."""
    for w in warnings[:SHOWN_WARNINGS]:
        click.echo(f"warning: {w}", err=True)
    if len(warnings) > SHOWN_WARNINGS:
        more = len(warnings) - SHOWN_WARNINGS
        click.echo(f"warning: ... and {more} more (all in summary.json; relief validate lists them)", err=True)


def risk_overrides(text) -> tuple:
    """--risk MEASURE as the case.yaml overrides it stands for (case.risk_measure, ...)."""
    if text is None:
        return ()
    from relief.model.core.risk import Risk

    try:
        return tuple(Risk.parse(text).overrides())
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None


def _write(result, summary: dict, out_dir) -> list[str] | None:
    """--out: a run folder, replaced as a whole, or one workbook; what it holds (None: no --out)."""
    from relief.cli.output import RUN_ENTRIES, write_run, write_run_workbook

    if out_dir is None:
        return None
    if out_dir.suffix.lower() == ".xlsx":
        write_run_workbook(out_dir, result, summary)
        note_written(out_dir)
        from openpyxl import load_workbook

        book = load_workbook(out_dir, read_only=True)
        try:
            return [f"sheets {', '.join(book.sheetnames)}"]
        finally:
            book.close()
    write_run(out_dir, result, summary)
    note_written(out_dir)
    return [e + ("/" if (out_dir / e).is_dir() else "") for e in RUN_ENTRIES if (out_dir / e).exists()]


def _show(result, summary: dict, as_json: bool) -> None:
    from relief.cli.render import render_infeasible, render_solution

    if as_json:
        click.echo(to_json(summary))
    elif result.evaluation is not None:
        render_solution(result)
    elif result.status == "infeasible":
        render_infeasible(result)


def _exit_status(result, summary: dict, as_json: bool) -> None:
    """Exit 3 if infeasible, 4 without a plan; a plan at a limit is said on stderr."""
    status = result.status
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
    if result.status == "time_limit" and result.plan_source != "solver":
        return (
            f"relief: warning: status time_limit: HiGHS found no plan in the time limit "
            f"({result.options.time_limit:g} s, counted from the start); reported instead: {result.plan_source}: "
            f"{worth}. Give more time with --time-limit."
        )
    if result.status == "time_limit":
        limit = result.options.time_limit
        return (
            f"relief: warning: status time_limit: the time limit ({limit:g} s) ran out before HiGHS proved the plan "
            f"optimal; this is the best plan found: {worth}. Give more time with --time-limit."
        )
    return f"relief: warning: status {result.status}: the plan is feasible but not proven optimal: {worth}."
