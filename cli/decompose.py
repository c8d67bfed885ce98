"""`relief solve --decompose ph`: the roadmap by progressive hedging with mpi-sppy, on every
rank of `mpiexec -n K` (one process without it). Only rank 0 prints and writes; the other
ranks exit 0 quietly (model/core/decompose.py; docs/formulation.md, Scenario decomposition)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time

import click

from relief.cli.errors import EXIT_FAILED, EXIT_INPUT, Failure

PH_DEFAULT_GAP = 0.01
_STDERR = [2]  # where a rank's own failure is said (its stderr before quiet_other_ranks)


def refuse(what: str) -> None:
    raise Failure(EXIT_INPUT, f"relief: --decompose ph cannot {what}")


def check_request(work, risk, reveal, sample=None) -> None:
    """What PH here cannot do: an adaptive roadmap, a risk measure or sampled stances (exit 2)."""
    from relief.model.core.information import Information

    if reveal is not None or not Information.of(work).static:
        refuse("solve an adaptive roadmap (reveal_year, information.csv, --reveal): drop them or solve without it")
    if sample is not None:
        refuse("solve sampled stances (--sample): decompose the case itself, or sample without it")
    if risk is not None or (work.meta.get("risk_measure") or "expected") != "expected":
        refuse("optimise a risk measure (--risk, case.yaml risk_measure): it maximises expected relief only")


def quiet_other_ranks(rank: int) -> None:
    """Ranks other than 0 print nothing: their stdout and stderr go to /dev/null."""
    if rank == 0:
        return
    _STDERR[0] = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def solve_decomposed(req: dict):
    """relief solve CASE --decompose ph (req: the options of `relief solve`, by name): on rank 0
    the checked RunResult and its report (with `decompose`), for `relief solve` to show and
    write; None on the other ranks."""
    started = time.perf_counter()
    from mpi4py import MPI

    from relief.cli.inputs import load
    from relief.model.core.checks import with_checks
    from relief.model.core.decompose import spokes_for
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.session import check_levers

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    quiet_other_ranks(rank)
    try:
        spokes_for(req["ph_spokes"], comm.Get_size())
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    if req["out_dir"] is not None and req["out_dir"].suffix.lower() != ".xlsx" and rank == 0:
        from relief.cli.output import check_run_dir

        check_run_dir(req["out_dir"])
    overrides = tuple(req["overrides"])
    work = apply_overrides(load(req["case"]), list(overrides))
    if req["without_obligations"]:
        work = work.without_obligations()
    check_request(work, req["risk"], req["reveal"], req.get("sample"))  # `sample`: relief solve --sample, if any
    work = with_checks(work)
    for w in work.warnings:
        click.echo(f"warning: {w}", err=True)
    try:
        check_levers(work, tuple(req["force"]), tuple(req["exclude"]))
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    # case.yaml's time_limit and mip_gap are for the monolithic solve: PH takes only the command line's
    gap = req["mip_gap"] if req["mip_gap"] is not None else PH_DEFAULT_GAP
    options = SolveOptions(time_limit=req["time_limit"], mip_gap=gap, verbose=bool(req["verbose"]))
    result = _run(work, options, req, comm, started)
    if rank != 0:
        return None
    summary = result.report()
    summary["decompose"] = result.decompose
    for note in result.notes:
        click.echo(f"relief: note: {note}", err=True)
    return result, summary


def _run(work, options, req, comm, started):
    """PH on every rank; on rank 0 the checked RunResult. A failure on any rank stops all of them."""
    from relief.model.core.decompose import PHOptions, ph_result, solve_ph
    from relief.model.core.options import quiet_stdout
    from relief.model.core.result import CheckError

    ph = PHOptions(
        iterations=req["ph_iterations"],
        mip_gap=options.mip_gap,
        time_limit=req["time_limit"],
        bundle=req["ph_bundle"],
        spokes=req["ph_spokes"],
        verbose=options.verbose,
    )
    force, exclude = tuple(req["force"]), tuple(req["exclude"])
    try:
        sink = sys.stderr if options.verbose else io.StringIO()
        with quiet_stdout(options.verbose), contextlib.redirect_stdout(sink):
            mpisppy_log_to_stdout()  # mpi-sppy prints and logs to stdout: here, that is stderr or nowhere
            out = solve_ph(work, ph, force, exclude, comm=comm, started=started)
        if comm.Get_rank() != 0:
            return None
        return ph_result(work, out, options, force, exclude, tuple(req["overrides"]))
    except CheckError as e:
        raise Failure(EXIT_FAILED, f"relief: the decomposition's plan failed relief's check: {e}") from None
    except Exception as e:  # one rank failing would leave the others waiting forever
        if comm.Get_size() > 1:
            os.write(_STDERR[0], f"relief: --decompose ph failed on rank {comm.Get_rank()}: {e}\n".encode())
            comm.Abort(EXIT_FAILED)
        raise


def describe(d: dict) -> str:
    """One line on how the decomposition went (terminal output)."""
    from relief.cli.format import usd

    ranks = f"{d['ranks']} MPI rank{'s' if d['ranks'] != 1 else ''} ({', '.join(d['cylinders'])})"
    iterations = f"{d['iterations']} iteration{'s' if d['iterations'] != 1 else ''}"
    line = (
        f"Decomposition: progressive hedging (mpi-sppy) on {ranks}, {iterations}, "
        f"{d['subproblems']} subproblems of up to {d['stances_per_subproblem']} stances, stopped by {d['stopped_by']}"
    )
    if d["inner_bound"] is None:
        return line + "; no plan."
    bound = "none" if d["outer_bound"] is None else usd(d["outer_bound"])
    gap = "" if d["gap"] is None else f", gap {d['gap']:.2%}"
    return line + f"; plan's expected relief {usd(d['inner_bound'])} (relief's evaluator), bound {bound}{gap}."


def mpisppy_log_to_stdout() -> None:
    """mpi-sppy's logger writes to the stdout of its import: point it at the present one."""
    import mpisppy  # noqa: F401 (its import prints a line)

    for h in logging.getLogger("mpisppy").handlers:
        if isinstance(h, logging.StreamHandler):
            h.setStream(sys.stdout)
