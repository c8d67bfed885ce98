"""Sampled U.S. stances (`relief solve --sample N`): the sample spec and the draw of a sampled case.

A sample spec is a list of entries, each a parameter path as `--set` takes it
(model/core/overrides.py) on a per-stance table (scenarios, tiers, tariffs, pillar_weights,
tier_requirements) and one distribution: `uniform: [low, high]`, `triangular: [low, mode,
high]` or `normal: {mean, sd, low, high}` (truncated to [low, high]) or `discrete: {values: [..],
probabilities: [..]}`, all MULTIPLIERS of the
base value unless the entry says `absolute: true`; `per: row` (the default) draws
independently for each matched row of each sampled stance, `per: path` draws once per sampled
stance for all its rows the path matches.

A sampled stance is one of the case's stances, drawn with the case's probabilities (an entry
on `scenarios.*.probability` perturbs those weights for that draw, renormalised), copied
with its rows of every per-stance table, then perturbed entry by entry, in the spec's order.
Sampled stances are named `<origin>__<i>` (i = 1..N) and have probability 1/N. A drawn
value is kept within its column's valid range (docs/inputs.md: credit within [0, 1], rates
and thresholds at least 0). The same spec, case, N and generator state give the same case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from relief.model.core.information import SCENARIO_TABLES, require_static
from relief.model.core.overrides import OverrideError, resolve_path
from relief.model.core.schema import TABLES
from relief.model.sweeps.designs import SweepError

if TYPE_CHECKING:
    from relief.model.core.case import Case

STANCE_TABLES = ("scenarios", *(t for t in SCENARIO_TABLES if t != "information"))
DISTRIBUTIONS = ("uniform", "triangular", "normal", "discrete")
ENTRY_KEYS = {"path", "per", "absolute", *DISTRIBUTIONS}

# the family (benchmarks/family.py): every positive tier threshold and every stance's
# commitment credit times an independent uniform(0.75, 1.25) draw (credit capped at 1)
DEFAULT_SPEC = (
    {"path": "tiers.*:*:*.threshold", "uniform": [0.75, 1.25], "per": "row"},
    {"path": "scenarios.*.commitment_credit", "uniform": [0.75, 1.25], "per": "row"},
)


class SampleSpecError(SweepError):
    """A sample spec that cannot be used (exit 2): names the file, the entry and the key."""


@dataclass(frozen=True)
class Entry:
    path: str
    dist: str  # uniform | triangular | normal
    params: tuple[float, ...]  # uniform (low, high); triangular (low, mode, high); normal (mean, sd, low, high);
    # discrete (v1, .., vk, p1, .., pk)
    per: str = "row"  # row | path
    absolute: bool = False

    def to_dict(self) -> dict:
        if self.dist == "normal":
            value: object = dict(zip(("mean", "sd", "low", "high"), self.params))
        elif self.dist == "discrete":
            k = len(self.params) // 2
            value = {"values": list(self.params[:k]), "probabilities": list(self.params[k:])}
        else:
            value = list(self.params)
        return {"path": self.path, self.dist: value, "per": self.per, "absolute": self.absolute}

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        p = self.params
        if self.dist == "uniform":
            return rng.uniform(p[0], p[1], size) if p[1] > p[0] else np.full(size, p[0])
        if self.dist == "triangular":
            return rng.triangular(p[0], p[1], p[2], size) if p[2] > p[0] else np.full(size, p[0])
        if self.dist == "discrete":
            k = len(p) // 2
            return rng.choice(np.array(p[:k]), size=size, p=np.array(p[k:]) / sum(p[k:]))
        from scipy.stats import truncnorm

        mean, sd, low, high = p
        a, b = (low - mean) / sd, (high - mean) / sd
        return np.asarray(truncnorm.rvs(a, b, loc=mean, scale=sd, size=size, random_state=rng), dtype=float)


@dataclass(frozen=True)
class SampleSpec:
    entries: tuple[Entry, ...]
    source: str = "(default)"

    @staticmethod
    def default() -> SampleSpec:
        return parse_spec(list(DEFAULT_SPEC), "(default)")

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self.entries]

    def check(self, case: Case) -> None:
        """Every path matches rows of a per-stance number column of `case` (SampleSpecError otherwise)."""
        require_static(case, "--sample")
        for i, e in enumerate(self.entries, start=1):
            where = f"{self.source}: entry {i}, key path"
            try:
                table, column, _ = resolve_path(case, e.path)
            except OverrideError as err:
                raise SampleSpecError(f"{where}: {err}") from None
            if table not in STANCE_TABLES:
                raise SampleSpecError(
                    f"{where}: '{e.path}' is not a number of a U.S. stance; --sample draws stances, so only "
                    f"{', '.join(STANCE_TABLES)} can vary"
                )
            if TABLES[table].column(column).kind not in ("float", "int"):
                raise SampleSpecError(f"{where}: {table}.{column} is not a number")


def parse_spec(raw, source: str) -> SampleSpec:
    """A sample spec from YAML data: a list of entries (or a mapping with `entries:`)."""
    if isinstance(raw, dict) and set(raw) == {"entries"}:
        raw = raw["entries"]
    if not isinstance(raw, list) or not raw:
        raise SampleSpecError(
            f"{source}: a sample spec is a list of entries, each with path: and one of "
            "uniform: [low, high], triangular: [low, mode, high], normal: {mean, sd, low, high}"
        )
    return SampleSpec(tuple(_entry(e, i, source) for i, e in enumerate(raw, start=1)), source)


def _entry(e, i: int, source: str) -> Entry:
    where = f"{source}: entry {i}"
    if not isinstance(e, dict):
        raise SampleSpecError(f"{where}: must be a mapping with path: and a distribution")
    unknown = sorted(set(map(str, e)) - ENTRY_KEYS)
    if unknown:
        raise SampleSpecError(f"{where}, key {unknown[0]}: unknown key (known: {', '.join(sorted(ENTRY_KEYS))})")
    if not isinstance(e.get("path"), str) or not e["path"].strip():
        raise SampleSpecError(f"{where}, key path: missing; write a parameter path, e.g. tiers.*:*:*.threshold")
    dists = [d for d in DISTRIBUTIONS if d in e]
    if len(dists) != 1:
        raise SampleSpecError(
            f"{where}, key {dists[1] if dists else 'uniform'}: give exactly one distribution "
            f"({', '.join(DISTRIBUTIONS)})"
        )
    per = e.get("per", "row")
    if per not in ("row", "path"):
        raise SampleSpecError(f"{where}, key per: '{per}' is neither row nor path")
    absolute = e.get("absolute", False)
    if not isinstance(absolute, bool):
        raise SampleSpecError(f"{where}, key absolute: write true or false")
    dist = dists[0]
    params = _params(dist, e[dist], f"{where}, key {dist}")
    lowest = min(params[: len(params) // 2]) if dist == "discrete" else params[-2 if dist == "normal" else 0]
    if not absolute and lowest < 0:
        raise SampleSpecError(f"{where}, key {dist}: a multiplier cannot be negative (low >= 0)")
    return Entry(e["path"].strip(), dist, params, per, absolute)


def _params(dist: str, value, where: str) -> tuple[float, ...]:
    if dist == "discrete":
        return _discrete(value, where)
    names = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "normal": ("mean", "sd", "low", "high")}
    want = names[dist]
    if dist == "normal":
        if not isinstance(value, dict) or set(map(str, value)) != set(want):
            raise SampleSpecError(f"{where}: write {{mean: M, sd: S, low: L, high: H}}")
        value = [value[k] for k in want]
    if not isinstance(value, list) or len(value) != len(want):
        raise SampleSpecError(f"{where}: write [{', '.join(want)}]")
    nums = []
    for k, v in zip(want, value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SampleSpecError(f"{where}: {k} '{v}' is not a number")
        nums.append(float(v))
    if dist == "uniform" and not nums[0] <= nums[1]:
        raise SampleSpecError(f"{where}: low must not be above high")
    if dist == "triangular" and not nums[0] <= nums[1] <= nums[2]:
        raise SampleSpecError(f"{where}: need low <= mode <= high")
    if dist == "normal" and (nums[1] <= 0 or not nums[2] < nums[3]):
        raise SampleSpecError(f"{where}: need sd > 0 and low < high")
    return tuple(nums)


def _discrete(value, where: str) -> tuple[float, ...]:
    """{values: [..], probabilities: [..]}: as many of each, probabilities >= 0 summing to 1."""
    shape = "write {values: [v1, v2, ..], probabilities: [p1, p2, ..]} (probabilities summing to 1)"
    if not isinstance(value, dict) or set(map(str, value)) != {"values", "probabilities"}:
        raise SampleSpecError(f"{where}: {shape}")
    vals, probs = value["values"], value["probabilities"]
    if not isinstance(vals, list) or not isinstance(probs, list) or not vals or len(vals) != len(probs):
        raise SampleSpecError(f"{where}: {shape}")
    nums = []
    for v in vals + probs:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SampleSpecError(f"{where}: '{v}' is not a number")
        nums.append(float(v))
    p = nums[len(vals) :]
    if min(p) < 0 or abs(sum(p) - 1) > 1e-9:
        raise SampleSpecError(f"{where}: the probabilities must be at least 0 and sum to 1 (they sum to {sum(p):g})")
    return tuple(nums)


# --- drawing a sampled case -------------------------------------------------------------------


def draw_case(case: Case, spec: SampleSpec, n: int, rng: np.random.Generator, validate: bool = True) -> Case:
    """A case of `n` sampled stances (module docstring), validated again unless `validate` is
    False (the evaluation sample, only evaluated: its tables are copies of valid rows with
    numbers kept in their ranges)."""
    from dataclasses import replace

    from relief.model.core.validate import empty_table

    scen = case.table("scenarios")
    names = list(scen["scenario"])
    origin = _origins(case, spec, n, rng)
    stance_names = np.array([f"{names[o]}__{i + 1}" for i, o in enumerate(origin)], dtype=object)
    tables = dict(case.tables)
    layout = {}
    for name in STANCE_TABLES:
        if name not in case.tables:
            continue
        t, src, stance = _copied(case.table(name), names, origin, stance_names)
        tables[name], layout[name] = t, (src, stance)
    for e in spec.entries:
        table, column, rows = resolve_path(case, e.path)
        if table == "scenarios" and column == "probability":
            continue  # used by the draw of the origins
        src, stance = layout[table]
        mask = np.isin(src, rows)
        d = e.draw(rng, int(mask.sum())) if e.per == "row" else e.draw(rng, n)[stance[mask]]
        t = tables[table]
        col = t.columns.get_loc(column)
        values = t.iloc[:, col].to_numpy(dtype=float).copy()
        values[mask] = d if e.absolute else values[mask] * d
        spec_col = TABLES[table].column(column)
        values = np.clip(
            values, -np.inf if spec_col.min is None else spec_col.min, np.inf if spec_col.max is None else spec_col.max
        )
        t.iloc[:, col] = np.round(values).astype(int) if spec_col.kind == "int" else values
    tables["scenarios"]["probability"] = 1.0 / n
    tables["information"] = empty_table(TABLES["information"])
    meta = {**case.meta, "reveal_year": None}
    if not validate:
        return replace(case, meta=meta, tables=tables)
    from relief.model.core.case import CaseError

    try:
        return case.replaced(meta, **{name: tables[name] for name in (*layout, "information")})
    except CaseError as e:  # e.g. absolute draws that give a ladder two baselines
        shown = "; ".join(str(p) for p in e.problems[:2]) + ("; ..." if len(e.problems) > 2 else "")
        raise SampleSpecError(f"{spec.source}: the drawn stances break the case's rules: {shown}") from None


def _copied(df, names: list[str], origin: np.ndarray, stance_names: np.ndarray):
    """`df`'s rows of each sampled stance's origin, once per sampled stance, renamed; each
    copied row's position in `df` and its sampled stance's index."""
    col = df["scenario"].to_numpy()
    pos_of = {s: np.flatnonzero(col == s) for s in names}
    parts = [pos_of[names[o]] for o in origin]
    src = np.concatenate(parts) if parts else np.array([], dtype=int)
    stance = np.repeat(np.arange(len(origin)), [len(p) for p in parts])
    t = df.iloc[src].reset_index(drop=True)
    t["scenario"] = stance_names[stance]
    return t, src, stance


def _origins(case: Case, spec: SampleSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each sampled stance's origin (index into the case's stances), drawn with the case's
    probabilities, perturbed per sampled stance by the spec's probability entries."""
    p = case.table("scenarios")["probability"].to_numpy(dtype=float)
    w = np.tile(p, (n, 1))
    for i, e in enumerate(spec.entries, start=1):
        table, column, rows = resolve_path(case, e.path)
        if (table, column) != ("scenarios", "probability"):
            continue
        rows = np.asarray(rows)
        d = e.draw(rng, n * len(rows)).reshape(n, len(rows)) if e.per == "row" else e.draw(rng, n)[:, None]
        w[:, rows] = d if e.absolute else w[:, rows] * d
        w = np.clip(w, 0.0, None)
        if np.any(w.sum(axis=1) <= 0):
            raise SampleSpecError(f"{spec.source}: entry {i}, key path: the drawn probabilities are all 0")
    w = w / w.sum(axis=1, keepdims=True)
    u = rng.random(n)
    return np.minimum((np.cumsum(w, axis=1) < u[:, None]).sum(axis=1), len(p) - 1)
