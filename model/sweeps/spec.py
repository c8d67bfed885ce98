"""Sweeps: many solves of one case at other parameter values, fast and resumable.

A sweep is a list of points, each a list of parameter-path overrides (the `--set` paths
of `overrides.py`). The model is built once per worker; a point only changes mutable
Params and re-solves through the persistent engine, so its result is the same as
`relief solve --set ...` at the same values. Points run in this process, on a local
process pool, or on a Dask distributed cluster; each finished point is appended to
points.csv and flushed, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from relief.model.core.coerce import coerce
from relief.model.core.options import solver_info
from relief.model.core.overrides import Override, OverrideError, resolve_path
from relief.model.core.schema import CASE_FIELDS, TABLES
from relief.model.sweeps.designs import SweepError, analyze, sample, sample_note

if TYPE_CHECKING:
    from relief.model.core.case import Case

METHODS = ("grid", "oat", "lhs", "sobol", "morris")


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: a path, and values or bounds."""

    path: str
    scale: bool = False  # values are factors: PATH*=F
    values: tuple | None = None
    low: float | None = None
    high: float | None = None

    @property
    def label(self) -> str:
        return self.path + ("*" if self.scale else "")

    def override(self, value) -> str:
        return f"{self.path}{'*=' if self.scale else '='}{_fmt(value)}"

    def bounds(self) -> tuple[float, float]:
        if self.low is not None and self.high is not None:
            return float(self.low), float(self.high)
        if self.values:
            nums = [v for v in self.values if isinstance(v, (int, float))]
            if nums:
                return float(min(nums)), float(max(nums))
        raise SweepError(f"parameter {self.label}: sampling needs low and high (or numeric values)")


def _fmt(v) -> str:
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def _value(text: str):
    v, reason = coerce(text, "float")
    return text.strip() if reason else v


def parse_vary(text: str) -> Parameter:
    """PATH=START:STOP:STEPS, PATH=V1,V2,..., or the same with *= (factors)."""
    try:
        ov = Override.parse(text)
    except OverrideError as e:
        raise SweepError(f"--vary {e}") from None
    raw = str(ov.value)
    if ":" in raw and raw.count(":") != 2:
        raise SweepError(f"--vary '{text}': write PATH=START:STOP:STEPS (three parts) or PATH=V1,V2,...")
    if raw.count(":") == 2 and "," not in raw:
        a, b, n = raw.split(":")
        start, stop = _value(a), _value(b)
        steps, reason = coerce(n, "int")
        if reason or not isinstance(start, float) or not isinstance(stop, float) or steps < 1:
            raise SweepError(f"--vary '{text}': write PATH=START:STOP:STEPS with numbers and STEPS >= 1")
        values = tuple(float(v) for v in np.linspace(start, stop, steps))
        return Parameter(ov.path, ov.scale, values, low=min(start, stop), high=max(start, stop))
    items = raw.split(",")
    empty = [i for i, v in enumerate(items, start=1) if not v.strip()]
    if empty and len(items) > 1:
        raise SweepError(
            f"--vary '{text}': value {empty[0]} of {len(items)} is empty (two commas in a row, or a comma at an end)"
        )
    values = tuple(_value(v) for v in items if v.strip())
    if not values:
        raise SweepError(f"--vary '{text}': no values")
    return Parameter(ov.path, ov.scale, values)


@dataclass(frozen=True)
class Point:
    id: int
    values: dict[str, object]  # by label ("" where the parameter stays at the case's value)
    overrides: tuple[str, ...]  # PATH=VALUE strings


@dataclass
class SweepDefinition:
    parameters: list
    method: str = "grid"
    samples: int | None = None
    seed: int = 0
    case: str | None = None
    force: tuple = ()
    exclude: tuple = ()
    fixed: tuple[str, ...] = ()  # --set overrides applied to every point

    def to_dict(self) -> dict:
        d = asdict(self)
        d["parameters"] = [asdict(p) for p in self.parameters]
        return d

    def check(self) -> None:
        if self.method not in METHODS:
            raise SweepError(f"method '{self.method}' is not one of {', '.join(METHODS)}")
        if not self.parameters:
            raise SweepError("a sweep needs at least one parameter (--vary or parameters: in the spec)")
        labels = [p.label for p in self.parameters]
        if len(set(labels)) != len(labels):
            raise SweepError(
                f"a parameter is varied twice: {', '.join(sorted({l for l in labels if labels.count(l) > 1}))}"
            )
        if self.method in ("lhs", "sobol", "morris"):
            for p in self.parameters:
                lo, hi = p.bounds()
                if not lo < hi:
                    raise SweepError(f"parameter {p.label}: low must be below high")
            if not self.samples or self.samples < 1:
                raise SweepError(f"method {self.method} needs samples >= 1")
        elif any(not p.values for p in self.parameters) and self.method == "grid":
            missing = [p.label for p in self.parameters if not p.values]
            raise SweepError(f"grid: parameter(s) {', '.join(missing)} need values or a range")


def load_spec(path: str | Path) -> SweepDefinition:
    """Read a sweep file: case, method, samples, seed, parameters (path + values/range/low/high)."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SweepError(f"{path}: not valid YAML ({getattr(e, 'problem', None) or type(e).__name__})") from None
    if not isinstance(spec, dict):
        raise SweepError(f"{path}: must be a mapping with parameters:, method: ...")
    known = {"case", "method", "samples", "seed", "parameters", "force", "exclude", "set"}
    unknown = set(spec) - known
    if unknown:
        raise SweepError(f"{path}: unknown field(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    try:
        return _definition(spec, path)
    except SweepError:
        raise
    except (TypeError, ValueError) as e:  # e.g. low: abc, seed: [1], range: [a, b, 3]
        raise SweepError(f"{path}: a value of the wrong kind: {e}") from None


def load_sample_spec(path: str | Path):
    """Read a sample spec (`relief solve --sample-spec FILE.yaml`; model/sweeps/sampling.py)."""
    from relief.model.sweeps.sampling import SampleSpecError, parse_spec

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError):
        raise SampleSpecError(f"{path}: no such sample spec file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SampleSpecError(f"{path}: not valid YAML ({getattr(e, 'problem', None) or type(e).__name__})") from None
    return parse_spec(raw, str(path))


def _definition(spec: dict, path: Path) -> SweepDefinition:
    """The fields of a sweep file (already a mapping of known fields) as a definition."""
    params = []
    for i, p in enumerate(spec.get("parameters") or [], start=1):
        if not isinstance(p, dict) or "path" not in p:
            raise SweepError(f"{path}: parameter {i} needs a path")
        extra = set(p) - {"path", "scale", "values", "range", "low", "high"}
        if extra:
            raise SweepError(
                f"{path}: parameter {p['path']}: unknown field(s) {', '.join(sorted(map(str, extra)))} "
                "(known: path, scale, values, range, low, high)"
            )
        ppath, scale = str(p["path"]), bool(p.get("scale", False))
        if ppath.endswith("*"):
            ppath, scale = ppath[:-1], True
        values = p.get("values")
        if "range" in p:
            r = p["range"]
            if not (isinstance(r, list) and len(r) == 3):
                raise SweepError(f"{path}: parameter {ppath}: range is [start, stop, steps]")
            values = [float(v) for v in np.linspace(float(r[0]), float(r[1]), int(r[2]))]
        low, high = p.get("low"), p.get("high")
        if values is not None and not isinstance(values, list):
            raise SweepError(f"{path}: parameter {ppath}: values must be a list")
        empty = [i for i, v in enumerate(values or [], start=1) if v is None or (isinstance(v, str) and not v.strip())]
        if empty:
            raise SweepError(f"{path}: parameter {ppath}: value {empty[0]} of {len(values)} is empty")
        params.append(
            Parameter(
                ppath,
                scale,
                tuple(values) if values is not None else None,
                None if low is None else float(low),
                None if high is None else float(high),
            )
        )
    d = SweepDefinition(
        parameters=params,
        method=str(spec.get("method", "grid")),
        samples=None if spec.get("samples") is None else int(spec["samples"]),
        seed=int(spec.get("seed", 0)),
        case=spec.get("case"),
        force=tuple(spec.get("force") or ()),
        exclude=tuple(spec.get("exclude") or ()),
        fixed=tuple(spec.get("set") or ()),
    )
    if d.case is not None and not Path(d.case).is_absolute():
        candidate = path.parent / d.case
        if candidate.exists():
            d.case = str(candidate)
    return d


def design(defn: SweepDefinition, case: Case) -> tuple[list[Point], object]:
    """The points of a sweep, and the design matrix for sensitivity analysis (or None)."""
    defn.check()
    for p in defn.parameters:  # a path that names nothing, or a value of the wrong type, fails now
        try:
            target, column, _ = resolve_path(case, p.path)
        except OverrideError as e:
            raise SweepError(str(e)) from None
        kind = CASE_FIELDS[column].kind if target == "case" else TABLES[target].column(column).kind
        if p.scale and kind not in ("int", "float"):
            raise SweepError(f"parameter {p.label}: only numbers can be scaled; {column} is {kind}")
        for v in p.values or ():
            if coerce(v, "float" if p.scale else kind)[1]:
                raise SweepError(f"parameter {p.label}: value '{v}' is not a valid {column} ({kind})")
    params = defn.parameters
    points: list[Point] = []
    matrix = None
    if defn.method == "grid":
        for combo in itertools.product(*[p.values for p in params]):
            points.append(_point(len(points), params, combo))
    elif defn.method == "oat":
        points.append(Point(0, {p.label: "" for p in params}, ()))
        for p in params:
            values = p.values if p.values else (p.low, p.high)
            for v in values:
                vals = {q.label: "" for q in params}
                vals[p.label] = v
                points.append(Point(len(points), vals, (p.override(v),)))
    else:
        matrix = sample(defn.method, params, int(defn.samples), defn.seed)
        for row in matrix:
            points.append(_point(len(points), params, [float(v) for v in row]))
    fixed = tuple(str(o) for o in defn.fixed)
    if fixed:
        points = [Point(p.id, p.values, fixed + p.overrides) for p in points]
    return points, matrix


def _point(i: int, params, combo) -> Point:
    return Point(i, {p.label: v for p, v in zip(params, combo)}, tuple(p.override(v) for p, v in zip(params, combo)))


def definition_hash(defn: SweepDefinition, case: Case, options) -> str:
    blob = json.dumps(
        {
            "definition": defn.to_dict(),
            "case": case.sha256(),
            "options": {k: getattr(options, k) for k in ("time_limit", "mip_gap", "threads", "seed")},
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))


SOLVED = ("optimal", "time_limit", "limit")


def _float(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def summarize(
    defn: SweepDefinition, case: Case, options, points: list, done: dict, matrix, wall_seconds: float
) -> dict:
    """summary.json of a sweep: definition, case hash, solver, counts by status, how often
    each lever is chosen, and the method's own results (tornado data, sensitivity indices)."""
    rows = [done[p.id] for p in points if p.id in done]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    solved = [r for r in rows if r["status"] in SOLVED and _float(r["expected_relief"]) is not None]
    freq = {
        l: (sum(1 for r in solved if (_float(r.get(l)) or 0) > 0) / len(solved) if solved else None)
        for l in case.levers
    }
    secs = [_float(r["solve_seconds"]) for r in rows if _float(r["solve_seconds"]) is not None]
    reliefs = [_float(r["expected_relief"]) for r in solved]
    out = {
        "definition": defn.to_dict(),
        "definition_sha256": definition_hash(defn, case, options),
        "case": case.name,
        "case_path": case.origin,
        "input_sha256": case.sha256(),
        "solver": solver_info(),
        "options": {k: getattr(options, k) for k in ("time_limit", "mip_gap", "threads", "seed")},
        "points": len(points),
        "finished": len(rows),
        "counts": counts,
        "wall_seconds": wall_seconds,
        "solve_seconds_mean": float(np.mean(secs)) if secs else None,
        "solve_seconds_max": float(np.max(secs)) if secs else None,
        "expected_relief_min": min(reliefs) if reliefs else None,
        "expected_relief_max": max(reliefs) if reliefs else None,
        "lever_frequency": freq,
    }
    relief_of = {
        p.id: (_float(done[p.id]["expected_relief"]) if p.id in done and done[p.id]["status"] in SOLVED else None)
        for p in points
    }
    if defn.method in ("lhs", "sobol", "morris"):
        note = sample_note(defn.method, int(defn.samples))
        if note:
            out["design_note"] = note
    if defn.method == "oat":
        base = relief_of.get(0)
        tornado = []
        for p in defn.parameters:
            pts = [(q.values[p.label], relief_of[q.id]) for q in points[1:] if q.values[p.label] != ""]
            pts = [(v, y) for v, y in pts if y is not None and is_number(v)]
            if not pts:
                continue
            lo, hi = min(pts), max(pts)
            tornado.append(
                {
                    "label": p.label,
                    "low_value": lo[0],
                    "high_value": hi[0],
                    "relief_at_low": lo[1],
                    "relief_at_high": hi[1],
                    "swing": abs(hi[1] - lo[1]),
                }
            )
        tornado.sort(key=lambda r: -r["swing"])
        out["base_relief"] = base
        out["tornado"] = tornado
    elif defn.method in ("lhs", "sobol", "morris") and matrix is not None:
        y = np.array([np.nan if relief_of[p.id] is None else relief_of[p.id] for p in points], dtype=float)
        if len(rows) < len(points):
            out["indices"] = {
                "error": f"{len(points) - len(rows)} of {len(points)} points not run yet; resume the sweep"
            }
        else:
            out["indices"] = analyze(defn.method, defn.parameters, np.asarray(matrix), y, seed=defn.seed)
    return out
