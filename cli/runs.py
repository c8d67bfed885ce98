"""The runs `relief compare` and `relief report` read: run folders or run workbooks, or a case and its
variants solved on the fly (--case CASE --variant "LABEL: --set PATH=V ...")."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from relief.cli.errors import EXIT_FAILED, EXIT_INFEASIBLE, EXIT_INPUT, Failure
from relief.cli.inputs import load
from relief.model.analyses.compare import CompareError, Run, lever_tracks

RUN_FILES = ("summary.json", "roadmap.csv", "relief.csv", "spending.csv", "case/scenarios.csv")


def parse_variant(text: str) -> tuple[str, list, list, list]:
    """'LABEL: --set P=V --force L --exclude L' -> (label, overrides, force, exclude)."""
    text = text.strip()
    label = None
    if text and not text.startswith("-") and ":" in text:
        head, rest = text.split(":", 1)
        label, text = head.strip() or None, rest.strip()
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: --variant {text!r}: {e}") from None
    opts: dict[str, list[str]] = {"--set": [], "--force": [], "--exclude": []}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, eq, val = tok.partition("=")
        if name in opts and eq:
            opts[name].append(val)
            i += 1
        elif tok in opts and i + 1 < len(tokens):
            opts[tok].append(tokens[i + 1])
            i += 2
        else:
            raise Failure(
                EXIT_INPUT,
                f"relief: --variant {label + ': ' if label else ''}{text!r}: cannot read {tok!r} "
                "(expected --set PATH=V, --force LEVER, --exclude LEVER)",
            )
    if not label:
        label = text or "variant"
    return label, opts["--set"], opts["--force"], opts["--exclude"]


def solve_variants(case_path, variants, time_limit=None, mip_gap=None) -> list[Run]:
    """The case as given ('base'), then each variant, solved; a variant without a plan
    ends the command (exit 3 if infeasible, else 4)."""
    from relief.model.analyses.compare import run_from_result
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides
    from relief.model.core.run import run_case

    base = load(case_path)
    specs = [("base", [], [], [])] + [parse_variant(v) for v in variants]
    runs = []
    for label, overrides, force, exclude in specs:
        work = apply_overrides(base, list(overrides))
        options = SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap)
        try:
            result = run_case(work, options, force=tuple(force), exclude=tuple(exclude), overrides=tuple(overrides))
        except ValueError as e:
            raise Failure(EXIT_INPUT, f"relief: variant {label}: {e}") from None
        if result.evaluation is None:
            code = EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_FAILED
            raise Failure(
                code,
                [f"relief: variant {label}: no plan (status {result.status}); nothing to compare"]
                + [f"  {line}" for line in result.conflicts],
            )
        runs.append(run_from_result(label, result))
    return runs


def load_runs(runs, case, variants, time_limit, mip_gap) -> list[Run]:
    """--case and its --variants solved on the fly (the case first, as 'base'), then the run folders."""
    if variants and case is None:
        raise Failure(EXIT_INPUT, "relief: --variant needs --case (use --case default for the shipped case)")
    loaded: list[Run] = []
    if case is not None:
        loaded += solve_variants(None if str(case) == "default" else case, variants, time_limit, mip_gap)
    return loaded + [load_run(p) for p in runs]


def load_run(path: Path) -> Run:
    """A run folder, or a run workbook (`relief solve --out run.xlsx`)."""
    from relief.cli.workbook import is_workbook, load_run_workbook

    return load_run_workbook(path) if is_workbook(path) else load_run_folder(path)


# ---------------------------------------------------------------- run folders


def _read_optional(path: Path):
    import pandas as pd

    return pd.read_csv(path) if path.is_file() else None


def _read_tables(path: Path) -> dict:
    """The tables a comparison needs, each with the columns it reads."""
    import pandas as pd

    tables = {
        "summary": json.loads((path / "summary.json").read_text()),
        "roadmap": pd.read_csv(path / "roadmap.csv"),
        "relief": pd.read_csv(path / "relief.csv"),
        "spending": pd.read_csv(path / "spending.csv"),
    }
    scen = pd.read_csv(path / "case" / "scenarios.csv")
    tables["probability"] = {str(s): float(p) for s, p in zip(scen["scenario"], scen["probability"])}
    from relief.cli.workbook import check_run_columns

    check_run_columns(tables, "{name}.csv")
    tables["lever_tracks"] = lever_tracks(
        _read_optional(path / "case" / "contributions.csv"), _read_optional(path / "case" / "pillar_weights.csv")
    )
    return tables


def load_run_folder(path: Path) -> Run:
    """A run folder written by `relief solve --out`; CompareError if it is not one."""
    import pandas as pd

    path = Path(path)
    if not path.is_dir():
        raise CompareError(f"{path} is not a run folder (no such folder)")
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise CompareError(f"{path} is not a run folder from `relief solve --out` (missing {', '.join(missing)})")
    try:
        tables = _read_tables(path)
    except Exception as e:  # unreadable JSON/CSV, missing columns
        raise CompareError(f"{path} is not a readable run folder: {type(e).__name__}: {e}") from None
    tiers = None
    if (path / "tiers.csv").is_file():
        try:
            tiers = pd.read_csv(path / "tiers.csv")
        except Exception as e:
            raise CompareError(f"{path / 'tiers.csv'} cannot be read: {type(e).__name__}") from None
    try:
        from relief.model.core.case import load_case

        case = load_case(path / "case")
    except Exception:  # the comparison needs only the tables above; the report says what it lacks
        case = None
    return Run(label=path.name or str(path), source=str(path), tiers=tiers, case=case, **tables)
