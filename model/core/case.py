"""A case: its case.yaml fields and one typed table per schema table, validated.

Every problem is collected before anything is reported, each naming its file, row and
column, so a planner fixes a case in one pass. The validated case is a plain, typed
`Case`: a dict of case.yaml fields and one pandas DataFrame per table. Tests build one
in a few lines with `Case.from_tables(meta, tables)`, which runs the same validation.

The top of the case layer: reading (`read`), coercion of cells (`coerce`), checks of one
table (`validate`) and rules across tables (`rules`) are below it, and `validate` here
runs them in order. `Problem` and `CaseError` live in `problems` and are part of this
module's interface.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.coerce import blank
from relief.model.core.problems import CaseError, Problem
from relief.model.core.read import in_workbook, read_case_workbook, read_folder
from relief.model.core.rules import CROSS_RULES, rule_solver_range
from relief.model.core.schema import CASE_FIELDS, TABLES, Column
from relief.model.core.validate import empty_table, validate_meta, validate_table

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Case", "CaseError", "Problem", "load_case", "validate"]


@dataclass(frozen=True)
class Case:
    """A validated case: case.yaml's fields in `meta`, one typed DataFrame per schema table
    (each row keeps its spreadsheet row number in `_row`), where it came from, and the
    warnings validation found. Immutable: `replaced` makes a changed copy."""

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

    def without_obligations(self) -> Case:
        """This case with no obligations (relief solve --without-obligations)."""
        return self.replaced(obligations=empty_table(TABLES["obligations"]))

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
            if key in _LATER_FIELDS and self.meta[key] is None:
                continue  # a field added later, not set: cases without it keep their hash
            if key in _LATER_ZERO_FIELDS and not self.meta[key]:
                continue  # the same for a field added later whose default is 0 (tier_margin)
            if key not in ("description", "source", "notes"):
                h.update(f"{key}={self.meta[key]!r};".encode())
        for name in sorted(self.tables):
            spec = TABLES[name]
            if (spec.used_by or name in _LATER_TABLES) and not len(self.tables[name]):
                continue  # an empty analysis-only table (owners): cases without one keep the hash they had
            cols = [
                c.name
                for c in spec.columns
                if not ((c.used_by or (name, c.name) in _LATER_COLUMNS) and _all_default(self.tables[name], c))
            ]
            df = (
                self.tables[name][cols].sort_values([k for k in spec.key if k in cols])
                if len(self.tables[name])
                else self.tables[name][cols]
            )
            h.update(name.encode())
            h.update(df.to_csv(index=False).encode())
        return h.hexdigest()


# Columns and fields added after runs were first hashed: left out (blank), a case keeps the
# input_sha256 it had (dated rates, current rates and as_of, docs/inputs.md).
_LATER_COLUMNS = frozenset({("tariffs", "from_year"), ("sectors", "current_rate")})
_LATER_FIELDS = frozenset({"as_of", "reveal_year", "second_stage"})
_LATER_TABLES = frozenset({"information"})  # added later: absent or empty, a case keeps its hash
_LATER_ZERO_FIELDS = frozenset({"tier_margin"})


def _all_default(df: pd.DataFrame, col: Column) -> bool:
    return bool(len(df)) and all(v == col.default or (col.default is None and blank(v)) for v in df[col.name])


def load_case(path: str | Path) -> Case:
    """Read and validate a case folder or .xlsx workbook; raise CaseError on any problem."""
    path = Path(path)
    if not path.exists():
        raise CaseError([Problem(str(path), "no such case folder or workbook")])
    if path.is_dir():
        meta, raw, problems = read_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        meta, raw, problems, prefix = read_case_workbook(path)
        try:
            case = validate(meta, raw, str(path), problems)
        except CaseError as e:
            raise CaseError([in_workbook(p, path.name, prefix) for p in e.problems]) from None
        return replace(case, warnings=tuple(in_workbook(w, path.name, prefix) for w in case.warnings))
    elif path.name == "case.yaml":
        return load_case(path.parent)
    else:
        raise CaseError([Problem(str(path), "a case is a folder with case.yaml and CSV tables, or an .xlsx workbook")])
    return validate(meta, raw, str(path), problems)


def validate(
    meta_raw: dict | None,
    raw: dict[str, pd.DataFrame],
    origin: str = "<memory>",
    read_problems: Iterable[Problem] = (),
    trusted: Iterable[str] = (),
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
    meta = validate_meta(meta_raw, problems) if "case.yaml" not in unread else dict.fromkeys(CASE_FIELDS)
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        if name not in raw:
            was_unreadable = any(f == spec.file or f.endswith(f"[{name}]") for f in unread)
            if spec.optional and not was_unreadable:
                tables[name] = empty_table(spec)
            elif not was_unreadable:
                problems.append(Problem(spec.file, "table is missing"))
            continue
        typed = raw[name] if name in trusted else validate_table(spec, raw[name], problems)
        if typed is not None:
            tables[name] = typed
    case = Case(meta=meta, tables=tables, origin=origin)
    for rule in CROSS_RULES:  # each rule skips the tables that could not be read or typed
        if coefficients_checked and rule is rule_solver_range:
            continue
        rule(case, problems)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CaseError(errors)
    # the warnings are set on the very object the rules saw (not a copy), before anyone else
    # sees it: what the rules derived from it (its model's numbers, frames.memo) stays with it
    object.__setattr__(case, "warnings", tuple(p for p in problems if p.level == "warning"))
    return case
