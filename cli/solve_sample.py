"""`relief solve --sample N`: sampled stances with statistical bounds (model/analyses/mrp.py).

The candidate plan is shown as `relief solve` shows a plan (its solve on its own sample of
N stances), then the multiple-replication procedure's estimates; `--json` adds a `sample`
object to the usual keys; `--out DIR` also writes sample_replications.csv.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from relief.cli.emit import to_json
from relief.cli.errors import EXIT_FAILED, EXIT_INPUT, Failure, note_written, say_written

DEFAULT_REPLICATIONS = 10
DEFAULT_EVALUATION = 1000
DEFAULT_CONFIDENCE = 0.95
REPLICATION_COLUMNS = (
    "replication",
    "seed",
    "status",
    "saa_optimum",
    "saa_bound",
    "candidate_on_sample",
    "gap",
    "solve_seconds",
)


@dataclass(frozen=True)
class SampleRequest:
    """What --sample and its companions ask for, checked before the case is read."""

    n: int
    replications: int
    spec: object  # a SampleSpec
    evaluation_stances: int
    confidence: float
    seed: int
    workers: int
    scheduler: str | None

    def emit(self, result, summary: dict, out_dir, as_json: bool) -> None:
        """--out DIR (also sample_replications.csv), then --json or the tables."""
        if out_dir is not None:
            _write(out_dir, result, summary)
            note_written(out_dir)
        if as_json:
            click.echo(to_json(summary))
        else:
            from relief.cli.render import render_solution

            render_solution(result)
            render_sample(summary["sample"])
        if out_dir is not None:
            say_written(out_dir, _entries(out_dir))


def sample_request(
    sample, replications, sample_spec, evaluate_sample, confidence, seed, workers, scheduler, out_dir
) -> SampleRequest | None:
    """None without --sample (a usage error, exit 2, for its companions alone); else the request,
    its spec read (a bad spec: file, entry and key, exit 2) and the Dask scheduler reached."""
    if sample is None:
        given = [
            name
            for name, v in (
                ("--replications", replications),
                ("--sample-spec", sample_spec),
                ("--evaluate-sample", evaluate_sample),
                ("--confidence", confidence),
                ("--scheduler", scheduler),
            )
            if v is not None
        ] + (["--workers"] if workers != 1 else [])
        if given:
            raise Failure(EXIT_INPUT, f"relief: {', '.join(given)} only work with --sample N")
        return None
    if out_dir is not None and out_dir.suffix.lower() == ".xlsx":
        raise Failure(EXIT_INPUT, "relief: --sample writes a run folder: give --out a folder, not a workbook")
    from relief.model.sweeps.designs import SweepError
    from relief.model.sweeps.sampling import SampleSpec
    from relief.model.sweeps.spec import load_sample_spec

    try:
        spec = load_sample_spec(sample_spec) if sample_spec is not None else SampleSpec.default()
        if scheduler:
            from relief.model.sweeps.runner import check_scheduler

            check_scheduler(scheduler)
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    return SampleRequest(
        n=sample,
        replications=replications or DEFAULT_REPLICATIONS,
        spec=spec,
        evaluation_stances=evaluate_sample or DEFAULT_EVALUATION,
        confidence=confidence or DEFAULT_CONFIDENCE,
        seed=seed or 0,
        workers=workers,
        scheduler=scheduler,
    )


def solve_sampled(work, options, req: SampleRequest, force, exclude, overrides, risk, without_obligations):
    """The MRP on the case as asked: the candidate's RunResult and the summary with `sample`."""
    from relief.model.analyses.mrp import run_mrp
    from relief.model.core.result import NoPlan
    from relief.model.sweeps.designs import SweepError

    try:
        mrp = run_mrp(
            work,
            options,
            req.spec,
            n=req.n,
            replications=req.replications,
            seed=req.seed,
            confidence=req.confidence,
            evaluation_stances=req.evaluation_stances,
            force=tuple(force),
            exclude=tuple(exclude),
            workers=req.workers,
            scheduler=req.scheduler,
        )
    except SweepError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    except NoPlan as e:
        raise Failure(EXIT_FAILED, f"relief: {e}") from None
    result = mrp.candidate
    result.overrides = tuple(overrides)
    result.risk_option = risk
    result.without_obligations = bool(without_obligations)
    summary = result.report()
    summary["input_sha256"] = work.sha256()  # the case asked about, not the candidate's sample of it
    summary["sample"] = mrp.report()
    summary["sample"]["replication_rows"] = [{k: r[k] for k in REPLICATION_COLUMNS} for r in mrp.rows]
    return result, summary


def _write(out_dir, result, summary: dict) -> None:
    import pandas as pd

    from relief.cli.output import write_run

    rows = pd.DataFrame(summary["sample"]["replication_rows"], columns=list(REPLICATION_COLUMNS))
    write_run(out_dir, result, summary, extra={"sample_replications.csv": rows})


def _entries(out_dir) -> list[str]:
    from relief.cli.output import RUN_ENTRIES

    return [e + ("/" if (out_dir / e).is_dir() else "") for e in RUN_ENTRIES if (out_dir / e).exists()]


def render_sample(s: dict) -> None:
    """The MRP's estimates under the candidate plan."""
    from relief.cli.format import usd
    from relief.cli.render import console, table

    con = console()
    c, g = s["candidate_relief"], s["gap"]
    pct = f"{s['confidence']:.0%}"
    con.print(
        f"\nSampled stances (MRP, Mak-Morton-Wood 1999): {s['n']} stances × {s['replications']} replications, "
        f"seed {s['seed']}, spec {s['spec_source']}"
    )
    t = table("estimate", "value", left=("estimate", "value"))
    t.add_row(
        "candidate's expected relief",
        f"USD {usd(c['estimate'])}bn ± {usd(c['half_width'])} ({pct}, {c['evaluation_stances']} evaluation stances)",
    )
    share = g.get("ci_upper_share_of_relief")
    t.add_row("optimality gap estimate", f"USD {usd(g['estimate'])}bn (sd {usd(g['sd'])} over replications)")
    t.add_row(
        f"gap, {pct} upper bound",
        f"USD {usd(g['ci_upper'])}bn" + (f" ({share:.2%} of relief)" if share is not None else ""),
    )
    con.print(t)
