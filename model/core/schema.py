"""The input schema of a case: one declarative description per table.

This is the single source of truth for what a case folder holds (model-spec section 2).
Validation (`relief.model.core.validate`), the docs' table reference and the parameter paths of
`--set` all read from it. A column is described once: its type, its range, whether it
is part of the key, and which other table's key it must refer to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Columns every table may carry for people; the model ignores them but keeps them.
INFO_COLUMNS = ("name", "unit", "source", "notes", "description")

# The owner of a lever when levers.csv names none; it exists without a row in owners.csv.
GOVERNMENT = "government"
# The funding envelope of a lever or budget row that names none (docs/formulation.md, Envelopes).
PUBLIC = "public"
# Limits of safe reading (docs/inputs.md, "Reading a case safely").
DEFAULT_MAX_FILE_MB = 50  # one input file, or what a workbook unpacks to
MAX_FILE_MB_VARIABLE = "RELIEF_MAX_FILE_MB"  # sets another limit, in MB
# No input number may be larger than this in size (USD bn, modules, scores, years): a
# larger one is a typing error, and beyond what the solver handles exactly.
MAX_NUMBER = 1e9
# Nor may a coefficient of the model, a product of input numbers (a weight times a score,
# exports grown over the years times a rate cut): HiGHS refuses matrix values from 1e15.
MAX_COEFFICIENT = 1e12


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str" | "int" | "float" | "bool"
    description: str
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    required: bool = True  # False: the cell may be blank, and the whole column may be left out (both mean `default`)
    default: object = None
    refers_to: str | None = None  # "table.column" whose values this column must use
    used_by: str | None = None  # an analysis that alone reads this column (None: the solve reads it)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    optional: bool = False
    allow_empty: bool = False
    implicit_keys: tuple[str, ...] = ()  # keys that exist without a row (the owner `government`)
    used_by: str | None = None  # an analysis that alone reads this table (None: the solve reads it)

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def value_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.name not in self.key)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _id(name: str, description: str, refers_to: str | None = None) -> Column:
    return Column(name, "str", description, refers_to=refers_to)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "levers",
            ("lever",),
            (
                _id("lever", "identifier of the contribution lever"),
                Column("capex_per_module", "float", "capital cost of one module, USD bn", min=0),
                Column("public_share", "float", "share of capex paid from public money", min=0, max=1),
                Column("lead_time_years", "int", "years from commitment to operation", min=0, max=50),
                Column("earliest_year", "int", "first year a module can be committed"),
                Column("min_modules", "float", "smallest total size if the lever is used", min=0),
                Column("max_modules", "float", "largest total size over the horizon", min=0),
                Column("max_modules_per_year", "float", "largest commitment in one year", min=0),
                Column("integer", "bool", "modules are whole units (true) or divisible (false)"),
                Column(
                    "owner",
                    "str",
                    "who commits the lever, a company or the government (named in owners.csv)",
                    required=False,
                    default=GOVERNMENT,
                    refers_to="owners.owner",
                    used_by="relief coordination",
                ),
                Column(
                    "envelope",
                    "str",
                    "funding envelope the lever's public money comes from (named in budget.csv or envelopes.csv)",
                    required=False,
                    default=PUBLIC,
                ),
            ),
            "contribution levers and their size, cost and timing",
        ),
        Table(
            "contributions",
            ("lever", "pillar"),
            (
                _id("lever", "lever", refers_to="levers.lever"),
                _id("pillar", "strategic pillar the lever scores in"),
                Column("score_per_module", "float", "pillar score of one module", min=0),
            ),
            "contribution scores of each lever in each pillar",
            allow_empty=True,
        ),
        Table(
            "sectors",
            ("sector",),
            (
                _id("sector", "export sector"),
                _id("track", "tariff track whose rates apply to the sector"),
                Column("exports_usd_bn", "float", "exports to the U.S. in data_year, USD bn", min=0),
                Column("growth_rate", "float", "yearly growth of those exports", min=-1, min_exclusive=True),
                Column(
                    "current_rate",
                    "float",
                    "tariff rate in force on the sector on case.yaml's as_of date, the reference of duty at current "
                    "rates (blank: no such reference)",
                    min=0,
                    max=1,
                    required=False,
                    default=None,
                ),
            ),
            "export sectors, the tariff track of each, and their exports",
        ),
        Table(
            "scenarios",
            ("scenario",),
            (
                _id("scenario", "U.S. negotiating stance"),
                Column("probability", "float", "probability of the scenario (all sum to 1)", min=0, max=1),
                Column(
                    "commitment_credit", "float", "credit given to committed, not yet operating capacity", min=0, max=1
                ),
            ),
            "scenarios of the U.S. negotiating stance",
        ),
        Table(
            "pillar_weights",
            ("scenario", "track", "pillar"),
            (
                _id("scenario", "scenario", refers_to="scenarios.scenario"),
                _id("track", "tariff track", refers_to="sectors.track"),
                _id("pillar", "pillar"),
                Column("weight", "float", "weight of the pillar in the track's score", min=0),
            ),
            "how much each pillar counts towards each track's score in each scenario",
            allow_empty=True,
        ),
        Table(
            "tiers",
            ("scenario", "track", "tier"),
            (
                _id("scenario", "scenario", refers_to="scenarios.scenario"),
                _id("track", "tariff track", refers_to="sectors.track"),
                _id("tier", "tier of relief on the track"),
                Column("threshold", "float", "track score needed to reach the tier (0 = baseline)", min=0),
            ),
            "ladders of tiers: the score each tier of relief needs",
        ),
        Table(
            "tariffs",
            ("scenario", "track", "tier", "sector", "from_year"),
            (
                _id("scenario", "scenario", refers_to="scenarios.scenario"),
                _id("track", "tariff track", refers_to="sectors.track"),
                _id("tier", "tier", refers_to="tiers.tier"),
                _id("sector", "export sector", refers_to="sectors.sector"),
                Column("rate", "float", "tariff rate on the sector at this tier", min=0),
                Column(
                    "from_year",
                    "int",
                    "first year the rate applies; it holds until a later from_year of the same scenario, track, "
                    "tier and sector (blank: from first_year). A part year is given as the year's effective rate: "
                    "docs/formulation.md, Dated rates",
                    required=False,
                    default=None,
                ),
            ),
            "tariff rate of each sector at each tier, optionally dated",
        ),
        Table(
            "budget",
            ("envelope", "year"),
            (
                Column(
                    "envelope",
                    "str",
                    "funding envelope whose yearly budget this is (an envelope without rows has no yearly limit)",
                    required=False,
                    default=PUBLIC,
                ),
                Column("year", "int", "year of the roadmap"),
                Column("public_budget_usd_bn", "float", "public money available that year, USD bn", min=0),
            ),
            "public budget of each year, by funding envelope",
        ),
        Table(
            "envelopes",
            ("envelope",),
            (
                _id("envelope", "funding envelope (a fund, a budget line) that levers draw public money from"),
                Column(
                    "total_usd_bn",
                    "float",
                    "public money of the envelope over all years (also what falls after the horizon), USD bn",
                    min=0,
                ),
            ),
            "total of each funding envelope over all years",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "obligations",
            ("lever", "by_year"),
            (
                _id("lever", "lever the obligation is on", refers_to="levers.lever"),
                Column("by_year", "int", "year by which (inclusive) the modules must be committed"),
                Column(
                    "min_modules", "float", "least modules of the lever committed in the years up to by_year", min=0
                ),
            ),
            "what Korea must commit (a pledge, a law): at least min_modules of the lever by by_year "
            "(relief solve --without-obligations drops them)",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "information",
            ("year", "scenario"),
            (
                Column("year", "int", "from this year on (until a later listed year) the grouping holds"),
                _id("scenario", "scenario", refers_to="scenarios.scenario"),
                _id("group", "stances in one group cannot be told apart and share their commitments"),
            ),
            "what is known when (partial revelation): from each listed year, the stances of a group share their "
            "commitments; before the first listed year all share (docs/formulation.md, Adaptive)",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "tier_requirements",
            ("scenario", "track", "tier", "pillar"),
            (
                _id("scenario", "scenario", refers_to="scenarios.scenario"),
                _id("track", "tariff track", refers_to="sectors.track"),
                _id("tier", "tier", refers_to="tiers.tier"),
                _id("pillar", "pillar"),
                Column("min_score", "float", "pillar score the tier requires on its own", min=0),
            ),
            "minimum pillar scores a tier requires besides its threshold",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "pools",
            ("pool",),
            (
                _id("pool", "shared resource (a fund, a workforce, a yard)"),
                Column("limit", "float", "total available over the horizon", min=0),
            ),
            "shared resources that several levers draw on",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "lever_pools",
            ("lever", "pool"),
            (
                _id("lever", "lever", refers_to="levers.lever"),
                _id("pool", "pool", refers_to="pools.pool"),
                Column("use_per_module", "float", "use of the pool by one module", min=0),
            ),
            "how much of each pool one module of a lever uses",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "relations",
            ("lever", "relation", "other"),
            (
                _id("lever", "lever", refers_to="levers.lever"),
                Column("relation", "str", "requires or excludes"),
                _id("other", "the other lever", refers_to="levers.lever"),
            ),
            "levers that need or rule out one another",
            optional=True,
            allow_empty=True,
        ),
        Table(
            "owners",
            ("owner",),
            (
                _id("owner", "a company or the government, who commits levers"),
                Column("kind", "str", "company or government"),
                Column(
                    "capacity_usd_bn",
                    "float",
                    "capex the owner can fund over the horizon, USD bn (blank: no limit of its own)",
                    min=0,
                    required=False,
                    default=None,
                ),
                Column(
                    "order",
                    "int",
                    "the owner's turn when owners decide one after another (first come, first served: 1 decides "
                    "first); two owners may not share a turn (blank: no turn given)",
                    min=1,
                    required=False,
                    default=None,
                    used_by="relief coordination",
                ),
            ),
            "who commits the levers, and how much capex each can fund on its own",
            optional=True,
            allow_empty=True,
            implicit_keys=(GOVERNMENT,),
            used_by="relief coordination",
        ),
        Table(
            "owner_sectors",
            ("owner", "sector"),
            (
                _id("owner", "a company", refers_to="owners.owner"),
                _id(
                    "sector", "an export sector whose tariff relief the company cares about", refers_to="sectors.sector"
                ),
            ),
            "the export sectors whose tariff relief each company cares about (the government cares about all)",
            optional=True,
            allow_empty=True,
            used_by="relief coordination",
        ),
        Table(
            "labellings",
            ("labelling", "owner"),
            (
                _id("labelling", "the name of a labelling; the rows that share it are applied together"),
                _id("owner", "an owner whose labels this labelling changes", refers_to="owners.owner"),
                Column(
                    "kind",
                    "str",
                    "the owner's kind under this labelling, company or government (blank: unchanged)",
                    required=False,
                    default=None,
                ),
                Column(
                    "sectors",
                    "str",
                    "the sectors (sectors.csv) the owner cares about under this labelling, separated by `;`; "
                    "`none`: no sector (blank: unchanged; a government owner cares about every sector)",
                    required=False,
                    default=None,
                ),
            ),
            "plausible alternative labellings of owners that the case marks as uncertain (which owners are public, "
            "what each cares about): each replaces the owners' kind (owners.csv) and cared-about sectors "
            "(owner_sectors.csv)",
            optional=True,
            allow_empty=True,
            used_by="relief coordination",
        ),
    )
}

RELATIONS = ("requires", "excludes")
OWNER_KINDS = ("company", "government")
# labellings.csv's `sectors`: the separator between sectors, and the value that means no sector at all.
SECTOR_SEPARATOR = ";"
NO_SECTOR = "none"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    description: str
    required: bool = True
    default: object = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    nullable: bool = False


CASE_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("name", "str", "name of the case"),
        Field("first_year", "int", "first year of the roadmap"),
        Field("last_year", "int", "last year of the roadmap"),
        Field("data_year", "int", "year of the export figures"),
        Field(
            "discount_rate",
            "float",
            "yearly discount rate of relief and spending",
            required=False,
            default=0.0,
            min=-1,
            min_exclusive=True,
        ),
        Field(
            "total_public_budget",
            "float",
            "cap on all public spending, USD bn",
            required=False,
            default=None,
            min=0,
            nullable=True,
        ),
        Field(
            "time_limit",
            "float",
            "solver time limit, seconds",
            required=False,
            default=None,
            min=0,
            min_exclusive=True,
            nullable=True,
        ),
        Field(
            "mip_gap",
            "float",
            "relative MIP gap at which the solver stops",
            required=False,
            default=None,
            min=0,
            nullable=True,
        ),
        Field("threads", "int", "solver threads", required=False, default=None, min=1, nullable=True),
        Field("seed", "int", "solver random seed", required=False, default=None, min=0, nullable=True),
        Field(
            "second_stage",
            "str",
            "what the second lexicographic stage minimises at the optimal relief: blank or `public` (discounted "
            "public spending), or `capex` (discounted capex, public and private: an owner alone in relief "
            "coordination)",
            required=False,
            default=None,
            nullable=True,
        ),
        Field(
            "risk_measure",
            "str",
            "what stage 1 maximises: expected, cvar or worst (docs/formulation.md, Risk)",
            required=False,
            default="expected",
        ),
        Field(
            "risk_alpha",
            "float",
            "CVaR level: the worst (1 - risk_alpha) of probability is the tail (below 1)",
            required=False,
            default=0.8,
            min=0,
            max=1,
        ),
        Field(
            "risk_weight",
            "float",
            "weight of CVaR against expected relief when risk_measure is cvar",
            required=False,
            default=0.5,
            min=0,
            max=1,
        ),
        Field(
            "tier_margin",
            "float",
            "share above its threshold a track score must reach for a tier to count: 0.05 = 5% (below 1; "
            "thresholds only, not min_score; docs/formulation.md, Tier choice)",
            required=False,
            default=0.0,
            min=0,
            max=1,
        ),
        Field(
            "as_of",
            "str",
            "date (YYYY-MM-DD) on which sectors.csv's current_rate is in force",
            required=False,
            default=None,
            nullable=True,
        ),
        Field(
            "reveal_year",
            "int",
            "year from which each stance has its own commitments (an adaptive roadmap: the years before it are "
            "the same in every stance); none or after last_year: one roadmap for all (docs/formulation.md, Adaptive)",
            required=False,
            default=None,
            nullable=True,
        ),
        Field("description", "str", "what the case represents", required=False, default=None, nullable=True),
        Field("source", "str", "where the case comes from", required=False, default=None, nullable=True),
        Field("notes", "str", "notes", required=False, default=None, nullable=True),
    )
}


def power_of_ten(x: float) -> str:
    """1e9, not 1e+09."""
    return f"1e{round(math.log10(x))}"


def _range_text(c: Column | Field) -> str:
    lo = "" if c.min is None else (f"> {c.min:g}" if c.min_exclusive else f">= {c.min:g}")
    hi = "" if c.max is None else f"<= {c.max:g}"
    return ", ".join(x for x in (lo, hi) if x)


def _case_yaml_reference() -> list[str]:
    """The title, the common columns and the table of case.yaml's fields."""
    lines = [
        "# Case inputs",
        "",
        "Generated from `model/core/schema.py` by "
        "`python -c \"from relief.model.core.schema import reference_markdown as r; print(r(), end='')\" "
        "> docs/inputs.md`.",
        "Money is in USD billions, rates are fractions (0.15 = 15%). Every table may also carry the columns "
        + ", ".join(f"`{c}`" for c in INFO_COLUMNS)
        + ", which the model ignores but keeps for reports.",
        "",
        "## case.yaml",
        "",
        "| field | type | required | range | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in CASE_FIELDS.values():
        req = "yes" if f.required else f"no (default {f.default})"
        lines.append(f"| `{f.name}` | {f.kind} | {req} | {_range_text(f)} | {f.description} |")
    return lines


def _table_reference(t: Table) -> list[str]:
    """One table's section: what it holds, its key and the table of its columns."""
    key = f"Key: {', '.join(f'`{k}`' for k in t.key)}."
    if t.implicit_keys:
        key += " " + ", ".join(f"`{k}`" for k in t.implicit_keys) + " exists without a row."
    if t.used_by:
        key += f" Only `{t.used_by}` reads this table; `relief solve` ignores it."
    lines = [
        "",
        f"## {t.file}{' (optional)' if t.optional else ''}",
        "",
        t.description[0].upper() + t.description[1:] + ".",
        key,
        "",
        "| column | type | range | refers to | meaning |",
        "|---|---|---|---|---|",
    ]
    for c in t.columns:
        meaning = c.description
        if not c.required:
            meaning += " (optional column" + ("" if c.default is None else f", default `{c.default}`") + ")"
        if c.used_by and not t.used_by:
            meaning += f"; only `{c.used_by}` reads it"
        lines.append(f"| `{c.name}` | {c.kind} | {_range_text(c)} | {c.refers_to or ''} | {meaning} |")
    return lines


def reference_markdown() -> str:
    """The table reference of docs/inputs.md, produced from this schema (a test keeps them equal)."""
    lines = _case_yaml_reference()
    for t in TABLES.values():
        lines += _table_reference(t)
    lines += [
        "",
        "## Rules across tables",
        "",
        "- scenario probabilities sum to 1 (within 1e-6);",
        "- every scenario has a ladder on every track (tracks are named in sectors.csv), "
        "with exactly one baseline tier of threshold 0;",
        "- every tier of every ladder has a rate for every sector of its track, "
        "and a sector is rated only under its own track;",
        "- a dated rate (tariffs.csv's from_year) lies within the horizon; no two rows of the same scenario, track, "
        "tier and sector apply from the same year (a blank from_year is first_year); each has a rate in force "
        "at first_year;",
        "- every year of the horizon has a public budget in each envelope that has rows in budget.csv "
        "(years outside it are ignored); an envelope without rows has no yearly limit;",
        "- a lever's envelope is named in budget.csv or envelopes.csv (the default `public` too, "
        "once some lever uses it); an envelope no lever uses is a warning;",
        "- min_modules <= max_modules; keys are unique; keys that name other tables' rows exist;",
        "- a relation is `requires` or `excludes`, between two different levers;",
        "- an obligation's by_year lies within the horizon, and its min_modules is at most what its lever can "
        "commit by then: its max_modules, and max_modules_per_year in each year from earliest_year (or first_year) "
        "to by_year;",
        "- an owner's kind is `company` or `government`; the owner `government` exists without a row and, "
        "if listed, is of kind government;",
        "- the government cares about every sector, so owner_sectors.csv lists the sectors of companies "
        "(a row for a government owner is a warning);",
        "- two owners may not share an `order` (owners.csv);",
        "- a labelling's row changes the owner's kind or sectors (not both blank); its kind is `company` or "
        "`government` (the owner `government` stays government); each of its sectors is a sector of sectors.csv "
        "(or the single value `none`); sectors given for an owner that is, or becomes, of kind government are a "
        "warning (the government cares about every sector);",
        "- identifiers may not contain `:` or `*` (they are used in parameter paths); any other Unicode text is fine;",
        f"- numbers are finite and at most {power_of_ten(MAX_NUMBER)} in size; the model's coefficients that multiply "
        "them (a weight times a score, exports grown since data_year times a rate cut, ...) at most "
        f"{power_of_ten(MAX_COEFFICIENT)}, so that the solver takes them exactly.",
        "",
        "## Reading a case safely",
        "",
        "- Tables are found by their fixed names in the case folder; nothing in a case names a file. A table or "
        "case.yaml that is a link to a file outside the case folder, or that is not a regular file (a folder, a pipe), "
        "is refused.",
        f"- An input file may be at most {DEFAULT_MAX_FILE_MB} MB, and so may what a workbook unpacks to "
        f"(checked before it is unpacked); the variable `{MAX_FILE_MB_VARIABLE}` sets another limit in MB.",
        '- Files are UTF-8; a UTF-8 byte-order mark (Excel\'s "CSV UTF-8") is fine. Another encoding is refused, '
        "naming the row of its first odd byte.",
        "- case.yaml is read with YAML's safe loader: a `!!python/...` tag is refused, "
        "and so are a field given twice and a list or mapping as a value. "
        "No input is ever evaluated as code: not a table, not case.yaml, not a `--set` value, not a sweep file.",
        "- An unknown case.yaml field is an error, with the field it most resembles: "
        "`case.yaml, column discount_rte: unknown field 'discount_rte': did you mean discount_rate?` "
        "(words for people go in `description`, `source` or `notes`, or after a `#`). "
        "So is an unknown column that looks like a column the header lacks (`capex_per_modul`, `yaer`, `Owners`): "
        "a misspelt column would otherwise be missing, or left at its default in every row. Any other unknown column "
        "is kept as notes for people, with a warning.",
        "- Columns are separated by commas; a file separated by semicolons (as a spreadsheet set to a language with "
        "decimal commas saves CSV) or tabs is refused, saying so.",
        "- A problem of a workbook names the workbook and sheet: "
        "`case.xlsx [levers], row 3, column capex_per_module: 'two' is not a number`.",
        "",
        "Breaking a rule is an error. Data that is legal but suspicious "
        "(a tier no portfolio can reach, a lever that scores",
        "in no weighted pillar, a ladder whose higher tier raises a rate, "
        "a lever that cannot operate within the horizon,",
        "numbers far apart in scale) gives warnings instead: see [validation.md](validation.md).",
        "",
    ]
    return "\n".join(lines)


def tables_referring_to(target: str) -> tuple[str, ...]:
    """The tables (in TABLES order) with a column whose values must be those of `target`
    ("table.column"), e.g. the per-scenario tables: tables_referring_to("scenarios.scenario")."""
    return tuple(t.name for t in TABLES.values() if any(c.refers_to == target for c in t.columns))
