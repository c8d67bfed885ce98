"""Type and check case.yaml's fields and each table on its own, against the schema.

Every cell is coerced to its column's type and checked against its range; blanks take
the column's default; keys are unique. An unknown case.yaml field is an error (a misspelt
field would otherwise leave its default in force silently), with "did you mean ...?"; so is
an unknown column whose name is close to a column the header lacks (a misspelling that
would leave that column at its default, or missing). Other unknown columns are kept as
notes for people, with a warning. Each problem names its file, row and column. The rules
across tables run afterwards, in `relief.model.core.rules`; `relief.model.core.case.validate` runs both.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.coerce import blank, coerce, range_reason, shown
from relief.model.core.problems import Problem
from relief.model.core.schema import CASE_FIELDS, INFO_COLUMNS

if TYPE_CHECKING:
    from relief.model.core.schema import Table

# ':' and '*' separate and match the parts of a parameter path (levers.chips.capex_per_module).
_BAD_ID = re.compile(r"[:*]")
_DTYPES = {"str": object, "int": "int64", "float": "float64", "bool": bool}


def _dtype(col) -> object:
    """A column's pandas type; an int column that may be blank without a default (tariffs.csv's
    from_year) is a nullable integer."""
    return "Int64" if col.kind == "int" and not col.required and col.default is None else _DTYPES[col.kind]


def empty_table(spec: Table) -> pd.DataFrame:
    """An optional table left out: no rows, the schema's columns and types."""
    return pd.DataFrame({c.name: pd.Series([], dtype=_dtype(c)) for c in spec.columns})


def validate_meta(meta_raw: dict, problems: list[Problem]) -> dict:
    """case.yaml's fields typed, each missing or wrong one at its default and reported."""
    meta: dict = {}
    for key in meta_raw:
        if key not in CASE_FIELDS:
            problems.append(Problem("case.yaml", _unknown_field(key), column=str(key)))
    for name, spec in CASE_FIELDS.items():
        if name not in meta_raw or blank(meta_raw.get(name)):
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
            reason = range_reason(value, spec)
        if reason is not None:
            problems.append(Problem("case.yaml", reason, column=name))
            meta[name] = spec.default
        else:
            meta[name] = value
    if meta.get("second_stage") not in (None, "public", "capex"):
        problems.append(
            Problem(
                "case.yaml",
                f"'{meta.get('second_stage')}' is not a second stage (public or capex)",
                column="second_stage",
            )
        )
        meta["second_stage"] = None
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
    if isinstance(meta.get("tier_margin"), float) and meta["tier_margin"] >= 1.0:
        problems.append(
            Problem("case.yaml", "must be below 1 (0.05 = a 5% margin above every threshold)", column="tier_margin")
        )
        meta["tier_margin"] = 0.0
    if meta.get("as_of") is not None and not _is_date(meta["as_of"]):
        problems.append(
            Problem("case.yaml", f"'{meta['as_of']}' is not a date: write YYYY-MM-DD, e.g. 2026-03-15", column="as_of")
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


def _is_date(text: str) -> bool:
    """YYYY-MM-DD, a real day (YAML reads an unquoted date as a date, which coerces to this text)."""
    import datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(text)):
        return False
    try:
        datetime.date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def close_name(name: object, known, cutoff: float = 0.8) -> str | None:
    """The known name `name` is most probably a misspelling of (case, spaces, '-' and a
    letter or two apart), or None: difflib's ratio of at least `cutoff`."""
    text = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    known = list(known)
    by_text = {k.lower(): k for k in known}
    if text in by_text:
        return by_text[text]
    match = difflib.get_close_matches(text, list(by_text), n=1, cutoff=cutoff)
    return by_text[match[0]] if match else None


_PEOPLE = ("description", "source", "notes")  # fields for people, named once in the message


def _unknown_field(key: object) -> str:
    near = close_name(key, CASE_FIELDS)
    if near is not None:
        return f"unknown field '{key}': did you mean {near}?"
    return (
        f"unknown field '{key}' (known: {', '.join(f for f in CASE_FIELDS if f not in _PEOPLE)}; "
        "for people: description, source, notes, or a #)"
    )


def validate_table(spec: Table, df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame | None:
    """One table typed by its schema, or None when a problem (reported) keeps it from use."""
    df = _with_columns(spec, df, problems)
    if df is None:
        return None
    # rows that are entirely blank (trailing lines in a spreadsheet) are dropped
    cols = [c.name for c in spec.columns]
    col_values = [df[c].tolist() for c in cols]
    rows = [i for i in range(len(df)) if not all(blank(vals[i]) for vals in col_values)]
    if not rows and not spec.allow_empty:
        problems.append(Problem(spec.file, "table has no rows"))
        return None
    out = _typed_cells(spec, df, rows, problems)
    if out is None:
        return None
    typed = pd.DataFrame(out)
    for col in spec.columns:
        typed[col.name] = typed[col.name].astype(_dtype(col))
    # keys are unique
    dup = typed.duplicated(list(spec.key), keep="first")
    for i in typed.index[dup]:
        given = [k for k in spec.key if not blank(typed.at[i, k])]  # a blank from_year is no part of the key
        key = ":".join(str(typed.at[i, k]) for k in given)
        problems.append(
            Problem(spec.file, f"key '{key}' appears more than once", row=int(typed.at[i, "_row"]), column=given[-1])
        )
    return typed


def _with_columns(spec: Table, df: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame | None:
    """The table with its header checked: no column twice, every required one present (an
    optional one left out is a column of blanks); None when the header is unusable."""
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        for c in dup:
            problems.append(Problem(spec.file, "column appears twice (or more) in the header", column=c))
        return None
    known = {c.name for c in spec.columns} | set(INFO_COLUMNS) | {"_row"}
    absent = [c for c in spec.columns if c.name not in df.columns]
    unknown = [c for c in df.columns if c and c not in known]
    # an unknown column close to a column the header lacks is that column misspelt ('yaer': year)
    meant = {u: close_name(u, [c.name for c in absent], cutoff=0.75) for u in unknown}
    misspelt = {m: u for u, m in meant.items() if m is not None}
    missing = [c.name for c in absent if c.required]
    for c in missing:
        hint = f": the header has '{misspelt[c]}', did you mean {c}?" if c in misspelt else ""
        problems.append(Problem(spec.file, f"required column is missing{hint}", column=c))
    for c in absent:  # an optional column left out is a column of blanks: its default
        if not c.required:
            df[c.name] = None
            if c.name in misspelt:
                default = "blank" if c.default is None else c.default
                problems.append(
                    Problem(
                        spec.file,
                        f"unknown column '{misspelt[c.name]}': did you mean {c.name}? (without the column {c.name}, "
                        f"every row takes its default, {default})",
                        column=misspelt[c.name],
                    )
                )
    for c in unknown:
        if meant[c] is None:
            near = close_name(c, known - {"_row"})
            hint = (
                "" if near is None else f" (did you mean {near}?)" if near not in df.columns else f" ({near} is read)"
            )
            problems.append(Problem(spec.file, f"unknown column '{c}' is ignored{hint}", column=c, level="warning"))
    return None if missing else df


def _typed_cells(spec: Table, df: pd.DataFrame, rows: list[int], problems: list[Problem]) -> dict[str, list] | None:
    """The cells of the kept rows coerced column by column, with their spreadsheet row
    numbers in `_row`; None when any cell is wrong (each wrong cell is reported)."""
    cols = [c.name for c in spec.columns]
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
            if blank(v):
                if col.required:
                    problems.append(Problem(spec.file, "value is missing", row=rownum, column=col.name))
                    ok = False
                out[col.name].append(col.default)
                continue
            value, reason = coerce(v, col.kind)
            if reason is None and col.kind in ("int", "float"):
                reason = range_reason(value, col)
            if reason is None and col.kind == "str" and _BAD_ID.search(value):
                reason = f"'{shown(value)}' may not contain ':' or '*' (they are used in parameter paths)"
            if reason is not None:
                problems.append(Problem(spec.file, reason, row=rownum, column=col.name))
                ok = False
            out[col.name].append(value)
        out["_row"].append(rownum)
        for c in extra:
            v = values[c][i]
            out[c].append("" if blank(v) else str(v))
    return out if ok else None
