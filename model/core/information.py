"""What is known when: the information structure of an adaptive roadmap (docs/formulation.md, Adaptive).

Seoul commits a first tranche before Washington's stance shows, and adapts once it does.
In year t the stances fall into groups that cannot yet be told apart: stances of one group
share their commitments of year t (non-anticipativity). Before case.yaml's `reveal_year`
(and before the first year listed in information.csv) all stances share; from
`reveal_year` on each stance is its own group; information.csv gives partial revelation in
between. Groups only ever split (what is learnt is not forgotten): checked by validation.

The *branches* are the groups of the last year: each branch has one roadmap, the same as
another branch's in every year in which their stances still share a group. With one
branch the roadmap is static, and the model is the one of model-spec section 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relief.model.core.schema import TABLES, tables_referring_to

if TYPE_CHECKING:
    from relief.model.core.case import Case

ALL = "all"  # the label of the one group before anything is revealed


class OneRoadmapOnly(ValueError):
    """An analysis that values one roadmap for every stance was asked of an adaptive case."""


def require_static(case: Case, what: str) -> None:
    """OneRoadmapOnly unless `case` has one roadmap for every stance (no reveal within the horizon)."""
    info = Information.of(case)
    if info.static:
        return
    how = f"reveal_year {info.reveal_year}" if info.reveal_year is not None else "information.csv"
    raise OneRoadmapOnly(
        f"{what} works on one roadmap for every U.S. stance, and this case adapts ({how}); run it on the case "
        "without reveal_year and information.csv (relief value compares the two)"
    )


@dataclass(frozen=True)
class Information:
    """The groups of stances in each year of the horizon, in the case's stance order."""

    years: tuple[int, ...]
    scenarios: tuple[str, ...]
    probability: tuple[float, ...]  # by stance, aligned with `scenarios`
    groups: tuple[tuple[tuple[str, ...], ...], ...]  # by year: the groups, each its stances
    labels: tuple[tuple[str, ...], ...]  # by year: each group's label (a lone stance: its name)
    reveal_year: int | None = None
    listed: tuple[int, ...] = ()  # the years of information.csv

    @staticmethod
    def of(case: Case) -> Information:
        years = tuple(case.years)
        scenarios = tuple(case.scenarios)
        prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
        rows = case.tables.get("information")
        label_at: dict[int, dict[str, str]] = {}
        if rows is not None:
            for r in rows.itertuples(index=False):
                label_at.setdefault(int(r.year), {})[r.scenario] = str(r.group)
        listed = tuple(sorted(label_at))
        reveal = case.meta.get("reveal_year")
        groups, labels = [], []
        for t in years:
            known = [y for y in listed if y <= t]
            base = label_at[known[-1]] if known else {}
            revealed = reveal is not None and t >= reveal
            key = {s: (base.get(s, ALL), s if revealed else None) for s in scenarios}
            order: dict = {}
            for s in scenarios:
                order.setdefault(key[s], []).append(s)
            groups.append(tuple(tuple(g) for g in order.values()))
            labels.append(tuple(g[0] if len(g) == 1 and (revealed or k[0] != ALL) else k[0] for k, g in order.items()))
        return Information(
            years=years,
            scenarios=scenarios,
            probability=tuple(float(prob[s]) for s in scenarios),
            groups=tuple(groups),
            labels=tuple(labels),
            reveal_year=None if reveal is None else int(reveal),
            listed=listed,
        )

    # --- the tree -------------------------------------------------------------------------
    @property
    def static(self) -> bool:
        """One roadmap for every stance (nothing is learnt within the horizon)."""
        return len(self.branches) == 1

    @property
    def branches(self) -> tuple[tuple[str, ...], ...]:
        """The groups of the last year: one roadmap each."""
        return self.groups[-1]

    @property
    def branch_labels(self) -> tuple[str, ...]:
        return self.labels[-1]

    def branch_of(self, scenario: str) -> int:
        return next(b for b, g in enumerate(self.branches) if scenario in g)

    def weight(self, b: int) -> float:
        """The probability of branch b: the sum of its stances'."""
        p = dict(zip(self.scenarios, self.probability))
        return sum(p[s] for s in self.branches[b])

    def group_at(self, t: int, scenario: str) -> tuple[str, ...]:
        """The stances that share `scenario`'s commitments of year t."""
        return next(g for g in self.groups[self.years.index(t)] if scenario in g)

    def representative(self, b: int, t: int) -> int:
        """The first branch whose stances share branch b's commitments of year t (b itself
        where b is the first): non-anticipativity ties b's year-t decisions to it."""
        group = self.group_at(t, self.branches[b][0])
        return next(i for i, g in enumerate(self.branches) if g[0] in group)

    @property
    def shared_years(self) -> tuple[int, ...]:
        """The years in which every stance shares one roadmap: the first moves."""
        return tuple(t for t, g in zip(self.years, self.groups) if len(g) == 1)

    def report(self) -> dict:
        """The `reveal` object of --json: when each grouping starts and the branches."""
        changes, last = [], None
        for t, g, lab in zip(self.years, self.groups, self.labels):
            if g != last:
                changes.append({"year": t, "groups": {k: list(v) for k, v in zip(lab, g)}})
                last = g
        return {
            "reveal_year": self.reveal_year,
            "information_years": list(self.listed),
            "static": self.static,
            "first_moves_years": list(self.shared_years),
            "from": changes,
            "branches": {k: list(v) for k, v in zip(self.branch_labels, self.branches)},
        }


# the tables with a row per stance: those whose rows name a scenario (schema.py)
SCENARIO_TABLES = tables_referring_to("scenarios.scenario")


def scenarios_only(case: Case, stances) -> Case:
    """The case with only `stances`, their probabilities rescaled to sum to 1 (equal where
    they are all 0), and one static roadmap (no reveal_year, no information.csv).

    Not validated again (a fifth of a second per branch on the default case): dropping every
    row of the other stances keeps each rule across tables of a valid case, and the
    probabilities still sum to 1."""
    from dataclasses import replace

    from relief.model.core.validate import empty_table

    keep = set(stances)
    t = case.tables
    sc = t["scenarios"][t["scenarios"]["scenario"].isin(keep)].copy()
    total = float(sc["probability"].sum())
    sc["probability"] = sc["probability"] / total if total > 0 else 1.0 / len(sc)
    tables = dict(t)
    tables.update({name: t[name][t[name]["scenario"].isin(keep)] for name in SCENARIO_TABLES if name in t})
    tables["scenarios"] = sc
    tables["information"] = empty_table(TABLES["information"])
    return replace(case, meta={**case.meta, "reveal_year": None}, tables=tables)


_NOT_NUMBERS = frozenset({"scenario", "name", "source", "notes"})


def twin_stances(case: Case) -> dict[str, list[str]]:
    """Stances that no number of the model tells apart (the same commitment credit, pillar
    weights, ladders, tier requirements and rates): {first stance: [it and its twins]}, in
    the case's order. Only the probability may differ; columns read only by an analysis
    (`used_by`) and text columns are ignored."""
    from relief.model.core.frames import records

    sign: dict[str, list] = {s: [] for s in case.scenarios}
    for name in ("scenarios", *sorted(SCENARIO_TABLES)):
        if name not in case.tables or name == "information":
            continue
        cols = [
            c.name
            for c in TABLES[name].columns
            if c.name not in _NOT_NUMBERS and c.name != "probability" and not c.used_by
        ]
        for r in records(case.tables[name]):
            sign[r["scenario"]].append((name, *(repr(r[c]) for c in cols)))
    groups: dict[tuple, list[str]] = {}
    for s, rows in sign.items():
        groups.setdefault(tuple(sorted(rows)), []).append(s)
    return {g[0]: g for g in groups.values()}


def merged_twins(case: Case) -> Case:
    """The case with each group of twin stances (`twin_stances`) as its first stance, carrying
    the group's probability: the same expected relief for every plan, fewer binaries. Static,
    expected-relief cases only (the caller checks); not validated again (as scenarios_only)."""
    from dataclasses import replace

    twins = twin_stances(case)
    if len(twins) == len(case.scenarios):
        return case
    t = case.tables
    prob = dict(zip(t["scenarios"]["scenario"], t["scenarios"]["probability"]))
    sc = t["scenarios"][t["scenarios"]["scenario"].isin(twins)].copy()
    sc["probability"] = [sum(float(prob[m]) for m in twins[s]) for s in sc["scenario"]]
    tables = dict(t)
    tables.update({name: t[name][t[name]["scenario"].isin(twins)] for name in SCENARIO_TABLES if name in t})
    tables["scenarios"] = sc
    return replace(case, tables=tables)


def static_case(case: Case) -> Case:
    """The case with one roadmap for every stance (no reveal_year, no information.csv)."""
    from relief.model.core.validate import empty_table

    if case.meta.get("reveal_year") is None and not len(case.tables.get("information", ())):
        return case
    return case.replaced({**case.meta, "reveal_year": None}, information=empty_table(TABLES["information"]))
