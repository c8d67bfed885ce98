"""One way for a command to give its result: terminal tables, one JSON object on stdout
(--json), and tidy CSVs with summary.json in a folder (--out DIR)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from relief.cli.errors import EXIT_FAILED, EXIT_INFEASIBLE, Failure, note_written, say_written

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd


def to_json(obj) -> str:
    """The JSON every command prints: indented, numpy numbers as floats."""
    return json.dumps(obj, indent=2, default=float)


def emit(
    summary: dict,
    *,
    as_json: bool,
    render: Callable[[], None],
    out_dir: Path | None = None,
    tables: Callable[[], dict[str, pd.DataFrame]] | None = None,
    with_summary: bool = True,
    written: Path | None = None,
) -> None:
    """Write the folder first (if --out), then print: `summary` as JSON with --json, else
    the terminal view `render()`. `tables()` gives the CSVs by file name; summary.json
    is written last (unless `with_summary` is False), so that its presence says the
    folder is complete; a last line on stderr says what was written where. `written`: a
    folder the command wrote itself (a sweep's), said the same way."""
    names = None
    if out_dir is not None:
        files = tables() if tables is not None else {}
        write_folder(Path(out_dir), files, summary if with_summary else None)
        note_written(out_dir)
        names = [*files, *(["summary.json"] if with_summary else [])]
    elif written is not None:
        out_dir = Path(written)
        names = sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if as_json:
        click.echo(to_json(summary))
    else:
        if summary.get("case_path"):  # which folder or workbook was solved, first
            from relief.cli.render import console, print_case_line

            print_case_line(console(), str(summary.get("case", "")), summary["case_path"], lead="Case: ")
        render()
    if names is not None:
        say_written(out_dir, names)


def write_folder(out_dir: Path, tables: dict[str, pd.DataFrame], summary: dict | None) -> None:
    """Each CSV atomically, then summary.json."""
    from relief.model.core.io import atomic_write_csv, atomic_write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        atomic_write_csv(out_dir / name, df)
    if summary is not None:
        atomic_write_json(out_dir / "summary.json", summary)


def record_tables(report: dict, spec: dict) -> dict[str, pd.DataFrame]:
    """CSVs from the record lists of a report: spec maps a key of `report` (or a function
    of it) to (file name, columns); the columns name an empty table's header. Lists in a
    cell (the levers of an owner) are written 'a;b', dictionaries as JSON."""
    import pandas as pd

    out = {}
    for key, (name, columns) in spec.items():
        rows = (key(report) if callable(key) else report.get(key)) or []
        df = pd.DataFrame(rows, columns=columns if not rows else None)
        for c in df.columns:
            if df[c].map(lambda v: isinstance(v, (list, tuple, dict))).any():
                df[c] = df[c].map(_cell)
        out[name] = df
    return out


def _cell(v):
    if isinstance(v, (list, tuple)):
        return ";".join(map(str, v))
    return json.dumps(v) if isinstance(v, dict) else v


def exit_status(report: dict, reference_status: str, conflicts, reference: str) -> None:
    """Exit codes: 3 if the reference plan is infeasible, 4 if a solve found no plan; a
    plan at a time or gap limit is reported with a warning."""
    if reference_status == "infeasible":
        for line in conflicts:
            click.echo(f"  {line}", err=True)
        raise Failure(
            EXIT_INFEASIBLE,
            f"relief: {reference} is infeasible, so there is nothing to compare (see the conflicts above)",
        )
    if report["status"] in ("no_solution", "error", "unbounded"):
        raise Failure(EXIT_FAILED, f"relief: a solve of the analysis found no plan (status {report['status']})")
    if report["status"] != "optimal":
        click.echo(
            f"relief: warning: status {report['status']}: some plans are feasible but not proven optimal", err=True
        )
