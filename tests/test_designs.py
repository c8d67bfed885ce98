"""Sampling designs, sensitivity indices and sweep charts (issue 3).

Designs and indices are SALib's; these tests check that relief calls it the right way:
each design's size and bounds, the same matrix for the same seed, indices that recover
what known functions say (Y = 3*X1 + 0*X2 gives S1(X1) = 1 and S1(X2) = 0; Morris ranks
a strong parameter above a weak one; a monotone function has Spearman rho = 1), points
without a result, a constant output, and JSON-ready results. Charts are checked for a
real PNG, no temporary file left behind, and the awkward inputs a sweep produces.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relief.cli import charts
from relief.model.sweeps.designs import analyze, design_points, effective_samples, sample, sample_note
from relief.model.sweeps.spec import Parameter, SweepError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

X1 = Parameter("budget.*.public_budget_usd_bn", scale=True, low=0.5, high=1.5)
X2 = Parameter("levers.kz_smelter.capex_per_module", scale=True, low=0.7, high=1.3)
X3 = Parameter("scenarios.hardline_301.probability", low=0.1, high=0.6)
PARAMS = [X1, X2, X3]


def _within_bounds(X, params):
    lo = np.array([p.bounds()[0] for p in params])
    hi = np.array([p.bounds()[1] for p in params])
    return bool(np.all(lo <= X) and np.all(hi >= X))


def _plain_json(result):
    """Every number a plain float/int (or None): json with allow_nan=False must accept it."""
    json.dumps(result, allow_nan=False)

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        else:
            assert v is None or type(v) in (str, int, float), type(v)

    walk(result)


# --- designs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, samples, rows",
    [
        ("lhs", 50, 50),
        ("sobol", 64, 64 * (3 + 2)),  # Saltelli scheme without second order: N (D + 2)
        ("sobol", 100, 128 * (3 + 2)),  # rounded up to a power of 2
        ("morris", 10, 10 * (3 + 1)),  # trajectories of D + 1 points
    ],
)
def test_sample_shape_and_bounds(method, samples, rows):
    X = sample(method, PARAMS, samples, seed=7)
    assert isinstance(X, np.ndarray) and X.dtype == float
    assert X.shape == (rows, len(PARAMS)) == (design_points(method, len(PARAMS), samples), len(PARAMS))
    assert _within_bounds(X, PARAMS)
    # the design spreads over each range, not a corner of it
    for j, p in enumerate(PARAMS):
        lo, hi = p.bounds()
        assert X[:, j].max() - X[:, j].min() > 0.5 * (hi - lo)


def test_morris_uses_four_levels_including_both_ends():
    X = sample("morris", PARAMS, 20, seed=1)
    for j, p in enumerate(PARAMS):
        lo, hi = p.bounds()
        levels = np.unique(np.round((X[:, j] - lo) / (hi - lo), 9))
        assert set(levels) <= {0.0, round(1 / 3, 9), round(2 / 3, 9), 1.0}
        assert {0.0, 1.0} <= set(levels)


@pytest.mark.parametrize("method", ["lhs", "sobol", "morris"])
def test_sample_is_deterministic_for_a_seed(method):
    a = sample(method, PARAMS, 16, seed=3)
    b = sample(method, PARAMS, 16, seed=3)
    c = sample(method, PARAMS, 16, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_parameter_bounds_from_values():
    p = Parameter("case.discount_rate", values=(0.05, 0.02, 0.08))
    X = sample("lhs", [p], 20, seed=0)
    assert X.shape == (20, 1) and X.min() >= 0.02 and X.max() <= 0.08


def test_effective_samples_and_note():
    assert [effective_samples("sobol", n) for n in (1, 2, 3, 64, 65, 100, 1000)] == [1, 2, 4, 64, 128, 128, 1024]
    assert effective_samples("lhs", 100) == 100 and effective_samples("morris", 7) == 7
    assert sample_note("sobol", 64) is None and sample_note("lhs", 100) is None
    note = sample_note("sobol", 100)
    assert "100" in note and "128" in note and "power of 2" in note
    assert design_points("morris", 5, 10) == 60 and design_points("lhs", 5, 10) == 10


def test_bad_requests_fail_clearly():
    with pytest.raises(SweepError, match="not a sampling design"):
        sample("grid", PARAMS, 10, seed=0)
    with pytest.raises(SweepError, match="samples >= 1"):
        sample("lhs", PARAMS, 0, seed=0)
    with pytest.raises(SweepError, match="low must be below high"):
        sample("lhs", [Parameter("a", low=1.0, high=1.0)], 10, seed=0)
    with pytest.raises(SweepError, match="needs low and high"):
        sample("lhs", [Parameter("a")], 10, seed=0)
    X = sample("lhs", PARAMS, 10, seed=0)
    with pytest.raises(ValueError, match="one output per point"):
        analyze("lhs", PARAMS, X, np.zeros(9))


@settings(max_examples=25, deadline=None)
@given(
    method=st.sampled_from(["lhs", "sobol", "morris"]),
    lows=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=4),
    widths=st.lists(st.floats(1e-6, 1e6), min_size=4, max_size=4),
    samples=st.integers(1, 9),
    seed=st.integers(0, 2**31),
)
def test_any_design_stays_within_bounds(method, lows, widths, samples, seed):
    params = [Parameter(f"p{i}", low=lo, high=lo + w) for i, (lo, w) in enumerate(zip(lows, widths))]
    X = sample(method, params, samples, seed)
    assert X.shape == (design_points(method, len(params), samples), len(params))
    assert _within_bounds(X, params)


# --- indices -----------------------------------------------------------------------------


def test_sobol_recovers_a_linear_function():
    """Y = 3*X1 + 0*X2: all of the variance is X1's, so S1(X1) = ST(X1) = 1 and X2's are 0."""
    params = [X1, X2]
    X = sample("sobol", params, 256, seed=11)
    r = analyze("sobol", params, X, 3.0 * X[:, 0] + 0.0 * X[:, 1])
    _plain_json(r)
    assert r["design"] == "sobol" and "Sobol" in r["method"]
    assert r["points"] == r["points_total"] == 256 * 4 and "error" not in r
    a, b = r["indices"][X1.label], r["indices"][X2.label]
    assert set(a) == {"S1", "S1_conf", "ST", "ST_conf"}
    assert abs(a["S1"] - 1.0) <= a["S1_conf"] and a["S1_conf"] < 0.3
    assert abs(a["ST"] - 1.0) <= a["ST_conf"]
    assert abs(b["S1"]) <= max(b["S1_conf"], 1e-12) and abs(b["ST"]) <= max(b["ST_conf"], 1e-12)


def test_sobol_confidence_intervals_are_reproducible_even_with_seed_0():
    """SALib seeds its Sobol' bootstrap only for a truthy seed; relief must not inherit that."""
    X = sample("sobol", PARAMS, 32, seed=0)
    Y = X[:, 0] * X[:, 1] + X[:, 2]
    assert analyze("sobol", PARAMS, X, Y, seed=0) == analyze("sobol", PARAMS, X, Y, seed=0)


def test_sobol_with_one_parameter():
    X = sample("sobol", [X3], 32, seed=2)
    r = analyze("sobol", [X3], X, X[:, 0] ** 2)
    assert r["indices"][X3.label]["S1"] == pytest.approx(1.0, abs=0.3)


def test_morris_ranks_strong_above_weak():
    X = sample("morris", PARAMS, 20, seed=5)
    Y = 10.0 * X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.0 * X[:, 2]
    r = analyze("morris", PARAMS, X, Y)
    _plain_json(r)
    idx = r["indices"]
    assert set(idx[X1.label]) == {"mu", "mu_star", "mu_star_conf", "sigma"}
    assert idx[X1.label]["mu_star"] > idx[X2.label]["mu_star"] > idx[X3.label]["mu_star"] == 0.0
    # elementary effects are per full range: 10 * (1.5 - 0.5) = 10 for the linear X1
    assert idx[X1.label]["mu"] == pytest.approx(10.0) and idx[X1.label]["sigma"] == pytest.approx(0.0, abs=1e-9)
    assert r["points"] == 20 * 4


def test_morris_with_one_trajectory_has_no_sigma():
    X = sample("morris", PARAMS, 1, seed=5)
    r = analyze("morris", PARAMS, X, X[:, 0])
    _plain_json(r)
    assert r["indices"][X1.label]["sigma"] is None and "one trajectory" in r["note"]


def test_lhs_spearman_of_a_monotone_function():
    """Y = X1**3 + 2 rises with X1 and ignores X2: rho(X1) = 1, rho(X2) about 0."""
    params = [X1, X2]
    X = sample("lhs", params, 200, seed=9)
    r = analyze("lhs", params, X, X[:, 0] ** 3 + 2)
    _plain_json(r)
    a, b = r["indices"][X1.label], r["indices"][X2.label]
    assert a["spearman"] == pytest.approx(1.0)
    assert a["spearman_low"] == pytest.approx(1.0) and a["spearman_high"] == pytest.approx(1.0)
    assert b["spearman_low"] <= 0.0 <= b["spearman_high"] and abs(b["spearman"]) < 0.2
    assert b["spearman_low"] <= b["spearman"] <= b["spearman_high"]
    assert r["points"] == 200 and "Spearman" in r["method"]


def test_lhs_is_reproducible_and_negative_correlations_show():
    X = sample("lhs", PARAMS, 60, seed=1)
    Y = -np.exp(X[:, 2]) + 0.1 * X[:, 0]
    r1, r2 = analyze("lhs", PARAMS, X, Y, seed=4), analyze("lhs", PARAMS, X, Y, seed=4)
    assert r1 == r2
    assert r1["indices"][X3.label]["spearman"] < -0.9


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_missing_points_stop_sobol_and_morris(method):
    X = sample(method, PARAMS, 8, seed=0)
    Y = list(X[:, 0])
    Y[2], Y[5] = float("nan"), None  # a failed point and one with no value at all
    r = analyze(method, PARAMS, X, Y)
    _plain_json(r)
    assert r["error"] == f"2 of {len(Y)} points have no result; indices need every point"
    assert "indices" not in r and r["points"] == 0 and r["points_total"] == len(Y)


def test_missing_points_are_dropped_for_lhs():
    X = sample("lhs", PARAMS, 40, seed=0)
    Y = X[:, 0] * 2.0
    Y[[1, 7, 30]] = np.nan
    r = analyze("lhs", PARAMS, X, Y)
    _plain_json(r)
    assert r["points"] == 37 and r["points_total"] == 40
    assert "3 of 40 points have no result" in r["note"]
    assert r["indices"][X1.label]["spearman"] == pytest.approx(1.0)
    all_missing = analyze("lhs", PARAMS, X, np.full(40, np.nan))
    assert "error" in all_missing and all_missing["points"] == 0


@pytest.mark.parametrize("method", ["lhs", "sobol", "morris"])
@pytest.mark.parametrize("noise", [0.0, 1e-13])
def test_constant_output(method, noise):
    """The same relief everywhere (up to solver round-off): no crash, 0 or None, and a note."""
    X = sample(method, PARAMS, 8, seed=0)
    Y = 4.2 + noise * np.sin(np.arange(len(X)))
    r = analyze(method, PARAMS, X, Y)
    _plain_json(r)
    assert "same at every point" in r["note"]
    for values in r["indices"].values():
        if method == "lhs":
            assert values["spearman"] is None
        else:
            main = ("S1", "ST") if method == "sobol" else ("mu", "mu_star", "sigma")
            assert all(values[k] == 0.0 for k in main)


def test_analyze_rejects_a_design_of_the_wrong_size():
    X = sample("sobol", PARAMS, 4, seed=0)
    with pytest.raises(ValueError, match="multiple of 5"):
        analyze("sobol", PARAMS, X[:-1], X[:-1, 0])


# --- charts ------------------------------------------------------------------------------


def _check_png(path, folder):
    assert path.exists() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in folder.iterdir()] == [path.name], "a temporary file was left behind"


def _tornado_rows(params, deltas, base=10.0):
    return [
        {
            "label": p.label,
            "low_value": p.low,
            "high_value": p.high,
            "relief_at_low": None if lo is None else base + lo,
            "relief_at_high": None if hi is None else base + hi,
        }
        for p, (lo, hi) in zip(params, deltas)
    ]


@pytest.mark.parametrize(
    "deltas",
    [
        [(-3.0, 2.0), (1.5, -1.0), (0.0, 0.0)],  # a zero-width row
        [(None, 0.4), (0.0, 0.0), (0.0, 0.0)],  # a failed point
        [(0.0, 0.0), (0.0, 0.0), (0.0, 0.0)],  # nothing moves at all
    ],
)
def test_tornado(tmp_path, deltas):
    out = charts.tornado(10.0, _tornado_rows(PARAMS, deltas), tmp_path / "tornado.png")
    _check_png(out, tmp_path)


def test_tornado_one_parameter_and_none(tmp_path):
    _check_png(charts.tornado(0.0, _tornado_rows([X1], [(-1.0, 1.0)], base=0.0), tmp_path / "t.png"), tmp_path)
    other = tmp_path / "empty"
    _check_png(charts.tornado(5.0, [], other / "t.png"), other)  # creates the folder too


@pytest.mark.parametrize("method", ["sobol", "morris", "lhs"])
@pytest.mark.parametrize("params", [PARAMS, [X1]], ids=["three", "one"])
def test_indices_chart(tmp_path, method, params):
    X = sample(method, params, 16, seed=0)
    r = analyze(method, params, X, 2.0 * X[:, 0] + (X[:, 1] if len(params) > 1 else 0.0))
    _check_png(charts.indices_chart(r, method, tmp_path / f"{method}.png"), tmp_path)


@pytest.mark.parametrize("method", ["sobol", "morris", "lhs"])
def test_indices_chart_edge_cases(tmp_path, method):
    X = sample(method, PARAMS, 4, seed=0)
    constant = analyze(method, PARAMS, X, np.ones(len(X)))  # zeros or None everywhere
    _check_png(charts.indices_chart(constant, method, tmp_path / "c.png"), tmp_path)
    failed = tmp_path / "failed"
    Y = np.full(len(X), np.nan)
    _check_png(charts.indices_chart(analyze(method, PARAMS, X, Y), method, failed / "e.png"), failed)
    inner = tmp_path / "inner"
    Y = X[:, 0] + X[:, 1]
    _check_png(charts.indices_chart(analyze(method, PARAMS, X, Y)["indices"], method, inner / "i.png"), inner)


def test_lever_frequency(tmp_path):
    freq = {"kz_smelter": 0.93, "us_chip_fab": 0.4, "lng_offtake_contract_with_a_long_name": 1.0, "shipyard": 0.0}
    _check_png(charts.lever_frequency(freq, tmp_path / "levers.png"), tmp_path)
    one, empty = tmp_path / "one", tmp_path / "empty"
    _check_png(charts.lever_frequency({"kz_smelter": 0.0}, one / "levers.png"), one)
    _check_png(charts.lever_frequency({}, empty / "levers.png"), empty)


def test_line_chart(tmp_path):
    x = [0.5, 0.75, 1.0, 1.25, 1.5]
    y = [3.0, 4.5, None, 6.0, float("nan")]
    _check_png(
        charts.line_chart(
            x,
            y,
            tmp_path / "line.png",
            "budget factor (x base)",
            "expected relief, USD bn",
            "Relief against the budget",
        ),
        tmp_path,
    )
    single = tmp_path / "single"
    _check_png(charts.line_chart([1.0], [2.0], single / "l.png", "x", "y", "one point"), single)


def test_frontier_chart(tmp_path):
    x = list(np.linspace(0, 40, 11))
    y = [20 * (1 - math.exp(-v / 10)) for v in x]
    y[4] = None
    marginal = [None if a is None or b is None else (b - a) / 4.0 for a, b in zip(y, y[1:])]
    out = charts.frontier_chart(
        x,
        y,
        tmp_path / "frontier.png",
        knees=[2, 6],
        marginal=marginal,
        xlabel="total public budget, USD bn",
        ylabel="expected relief, USD bn",
    )
    _check_png(out, tmp_path)
    # the slope-into-each-point form (first None), no knees, every marginal None, one point
    for name, kwargs in {
        "into": dict(knees=[], marginal=[None] + marginal),
        "none": dict(knees=[99], marginal=[None] * 10),
        "one": dict(knees=[0], marginal=[]),
    }.items():
        folder = tmp_path / name
        xs, ys = (x[:1], y[:1]) if name == "one" else (x, y)
        _check_png(
            charts.frontier_chart(
                xs, ys, folder / "f.png", xlabel="budget, USD bn", ylabel="expected relief, USD bn", **kwargs
            ),
            folder,
        )
    with pytest.raises(ValueError, match="marginal needs 10 values"):
        charts.frontier_chart(x, y, tmp_path / "bad.png", [], [1.0], "x", "y")


def test_a_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        charts.line_chart([0, 1], [0, 1], tmp_path / "chart.notaformat", "x", "y", "t")
    assert list(tmp_path.iterdir()) == []
