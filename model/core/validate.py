"""Type and check case.yaml's fields and each table on its own, against the schema.

Every cell is coerced to its column's type and checked against its range; blanks take
the column's default; keys are unique; unknown columns and fields are warnings. Each
problem names its file, row and column. The rules across tables run afterwards, in
`relief.model.core.rules`; `relief.model.core.case.validate` runs both.
"""

from __future__ import annotations

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


def empty_table(spec: Table) -> pd.DataFrame:
    """An optional table left out: no rows, the schema's columns and types."""
    return pd.DataFrame({c.name: pd.Series([], dtype=_DTYPES[c.kind]) for c in spec.columns})


def validate_meta(meta_raw: dict, problems: list[Problem]) -> dict:
    """case.yaml's fields typed, each missing or wrong one at its default and reported."""
    meta: dict = {}
    for key in meta_raw:
        if key not in CASE_FIELDS:
            problems.append(
                Problem(
                    "case.yaml", f"unknown field '{key}' is ignored (known: {', '.join(CASE_FIELDS)})", level="warning"
                )
            )
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
        typed[col.name] = typed[col.name].astype(_DTYPES[col.kind])
    # keys are unique
    dup = typed.duplicated(list(spec.key), keep="first")
    for i in typed.index[dup]:
        key = ":".join(str(typed.at[i, k]) for k in spec.key)
        problems.append(
            Problem(spec.file, f"key '{key}' appears more than once", row=int(typed.at[i, "_row"]), column=spec.key[-1])
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
