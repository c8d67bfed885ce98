"""Parameter paths: change a case's numbers from the command line or a sweep.

`case.FIELD=VALUE` sets a case.yaml field; `TABLE.KEY.COLUMN=VALUE` sets a table cell,
KEY being the row key with composite parts joined by ':' and '*' matching any part;
`PATH*=FACTOR` scales. Setting some scenarios' probabilities rescales the others
proportionally so that all still sum to 1. The changed case is validated again.
"""

from __future__ import annotations

from dataclasses import dataclass

from relief.model.core.case import Case, CaseError, validate
from relief.model.core.checks import CaseWarning
from relief.model.core.coerce import coerce
from relief.model.core.rules import COEFFICIENT_FIELDS, COEFFICIENT_TABLES
from relief.model.core.schema import CASE_FIELDS, PUBLIC, TABLES


class OverrideError(ValueError):
    """A parameter path or value that cannot be applied."""


@dataclass(frozen=True)
class Override:
    path: str
    value: object
    scale: bool

    @staticmethod
    def parse(text: str) -> Override:
        if "*=" in text:
            path, _, value = text.partition("*=")
            scale = True
        elif "=" in text:
            path, _, value = text.partition("=")
            scale = False
        else:
            raise OverrideError(f"'{text}': write PATH=VALUE or PATH*=FACTOR, e.g. budget.2027.public_budget_usd_bn=25")
        path, value = path.strip(), value.strip()
        if not path or value == "":
            raise OverrideError(f"'{text}': both a path and a value are needed")
        return Override(path, value, scale)

    def __str__(self) -> str:
        return f"{self.path}{'*=' if self.scale else '='}{self.value}"


def resolve_path(case: Case, path: str):
    """Return ('case', field, None) or (table, column, [row positions]) for a path."""
    if path.startswith("case."):
        name = path[len("case.") :]
        if name not in CASE_FIELDS:
            raise OverrideError(f"'{path}': case.yaml has no field '{name}' (fields: {', '.join(CASE_FIELDS)})")
        return "case", name, None
    table, dot, rest = path.partition(".")
    if table not in TABLES:
        raise OverrideError(f"'{path}': no table '{table}' (tables: case, {', '.join(TABLES)})")
    key, dot2, column = rest.rpartition(".")
    spec = TABLES[table]
    if not dot or not dot2 or not key:
        keys = ":".join(spec.key)
        example = spec.value_columns[0] if spec.value_columns else "COLUMN"
        raise OverrideError(f"'{path}': write {table}.{keys.upper()}.COLUMN, e.g. {table}.*.{example}")
    if column not in spec.value_columns:
        raise OverrideError(
            f"'{path}': {table} has no settable column '{column}' (columns: {', '.join(spec.value_columns)})"
        )
    parts = key.split(":")
    if table == "budget" and len(parts) == 1:  # budget.2027.COLUMN: the envelope `public` (docs/sweeps.md)
        parts = [PUBLIC, *parts]
    if len(parts) == len(spec.key) - 1 and not spec.column(spec.key[-1]).required:
        parts.append("*")  # tariffs.S:R:K:J.rate: every dated row of it (add :YEAR for one)
    if len(parts) != len(spec.key):
        raise OverrideError(
            f"'{path}': the key of {table} has {len(spec.key)} part(s) ({':'.join(spec.key)}), '{key}' has {len(parts)}"
        )
    df = case.table(table)
    match = [True] * len(df)
    for part, col in zip(parts, spec.key):
        if part == "*":
            continue
        vals = [_key_text(case, table, col, v) for v in df[col]]
        match = [m and v == part for m, v in zip(match, vals)]
    rows = [i for i, m in enumerate(match) if m]
    if not rows:
        raise OverrideError(f"'{path}': no row of {table} has the key '{key}'")
    return table, column, rows


def _key_text(case: Case, table: str, col: str, v) -> str:
    """A key cell as a path names it; a blank from_year is first_year (tariffs.S:R:K:J:2026)."""
    if col == "from_year" and table == "tariffs":
        from relief.model.core.rates import effective_from

        return str(effective_from(v, case.meta["first_year"]))
    return str(v)


def apply_overrides(case: Case, overrides) -> Case:
    """Apply PATH=VALUE / PATH*=FACTOR strings (or Override objects) and re-validate."""
    if not overrides:
        return case
    meta = dict(case.meta)
    tables = dict(case.tables)  # a table is copied only when an override touches it
    touched_prob: set[int] = set()
    touched: set[str] = set()
    fields: set[str] = set()
    work = Case(meta=meta, tables=tables, origin=case.origin)
    for ov in overrides:
        ov = ov if isinstance(ov, Override) else Override.parse(str(ov))
        target, column, rows = resolve_path(work, ov.path)
        kind = CASE_FIELDS[column].kind if target == "case" else TABLES[target].column(column).kind
        if ov.scale:
            if kind not in ("int", "float"):
                raise OverrideError(f"'{ov}': only numbers can be scaled; {column} is {kind}")
            factor, reason = coerce(ov.value, "float")
            if reason:
                raise OverrideError(f"'{ov}': factor {reason}")
        else:
            value, reason = coerce(ov.value, kind)
            if reason:
                raise OverrideError(f"'{ov}': {reason}")
        if target == "case":
            fields.add(column)
            if ov.scale:
                if meta.get(column) is None:
                    raise OverrideError(f"'{ov}': case.{column} is not set, so it cannot be scaled")
                value = meta[column] * factor
                value = int(round(value)) if kind == "int" else value
            meta[column] = value
            continue
        if target not in touched:
            tables[target] = tables[target].copy()
        touched.add(target)
        df = tables[target]
        col_idx = df.columns.get_loc(column)
        for i in rows:
            new = df.iat[i, col_idx] * factor if ov.scale else value
            if kind == "int":
                new = int(round(new))
            df.iat[i, col_idx] = new
        if target == "scenarios" and column == "probability":
            touched_prob.update(rows)
    if touched_prob:
        _rescale_probabilities(tables["scenarios"], touched_prob)
    try:
        changed = validate(
            meta,
            tables,
            case.origin,
            trusted=set(tables) - touched,
            coefficients_checked=not (touched & COEFFICIENT_TABLES or fields & COEFFICIENT_FIELDS),
        )
    except CaseError as e:
        raise OverrideError("the overrides make the case invalid: " + "; ".join(str(p) for p in e.problems)) from None
    # what reading the files warned about (unknown columns and fields) is gone from the
    # typed tables, so it is not found again: keep it (but not the checks' warnings about
    # the numbers before the change: model/checks.py runs on the changed case)
    kept = tuple(w for w in case.warnings if not isinstance(w, CaseWarning))
    # set on the new case itself, not a copy: what validation derived from it stays (frames.memo)
    object.__setattr__(changed, "warnings", kept + tuple(w for w in changed.warnings if w not in kept))
    return changed


def _rescale_probabilities(df, touched: set[int]) -> None:
    set_total = float(sum(df["probability"].iloc[i] for i in touched))
    others = [i for i in range(len(df)) if i not in touched]
    if not others:
        return  # every probability was given: validation checks they sum to 1
    rest = float(sum(df["probability"].iloc[i] for i in others))
    target = 1.0 - set_total
    if target < -1e-9:
        raise OverrideError(f"the probabilities set sum to {set_total:.6g}, more than 1")
    col = df.columns.get_loc("probability")
    if rest <= 0:
        if target > 1e-9:
            raise OverrideError(
                "the other scenarios all have probability 0, so they cannot be rescaled to make the total 1"
            )
        return
    for i in others:
        df.iat[i, col] = df.iat[i, col] * max(target, 0.0) / rest
