"""The table of limits: one row per constraint the model can build, read by everything that
talks about limits.

Like PyPSA's `variables.csv` or Temoa's component manifest, this is the one place that says,
for each Pyomo Constraint of `build.py` (and the two column bounds that act as limits):
which case path it comes from, its unit, the planner's words for it, whether the
infeasibility explanation may relax it (and at what penalty), whether marginal values read
a meaningful dual from it, whether tightening it only removes plans (so a plan may be
reused), where its conflicts are listed, and the function of `evaluate.py` that re-checks
it from the tables (its twin). Readers:

- `diagnose.py`: penalties of the feasibility relaxation, the order of conflicts, their texts;
- `analyses/marginal.py`: which limits have marginal values, their keys, names and duals;
- `sweeps/runner.py`: which varied case paths allow plan reuse;
- `case.py`: `COEFFICIENTS`, where each coefficient of the model comes from (its range check);
- `tests/test_limits_table.py`: every Constraint of a built model has a row, every row a twin.

To add a constraint: one `define_*` block in build.py, one row here, one checker in evaluate.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.core.schema import PUBLIC, TABLES

if TYPE_CHECKING:
    from relief.model.core.case import Case

# --------------------------------------------------------------------------------------
# The rows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """The planner's words for a conflict on a limit (diagnose.py fills the fields).

    Fields: {lever}, {other}, {relation}, {year}, {pool}; {limit} and {needed} as numbers;
    {limit_modules}, {needed_modules} as '2 modules'; {drivers} and {need} (what pushes
    against the limit: 'forced smelter needs'); a few kinds add their own ({why}, {fit}, {tail})."""

    name: str  # Conflict.name: which instance of the limit ("{lever}", "{year}", "total_public_budget")
    conflict: str = ""  # in an irreducible infeasible set, with what the limit would have to be
    conflict_open: str = ""  # the same when that value could not be computed
    relaxed: str = ""  # in the feasibility relaxation: the limit would have to move to {needed}
    # a family (the limit of every year, diagnose.py `_families`), said in one sentence: {limits} the
    # members' range ("0.4-1"), {peak} the least the largest member must be, {fix} one of the two
    # below, {drop} ", or drop --force LEVER"
    family: str = ""
    family_one: str = ""  # the smallest single change: {member} to {needed}
    family_all: str = ""  # no single member can fix it: every member raised by {by}


@dataclass(frozen=True)
class MarginalSpec:
    """How `relief marginal` lists a limit and reads its dual."""

    kind: str  # Limit.kind (kept as the command has always printed it)
    family: str  # the --limits filter: budget | total | pools | levers
    key: str  # Limit.key, with {index}
    name: str  # Limit.name, the planner's words, with {index}
    dual: str  # how the LP dual is read: row | row_times_built | column_bounds (see marginal.limit_dual)
    step: str  # money (MONEY_STEP) | modules (MODULE_STEP, or a share of the limit for divisible levers)
    binding_only: bool = False  # listed only when binding or nearly so (unless all_levers)


@dataclass(frozen=True)
class LimitRow:
    """One constraint component of the model (or a column bound acting as a limit)."""

    component: str  # the Pyomo Constraint's name; for a column bound, the variable's ("x", "y")
    kind: str  # Conflict.kind in diagnose; "model" for rows a planner does not set directly
    block: str  # the define_* function of build.py that builds it
    twin: str  # the function of evaluate.py that re-checks it from the case tables
    meaning: str  # one line, in the planner's words
    source: tuple[str, str] | None = None  # (table, column) or ("case", field) the limit comes from
    unit: str = ""  # Conflict.unit: "USD bn", "modules" ("" for a pool: its own unit)
    sense: str | None = None  # upper: the case value caps the plan; lower: it is a floor
    words: Wording | None = None  # the planner's wording of its conflicts (None: "the model's row ...")
    penalty: float | None = None  # per unit of violation in the feasibility relaxation (None: never relaxed)
    order: int | None = None  # where its conflicts are listed (None: last, as "model")
    tightening_removes_plans: bool = False  # lowering it removes plans and changes no objective: plan reuse is valid
    marginal: MarginalSpec | None = None  # it has a meaningful dual and a marginal value
    violation: str = ""  # a word of the twin's violation message when the plan breaks it
    bound: bool = False  # an upper bound of column `component`, not a Constraint

    @property
    def relaxable(self) -> bool:
        return self.penalty is not None

    @property
    def has_dual(self) -> bool:
        return self.marginal is not None

    @property
    def path(self) -> str | None:
        """The --set path of the limit, with {index} for the key of its row: 'budget.{index}.public_budget_usd_bn'."""
        if self.source is None:
            return None
        table, column = self.source
        return f"case.{column}" if table == "case" else f"{table}.{{index}}.{column}"


_LEVER = "{lever}"

LIMITS: tuple[LimitRow, ...] = (
    # --- commitments and build indicators (define_commitments) -------------------------
    LimitRow(
        "build_min",
        "min_modules",
        "define_commitments",
        "check_lever_size",
        "a lever in the plan has at least its min_modules",
        ("levers", "min_modules"),
        "modules",
        "lower",
        Wording(
            _LEVER,
            conflict="{lever} must have at least its min_modules of {limit} once in the plan, "
            "but with the other limits of this conflict at most {needed_modules} fit",
            conflict_open="{lever} must have at least its min_modules of {limit} once in the plan",
            relaxed="{lever} would have to be smaller than its min_modules of {limit} ({needed_modules})",
        ),
        penalty=10.0,
        order=1,
        violation="below min_modules",
    ),
    LimitRow(
        "obligation",
        "obligation",
        "define_obligations",
        "check_obligations",
        "the modules of a lever committed by a year are at least what obligations.csv requires",
        ("obligations", "min_modules"),
        "modules",
        "lower",
        Wording(
            "{lever} by {year}",
            conflict="the obligation to commit at least {limit_modules} of {lever} by {year} (obligations.csv) "
            "cannot be met: with the other limits of this conflict at most {needed_modules} fit",
            conflict_open="the obligation to commit at least {limit_modules} of {lever} by {year} (obligations.csv)",
            relaxed="the obligation to commit {limit_modules} of {lever} by {year} (obligations.csv) "
            "would have to be {needed_modules}",
        ),
        penalty=10.0,  # per module short of the obligation, as a lever's min_modules
        order=1,  # after min_modules (the same order, later in this table)
        # raising it removes plans, but lowering it does not (a floor): plan reuse assumes the opposite
        tightening_removes_plans=False,
        violation="short of the obligation",
    ),
    LimitRow(
        "build_max",
        "max_modules",
        "define_commitments",
        "check_lever_size",
        "a lever has at most its max_modules in all, and none unless it is in the plan",
        ("levers", "max_modules"),
        "modules",
        "upper",
        Wording(_LEVER, conflict="{drivers} {need} {needed_modules} of {lever}, but its max_modules is {limit}"),
        # never relaxed: the row also ties "in the plan" to "has modules"
        order=8,
        tightening_removes_plans=True,
        marginal=MarginalSpec(
            "max_modules",
            "levers",
            "max_modules:{index}",
            "modules of {index} in all",
            "row_times_built",
            "modules",
            True,
        ),
        violation="above max_modules",
    ),
    LimitRow(
        "forced",
        "forced",
        "define_commitments",
        "check_forced",
        "a forced lever (--force) has at least max(min_modules, 1) modules",
        None,
        "modules",
        "lower",
        Wording(
            _LEVER,
            conflict="{lever} is forced: at least {limit_modules}{why}; with the other limits of this conflict, {fit}",
            conflict_open="{lever} is forced: at least {limit_modules}{why}",
            relaxed="forcing {lever} cannot be met: it needs {limit_modules} but at most {needed} can be committed "
            "(check its earliest_year, max_modules and relations)",
        ),
        penalty=1000.0,
        order=0,
        violation="forced but only",
    ),
    LimitRow(
        "x",
        "max_modules_per_year",
        "define_commitments",
        "check_lever_years",
        "a lever commits at most max_modules_per_year modules in a year",
        ("levers", "max_modules_per_year"),
        "modules",
        "upper",
        Wording(
            _LEVER,
            conflict="{drivers} {need} {needed_modules} of {lever} in {year}, but its max_modules_per_year is {limit}",
            conflict_open="{lever} may commit at most {limit_modules} in {year} (max_modules_per_year)",
            relaxed="{lever} would have to commit {needed_modules} in {year}, above its max_modules_per_year ({limit})",
            family="{lever} may commit at most {limit_modules} a year (max_modules_per_year), too few for {drivers} "
            "in the years open to it: {fix}{drop}",
            family_one="raise its max_modules_per_year to {needed} (the smallest change)",
        ),
        penalty=1.0,  # per module above max_modules_per_year
        order=9,
        tightening_removes_plans=True,
        marginal=MarginalSpec(
            "max_per_year",
            "levers",
            "max_per_year:{index}",
            "modules of {index} a year",
            "column_bounds",
            "modules",
            True,
        ),
        violation="exceed max_modules_per_year",
        bound=True,
    ),
    LimitRow(
        "y",
        "excluded",
        "define_commitments",
        "check_lever_size",
        "an excluded lever (--exclude) is not in the plan",
        None,
        "modules",
        "upper",
        Wording(
            _LEVER,
            conflict="{lever} is excluded (--exclude {lever}), but {drivers} {need} it in the plan "
            "(at least {needed_modules})",
            relaxed="{lever} would have to be allowed (it is excluded)",
        ),
        penalty=100.0,  # for using an excluded lever
        order=4,
        violation="excluded but committed",
        bound=True,
    ),
    # --- tier choice (define_tiers) ----------------------------------------------------
    LimitRow(
        "one_tier",
        "model",
        "define_tiers",
        "best_tier",
        "at most one tier per track, scenario and year (none: the baseline)",
    ),
    LimitRow(
        "tier_reach",
        "model",
        "define_tiers",
        "tier_reached",
        "a tier is reached only if the track score meets its threshold (raised by case.yaml's tier_margin)",
        ("tiers", "threshold"),
        "score",
    ),
    LimitRow(
        "tier_requirement",
        "model",
        "define_tiers",
        "tier_reached",
        "a tier is reached only if each pillar it requires meets its min_score",
        ("tier_requirements", "min_score"),
        "score",
    ),
    # --- spending and budgets (define_spending) ----------------------------------------
    LimitRow(
        "year_budget",
        "year_budget",
        "define_spending",
        "check_year_budgets",
        "public spending in a year is at most that year's public budget",
        ("budget", "public_budget_usd_bn"),
        "USD bn",
        "upper",
        Wording(
            "{year}",
            conflict="{drivers} {need} USD {needed}bn of public money in {year}, "
            "but the {year} public budget is USD {limit}bn",
            conflict_open="{drivers} {need} more public money in {year} than its budget of USD {limit}bn",
            relaxed="the public budget of {year} (USD {limit}bn) would have to be USD {needed}bn",
            family="the yearly public budgets (USD {limits}bn a year) cannot pay for {drivers}, which {need} "
            "USD {peak}bn of public money in at least one year: {fix}{drop}",
            family_one="raise the {member} public budget to USD {needed}bn (the smallest single change)",
            family_all="raise every year's public budget by USD {by}bn",
        ),
        penalty=1.0,
        order=5,
        tightening_removes_plans=True,
        marginal=MarginalSpec("year_budget", "budget", "budget:{index}", "public budget in {index}", "row", "money"),
        violation="exceeds the budget",
    ),
    LimitRow(
        "total_budget_limit",
        "total_budget",
        "define_spending",
        "check_total_budget",
        "all public spending of the plan is at most the total public budget",
        ("case", "total_public_budget"),
        "USD bn",
        "upper",
        Wording(
            "total_public_budget",
            conflict="{drivers} {need} USD {needed}bn of public money in all, "
            "but the total public budget is USD {limit}bn",
            conflict_open="{drivers} {need} more public money than the total public budget of USD {limit}bn",
            relaxed="the total public budget (USD {limit}bn) would have to be USD {needed}bn",
        ),
        penalty=1.0,
        order=6,
        tightening_removes_plans=True,
        marginal=MarginalSpec("total_budget", "total", "total_budget", "total public budget", "row", "money"),
        violation="total_public_budget",
    ),
    LimitRow(
        "envelope_year_budget",
        "envelope_budget",
        "define_spending",
        "check_envelope_budgets",
        "public spending of an envelope's levers in a year is at most the envelope's budget for that year",
        ("budget", "public_budget_usd_bn"),
        "USD bn",
        "upper",
        Wording(
            "{envelope} {year}",
            conflict="{drivers} {need} USD {needed}bn of the {envelope} envelope in {year}, "
            "but the {envelope} envelope's {year} budget is USD {limit}bn",
            conflict_open="{drivers} {need} more of the {envelope} envelope in {year} than its budget of USD {limit}bn",
            relaxed="the {envelope} envelope's {year} budget (USD {limit}bn) would have to be USD {needed}bn",
            family="the {envelope} envelope's yearly budgets (USD {limits}bn a year) cannot pay for {drivers}, "
            "which {need} USD {peak}bn of it in at least one year: {fix}{drop}",
            family_one="raise the {envelope} envelope's {member} budget to USD {needed}bn (the smallest single change)",
            family_all="raise every year's budget of the {envelope} envelope by USD {by}bn",
        ),
        penalty=1.0,
        order=5,
        tightening_removes_plans=True,
        marginal=MarginalSpec(
            "envelope_budget", "budget", "budget:{index}", "{envelope} envelope's budget in {year}", "row", "money"
        ),
        violation="exceeds its budget",
    ),
    LimitRow(
        "envelope_total_limit",
        "envelope_total",
        "define_spending",
        "check_envelope_totals",
        "all public spending of an envelope's levers is at most the envelope's total (envelopes.csv)",
        ("envelopes", "total_usd_bn"),
        "USD bn",
        "upper",
        Wording(
            "{pool}",
            conflict="{drivers} {need} USD {needed}bn of the {pool} envelope in all, "
            "but the {pool} envelope's total is USD {limit}bn",
            conflict_open="{drivers} {need} more of the {pool} envelope than its total of USD {limit}bn",
            relaxed="the {pool} envelope's total (USD {limit}bn) would have to be USD {needed}bn",
        ),
        penalty=1.0,
        order=6,
        tightening_removes_plans=True,
        marginal=MarginalSpec(
            "envelope_total", "total", "envelope_total:{index}", "total of the {index} envelope", "row", "money"
        ),
        violation="in all exceeds its total",
    ),
    # --- pools and relations (define_pools_and_relations) ------------------------------
    LimitRow(
        "pool_limit_row",
        "pool",
        "define_pools_and_relations",
        "check_pools",
        "the levers' use of a shared pool is at most its limit",
        ("pools", "limit"),
        "",
        "upper",
        Wording(
            "{pool}",
            conflict="{drivers} {need} {needed} of pool {pool}, but its limit is {limit}",
            conflict_open="{drivers} {need} more of pool {pool} than its limit of {limit}",
            relaxed="pool {pool} (limit {limit}) would have to allow {needed}",
        ),
        penalty=1.0,
        order=7,
        tightening_removes_plans=True,
        marginal=MarginalSpec("pool", "pools", "pool:{index}", "pool {index}", "row", "money"),
        violation="exceeds its limit",
    ),
    LimitRow(
        "requires",
        "requires",
        "define_pools_and_relations",
        "check_relations",
        "a lever that requires another is in the plan only with it",
        ("relations", "relation"),
        words=Wording(
            "{lever} requires {other}",
            conflict_open="{lever} requires {other} (relations.csv){tail}",
            relaxed="the relation '{lever} {relation} {other}' (relations.csv) would have to go",
        ),
        penalty=100.0,
        order=2,
        violation="which is not in the plan",
    ),
    LimitRow(
        "excludes",
        "excludes",
        "define_pools_and_relations",
        "check_relations",
        "two levers that exclude each other are not both in the plan",
        ("relations", "relation"),
        words=Wording(
            "{lever} excludes {other}",
            conflict_open="{lever} and {other} exclude each other (relations.csv)",
            relaxed="the relation '{lever} {relation} {other}' (relations.csv) would have to go",
        ),
        penalty=100.0,
        order=3,
        violation="but both are in the plan",
    ),
    # --- adaptive roadmaps (define_nonanticipativity) ------------------------------------
    LimitRow(
        "nonanticipativity",
        "model",
        "define_nonanticipativity",
        "check_nonanticipativity",
        "stances that cannot yet be told apart commit the same modules in a year (reveal_year, information.csv)",
        ("information", "group"),
    ),
    # --- the lexicographic stage (define_objectives) and risk (define_risk) ------------
    LimitRow(
        "keep_relief",
        "model",
        "define_objectives",
        "expected_relief",
        "the spending stage keeps the relief of the first stage",
    ),
    LimitRow(
        "worst_row",
        "model",
        "define_risk",
        "relief_by_scenario",
        "risk_measure worst: the worst relief is at most each scenario's relief",
    ),
    LimitRow(
        "shortfall_row",
        "model",
        "define_risk",
        "relief_by_scenario",
        "risk_measure cvar: each scenario's shortfall below the value at risk",
    ),
)

ROWS: dict[str, LimitRow] = {r.component: r for r in LIMITS}  # by Pyomo component name
CONSTRAINTS: tuple[LimitRow, ...] = tuple(r for r in LIMITS if not r.bound)
BOUNDS: dict[str, LimitRow] = {r.component: r for r in LIMITS if r.bound}  # "x", "y"
RELAXABLE: dict[str, float] = {r.component: r.penalty for r in CONSTRAINTS if r.penalty is not None}
KIND_ORDER: tuple[str, ...] = (
    *dict.fromkeys(r.kind for r in sorted(LIMITS, key=lambda r: r.order or 0) if r.order is not None),
    "model",
)
MARGINAL: tuple[LimitRow, ...] = tuple(r for r in LIMITS if r.marginal is not None)


def row_of(component: str) -> LimitRow | None:
    """The row of a Pyomo component name (None: not a limit the table knows)."""
    return ROWS.get(component)


def of_kind(kind: str) -> LimitRow:
    """The row whose conflicts are of `kind` (forced, min_modules, year_budget ...)."""
    return next(r for r in LIMITS if r.kind == kind)


def of_marginal_kind(kind: str) -> LimitRow:
    """The row of a marginal Limit.kind (year_budget, total_budget, pool, max_modules, max_per_year)."""
    return next(r for r in MARGINAL if r.marginal.kind == kind)


def case_values(case: Case, row: LimitRow, exclude=()) -> dict:
    """{index: value} of a row's case path: one entry (index None) for a case.yaml field, if
    set; one per row of its table otherwise, as the model has them (budgets of the horizon's
    years only; an envelope's limits only where some lever not in `exclude` draws on it:
    year_budget by year for the envelope `public`, envelope_year_budget by (envelope, year)
    for the others), leaving out the levers in `exclude`."""
    table, column = row.source
    if table == "case":
        v = case.meta.get(column)
        return {} if v is None else {None: float(v)}
    df = case.table(table)
    if table in ("budget", "envelopes"):
        lv = case.table("levers")
        used = {e for l, e in zip(lv["lever"], lv["envelope"]) if l not in exclude}
        if table == "envelopes":
            return {e: float(v) for e, v in zip(df["envelope"], df[column]) if e in used}
        public = row.component == "year_budget"
        return {
            (int(t) if public else (e, int(t))): float(v)
            for e, t, v in zip(df["envelope"], df["year"], df[column])
            if int(t) in case.years and e in used and (e == PUBLIC) == public
        }
    (key,) = TABLES[table].key
    out = {}
    for index, v in zip(df[key], df[column]):
        if table == "levers" and index in exclude:
            continue
        out[index] = float(v)
    return out


def tightening_removes_plans(table: str, column: str) -> bool:
    """Whether lowering the case value at (table, column) only removes plans (plan reuse is valid)."""
    return any(r.tightening_removes_plans and r.source == (table, column) for r in LIMITS)


# --------------------------------------------------------------------------------------
# Where the model's coefficients come from (rules.rule_solver_range's messages)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coefficient:
    param: str  # the mutable Param of build.py
    file: str  # the case file a planner edits to change it
    wording: str  # what it is, in the planner's words


_PUBLIC_COST = ("levers.csv", "public cost per module (capex_per_module x public_share)")
_TRACK_SCORE = ("pillar_weights.csv", "track score per module (weight x contributions.csv's score_per_module)")
_RELIEF = (
    "sectors.csv",
    "relief of a tier in a year (exports_usd_bn grown by growth_rate since case.yaml's "
    "data_year, x tariffs.csv's rate cut, discounted)",
)

COEFFICIENTS: tuple[Coefficient, ...] = (
    Coefficient("public_per_module", *_PUBLIC_COST),
    Coefficient("public_per_year", *_PUBLIC_COST),
    Coefficient("spend_pv", *_PUBLIC_COST),
    Coefficient("track_coef", *_TRACK_SCORE),
    Coefficient("track_coef_building", *_TRACK_SCORE),
    Coefficient("relief_coef", *_RELIEF),
)


def coefficient_sources() -> dict[str, tuple[str, str]]:
    """{Param name: (file, wording)}, read by rules.rule_solver_range."""
    return {c.param: (c.file, c.wording) for c in COEFFICIENTS}
