"""The rules across tables: what no single table can say is wrong (a key naming a row that
does not exist, probabilities that do not sum to 1, a ladder without its baseline tier,
a coefficient too large for the solver).

Each rule is a small named function of the case typed so far and the list of problems it
adds to; `CROSS_RULES` lists them in the order they run. A rule skips the tables that
could not be read or typed, so one broken table does not hide the problems of the rest.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.coerce import blank
from relief.model.core.frames import records
from relief.model.core.limits import coefficient_sources
from relief.model.core.problems import Problem
from relief.model.core.schema import (
    GOVERNMENT,
    MAX_COEFFICIENT,
    NO_SECTOR,
    OWNER_KINDS,
    PUBLIC,
    RELATIONS,
    SECTOR_SEPARATOR,
    TABLES,
    power_of_ten,
)

if TYPE_CHECKING:
    from relief.model.core.case import Case

PROBABILITY_TOLERANCE = 1e-6


def _rows(df: pd.DataFrame) -> list[dict]:
    return records(df)


def rule_references(case: Case, problems: list[Problem]) -> None:
    """Every key that names a row of another table names one that exists."""
    tables = case.tables
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


def rule_levers(case: Case, problems: list[Problem]) -> None:
    """min_modules <= max_modules."""
    tables = case.tables
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


def rule_probabilities(case: Case, problems: list[Problem]) -> None:
    """Scenario probabilities sum to 1."""
    tables = case.tables
    sc = tables.get("scenarios")
    if sc is None or not len(sc):
        return
    total = float(sc["probability"].sum())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(Problem("scenarios.csv", f"probabilities sum to {total:.6g}, not 1", column="probability"))


def rule_budget(case: Case, problems: list[Problem]) -> None:
    """Every horizon year has a public budget, in each envelope that has rows in budget.csv."""
    meta, tables = case.meta, case.tables
    b = tables.get("budget")
    if b is None or not isinstance(meta.get("first_year"), int) or not isinstance(meta.get("last_year"), int):
        return
    envelopes = list(dict.fromkeys(b["envelope"])) if "envelope" in b else [PUBLIC]
    for e in envelopes or [PUBLIC]:
        have = set(b["year"][b["envelope"] == e]) if "envelope" in b else set(b["year"])
        missing = [y for y in range(meta["first_year"], meta["last_year"] + 1) if y not in have]
        if missing:
            whose = "public budget" if e == PUBLIC else f"budget of envelope {e}"
            problems.append(
                Problem(
                    "budget.csv",
                    f"no {whose} for year(s) {_year_ranges(missing)} "
                    f"of the horizon {meta['first_year']}-{meta['last_year']}",
                    column="year",
                )
            )


def rule_envelopes(case: Case, problems: list[Problem]) -> None:
    """A lever's envelope is named in budget.csv or envelopes.csv."""
    lv, b, env = (case.tables.get(n) for n in ("levers", "budget", "envelopes"))
    if lv is None or "envelope" not in lv:
        return
    known = set() if b is None or "envelope" not in b else set(b["envelope"])
    known |= set() if env is None or "envelope" not in env else set(env["envelope"])
    for r in _rows(lv):
        if r["envelope"] not in known:
            problems.append(
                Problem(
                    "levers.csv",
                    f"unknown envelope '{r['envelope']}': name it in budget.csv (yearly budgets) "
                    "or envelopes.csv (a total)",
                    row=r["_row"],
                    column="envelope",
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


def rule_ladders(case: Case, problems: list[Problem]) -> None:
    """Each scenario has a ladder on each track, with exactly one baseline tier (threshold 0)."""
    tables = case.tables
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
                        f"no ladder for scenario '{s}' on track '{r}' (every scenario needs a ladder on every track, "
                        "at least its baseline tier with threshold 0)",
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
                        f"ladder of scenario '{s}', track '{r}' (rows {rows}) has {what} with threshold 0; "
                        "it needs exactly one baseline",
                        column="threshold",
                    )
                )


def rule_tariffs(case: Case, problems: list[Problem]) -> None:
    """Every tier of every ladder has a rate for every sector of its track, and nothing else."""
    tables = case.tables
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
                    f"tier '{r['tier']}' is not in the ladder of scenario '{r['scenario']}', "
                    f"track '{r['track']}' in tiers.csv",
                    row=r["_row"],
                    column="tier",
                )
            )
        if r["sector"] in track_of and track_of[r["sector"]] != r["track"]:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"sector '{r['sector']}' belongs to track '{track_of[r['sector']]}' (sectors.csv), "
                    f"not '{r['track']}'",
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
                    f"no rate for sector(s) {', '.join(missing)} at tier '{t['tier']}' of scenario "
                    f"'{t['scenario']}', track '{t['track']}' (tiers.csv row {t['_row']})",
                    column="rate",
                )
            )


def rule_dated_tariffs(case: Case, problems: list[Problem]) -> None:
    """A from_year lies within the horizon; no two rows of one (scenario, track, tier, sector)
    apply from the same year (blank = first_year; two blanks are a duplicate key already);
    each has a rate in force at first_year."""
    tables, meta = case.tables, case.meta
    first, last = meta.get("first_year"), meta.get("last_year")
    if "tariffs" not in tables or not isinstance(first, int) or not isinstance(last, int):
        return
    from relief.model.core.coerce import blank

    seen: dict[tuple, dict] = {}
    starts: dict[tuple, list] = {}
    for r in _rows(tables["tariffs"]):
        key = (r["scenario"], r["track"], r["tier"], r["sector"])
        fy = r.get("from_year")
        dated = not blank(fy)
        year = int(fy) if dated else first
        if dated and not first <= year <= last:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"from_year {year} is outside the horizon {first}-{last} (a rate before first_year is given "
                    "without from_year)",
                    row=r["_row"],
                    column="from_year",
                )
            )
            continue
        other = seen.get(key + (year,))
        if other is not None and (dated or not blank(other.get("from_year"))):
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"a second rate for scenario '{key[0]}', track '{key[1]}', tier '{key[2]}', sector '{key[3]}' "
                    f"from {year} (row {other['_row']}; a blank from_year means first_year {first})",
                    row=r["_row"],
                    column="from_year",
                )
            )
        seen.setdefault(key + (year,), r)
        starts.setdefault(key, []).append((year, r["_row"]))
    for key, rows in starts.items():
        if min(y for y, _ in rows) > first:
            problems.append(
                Problem(
                    "tariffs.csv",
                    f"no rate in force in first_year {first} for scenario '{key[0]}', track '{key[1]}', tier "
                    f"'{key[2]}', sector '{key[3]}': its rows start in {min(y for y, _ in rows)} (leave one "
                    "row's from_year blank)",
                    row=min(rows)[1],
                    column="from_year",
                )
            )


def rule_current_rates(case: Case, problems: list[Problem]) -> None:
    """sectors.csv's current_rate is given for every sector or for none (duty at current
    rates is a sum over all sectors)."""
    sectors = case.tables.get("sectors")
    if sectors is None or "current_rate" not in sectors.columns or not len(sectors):
        return
    given = sectors["current_rate"].notna()
    if given.any() and not given.all():
        for r in _rows(sectors[~given]):
            problems.append(
                Problem(
                    "sectors.csv",
                    f"no current_rate for sector '{r['sector']}': give it for every sector or for none",
                    row=r["_row"],
                    column="current_rate",
                )
            )


def rule_tier_requirements(case: Case, problems: list[Problem]) -> None:
    """Tier requirements name tiers that exist."""
    tables = case.tables
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


def rule_relations(case: Case, problems: list[Problem]) -> None:
    """A relation is requires or excludes, between two different levers."""
    tables = case.tables
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


def rule_owners(case: Case, problems: list[Problem]) -> None:
    """An owner is a company or the government; `government` is of kind government; the
    government cares about every sector, so owner_sectors rows name companies."""
    tables = case.tables
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


def rule_owner_order(case: Case, problems: list[Problem]) -> None:
    """Two owners may not share a turn (owners.csv `order`): who decides first must be said, not
    left to a tie-break."""
    owners = case.tables.get("owners")
    if owners is None or "order" not in owners or not len(owners):
        return
    first: dict[int, dict] = {}
    for r in _rows(owners):
        if blank(r["order"]):
            continue
        other = first.setdefault(int(r["order"]), r)
        if other is not r:
            problems.append(
                Problem(
                    "owners.csv",
                    f"'{r['owner']}' has order {int(r['order'])}, as '{other['owner']}' (row {other['_row']}) has: "
                    "give each owner its own turn",
                    row=r["_row"],
                    column="order",
                )
            )


def labelling_sectors(cell: object) -> tuple[str, ...] | None:
    """labellings.csv's `sectors` cell as the sectors it names: None when blank or naming nothing
    (unchanged), () for `none` (no sector), else the names between the `;`s, stripped, each once."""
    if blank(cell):
        return None
    names = tuple(dict.fromkeys(n.strip() for n in str(cell).split(SECTOR_SEPARATOR) if n.strip()))
    return None if not names else () if names == (NO_SECTOR,) else names


def rule_labellings(case: Case, problems: list[Problem]) -> None:
    """A labelling's row changes something; its kind is company or government; its sectors are
    sectors of sectors.csv (or `none` alone); sectors for an owner that is or becomes of kind
    government are a warning (the government cares about every sector)."""
    tables = case.tables
    lab = tables.get("labellings")
    if lab is None or not len(lab):
        return
    known = set(tables["sectors"]["sector"]) if "sectors" in tables else None
    kind_now = {GOVERNMENT: "government"}
    if "owners" in tables:
        kind_now.update(zip(tables["owners"]["owner"], tables["owners"]["kind"]))
    for r in _rows(lab):
        where = {"row": r["_row"]}
        sectors = labelling_sectors(r["sectors"])
        if blank(r["kind"]) and sectors is None:
            problems.append(
                Problem(
                    "labellings.csv",
                    f"labelling '{r['labelling']}' changes nothing of '{r['owner']}': give its kind, its sectors "
                    f"or both ('{NO_SECTOR}' for no sector)",
                    column="kind",
                    **where,
                )
            )
            continue
        if not blank(r["kind"]) and r["kind"] not in OWNER_KINDS:
            problems.append(
                Problem(
                    "labellings.csv",
                    f"'{r['kind']}' is not a kind of owner (use company or government, or leave it blank)",
                    column="kind",
                    **where,
                )
            )
        elif r["owner"] == GOVERNMENT and not blank(r["kind"]) and r["kind"] != "government":
            problems.append(
                Problem("labellings.csv", f"the owner '{GOVERNMENT}' is of kind government", column="kind", **where)
            )
        for name in sectors or ():
            if name == NO_SECTOR:
                problems.append(
                    Problem(
                        "labellings.csv",
                        f"'{NO_SECTOR}' means no sector and stands alone, not in a list of sectors",
                        column="sectors",
                        **where,
                    )
                )
            elif known is not None and name not in known:
                problems.append(
                    Problem("labellings.csv", f"unknown sector '{name}' (sectors.csv)", column="sectors", **where)
                )
        kind = kind_now.get(r["owner"], "company") if blank(r["kind"]) else r["kind"]
        if sectors and kind == "government":
            problems.append(
                Problem(
                    "labellings.csv",
                    f"'{r['owner']}' is of kind government under labelling '{r['labelling']}' and so cares about "
                    "every sector: its sectors change nothing",
                    column="sectors",
                    level="warning",
                    **where,
                )
            )


# What the coefficients rule_solver_range checks are made of.
COEFFICIENT_TABLES = frozenset(
    {"levers", "contributions", "pillar_weights", "sectors", "tariffs", "scenarios", "tiers"}
)
COEFFICIENT_FIELDS = frozenset({"discount_rate", "data_year", "first_year", "last_year"})


def rule_solver_range(case: Case, problems: list[Problem]) -> None:
    """The model's coefficients, products of the case's numbers, are at most MAX_COEFFICIENT
    in size, so that the solver takes them as they are (it refuses 1e15 and more, and
    treats 1e20 as infinite). Checked last, on a case without errors."""
    if any(p.level == "error" for p in problems):
        return
    # imported here, not above: Pyomo (which build loads) is needed only by a case that gets this far
    from relief.model.core.build import Structure, parameter_values

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
    worst: dict[tuple[str, str], float] = {}  # the other Params are single input numbers, at most MAX_NUMBER already
    for name, source in coefficient_sources().items():  # the table of coefficients in limits.py
        worst[source] = max([worst.get(source, 0.0)] + [abs(v) for v in values[name].values()])
    for (file, what), v in worst.items():
        if not v <= MAX_COEFFICIENT:
            problems.append(
                Problem(file, f"{what} reaches {v:.3g}; the solver takes at most {power_of_ten(MAX_COEFFICIENT)}")
            )


def rule_obligations(case: Case, problems: list[Problem]) -> None:
    """An obligation's by_year lies within the horizon, and its min_modules can be committed at all:
    at most max_modules, and at most max_modules_per_year in each year from earliest_year to by_year."""
    meta, tables = case.meta, case.tables
    ob, lv = tables.get("obligations"), tables.get("levers")
    first, last = meta.get("first_year"), meta.get("last_year")
    if ob is None or lv is None or not len(ob) or not isinstance(first, int) or not isinstance(last, int):
        return
    levers = {r["lever"]: r for r in _rows(lv)}
    for r in _rows(ob):
        where = {"row": r["_row"]}
        if not first <= r["by_year"] <= last:
            problems.append(
                Problem(
                    "obligations.csv",
                    f"by_year {r['by_year']} is outside the horizon {first}-{last}",
                    column="by_year",
                    **where,
                )
            )
            continue
        lever = levers.get(r["lever"])
        if lever is None:
            continue  # rule_references says so
        years = max(0, r["by_year"] - max(first, lever["earliest_year"]) + 1)
        per_year = (
            math.floor(lever["max_modules_per_year"] + 1e-9) if lever["integer"] else lever["max_modules_per_year"]
        )
        reachable = min(lever["max_modules"], per_year * years)
        if r["min_modules"] > reachable + 1e-9:
            why = (
                f"its max_modules is {lever['max_modules']:g}"
                if lever["max_modules"] <= per_year * years
                else f"at most {per_year:g} a year (max_modules_per_year) in the {years} year(s) "
                f"from {max(first, lever['earliest_year'])} to {r['by_year']} give {per_year * years:g}"
            )
            problems.append(
                Problem(
                    "obligations.csv",
                    f"{r['lever']} cannot have {r['min_modules']:g} modules committed by {r['by_year']}: {why}",
                    column="min_modules",
                    **where,
                )
            )


def rule_information(case: Case, problems: list[Problem]) -> None:
    """case.yaml's reveal_year is not before first_year; information.csv's years lie within the
    horizon, each lists every stance once, and groups only split from one listed year to the
    next (what is learnt is not forgotten)."""
    meta, tables = case.meta, case.tables
    first, last = meta.get("first_year"), meta.get("last_year")
    if not isinstance(first, int) or not isinstance(last, int):
        return
    reveal = meta.get("reveal_year")
    if isinstance(reveal, int) and reveal < first:
        problems.append(
            Problem("case.yaml", f"reveal_year {reveal} is before first_year {first}", column="reveal_year")
        )
    info, sc = tables.get("information"), tables.get("scenarios")
    if info is None or sc is None or not len(info):
        return
    stances = list(sc["scenario"])
    by_year: dict[int, list[dict]] = {}
    for r in _rows(info):
        if not first <= r["year"] <= last:
            problems.append(
                Problem(
                    "information.csv",
                    f"year {r['year']} is outside the horizon {first}-{last}",
                    row=r["_row"],
                    column="year",
                )
            )
            continue
        by_year.setdefault(r["year"], []).append(r)
    before = dict.fromkeys(stances, "all")
    for year in sorted(by_year):
        rows = by_year[year]
        missing = [s for s in stances if s not in {r["scenario"] for r in rows}]
        if missing:
            problems.append(
                Problem(
                    "information.csv",
                    f"year {year} does not place stance(s) {', '.join(missing)} in a group: list every stance "
                    "in each year that has rows",
                    row=rows[0]["_row"],
                    column="scenario",
                )
            )
            continue
        now = {r["scenario"]: r["group"] for r in rows}
        for r in rows:
            mixed = {before[s] for s in now if now[s] == r["group"]}
            if len(mixed) > 1:
                problems.append(
                    Problem(
                        "information.csv",
                        f"group {r['group']} of {year} joins stances that an earlier year already told apart: "
                        "groups may only split as years pass",
                        row=r["_row"],
                        column="group",
                    )
                )
                break
        before = {s: (before[s], now[s]) for s in stances}


CROSS_RULES = (
    rule_references,
    rule_levers,
    rule_probabilities,
    rule_budget,
    rule_envelopes,
    rule_ladders,
    rule_tariffs,
    rule_dated_tariffs,
    rule_current_rates,
    rule_tier_requirements,
    rule_relations,
    rule_owners,
    rule_owner_order,
    rule_labellings,
    rule_obligations,
    rule_information,
    rule_solver_range,
)
