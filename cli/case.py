"""`relief validate` and `relief template`: the case itself, checked or written to edit."""

from __future__ import annotations

import json

import click

from relief.cli import options as o
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.inputs import default_case_path, load


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
    click.echo(
        f"{path}: valid. '{c.name}', {c.meta['first_year']}-{c.meta['last_year']}: {len(t['levers'])} levers, "
        f"{len(c.scenarios)} scenarios, {len(c.tracks)} tracks, {len(t['sectors'])} sectors, {len(c.pillars)} pillars, "
        f"{len(t['tiers'])} tiers."
    )
    for w in c.warnings:
        click.echo(f"warning: {w}", err=True)
