"""Load a case (folder of case.yaml + CSVs, or one .xlsx workbook) and validate it.

Every problem is collected before anything is reported, each naming its file, row and
column, so a planner fixes a case in one pass. The validated case is a plain, typed
`Case`: a dict of case.yaml fields and one pandas DataFrame per table. Tests build one
in a few lines with `Case.from_tables(meta, tables)`, which runs the same validation.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import zipfile
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import yaml

from relief.model.core.schema import (
    CASE_FIELDS,
    DEFAULT_MAX_FILE_MB,
    GOVERNMENT,
    INFO_COLUMNS,
    MAX_COEFFICIENT,
    MAX_FILE_MB_VARIABLE,
    MAX_NUMBER,
    OWNER_KINDS,
    RELATIONS,
    TABLES,
    Column,
    Field,
    power_of_ten,
)

PROBABILITY_TOLERANCE = 1e-6
_BAD_ID = re.compile(r"[:*]")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious, level='warning') with a case, where it is."""

    file: str
    message: str
    row: int | None = None  # spreadsheet row: the header is row 1, the first data row is 2
    column: str | None = None
    level: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        # a NUL, a line break or a zero-width space in a value is shown, not obeyed by the terminal
        return "".join(
            c if c.isprintable() else c.encode("unicode_escape").decode() for c in f"{where}: {self.message}"
        )


class CaseError(Exception):
    """The case cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Case:
    meta: dict
    tables: dict[str, pd.DataFrame]
    origin: str = "<memory>"
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    # --- construction -------------------------------------------------------------
    @staticmethod
    def from_tables(meta: dict, tables: dict, origin: str = "<memory>") -> Case:
        """Validate plain data (dicts, lists of row dicts or DataFrames) into a Case."""
        raw = {}
        for name, t in tables.items():
            if isinstance(t, pd.DataFrame):
                raw[name] = t
            elif len(t) == 0 and name in TABLES:  # an empty list still has the schema's columns
                raw[name] = pd.DataFrame(columns=[c.name for c in TABLES[name].columns])
            else:
                raw[name] = pd.DataFrame(t)
        return validate(dict(meta), raw, origin)

    def replaced(self, meta: dict | None = None, **tables: pd.DataFrame) -> Case:
        """This case with some tables (and/or the case.yaml fields) replaced, validated again;
        the tables not replaced are trusted (already typed and checked). The one way the
        analyses transform a case."""
        new = dict(self.tables)
        new.update(tables)
        return validate(dict(self.meta if meta is None else meta), new, self.origin, trusted=set(new) - set(tables))

    # --- derived structure --------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def years(self) -> list[int]:
        return list(range(self.meta["first_year"], self.meta["last_year"] + 1))

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def levers(self) -> list[str]:
        return list(self.tables["levers"]["lever"])

    @property
    def scenarios(self) -> list[str]:
        return list(self.tables["scenarios"]["scenario"])

    @property
    def tracks(self) -> list[str]:
        return list(dict.fromkeys(self.tables["sectors"]["track"]))

    @property
    def pillars(self) -> list[str]:
        names = list(self.tables["contributions"]["pillar"]) + list(self.tables["pillar_weights"]["pillar"])
        names += list(self.tables["tier_requirements"]["pillar"])
        return list(dict.fromkeys(names))

    def ladder(self, scenario: str, track: str) -> pd.DataFrame:
        t = self.tables["tiers"]
        return t[(t["scenario"] == scenario) & (t["track"] == track)]

    def base_tier(self, scenario: str, track: str) -> str:
        lad = self.ladder(scenario, track)
        return str(lad.loc[lad["threshold"] == 0, "tier"].iloc[0])

    def sha256(self) -> str:
        """Hash of the model-relevant content, independent of file format and row order."""
        h = hashlib.sha256()
        for key in sorted(self.meta):
            if key not in ("description", "source", "notes"):
                h.update(f"{key}={self.meta[key]!r};".encode())
        for name in sorted(self.tables):
            spec = TABLES[name]
            if spec.used_by and not len(self.tables[name]):
                continue  # an empty analysis-only table (owners): cases without one keep the hash they had
            cols = [c.name for c in spec.columns if not (c.used_by and _all_default(self.tables[name], c))]
            df = (
                self.tables[name][cols].sort_values(list(spec.key))
                if len(self.tables[name])
                else self.tables[name][cols]
            )
            h.update(name.encode())
            h.update(df.to_csv(index=False).encode())
        return h.hexdigest()


def _all_default(df: pd.DataFrame, col: Column) -> bool:
    return bool(len(df)) and all(v == col.default or (col.default is None and _blank(v)) for v in df[col.name])


# ----------------------------------------------------------------------------------
# Reading files
# ----------------------------------------------------------------------------------


def load_case(path: str | Path) -> Case:
    """Read and validate a case folder or .xlsx workbook; raise CaseError on any problem."""
    path = Path(path)
    if not path.exists():
        raise CaseError([Problem(str(path), "no such case folder or workbook")])
    if path.is_dir():
        meta, raw, problems = _read_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        meta, raw, problems = _read_workbook(path)
        try:
            case = validate(meta, raw, str(path), problems)
        except CaseError as e:
            raise CaseError([_in_workbook(p, path.name) for p in e.problems]) from None
        return replace(case, warnings=tuple(_in_workbook(w, path.name) for w in case.warnings))
    elif path.name == "case.yaml":
        return load_case(path.parent)
    else:
        raise CaseError([Problem(str(path), "a case is a folder with case.yaml and CSV tables, or an .xlsx workbook")])
    return validate(meta, raw, str(path), problems)


def _in_workbook(p: Problem, book: str) -> Problem:
    """A problem of a workbook's sheet names the workbook and sheet: 'case.xlsx [levers]'."""
    if p.file == "case.yaml":
        return replace(p, file=f"{book} [case]")
    stem = p.file.removesuffix(".csv")
    return replace(p, file=f"{book} [{stem}]") if stem in TABLES else p


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
            what = f"the tag {tag.group(1).replace('tag:yaml.org,2002:', '!!')} is not allowed: case.yaml holds plain values only"
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


def _read_folder(folder: Path) -> tuple[dict, dict, list[Problem]]:
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
            msg = str(e).strip().splitlines()[-1] if str(e).strip() else "cannot be read as CSV"
            problems.append(Problem(spec.file, f"cannot be read as CSV: {msg}"))
    return meta, raw, problems


def _read_workbook(path: Path) -> tuple[dict, dict, list[Problem]]:
    """The sheets of a workbook; a workbook that cannot be read at all is its only problem."""
    problems: list[Problem] = []
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
        sheets = {
            k: _with_header(v)
            for k, v in pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl", header=None).items()
        }
    except Exception as e:  # openpyxl raises many kinds on a damaged file
        raise CaseError([Problem(path.name, f"cannot be read as an Excel workbook ({type(e).__name__})")]) from None
    meta: dict = {}
    if "case" not in sheets:
        problems.append(Problem(f"{path.name} [case]", "sheet is missing (columns field, value)"))
    else:
        sheet = sheets["case"]
        if not {"field", "value"} <= set(sheet.columns):
            problems.append(Problem(f"{path.name} [case]", "needs the columns field and value"))
        else:
            for _, r in sheet.iterrows():
                if isinstance(r["field"], str) and r["field"].strip():
                    v = r["value"]
                    meta[r["field"].strip()] = None if _blank(v) else v
    raw = {}
    for name, spec in TABLES.items():
        if name in sheets:
            raw[name] = sheets[name]
        elif not spec.optional:
            problems.append(Problem(f"{path.name} [{name}]", "sheet is missing"))
    return meta, raw, problems


def _with_header(grid: pd.DataFrame) -> pd.DataFrame:
    """First row as column names, kept verbatim (pandas would rename a repeated header
    'x' to 'x.1'); data rows keep their spreadsheet row numbers in `_row`, blank lines
    included."""
    if not len(grid):
        return pd.DataFrame()
    header = ["" if _blank(v) else str(v).strip() for v in grid.iloc[0]]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(len(header))
    body = body.set_axis(header, axis=1)
    body["_row"] = list(range(2, len(body) + 2))
    return body


# ----------------------------------------------------------------------------------
# Coercion of single values
# ----------------------------------------------------------------------------------


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _shown(value) -> str:
    """A value as quoted in a message: at most 40 characters of it."""
    s = str(value)
    return s if len(s) <= 40 else s[:37] + "..."


def coerce(value, kind: str):
    """Return (value, None) or (None, reason) for one cell or field."""
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 2027 as 2027.0
        s = str(value).strip()
        return s, None
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        s = str(value).strip().lower()
        if s in _TRUE:
            return True, None
        if s in _FALSE:
            return False, None
        return None, f"'{_shown(value)}' is not true or false"
    if isinstance(value, bool):
        return None, f"'{_shown(value)}' is not a number"
    if isinstance(value, str):
        s = value.strip()
        if s.endswith("%"):
            return None, f"'{_shown(s)}' is a percentage: write fractions, e.g. 0.15 for 15%"
        try:
            num = float(s)
        except ValueError:
            return None, f"'{_shown(s)}' is not a number"
    else:
        try:
            num = float(value)
        except OverflowError:  # a YAML integer of hundreds of digits
            return (
                None,
                f"'{_shown(value)}' is too large: relief takes numbers up to {power_of_ten(MAX_NUMBER)} in size",
            )
        except (TypeError, ValueError):
            return None, f"'{_shown(value)}' is not a number"
    if math.isnan(num) or math.isinf(num):
        return None, f"'{_shown(value)}' is not a finite number"
    if abs(num) > MAX_NUMBER:
        return None, f"'{_shown(value)}' is too large: relief takes numbers up to {power_of_ten(MAX_NUMBER)} in size"
    if kind == "int":
        if not num.is_integer():
            return None, f"'{_shown(value)}' is not a whole number"
        return int(num), None
    return num, None


def _range_reason(num: float, spec: Column | Field) -> str | None:
    lo, hi = spec.min, spec.max
    if lo is not None and (num < lo or (spec.min_exclusive and num == lo)):
        op = ">" if spec.min_exclusive else ">="
        return f"{num:g} is out of range: must be {op} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
    if hi is not None and num > hi:
        return f"{num:g} is out of range: must be <= {hi:g}" + (f" and >= {lo:g}" if lo is not None else "")
    return None


# ----------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------


def validate(
    meta_raw: dict | None,
    raw: dict[str, pd.DataFrame],
    origin: str = "<memory>",
    read_problems=(),
    trusted=(),
    coefficients_checked: bool = False,
) -> Case:
    """Check and type everything the formulation needs; raise CaseError listing all problems.

    `read_problems` are what reading the files found (a missing or unreadable file): they
    are reported together with everything the readable rest of the case shows. Tables
    named in `trusted` are already typed and checked (a case being re-validated after an
    override of other tables): they skip the per-cell checks, not the rules across tables.
    `coefficients_checked`: nothing the model's coefficients are made of has changed since
    they were checked (an override of budgets or limits), so rule_solver_range is skipped:
    it costs about as much as the rest of a re-validation, at every point of a sweep."""
    problems: list[Problem] = list(read_problems)
    unread = {p.file for p in problems}
    meta = _validate_meta(meta_raw, problems) if "case.yaml" not in unread else dict.fromkeys(CASE_FIELDS)
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        if name not in raw:
            was_unreadable = any(f == spec.file or f.endswith(f"[{name}]") for f in unread)
            if spec.optional and not was_unreadable:
                tables[name] = _empty(spec)
            elif not was_unreadable:
                problems.append(Problem(spec.file, "table is missing"))
            continue
        typed = raw[name] if name in trusted else _validate_table(spec, raw[name], problems)
        if typed is not None:
            tables[name] = typed
    for rule in CROSS_RULES:  # each rule skips the tables that could not be read or typed
        if coefficients_checked and rule is rule_solver_range:
            continue
        rule(meta, tables, problems)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CaseError(errors)
    warnings = tuple(p for p in problems if p.level == "warning")
    return Case(meta=meta, tables=tables, origin=origin, warnings=warnings)


def _empty(spec) -> pd.DataFrame:
    dtypes = {"str": object, "int": "int64", "float": "float64", "bool": bool}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes[c.kind]) for c in spec.columns})


def _validate_meta(meta_raw: dict, problems: list[Problem]) -> dict:
    meta: dict = {}
    for key in meta_raw:
        if key not in CASE_FIELDS:
            problems.append(
                Problem(
                    "case.yaml", f"unknown field '{key}' is ignored (known: {', '.join(CASE_FIELDS)})", level="warning"
                )
            )
    for name, spec in CASE_FIELDS.items():
        if name not in meta_raw or _blank(meta_raw.get(name)):
            if spec.required:
                problems.append(Problem("case.yaml", "required field is missing", column=name))
            meta[name] = spec.default
            continue
        if isinstance(meta_raw[name], (list, dict, set)):
            problems.append(Problem("case.yaml", "must be a single value, not a list or mapping", column=name))
            meta[name] = spec.default
            continue
        value, reason = coerce(meta_raw[name], spec.kind)
        if reason is None and spec.kind in ("int", "float"):
            reason = _range_reason(value, spec)
        if reason is not None:
            problems.append(Problem("case.yaml", reason, column=name))
            meta[name] = spec.default
        else:
            meta[name] = value
    if meta.get("risk_measure") not in ("expected", "cvar", "worst"):
        problems.append(
            Problem(
                "case.yaml",
                f"'{meta.get('risk_measure')}' is not a risk measure (expected, cvar or worst)",
                column="risk_measure",
            )
        )
        meta["risk_measure"] = "expected"
    if isinstance(meta.get("risk_alpha"), float) and meta["risk_alpha"] >= 1.0:
        problems.append(
            Problem("case.yaml", "must be below 1 (0.8 = the worst 20% of probability)", column="risk_alpha")
        )
    if isinstance(meta.get("first_year"), int) and isinstance(meta.get("last_year"), int):
        if meta["last_year"] < meta["first_year"]:
            problems.append(
                Problem(
                    "case.yaml",
                    f"last_year {meta['last_year']} is before first_year {meta['first_year']}",
                    column="last_year",
                )
            )
        elif meta["last_year"] - meta["first_year"] > 100:
            problems.append(Problem("case.yaml", "the horizon is longer than 100 years", column="last_year"))
    return meta


def _validate_table(spec, df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame | None:
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        for c in dup:
            problems.append(Problem(spec.file, "column appears twice (or more) in the header", column=c))
        return None
    missing = [c.name for c in spec.columns if c.name not in df.columns and c.required]
    for c in missing:
        problems.append(Problem(spec.file, "required column is missing", column=c))
    for c in spec.columns:  # an optional column left out is a column of blanks: its default
        if c.name not in df.columns and not c.required:
            df[c.name] = None
    known = {c.name for c in spec.columns} | set(INFO_COLUMNS) | {"_row"}
    for c in df.columns:
        if c not in known and c:
            problems.append(Problem(spec.file, f"unknown column '{c}' is ignored", column=c, level="warning"))
    if missing:
        return None
    # rows that are entirely blank (trailing lines in a spreadsheet) are dropped
    cols = [c.name for c in spec.columns]
    col_values = [df[c].tolist() for c in cols]
    rows = [i for i in range(len(df)) if not all(_blank(vals[i]) for vals in col_values)]
    if not rows and not spec.allow_empty:
        problems.append(Problem(spec.file, "table has no rows"))
        return None
    out: dict[str, list] = {c: [] for c in cols}
    out["_row"] = []
    extra = [c for c in df.columns if c in INFO_COLUMNS]
    for c in extra:
        out[c] = []
    ok = True
    values = {c: df[c].tolist() for c in cols + extra}
    rownums = df["_row"].tolist() if "_row" in df.columns else [i + 2 for i in range(len(df))]
    for i in rows:
        rownum = int(rownums[i])
        for col in spec.columns:
            v = values[col.name][i]
            if _blank(v):
                if col.required:
                    problems.append(Problem(spec.file, "value is missing", row=rownum, column=col.name))
                    ok = False
                out[col.name].append(col.default)
                continue
            value, reason = coerce(v, col.kind)
            if reason is None and col.kind in ("int", "float"):
                reason = _range_reason(value, col)
            if reason is None and col.kind == "str" and _BAD_ID.search(value):
                reason = f"'{_shown(value)}' may not contain ':' or '*' (they are used in parameter paths)"
            if reason is not None:
                problems.append(Problem(spec.file, reason, row=rownum, column=col.name))
                ok = False
            out[col.name].append(value)
        out["_row"].append(rownum)
        for c in extra:
            v = values[c][i]
            out[c].append("" if _blank(v) else str(v))
    if not ok:
        return None
    typed = pd.DataFrame(out)
    for col in spec.columns:
        if col.kind == "float":
            typed[col.name] = typed[col.name].astype("float64")
        elif col.kind == "int":
            typed[col.name] = typed[col.name].astype("int64")
        elif col.kind == "bool":
            typed[col.name] = typed[col.name].astype(bool)
        else:
            typed[col.name] = typed[col.name].astype(object)
    # keys are unique
    dup = typed.duplicated(list(spec.key), keep="first")
    for i in typed.index[dup]:
        key = ":".join(str(typed.at[i, k]) for k in spec.key)
        problems.append(
            Problem(spec.file, f"key '{key}' appears more than once", row=int(typed.at[i, "_row"]), column=spec.key[-1])
        )
    return typed


# ----------------------------------------------------------------------------------
# Rules across tables (each a small named function; registered in CROSS_RULES)
# ----------------------------------------------------------------------------------


def _rows(df: pd.DataFrame):
    return df.to_dict("records")


def rule_references(meta, tables, problems):
    """Every key that names a row of another table names one that exists."""
    for name, spec in TABLES.items():
        if name not in tables:
            continue
        for col in spec.columns:
            if col.refers_to is None:
                continue
            ref_table, ref_col = col.refers_to.split(".")
            if ref_table not in tables or ref_table == "tiers":
                continue  # tiers are checked per ladder in rule_tariffs
            known = set(tables[ref_table][ref_col]) | set(TABLES[ref_table].implicit_keys)
            df = tables[name]
            unknown = ~df[col.name].isin(known) if len(df) else None
            if unknown is None or not unknown.any():  # the usual case, checked without a loop over rows
                continue
            for r in _rows(df[unknown]):
                if r[col.name] not in known:
                    label = "track (tracks are named in sectors.csv)" if ref_col == "track" else ref_col
                    problems.append(
                        Problem(spec.file, f"unknown {label} '{r[col.name]}'", row=r["_row"], column=col.name)
                    )


def rule_levers(meta, tables, problems):
    """min_modules <= max_modules."""
    for r in _rows(tables.get("levers", pd.DataFrame())):
        if r["min_modules"] > r["max_modules"]:
            problems.append(
                Problem(
                    "levers.csv",
                    f"min_modules {r['min_modules']:g} is above max_modules {r['max_modules']:g}",
                    row=r["_row"],
                    column="min_modules",
                )
            )


def rule_probabilities(meta, tables, problems):
    """Scenario probabilities sum to 1."""
    sc = tables.get("scenarios")
    if sc is None or not len(sc):
        return
    total = float(sc["probability"].sum())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(Problem("scenarios.csv", f"probabilities sum to {total:.6g}, not 1", column="probability"))


def rule_budget(meta, tables, problems):
    """Every horizon year has a public budget."""
    b = tables.get("budget")
    if b is None or not isinstance(meta.get("first_year"), int) or not isinstance(meta.get("last_year"), int):
        return
    have = set(b["year"])
    missing = [y for y in range(meta["first_year"], meta["last_year"] + 1) if y not in have]
    if missing:
        problems.append(
            Problem(
                "budget.csv",
                f"no public budget for year(s) {_year_ranges(missing)} of the horizon {meta['first_year']}-{meta['last_year']}",
                column="year",
            )
        )


def _year_ranges(years: list[int]) -> str:
    """2026, 2028-2040: consecutive years as one range."""
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(
        str(r[0]) if len(r) == 1 else f"{r[0]}, {r[1]}" if len(r) == 2 else f"{r[0]}-{r[-1]}" for r in runs
    )


def rule_ladders(meta, tables, problems):
    """Each scenario has a ladder on each track, with exactly one baseline tier (threshold 0)."""
    if not {"tiers", "scenarios", "sectors"} <= set(tables):
        return
    ladders: dict = {}
    for r in _rows(tables["tiers"]):
        ladders.setdefault((r["scenario"], r["track"]), []).append(r)
    for s in tables["scenarios"]["scenario"]:
        for r in dict.fromkeys(tables["sectors"]["track"]):
            lad = ladders.get((s, r), [])
            if not lad:
                problems.append(
                    Problem(
                        "tiers.csv",
                        f"no ladder for scenario '{s}' on track '{r}' (every scenario needs a ladder on every track, at least its baseline tier with threshold 0)",
                    )
                )
                continue
            n_base = sum(1 for t in lad if t["threshold"] == 0)
            if n_base != 1:
                rows = ", ".join(str(t["_row"]) for t in lad)
                what = "no tier" if n_base == 0 else f"{n_base} tiers"
                problems.append(
                    Problem(
                        "tiers.csv",
                        f"ladder of scenario '{s}', track '{r}' (rows {rows}) has {what} with threshold 0; it needs exactly one baseline",
                        column="threshold",
                    )
                )


def rule_tariffs(meta, tables, problems):
    """Every tier of every ladder has a rate for every sector of its track, and nothing else."""
    if not {"tiers", "tariffs", "sectors"} <= set(tables):
        return
    tiers, tariffs, sectors = tables["tiers"], tables["tariffs"], tables["sectors"]
    track_of = dict(zip(sectors["sector"], sectors["track"]))
    ladders = set(zip(tiers["scenario"], tiers["track"], tiers["tier"]))
    have = set()
    for r in _rows(tariffs):
        key = (r["scenario"], r["track"], r["tier"])
        if key not in ladders:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"tier '{r['tier']}' is not in the ladder of scenario '{r['scenario']}', track '{r['track']}' in tiers.csv",
                    row=r["_row"],
                    column="tier",
                )
            )
        if r["sector"] in track_of and track_of[r["sector"]] != r["track"]:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"sector '{r['sector']}' belongs to track '{track_of[r['sector']]}' (sectors.csv), not '{r['track']}'",
                    row=r["_row"],
                    column="sector",
                )
            )
        have.add(key + (r["sector"],))
    for t in _rows(tiers):
        missing = [
            j
            for j, tr in track_of.items()
            if tr == t["track"] and (t["scenario"], t["track"], t["tier"], j) not in have
        ]
        if missing:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"no rate for sector(s) {', '.join(missing)} at tier '{t['tier']}' of scenario '{t['scenario']}', track '{t['track']}' (tiers.csv row {t['_row']})",
                    column="rate",
                )
            )


def rule_tier_requirements(meta, tables, problems):
    """Tier requirements name tiers that exist."""
    if "tier_requirements" not in tables or "tiers" not in tables:
        return
    tiers = tables["tiers"]
    ladders = set(zip(tiers["scenario"], tiers["track"], tiers["tier"]))
    for r in _rows(tables["tier_requirements"]):
        if (r["scenario"], r["track"], r["tier"]) not in ladders:
            problems.append(
                Problem(
                    "tier_requirements.csv",
                    f"tier '{r['tier']}' is not in the ladder of scenario '{r['scenario']}', track '{r['track']}'",
                    row=r["_row"],
                    column="tier",
                )
            )


def rule_relations(meta, tables, problems):
    """A relation is requires or excludes, between two different levers."""
    for r in _rows(tables.get("relations", pd.DataFrame())):
        if r["relation"] not in RELATIONS:
            problems.append(
                Problem(
                    "relations.csv",
                    f"'{r['relation']}' is not a relation (use requires or excludes)",
                    row=r["_row"],
                    column="relation",
                )
            )
        if r["lever"] == r["other"]:
            problems.append(
                Problem("relations.csv", f"lever '{r['lever']}' cannot relate to itself", row=r["_row"], column="other")
            )


def rule_owners(meta, tables, problems):
    """An owner is a company or the government; `government` is of kind government; the
    government cares about every sector, so owner_sectors rows name companies."""
    owners = tables.get("owners")
    if owners is None:
        return
    kind = {GOVERNMENT: "government"}
    for r in _rows(owners):
        if r["kind"] not in OWNER_KINDS:
            problems.append(
                Problem(
                    "owners.csv",
                    f"'{r['kind']}' is not a kind of owner (use company or government)",
                    row=r["_row"],
                    column="kind",
                )
            )
        elif r["owner"] == GOVERNMENT and r["kind"] != "government":
            problems.append(
                Problem("owners.csv", f"the owner '{GOVERNMENT}' is of kind government", row=r["_row"], column="kind")
            )
        kind[r["owner"]] = r["kind"]
    for r in _rows(tables.get("owner_sectors", pd.DataFrame())):
        if kind.get(r["owner"]) == "government":
            problems.append(
                Problem(
                    "owner_sectors.csv",
                    f"'{r['owner']}' is a government owner, which cares about every sector: the row changes nothing",
                    row=r["_row"],
                    column="owner",
                    level="warning",
                )
            )


# Where the model's coefficients come from, for rule_solver_range's messages.
_PUBLIC_COST = ("levers.csv", "public cost per module (capex_per_module x public_share)")
_TRACK_SCORE = ("pillar_weights.csv", "track score per module (weight x contributions.csv's score_per_module)")
_COEFFICIENT_SOURCES = {
    "public_per_module": _PUBLIC_COST,
    "public_per_year": _PUBLIC_COST,
    "spend_pv": _PUBLIC_COST,
    "track_coef": _TRACK_SCORE,
    "track_coef_building": _TRACK_SCORE,
    "relief_coef": (
        "sectors.csv",
        "relief of a tier in a year (exports_usd_bn grown by growth_rate since case.yaml's "
        "data_year, x tariffs.csv's rate cut, discounted)",
    ),
}


# What the coefficients rule_solver_range checks are made of.
COEFFICIENT_TABLES = frozenset(
    {"levers", "contributions", "pillar_weights", "sectors", "tariffs", "scenarios", "tiers"}
)
COEFFICIENT_FIELDS = frozenset({"discount_rate", "data_year", "first_year", "last_year"})


def rule_solver_range(meta, tables, problems):
    """The model's coefficients, products of the case's numbers, are at most MAX_COEFFICIENT
    in size, so that the solver takes them as they are (it refuses 1e15 and more, and
    treats 1e20 as infinite). Checked last, on a case without errors."""
    if any(p.level == "error" for p in problems):
        return
    from relief.model.core.build import Structure, parameter_values  # build imports this module

    case = Case(meta=meta, tables=tables)
    try:
        values = parameter_values(case, Structure.of(case))
    except OverflowError:
        problems.append(
            Problem(
                "sectors.csv",
                "exports grown from case.yaml's data_year to the horizon (or discounting "
                "over it) overflow: check growth_rate, data_year and discount_rate",
                column="growth_rate",
            )
        )
        return
    worst: dict = {}  # the other Params are single input numbers, at most MAX_NUMBER already
    for name, source in _COEFFICIENT_SOURCES.items():
        worst[source] = max([worst.get(source, 0.0)] + [abs(v) for v in values[name].values()])
    for (file, what), v in worst.items():
        if not v <= MAX_COEFFICIENT:
            problems.append(
                Problem(file, f"{what} reaches {v:.3g}; the solver takes at most {power_of_ten(MAX_COEFFICIENT)}")
            )


CROSS_RULES = (
    rule_references,
    rule_levers,
    rule_probabilities,
    rule_budget,
    rule_ladders,
    rule_tariffs,
    rule_tier_requirements,
    rule_relations,
    rule_owners,
    rule_solver_range,
)
