"""Sensitivity indices that are noise are said to be (issue 11, item 8): a confidence
interval wider than its index, or an index outside what it can be, gives a warning with
the samples that would settle it (docs/sweeps.md states the rule)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cliutil import ENV, relief_exe

from relief.model.sweeps.designs import analyze, noise, sample
from relief.model.sweeps.spec import Parameter

ROOT = Path(__file__).resolve().parents[1]


def test_the_rule_by_hand():
    # 0.55 ± 0.456 (the figure) at 16 samples: target max(0.55/4, 0.05) = 0.1375,
    # (0.456/0.1375)^2 = 11.0 -> 16 x 11.0 = 176 -> the next power of 2, 256
    got = noise("sobol", {"a": {"S1": 0.55, "S1_conf": 0.456, "ST": 0.6, "ST_conf": 0.1}}, 16, 6)
    assert got["samples_needed"] == 256 and got["points_needed"] == 256 * 6
    assert got["warnings"][0] == "S1 of a = 0.55 ± 0.456: its 95% interval is wider than the index"
    assert "about 256 samples (1536 points)" in got["warnings"][-1]
    assert "16 samples (96 points)" in got["warnings"][-1]


def test_negative_beyond_noise_and_above_one():
    got = noise("sobol", {"a": {"S1": -0.2, "S1_conf": 0.05, "ST": 1.4, "ST_conf": 0.1}}, 8, 3)
    assert "S1 of a = -0.2 ± 0.05: below 0 beyond its interval" in got["warnings"]
    assert any(w.startswith("ST of a = 1.4 ± 0.1: above 1") for w in got["warnings"])
    assert got["samples_needed"] >= 32  # at least 4 x samples


def test_settled_and_negligible_indices_give_no_warning():
    settled = {"a": {"S1": 0.7, "S1_conf": 0.08, "ST": 0.8, "ST_conf": 0.05}}
    negligible = {"b": {"S1": -0.01, "S1_conf": 0.04, "ST": 0.02, "ST_conf": 0.03}}  # within ±0.05 of 0: unimportant
    assert noise("sobol", {**settled, **negligible}, 256, 4) == {}


def test_morris_floor_is_relative_to_the_largest_effect():
    ind = {"a": {"mu_star": 10.0, "mu_star_conf": 1.0}, "b": {"mu_star": 0.1, "mu_star_conf": 0.3}}
    assert noise("morris", ind, 10, 3) == {}  # b's interval (±0.3) is below 5% of a's effect (0.5)
    ind["b"]["mu_star_conf"] = 2.0
    got = noise("morris", ind, 10, 3)
    assert got["samples_needed"] == 10 * 16  # (2.0 / max(0.1/4, 0.5))^2 = 16
    assert "trajectories" in got["warnings"][-1]


def test_analyze_flags_a_small_noisy_design_and_not_a_large_clean_one():
    params = [Parameter("a", low=0, high=1), Parameter("b", low=0, high=1)]
    rng = np.random.default_rng(0)
    X = sample("sobol", params, 8, 1)
    noisy = analyze("sobol", params, X, X[:, 0] + rng.normal(0, 1.0, len(X)), seed=1)
    assert noisy["warnings"] and noisy["samples_needed"] > 8
    X = sample("sobol", params, 1024, 1)
    clean = analyze("sobol", params, X, 3 * X[:, 0] + X[:, 1], seed=1)
    assert "warnings" not in clean and "samples_needed" not in clean


SPEC = """case: tiny
method: sobol
samples: 2
seed: 1
parameters:
  - path: case.total_public_budget
    low: 1
    high: 6
  - path: scenarios.deal.probability
    low: 0.2
    high: 0.8
"""


@pytest.fixture(scope="module")
def noisy_sweep(tmp_path_factory):
    work = tmp_path_factory.mktemp("noisy")
    shutil.copytree(ROOT / "examples" / "tiny", work / "tiny")
    (work / "sobol.yaml").write_text(SPEC)

    def run(*extra):
        return subprocess.run(
            [relief_exe(), "sweep", "--spec", "sobol.yaml", "--no-reuse", *extra],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            env=ENV,
        )

    return run


def test_cli_json_summary_and_stderr_carry_the_warning(noisy_sweep):
    r = noisy_sweep("--out", "j", "--json")
    assert r.returncode == 0, r.stderr
    ind = json.loads(r.stdout)["indices"]  # stdout is the JSON alone
    assert ind["points"] == 8 and ind["samples_needed"] == 128 and ind["points_needed"] == 512
    assert "relief: warning: these indices are noise at 2 samples (8 points): about 128 samples (512 points)" in (
        r.stderr
    )


def test_cli_terminal_shows_the_warning(noisy_sweep):
    r = noisy_sweep("--out", "t")
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "warning: these indices are noise at 2 samples (8 points): about 128 samples (512 points)" in out
    assert "its 95% interval is wider than the index" in out
