"""Every option of the `relief` commands, defined once and stacked onto the commands (as
pip-tools does in piptools/scripts/options.py).

An option means the same in every command; only its scope differs: one plan (`solve`),
every plan of an analysis (`analysis`: value, alternatives, marginal, delay,
coordination), every --case solve of `compare` and `report` (`runs`), every point of a
sweep (`sweep`: sweep, frontier, risk). Where the scope changes the wording, the
wordings sit side by side in one table here, so that they cannot drift apart unseen.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    Decorator = Callable[[Callable], Callable]

SOLVE, ANALYSIS, RUNS, SWEEP, MARGINAL = "solve", "analysis", "runs", "sweep", "marginal"
STRESS = "stress"


def stack(*options: Decorator) -> Decorator:
    """One decorator applying `options` so that they are listed in --help in this order."""

    def apply(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


# ---------------------------------------------------------------- the case and the request

case_argument = click.argument("case", required=False, type=click.Path(path_type=Path))

SET_HELP = {
    SOLVE: "Change a number: case.FIELD=V or TABLE.KEY.COLUMN=V (composite keys joined by ':', "
    "'*' matches any part); PATH*=F scales. Repeatable.",
    ANALYSIS: "Change a number first, as in relief solve: case.FIELD=V or TABLE.KEY.COLUMN=V; PATH*=F "
    "scales. Repeatable.",
    SWEEP: "Change a number at every point (as in relief solve).",
    STRESS: "Perturb any other number of the run's case (as in relief solve: case.FIELD=V, TABLE.KEY.COLUMN=V, "
    "PATH*=F); the plan is re-evaluated, not re-solved. Repeatable.",
}
FORCE_HELP = {
    SOLVE: "Commit at least max(min_modules, 1) module(s) of LEVER. Repeatable.",
    ANALYSIS: "Commit at least max(min_modules, 1) module(s) of LEVER in every plan. Repeatable.",
    SWEEP: "Force LEVER at every point.",
}
EXCLUDE_HELP = {
    SOLVE: "Never use LEVER. Repeatable.",
    ANALYSIS: "Never use LEVER. Repeatable.",
    SWEEP: "Exclude LEVER at every point.",
}


WITHOUT_OBLIGATIONS_HELP = {
    SOLVE: "Drop the obligations of obligations.csv: the best roadmap if nothing is owed.",
    ANALYSIS: "Drop the obligations of obligations.csv in every plan.",
}


def without_obligations(scope: str) -> Decorator:
    """--without-obligations, passed as `without_obligations`."""
    return click.option("--without-obligations", is_flag=True, help=WITHOUT_OBLIGATIONS_HELP[scope])


def overrides(scope: str) -> Decorator:
    """--set PATH=VALUE (repeatable), passed as `overrides`."""
    return click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=SET_HELP[scope])


def force(scope: str) -> Decorator:
    return click.option("--force", multiple=True, metavar="LEVER", help=FORCE_HELP[scope])


def exclude(scope: str) -> Decorator:
    return click.option("--exclude", multiple=True, metavar="LEVER", help=EXCLUDE_HELP[scope])


def risk() -> Decorator:
    return click.option(
        "--risk",
        metavar="MEASURE",
        help="What to maximise: expected (default), worst (the worst stance's relief) or "
        "cvar:ALPHA:WEIGHT ((1-WEIGHT) x expected + WEIGHT x mean relief of the worst 1-ALPHA of probability).",
    )


class Share(click.ParamType):
    """A share written as a percentage or a fraction: '5%' or '0.05' (0 <= share < 1), as
    `alternatives --within` reads it."""

    name = "PCT"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        t = str(value).strip()
        try:
            v = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
        except ValueError:
            self.fail(f"{value!r}: write a share like 5% or 0.05", param, ctx)
        if not 0.0 <= v < 1.0:
            self.fail(f"{value!r}: must be at least 0% and below 100%", param, ctx)
        return v


MARGIN_HELP = {
    SOLVE: "Count a tier only where the track score reaches its threshold x (1 + PCT): a plan that keeps PCT "
    "to spare on every tier it reaches (5% or 0.05; sets case.tier_margin, shown in overrides).",
    ANALYSIS: "Count a tier only where the track score reaches its threshold x (1 + PCT), in every plan "
    "(5% or 0.05; sets case.tier_margin).",
}


def margin(scope: str) -> Decorator:
    """--margin PCT (a `Share`, read as `alternatives --within` reads its share), given to the
    command as one more `--set case.tier_margin=V` at the end of `overrides`: the command's
    signature does not change, and the margin shows in `overrides` like any other change."""

    def apply(fn):
        @functools.wraps(fn)
        def with_margin(*args, margin=None, **kwargs):
            if margin is not None:
                kwargs["overrides"] = (*kwargs.get("overrides", ()), f"case.tier_margin={margin!r}")
            return fn(*args, **kwargs)

        return click.option("--margin", type=Share(), metavar="PCT", help=MARGIN_HELP[scope])(with_margin)

    return apply


warn_margin = click.option(
    "--warn-margin",
    type=Share(),
    default="2%",
    show_default=True,
    help="Flag every tier reached with less than PCT of its threshold to spare (score - threshold below "
    "PCT x threshold): a plan on a knife edge. Written as 5% or 0.05.",
)

reveal = click.option(
    "--reveal",
    type=int,
    metavar="YEAR",
    help="An adaptive roadmap: commitments before YEAR are the same in every U.S. stance, from YEAR on each "
    "stance has its own (sets case.reveal_year; docs/formulation.md, Adaptive).",
)

# ---------------------------------------------------------------- the solver

# The engine spends one time limit on both stages of a solve (relief, then spending).
TIME_LIMIT_HELP = {
    SOLVE: "Solver time limit in seconds, both stages together (default: case.yaml, else 600). "
    "At the limit, the best plan found is reported with its bound and gap (status time_limit).",
    ANALYSIS: "Solver time limit in seconds, both stages together, for each solve (default: case.yaml, else 600).",
    RUNS: "Solver time limit in seconds, both stages together, for each --case solve (default: case.yaml, else 600).",
    SWEEP: "Solver time limit in seconds, both stages together, at each point (default: case.yaml, else 60).",
}
MIP_GAP_HELP = {
    SOLVE: "Relative MIP gap at which to stop (default: case.yaml, else 1e-6).",
    ANALYSIS: "Relative MIP gap at which to stop (default: case.yaml, else 1e-6).",
    RUNS: "Relative MIP gap for --case solves.",
    SWEEP: "Relative MIP gap per point (default: case.yaml, else 1e-6).",
    MARGINAL: "Relative MIP gap (0: finite differences of optima found within a gap would be noise of the gap's size).",
}


def time_limit(scope: str) -> Decorator:
    return click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help=TIME_LIMIT_HELP[scope])


def mip_gap(scope: str) -> Decorator:
    if scope == MARGINAL:  # finite differences want proven optima: 0 unless asked
        return click.option(
            "--mip-gap", type=click.FloatRange(min=0), default=0.0, show_default=True, help=MIP_GAP_HELP[scope]
        )
    return click.option("--mip-gap", type=click.FloatRange(min=0), help=MIP_GAP_HELP[scope])


threads = click.option("--threads", type=click.IntRange(min=1), help="HiGHS threads (default 1: deterministic).")
highs_seed = click.option("--seed", type=click.IntRange(min=0), help="HiGHS random seed (default 0).")
verbose = click.option("--verbose", is_flag=True, help="Show the solver's log (on stderr).")

# ---------------------------------------------------------------- what is written and printed

JSON_HELP = {
    "tables": "Print one JSON object to stdout instead of the tables.",
    "validate": "Print the problems and warnings as JSON.",
    SWEEP: "Print summary.json to stdout instead of the tables.",
}


def as_json(what: str = "tables") -> Decorator:
    """--json, passed as `as_json`."""
    return click.option("--json", "as_json", is_flag=True, help=JSON_HELP[what])


def out_folder(writes: str | None = None, help: str | None = None) -> Decorator:
    """--out DIR, passed as `out_dir`: the folder an analysis writes `writes` into."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path, file_okay=False),
        help=help or f"Write {writes} to DIR.",
    )


def out_file(help: str, **kw) -> Decorator:
    """--out FILE, passed as `out_path` (a workbook, a report)."""
    return click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), help=help, **kw)


out_run = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write summary.json, roadmap.csv, tiers.csv, relief.csv, spending.csv and the case used to DIR "
    "(replacing a previous run there as a whole, in one step); or, if it ends in .xlsx, the same tables "
    "as sheets of one workbook.",
)

# ---------------------------------------------------------------- sweeps

workers = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes (one HiGHS thread each).",
)
scheduler = click.option(
    "--scheduler", metavar="ADDRESS", help="Run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786."
)
solve_seed = click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="HiGHS random seed (default 0); with --sample, also the seed of the sampled stances.",
)
sampled = stack(
    click.option(
        "--sample",
        type=click.IntRange(min=1),
        metavar="N",
        help="Sampled stances (docs/analyses.md): solve M samples of N stances drawn from the case "
        "and --sample-spec, and bound the candidate plan's optimality gap (Mak, Morton and Wood 1999).",
    ),
    click.option(
        "--replications", type=click.IntRange(min=2), metavar="M", help="With --sample: samples solved (default 10)."
    ),
    click.option(
        "--sample-spec",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE.yaml",
        help="With --sample: what varies and how (default: thresholds and credit x uniform(0.75, 1.25)).",
    ),
    click.option(
        "--evaluate-sample",
        type=click.IntRange(min=2),
        metavar="K",
        help="With --sample: stances on which the candidate is evaluated, no MILP (default 1000).",
    ),
    click.option(
        "--confidence",
        type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
        metavar="C",
        help="With --sample: confidence of the intervals (default 0.95).",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="With --sample: local worker processes for the sampled solves (one HiGHS thread each).",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --sample: run the sampled solves on an existing Dask cluster, e.g. tcp://10.0.0.5:8786.",
    ),
)
"""`relief solve --sample`: the multiple-replication procedure (cli/solve_sample.py)."""
resume = click.option(
    "--resume", is_flag=True, help="Continue an interrupted sweep in --out without redoing finished points."
)
no_reuse = click.option(
    "--no-reuse",
    is_flag=True,
    help="Solve every point afresh, even where a looser point's plan is provably still optimal.",
)
yes = click.option(
    "--yes",
    is_flag=True,
    help="Run a long sweep without asking (needed off a terminal when the first points say it would take over "
    "10 minutes).",
)
design_seed = click.option("--seed", type=int, help="Seed of the sampling design.")

# ---------------------------------------------------------------- runs to compare or report

runs_argument = click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
case_to_solve = click.option(
    "--case",
    "case",
    type=click.Path(path_type=Path),
    help="Solve this case on the fly as the first run ('base'), with --variant runs after it; `--case "
    "default` for the shipped case.",
)
run_argument = click.argument("run", type=click.Path(path_type=Path))
"""RUN: one run folder (`relief solve --out DIR`) or run workbook (`relief solve --out run.xlsx`)."""

variants = click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar='"LABEL: ARGS"',
    help='A variant of --case: "LABEL: --set PATH=V --force LEVER --exclude LEVER". Repeatable.',
)

# ---------------------------------------------------------------- the stacks

solve_options = stack(
    overrides(ANALYSIS),
    force(ANALYSIS),
    exclude(ANALYSIS),
    without_obligations(ANALYSIS),
    margin(ANALYSIS),
    time_limit(ANALYSIS),
    mip_gap(ANALYSIS),
    threads,
    highs_seed,
    as_json(),
)
"""The options every analysis shares with `relief solve`: CASE's changes, the levers
forced or excluded, the solver's settings, --json."""

sweep_options = stack(
    overrides(SWEEP),
    force(SWEEP),
    exclude(SWEEP),
    workers,
    scheduler,
    time_limit(SWEEP),
    mip_gap(SWEEP),
    out_folder(help="Output folder (default: sweeps/CASE-KIND-HASH)."),
    resume,
    as_json(SWEEP),
    no_reuse,
    yes,
)
"""The options of `relief sweep` and of its presets `frontier` and `risk`."""

run_options = stack(runs_argument, case_to_solve, variants, time_limit(RUNS), mip_gap(RUNS))
"""RUNS and the --case/--variant/--time-limit/--mip-gap that solve runs on the fly
(relief compare, relief report); cli/runs.py `load_runs` reads them."""

# ---------------------------------------------------------------- decomposition (relief solve --decompose ph)

decompose = stack(
    click.option(
        "--decompose",
        type=click.Choice(["ph"]),
        help="Solve by scenario decomposition with mpi-sppy: progressive hedging over groups of stances, "
        "with a Lagrangian bound; run under `mpiexec -n K` to use K processes (docs/formulation.md, "
        "Scenario decomposition). The gap defaults to 1% (--mip-gap).",
    ),
    click.option(
        "--ph-iterations",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        help="With --decompose ph: stop after this many PH iterations.",
    ),
    click.option(
        "--ph-bundle",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help="With --decompose ph: stances per PH subproblem (each is relief's model of those stances).",
    ),
    click.option(
        "--ph-spokes",
        type=click.Choice(["auto", "none", "lagrangian", "all"]),
        default="auto",
        show_default=True,
        help="With --decompose ph: the cylinders beside the PH hub, a rank each: lagrangian (a better "
        "bound), all (lagrangian and xhatshuffle, a plan found while PH runs); none gives every rank "
        "to PH itself (fastest; bound: each group alone); auto: as many as the ranks allow.",
    ),
)
