"""Read a case's files: a folder of case.yaml and CSV tables, or one .xlsx workbook.

Reading only turns files into raw tables of text (every cell a string, as typed) and a
dict of case.yaml fields; `relief.model.core.validate` types and checks them. Reading is
safe against damaged or hostile files: links out of the case folder, files over the size
limit, workbooks that unpack to more than it, non-UTF-8 text and YAML tags are refused,
each as a `Problem` naming the file (and the line, where there is one).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Hashable
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from relief.model.core.coerce import blank
from relief.model.core.problems import CaseError, Problem
from relief.model.core.schema import DEFAULT_MAX_FILE_MB, MAX_FILE_MB_VARIABLE, TABLES

if TYPE_CHECKING:
    from pathlib import Path


def max_file_bytes() -> int:
    """The size limit of one input file (and of what a workbook unpacks to): 50 MB, or
    RELIEF_MAX_FILE_MB megabytes. A case is a few small tables; a bigger file is a
    mistake, and reading it would only exhaust memory."""
    text = os.environ.get(MAX_FILE_MB_VARIABLE, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_FILE_MB
    except ValueError:
        mb = -1.0
    if not mb > 0 or math.isinf(mb):
        raise CaseError([Problem(MAX_FILE_MB_VARIABLE, f"must be a positive number of megabytes, not '{text}'")])
    return int(mb * 1_000_000)


def _size_problem(name: str, size: int, what: str = "is") -> Problem | None:
    limit = max_file_bytes()
    if size <= limit:
        return None
    return Problem(
        name,
        f"file {what} {size / 1e6:.1f} MB, more than the {limit / 1e6:g} MB an input file may have "
        f"(set {MAX_FILE_MB_VARIABLE} to allow more)",
    )


def _read_input(folder: Path, p: Path) -> tuple[str | None, Problem | None]:
    """The text of one file of a case folder, or why it cannot be used. It must be a regular
    file inside the folder (a link to a file outside it is refused: a case is what its
    folder holds), within the size limit, and UTF-8 (a byte-order mark, as Excel's "CSV
    UTF-8" writes, is dropped); otherwise the problem names the row of the first bad byte."""
    target = p.resolve()
    if not target.is_relative_to(folder.resolve()):
        return None, Problem(p.name, f"is a link to {target}, outside the case folder; copy the file into the case")
    if not target.is_file():
        return None, Problem(
            p.name, "is a link to nothing" if p.is_symlink() and not target.exists() else "is not a regular file"
        )
    try:
        if (big := _size_problem(p.name, target.stat().st_size)) is not None:
            return None, big
        data = target.read_bytes()
    except OSError as e:
        return None, Problem(p.name, f"cannot be read ({e.strerror or type(e).__name__})")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        row = data[: e.start].count(b"\n") + 1
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
        what = "is UTF-16 text" if utf16 else f"is not UTF-8 text (byte 0x{data[e.start]:02x})"
        if p.suffix == ".csv":
            return None, Problem(p.name, f"{what}: save it as CSV UTF-8", row=None if utf16 else row)
        return None, Problem(p.name, what if utf16 else f"line {row}: {what}")


class _CaseYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain values only: a python tag is refused, nothing is run),
    which also refuses a field given twice instead of keeping the last one silently."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"field '{key}' appears twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def _read_yaml(folder: Path) -> tuple[dict, Problem | None]:
    text, bad = _read_input(folder, folder / "case.yaml")
    if bad is not None:
        return {}, bad
    try:
        loaded = yaml.load(text, Loader=_CaseYamlLoader)
    except yaml.reader.ReaderError as e:  # a control character, such as NUL
        line = text[: e.position].count("\n") + 1
        code = e.character if isinstance(e.character, int) else ord(e.character)
        return {}, Problem("case.yaml", f"line {line}: the character #x{code:04x} is not allowed in YAML")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(e, "problem", None) or "not valid YAML"
        tag = re.search(r"constructor for the tag '(.*)'", what)
        if tag:
            name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
            what = f"the tag {name} is not allowed: case.yaml holds plain values only"
        return {}, Problem("case.yaml", f"{line}{what}")
    except RecursionError:
        return {}, Problem("case.yaml", "is nested too deeply: it holds field: value lines")
    except ValueError as e:  # PyYAML reading an integer of over 4300 digits, or a date such as 2026-02-30
        return {}, Problem("case.yaml", f"has a value relief cannot read ({e})")
    if loaded is None:
        return {}, Problem("case.yaml", "file is empty")
    if not isinstance(loaded, dict):
        return {}, Problem("case.yaml", "must be a mapping of field: value lines")
    return loaded, None


def read_folder(folder: Path) -> tuple[dict, dict, list[Problem]]:
    problems: list[Problem] = []
    meta: dict = {}
    yml = folder / "case.yaml"
    if not yml.exists() and not yml.is_symlink():
        problems.append(Problem("case.yaml", "file is missing"))
    else:
        meta, bad = _read_yaml(folder)
        if bad is not None:
            problems.append(bad)
    raw: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        p = folder / spec.file
        if not p.exists() and not p.is_symlink():
            if not spec.optional:
                problems.append(Problem(spec.file, "file is missing"))
            continue
        text, bad = _read_input(folder, p)
        if bad is not None:
            problems.append(bad)
            continue
        if not text.strip():
            problems.append(Problem(spec.file, "file is empty (it needs at least a header row)"))
            continue
        if (other := _other_separator(text)) is not None:
            problems.append(
                Problem(
                    spec.file,
                    f"columns must be separated by commas; this file uses {other}: save it as CSV with commas "
                    "(a spreadsheet set to a language with decimal commas writes semicolons)",
                    row=1,
                )
            )
            continue
        try:
            grid = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                header=None,
                keep_default_na=False,
                skipinitialspace=True,
                skip_blank_lines=False,
            )
            raw[name] = _with_header(grid)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
            problems.append(_csv_problem(spec.file, str(e)))
    return meta, raw, problems


_SEPARATORS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}


def _other_separator(text: str) -> str | None:
    """What a CSV's header is separated by instead of commas (semicolons, as Excel writes
    in a language with decimal commas; tabs), or None: the header splits into more
    columns on it than on commas (separators inside quotes do not count)."""
    header = next((line for line in text.splitlines() if line.strip()), "")

    def width(sep: str) -> int:
        return max((len(r) for r in csv.reader([header], delimiter=sep)), default=1)

    commas = width(",")
    best = max(_SEPARATORS, key=width)
    return _SEPARATORS[best] if width(best) > max(commas, 1) else None


def _csv_problem(file: str, error: str) -> Problem:
    """pandas' reason a CSV cannot be read, in a planner's words where it is a row with
    more values than the header has columns (a comma inside an unquoted value)."""
    odd = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    if odd:
        want, line, got = odd.groups()
        return Problem(
            file,
            f"cannot be read as CSV: line {line} has {got} values where the header has {want} columns "
            '(a value holding a comma needs "quotes")',
        )
    msg = error.strip().splitlines()[-1] if error.strip() else "cannot be read as CSV"
    return Problem(file, f"cannot be read as CSV: {msg}")


def read_workbook(path: Path) -> tuple[dict, dict, list[Problem]]:
    """The sheets of a workbook; a workbook that cannot be read at all is its only problem."""
    meta, raw, problems, _ = read_case_workbook(path)
    return meta, raw, problems


def read_case_workbook(path: Path) -> tuple[dict, dict, list[Problem], str]:
    """The case in a workbook: its fields, raw tables and problems, and the prefix of its
    sheets' names ('' in a case workbook, 'in_' in a run workbook)."""
    problems: list[Problem] = []
    sheets = workbook_sheets(path)
    prefix = ""
    if "case" not in sheets and RUN_SHEET_PREFIX + "case" in sheets:
        prefix = RUN_SHEET_PREFIX
        sheets = {k.removeprefix(prefix): v for k, v in sheets.items() if k.startswith(prefix)}
    meta: dict = {}
    if "case" not in sheets:
        problems.append(Problem(f"{path.name} [case]", "sheet is missing (columns field, value)"))
    else:
        sheet = sheets["case"]
        if not {"field", "value"} <= set(sheet.columns):
            problems.append(Problem(f"{path.name} [{prefix}case]", "needs the columns field and value"))
        else:
            for _, r in sheet.iterrows():
                if isinstance(r["field"], str) and r["field"].strip():
                    v = r["value"]
                    meta[r["field"].strip()] = None if blank(v) else v
    raw = {}
    for name, spec in TABLES.items():
        if name in sheets:
            raw[name] = sheets[name]
        elif not spec.optional:
            problems.append(Problem(f"{path.name} [{prefix}{name}]", "sheet is missing"))
    return meta, raw, problems, prefix


RUN_SHEET_PREFIX = "in_"
"""A run workbook (`relief solve --out run.xlsx`) holds its case as sheets in_case,
in_levers, ...: its own `tiers` sheet is a result, not the input table."""


def workbook_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook as cells (objects), first row as the header, `_row` kept;
    CaseError if the file is too big, unpacks to too much, or cannot be read at all."""
    if not path.is_file():
        raise CaseError([Problem(path.name, "is not a regular file")])
    if (big := _size_problem(path.name, path.stat().st_size)) is not None:
        raise CaseError([big])
    try:  # an .xlsx is a zip: refuse a "zip bomb" before openpyxl unpacks it
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())  # zipfile never unpacks more than this
    except (zipfile.BadZipFile, OSError):
        unpacked = 0  # not a zip: reading it below says so
    if (big := _size_problem(path.name, unpacked, what="unpacks to")) is not None:
        raise CaseError([big])
    try:
        return {
            k: _with_header(v)
            for k, v in pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl", header=None).items()
        }
    except Exception as e:  # openpyxl raises many kinds on a damaged file
        raise CaseError([Problem(path.name, f"cannot be read as an Excel workbook ({type(e).__name__})")]) from None


def _with_header(grid: pd.DataFrame) -> pd.DataFrame:
    """First row as column names, kept verbatim (pandas would rename a repeated header
    'x' to 'x.1'); data rows keep their spreadsheet row numbers in `_row`, blank lines
    included."""
    if not len(grid):
        return pd.DataFrame()
    header = ["" if blank(v) else str(v).strip() for v in grid.iloc[0]]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(len(header))
    body = body.set_axis(header, axis=1)
    body["_row"] = list(range(2, len(body) + 2))
    return body


def in_workbook(p: Problem, book: str, prefix: str = "") -> Problem:
    """A problem of a workbook's sheet names the workbook and sheet: 'case.xlsx [levers]'
    (in a run workbook, 'run.xlsx [in_levers]')."""
    if p.file == "case.yaml":
        return replace(p, file=f"{book} [{prefix}case]")
    stem = p.file.removesuffix(".csv")
    return replace(p, file=f"{book} [{prefix}{stem}]") if stem in TABLES else p
