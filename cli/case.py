"""`relief validate`, `relief template` and `relief init`: the case itself, checked, or
written (as a workbook or a folder) to edit."""

from __future__ import annotations

import json
from pathlib import Path

import click

from relief.cli import options as o
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.inputs import DEFAULT_CASE_NAME, default_case_path, is_default_case, load


@click.command()
@o.case_argument
@o.out_file("The workbook to write (.xlsx).", required=True)
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
    c = load(case)
    write_case_workbook(c, out_path)
    click.echo(
        f"wrote {out_path}: {len(c.levers)} levers, {len(c.scenarios)} scenarios; edit it and run relief "
        f"solve {out_path}"
    )


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path),
    help="The case to copy: a case folder or .xlsx workbook (default: the shipped default case).",
)
@guarded
def init(folder, source):
    """Copy a case into a new FOLDER to edit: the shipped default case (South Korea,
    2026), with its README.md giving the source of every number, or the case of --from.
    `relief solve` without CASE always reads the shipped copy inside the installation,
    never a folder you edit; `relief solve FOLDER` reads the copy.

    FOLDER must be new or empty. A workbook given with --from is written as a folder of
    case.yaml and CSV tables.

    \b
    Examples:
      relief init my-case                      # the default case, to edit
      relief solve my-case
      relief init tiny --from examples/tiny
      relief init from-book --from korea.xlsx  # a workbook as a case folder
    """
    from relief.model.core.io import FolderInUse, atomic_dir

    source = default_case_path() if source is None else source
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Failure(EXIT_INPUT, f"relief: {folder} already exists and is not empty; choose a new or empty folder")
    files = _case_source(source)
    try:
        with atomic_dir(folder, marker="case.yaml") as tmp:
            files(tmp)
    except FolderInUse as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    written = sorted(p.name for p in folder.iterdir())
    tables = [n for n in written if n.endswith(".csv")]
    others = [n for n in written if n not in tables]
    what = "the shipped default case " + DEFAULT_CASE_NAME if is_default_case(source) else str(source)
    click.echo(
        f"wrote {folder}: a copy of {what} to edit ({', '.join(others)} and {len(tables)} tables: "
        f"{', '.join(t.removesuffix('.csv') for t in tables)})"
    )
    click.echo(f"next: edit the files, then run: relief solve {folder}")


def _case_source(source: Path):
    """A function filling a folder with the case at `source`: a folder's files copied as
    they are (its README.md and notes too), or a workbook's tables written as CSVs."""
    import shutil

    from relief.model.core.case import load_case
    from relief.model.core.io import write_case_folder

    if source.is_dir():
        if not (source / "case.yaml").is_file():
            raise Failure(EXIT_INPUT, f"relief: {source} is not a case folder (it has no case.yaml)")
        entries = [p for p in sorted(source.iterdir()) if p.is_file() and not p.is_symlink()]
        return lambda tmp: [shutil.copy2(p, tmp / p.name) for p in entries if not p.name.startswith(".")]
    if source.suffix.lower() in (".xlsx", ".xlsm") and source.is_file():
        case = load_case(source)  # a workbook is read (and must be valid) to be written as a folder
        return lambda tmp: write_case_folder(case, tmp)
    raise Failure(EXIT_INPUT, f"relief: {source}: no such case folder or .xlsx workbook")


@click.command()
@o.case_argument
@o.as_json("validate")
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
        c = with_checks(load(case))
    except CaseError as e:
        if as_json:
            click.echo(
                json.dumps({"valid": False, "problems": [p.__dict__ for p in e.problems], "warnings": []}, indent=2)
            )
            raise Failure(EXIT_INPUT, []) from None
        raise
    failed = strict and bool(c.warnings)
    if as_json:
        _print_json(c, strict, failed)
    elif failed:
        n = len(c.warnings)
        raise Failure(
            EXIT_INPUT,
            [f"relief: the case has {n} warning{'s' if n > 1 else ''}, which --strict makes errors:"]
            + [f"  warning: {w}" for w in c.warnings],
        )
    else:
        _print_valid(c, path)


def _print_json(c, strict: bool, failed: bool) -> None:
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


def _print_valid(c, path) -> None:
    t = c.tables
    if is_default_case(path):
        path = f"{default_case_path()} (the shipped default case)"
    click.echo(
        f"{path}: valid. '{c.name}', {c.meta['first_year']}-{c.meta['last_year']}: {len(t['levers'])} levers, "
        f"{len(c.scenarios)} scenarios, {len(c.tracks)} tracks, {len(t['sectors'])} sectors, {len(c.pillars)} pillars, "
        f"{len(t['tiers'])} tiers."
    )
    for w in c.warnings:
        click.echo(f"warning: {w}", err=True)
