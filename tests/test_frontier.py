"""`relief frontier` (issue 3): the table of marginal relief and knees, and the command."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from relief.model.sweeps.frontier import frontier_table

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
COLUMNS = ["case.total_public_budget", "expected_relief", "public_spend", "marginal", "knee"]


# --- frontier_table ----------------------------------------------------------------------
def test_concave_curve_knee_where_the_slope_drops():
    xs = [0, 2, 4, 6, 8, 10]
    ys = [0, 4, 8, 12, 13, 14]  # slope 2 up to x=6, then 0.5
    rows = frontier_table(xs, ys)
    assert [r["x"] for r in rows] == [0, 2, 4, 6, 8, 10]
    assert [r["expected_relief"] for r in rows] == ys
    assert rows[0]["marginal"] is None
    assert [r["marginal"] for r in rows[1:]] == pytest.approx([2, 2, 2, 0.5, 0.5])  # differences / steps of 2
    assert [r["x"] for r in rows if r["knee"]] == [6]


def test_marginal_uses_uneven_steps_and_sorts_by_x():
    rows = frontier_table([5, 0, 1, 3], [9, 0, 4, 8])
    assert [r["x"] for r in rows] == [0, 1, 3, 5]
    assert [r["marginal"] for r in rows] == [None, pytest.approx(4.0), pytest.approx(2.0), pytest.approx(0.5)]


def test_several_knees_largest_drops_first_and_capped():
    xs = list(range(7))
    ys = [0, 10, 20, 25, 30, 31, 32]  # slopes 10, 10, 5, 5, 1, 1: drops at x=2 (0.5) and x=4 (0.4)
    rows = frontier_table(xs, ys)
    assert [r["x"] for r in rows if r["knee"]] == [2, 4]
    one = frontier_table(xs, ys, max_knees=1)
    assert [r["x"] for r in one if r["knee"]] == [2]
    strict = frontier_table(xs, ys, min_drop=0.45)
    assert [r["x"] for r in strict if r["knee"]] == [2]


def test_straight_line_and_plateau_have_no_knee():
    assert not any(r["knee"] for r in frontier_table([0, 1, 2, 3], [0, 2, 4, 6]))
    assert not any(r["knee"] for r in frontier_table([0, 1, 2, 3], [5, 5, 5, 5]))
    assert frontier_table([], []) == []
    single = frontier_table([1], [2])
    assert single == [{"x": 1.0, "expected_relief": 2.0, "marginal": None, "knee": False}]


def test_points_without_relief_are_left_out():
    rows = frontier_table([0, 1, 2, 3], [0, None, float("nan"), 3])
    assert [(r["x"], r["expected_relief"]) for r in rows] == [(0, 0), (3, 3)]
    assert rows[1]["marginal"] == pytest.approx(1.0)


# --- relief frontier ---------------------------------------------------------------------
from cliutil import relief_exe as _relief_exe  # noqa: E402


def test_cli_frontier_tiny(tmp_path):
    shutil.copytree(TINY, tmp_path / "tiny")
    env = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [_relief_exe(), "frontier", "tiny", "--range", "0:6:7", "--out", "fr"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "fr"
    with open(out / "frontier.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    assert [float(r["case.total_public_budget"]) for r in rows] == [0, 1, 2, 3, 4, 5, 6]
    # hand-worked (examples/tiny/README.md): nothing below 2, the smelter (1.4) from 2, two chips (2.2) from 4
    assert [float(r["expected_relief"]) for r in rows] == pytest.approx([0, 0, 1.4, 1.4, 2.2, 2.2, 2.2])
    assert [float(r["public_spend"]) for r in rows] == pytest.approx([0, 0, 2, 2, 4, 4, 4])
    assert rows[0]["marginal"] == ""
    assert [float(r["marginal"]) for r in rows[1:]] == pytest.approx([0, 1.4, 0, 0.8, 0, 0])
    assert [float(r["case.total_public_budget"]) for r in rows if r["knee"] == "True"] == [2, 4]
    # a preset over the sweep machinery: the sweep's own files are there too
    assert (out / "points.csv").exists() and (out / "frontier.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"optimal": 7}
    assert len(summary["frontier"]) == 7
    assert not any(math.isnan(float(r["expected_relief"])) for r in rows)
