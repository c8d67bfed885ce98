"""Sampling designs and sensitivity indices for sweeps (lhs, sobol, morris), all from SALib.

`sample` gives the design matrix of a sampling sweep (rows are points, columns follow the
parameters, each within its bounds); `analyze` turns that matrix and the expected relief
at each row into sensitivity indices that `summary.json` can hold as they are (plain
floats, None where a number is undefined). Nothing here is a hand-written estimator:
designs are SALib's samplers, Sobol' and Morris indices are SALib's analyzers, and the
LHS rank correlations are scipy's Spearman with scipy's bootstrap.

How many points a design has:
    lhs     samples                      (one point per sample)
    sobol   N * (D + 2), N = samples rounded up to a power of 2 (Saltelli scheme,
            first and total order only)
    morris  samples * (D + 1)            (samples = trajectories, 4 grid levels)
`effective_samples` and `design_points` give these numbers before anything is solved, and
`sample_note` the sentence to show the planner when `samples` was rounded up.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from relief.model.sweeps.spec import Parameter

SAMPLING_METHODS = ("lhs", "sobol", "morris")
MORRIS_LEVELS = 4  # the sampler and the analyzer must use the same number of grid levels
CONF_LEVEL = 0.95
NUM_RESAMPLES = 1000  # bootstrap resamples for the confidence intervals of every method


class SweepError(ValueError):
    """A sweep definition that cannot be used (exit code 2). Defined here, in the lowest
    module of the sweeps, so that a design can refuse its samples without importing the
    sweep definition (relief.model.sweeps.spec), which uses the designs."""


DESCRIPTIONS = {
    "sobol": (
        "Sobol' first-order (S1) and total (ST) indices: share of the variance of the "
        "output due to each parameter alone / with its interactions; SALib, Saltelli "
        "scheme, 95% bootstrap confidence half-widths (*_conf)"
    ),
    "morris": (
        "Morris elementary effects: mu_star = mean absolute effect (importance), "
        "mu = mean signed effect, sigma = spread (interactions or non-linearity), "
        "in output units per full range of the parameter; SALib, 4 levels, 95% "
        "bootstrap confidence half-width of mu_star"
    ),
    "lhs": (
        "Spearman rank correlation of each parameter with the output over a Latin "
        "hypercube (scipy), with a 95% bootstrap (BCa) confidence interval"
    ),
}


def _check_method(method: str) -> None:
    if method not in SAMPLING_METHODS:
        raise SweepError(f"'{method}' is not a sampling design (use one of {', '.join(SAMPLING_METHODS)})")


def effective_samples(method: str, samples: int) -> int:
    """The `samples` a design really uses: for sobol the next power of 2 (Sobol' sequences
    keep their balance only at powers of 2), for lhs and morris `samples` itself."""
    _check_method(method)
    samples = int(samples)
    if samples < 1:
        raise SweepError(f"method {method} needs samples >= 1")
    if method == "sobol":
        return 1 << (samples - 1).bit_length()
    return samples


def design_points(method: str, n_params: int, samples: int) -> int:
    """How many points (rows of `sample`) a design has, i.e. how many solves it costs."""
    n = effective_samples(method, samples)
    if method == "sobol":
        return n * (n_params + 2)
    if method == "morris":
        return n * (n_params + 1)
    return n


def sample_note(method: str, samples: int) -> str | None:
    """A sentence for the planner when `samples` was changed (sobol rounds up), else None."""
    n = effective_samples(method, samples)
    if n != int(samples):
        return (
            f"sobol: samples={int(samples)} is not a power of 2; rounded up to {n} "
            "(Sobol' sequences are balanced only at powers of 2)"
        )
    return None


def _problem(params: list[Parameter]) -> dict:
    bounds = [list(p.bounds()) for p in params]
    for p, (lo, hi) in zip(params, bounds):
        if not lo < hi:
            raise SweepError(f"parameter {p.label}: low must be below high")
    return {"num_vars": len(params), "names": [p.label for p in params], "bounds": bounds}


def sample(method: str, params: list[Parameter], samples: int, seed: int) -> np.ndarray:
    """The design matrix: one row per point, one column per parameter (in `params` order),
    every value within `p.bounds()`. The same seed gives the same matrix."""
    from SALib.sample import latin, morris, sobol

    _check_method(method)
    if not params:
        raise SweepError("a sampling design needs at least one parameter")
    problem = _problem(params)
    n = effective_samples(method, samples)
    seed = int(seed)
    if method == "lhs":
        X = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        X = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        X = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    # lo + 1.0 * (hi - lo) can land one ulp outside [lo, hi]; a value outside the declared
    # range would be a surprise to the planner, and moving it by one ulp changes nothing else.
    lo = np.array([b[0] for b in problem["bounds"]])
    hi = np.array([b[1] for b in problem["bounds"]])
    return np.clip(np.asarray(X, dtype=float), lo, hi)


def _num(x) -> float | None:
    """A plain float for JSON, or None where the number is undefined (NaN, inf, masked)."""
    if x is None or x is np.ma.masked:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _is_constant(y: np.ndarray) -> bool:
    # Solver round-off makes "the same" relief differ in the last digits; variance-based
    # indices of that noise would be meaningless, so treat it as constant.
    return bool(np.ptp(y) <= 1e-9 * max(1.0, float(np.max(np.abs(y)))))


def analyze(method: str, params: list[Parameter], X: np.ndarray, Y, *, seed: int = 0) -> dict:
    """Sensitivity indices of the output Y (one value per row of the design X; NaN or None
    where a point has no result), JSON-ready:

        {"design": "sobol", "method": <description>, "points": <points used>,
         "points_total": <rows of X>, "indices": {label: {...}}, "note": <only if any>}

    sobol  -> S1, S1_conf, ST, ST_conf   (conf = half-width of the 95% interval)
    morris -> mu, mu_star, mu_star_conf, sigma
    lhs    -> spearman, spearman_low, spearman_high (95% interval), p_value

    sobol and morris need every point of the design: if any has no result the answer is
    {"error": "k of n points have no result; indices need every point", ...} instead of
    "indices". lhs drops those rows. A constant output gives sobol/morris indices of 0 and
    lhs correlations of None, with a note.
    """
    _check_method(method)
    X = np.asarray(X, dtype=float)
    Y = np.asarray([np.nan if v is None else v for v in np.ravel(Y)], dtype=float)
    labels = [p.label for p in params]
    if X.ndim != 2 or X.shape[1] != len(params):
        raise ValueError(f"X must have one column per parameter ({len(params)}), not shape {X.shape}")
    if X.shape[0] != Y.size:
        raise ValueError(f"X has {X.shape[0]} rows but Y has {Y.size} values; give one output per point")
    n = Y.size
    missing = ~np.isfinite(Y)
    result = {"design": method, "method": DESCRIPTIONS[method], "points": 0, "points_total": n}

    if method in ("sobol", "morris"):
        if missing.any() or n == 0:
            result["error"] = f"{int(missing.sum())} of {n} points have no result; indices need every point"
            return result
        if method == "sobol":
            indices, note = _sobol(params, Y, seed)
        else:
            indices, note = _morris(params, X, Y, seed)
    else:
        keep = ~missing
        if not keep.any():
            result["error"] = f"{n} of {n} points have no result; no correlation can be computed"
            return result
        indices, note = _spearman(labels, X[keep], Y[keep], seed)
        if missing.any():
            dropped = f"{int(missing.sum())} of {n} points have no result and were left out"
            note = f"{dropped}; {note}" if note else dropped
        n = int(keep.sum())
    result["points"] = n
    result["indices"] = indices
    if note:
        result["note"] = note
    if method in ("sobol", "morris") and not _is_constant(Y):
        per_base = len(params) + (2 if method == "sobol" else 1)
        result.update(noise(method, indices, n // per_base, per_base))
    return result


# ---------------------------------------------------------------- indices that are noise
# A confidence half-width c of an index S shrinks about as 1/sqrt(samples). An index is
# called noise when its 95% interval is wider than the index itself (2c > |S|) and wider
# than a negligible floor (c > SOBOL_FLOOR for Sobol' shares of variance; for Morris, c >
# MORRIS_FLOOR times the largest mu_star), or when the whole interval lies outside what the
# index can be (S + c < 0, or for Sobol' S - c > 1: the estimator has not settled).
# The samples needed bring every such interval to a quarter of its index, or to the floor:
#     samples_needed = samples * (c / max(|S| / 4, floor))^2
# (at least 4 x samples where an index is impossible), for Sobol' rounded
# up to a power of 2. docs/sweeps.md states the same rule.
SOBOL_FLOOR = 0.05
MORRIS_FLOOR = 0.05


def noise(method: str, indices: dict, samples: int, points_per_sample: int) -> dict:
    """{"warnings": [...], "samples_needed": n, "points_needed": n * points_per_sample} for
    the indices that are noise at `samples` (base samples for sobol, trajectories for
    morris); {} when every index is settled."""
    pairs = (("S1", "S1_conf"), ("ST", "ST_conf")) if method == "sobol" else (("mu_star", "mu_star_conf"),)
    if method == "sobol":
        floor = SOBOL_FLOOR
    else:
        top = max((abs(v.get("mu_star") or 0.0) for v in indices.values()), default=0.0)
        floor = MORRIS_FLOOR * top
    lines, factor = [], 1.0
    for label, v in indices.items():
        for k, kc in pairs:
            S, c = v.get(k), v.get(kc)
            if S is None or c is None or c <= 0:
                continue
            impossible = S + c < 0 or (method == "sobol" and S - c > 1)  # a share of variance is in [0, 1]
            if not (impossible or (2 * c > abs(S) and c > floor)):
                continue
            if impossible:
                why = "below 0 beyond its interval" if S < 0 else "above 1 beyond its interval, which a share cannot be"
            else:
                why = "its 95% interval is wider than the index"
            lines.append(f"{k} of {label} = {S:.3g} ± {c:.3g}: {why}")
            need = (c / max(abs(S) / 4, floor)) ** 2 if floor > 0 else 4.0
            factor = max(factor, need, 4.0 if impossible else 1.0)
    if not lines:
        return {}
    needed = max(int(math.ceil(samples * factor)), samples + 1)
    if method == "sobol":
        needed = 1 << (needed - 1).bit_length()
    unit = "samples" if method == "sobol" else "trajectories"
    lines.append(
        f"these indices are noise at {samples} {unit} ({samples * points_per_sample} points): about {needed} "
        f"{unit} ({needed * points_per_sample} points) would bring each interval to a quarter of its index "
        f"or ±{floor:.2g} (intervals shrink as 1/√{unit})"
    )
    return {"warnings": lines, "samples_needed": needed, "points_needed": needed * points_per_sample}


def _sobol(params, Y, seed):
    from SALib.analyze import sobol

    labels = [p.label for p in params]
    if _is_constant(Y):
        zero = {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
        return {
            l: dict(zero) for l in labels
        }, "the output is the same at every point: no variance to apportion, all indices are 0"
    D = len(params)
    if Y.size % (D + 2):
        raise ValueError(f"a Sobol' design with {D} parameters has a multiple of {D + 2} points, not {Y.size}")
    # SALib's sobol.analyze only seeds its bootstrap when `if seed:` is true, so seed 0 would
    # silently give random confidence intervals: shift by one to keep every seed reproducible.
    Si = sobol.analyze(
        _problem(params),
        Y,
        calc_second_order=False,
        num_resamples=NUM_RESAMPLES,
        conf_level=CONF_LEVEL,
        seed=int(seed) + 1,
    )
    return {l: {k: _num(Si[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf")} for j, l in enumerate(labels)}, None


def _morris(params, X, Y, seed):
    from SALib.analyze import morris

    labels = [p.label for p in params]
    D = len(params)
    if Y.size % (D + 1):
        raise ValueError(f"a Morris design with {D} parameters has a multiple of {D + 1} points, not {Y.size}")
    note = None
    if _is_constant(Y):
        Y = np.full_like(Y, Y[0])  # round-off would show up as elementary effects of 1e-12
        note = "the output is the same at every point: every elementary effect is 0"
    with warnings.catch_warnings():
        if Y.size // (D + 1) < 2:  # one trajectory: numpy warns about sigma's ddof, handled below
            warnings.simplefilter("ignore", RuntimeWarning)
        Si = morris.analyze(
            _problem(params),
            X,
            Y,
            num_resamples=NUM_RESAMPLES,
            conf_level=CONF_LEVEL,
            num_levels=MORRIS_LEVELS,
            seed=int(seed),
        )
    indices = {
        l: {
            k: _num(np.ma.filled(np.ma.asarray(Si[k], dtype=float), np.nan)[j])
            for k in ("mu", "mu_star", "mu_star_conf", "sigma")
        }
        for j, l in enumerate(labels)
    }
    if Y.size // (D + 1) < 2:
        extra = "one trajectory: sigma and the confidence interval need at least 2 (None)"
        note = f"{note}; {extra}" if note else extra
        for v in indices.values():
            v["mu_star_conf"] = None
    return indices, note


def _spearman(labels, X, Y, seed):
    from scipy import stats

    empty = {"spearman": None, "spearman_low": None, "spearman_high": None, "p_value": None}
    if _is_constant(Y):
        return (
            {l: dict(empty) for l in labels},
            "the output is the same at every point: rank correlations are undefined (None)",
        )
    if Y.size < 3:
        return (
            {l: dict(empty) for l in labels},
            f"only {Y.size} point(s) with a result: rank correlations need at least 3 (None)",
        )
    M = np.column_stack([X, Y])

    def last_column(result) -> np.ndarray:
        # spearmanr of an (n, D+1) matrix is the (D+1)x(D+1) correlation matrix, except
        # that for D = 1 it is one number; the last column against the others is what we want.
        r = np.asarray(result)
        return r[:-1, -1] if r.ndim == 2 else np.atleast_1d(r)

    def rho(rows):
        return last_column(stats.spearmanr(M[rows]).statistic)

    rows = np.arange(Y.size)
    rng = np.random.default_rng(int(seed))
    with warnings.catch_warnings():
        # Constant resamples and degenerate bootstrap distributions (|rho| = 1) are handled
        # below; scipy's warnings about them would only worry the planner.
        warnings.simplefilter("ignore")
        full = stats.spearmanr(M)
        rhos, pvalues = last_column(full.statistic), last_column(full.pvalue)
        # One paired bootstrap over the rows serves every parameter at once.
        ci = stats.bootstrap(
            (rows,),
            rho,
            vectorized=False,
            n_resamples=NUM_RESAMPLES,
            confidence_level=CONF_LEVEL,
            method="BCa",
            rng=rng,
        ).confidence_interval
        low, high = np.atleast_1d(ci.low).astype(float), np.atleast_1d(ci.high).astype(float)
        undefined = ~(np.isfinite(low) & np.isfinite(high))
        if undefined.any():
            # BCa is undefined when every resample gives the same value (a perfect rank
            # correlation); the percentile interval is then that value itself.
            pct = stats.bootstrap(
                (rows,),
                rho,
                vectorized=False,
                n_resamples=NUM_RESAMPLES,
                confidence_level=CONF_LEVEL,
                method="percentile",
                rng=rng,
            ).confidence_interval
            low[undefined] = np.atleast_1d(pct.low)[undefined]
            high[undefined] = np.atleast_1d(pct.high)[undefined]
    indices = {
        l: {
            "spearman": _num(rhos[j]),
            "spearman_low": _num(low[j]),
            "spearman_high": _num(high[j]),
            "p_value": _num(pvalues[j]),
        }
        for j, l in enumerate(labels)
    }
    no_ci = [l for l, v in indices.items() if v["spearman"] is not None and v["spearman_low"] is None]
    note = None
    if no_ci:
        note = (
            f"no confidence interval for {', '.join(no_ci)}: too few points for the bootstrap "
            "(resamples with a single repeated value)"
        )
    return indices, note
