"""relief solve --sample: sampled stances and the multiple-replication procedure (MRP).

The hand-worked case `three` (written below): one year, budget for one of three levers a, b,
c; stance A (p 0.5) rewards lever a with relief 10, B (p 0.3) lever b with 12, C (p 0.2)
lever c with 20. Expected relief: a 5, b 3.6, c 4, so z* = 5 (lever a) and a plan's true
optimality gap is 0 (a), 1.4 (b) or 1.0 (c). A sample with counts nA, nB, nC of N stances
has the SAA optimum max(10 nA, 12 nB, 20 nC) / N. With a spec that perturbs nothing, the
distribution of a sampled stance IS the case: the true gap is known exactly.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter

import numpy as np
import pytest
from casegen import write_case
from cliutil import relief_exe, run_in_process

from relief.model.analyses.mrp import Streams, estimate, run_mrp
from relief.model.core.case import load_case
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.options import SolveOptions
from relief.model.sweeps.sampling import SampleSpec, SampleSpecError, draw_case, parse_spec

STANCES = {"A": (0.5, 0.2, "a"), "B": (0.3, 0.18, "b"), "C": (0.2, 0.1, "c")}  # p, t1 rate, its lever
RELIEF = {"A": 10.0, "B": 12.0, "C": 20.0}  # 100 exports x (0.3 - t1 rate)
Z_STAR = 5.0
TRUE_GAP = {"a": 0.0, "b": 5.0 - 3.6, "c": 5.0 - 4.0}
FIXED = [{"path": "scenarios.*.commitment_credit", "uniform": [1, 1]}]  # only the stance draw is random


def three_case(folder):
    meta = {"name": "three", "first_year": 2026, "last_year": 2026, "data_year": 2026, "discount_rate": 0}
    lever = dict(capex_per_module=1.0, public_share=1.0, lead_time_years=0, earliest_year=2026, min_modules=0)
    tables = {
        "levers": [dict(lever=l, **lever, max_modules=1, max_modules_per_year=1, integer=True) for l in "abc"],
        "contributions": [dict(lever=l, pillar=f"p{l}", score_per_module=1.0) for l in "abc"],
        "sectors": [dict(sector="autos", track="general", exports_usd_bn=100.0, growth_rate=0.0)],
        "scenarios": [dict(scenario=s, probability=p, commitment_credit=1.0) for s, (p, _, _) in STANCES.items()],
        "pillar_weights": [
            dict(scenario=s, track="general", pillar=f"p{l}", weight=1.0) for s, (_, _, l) in STANCES.items()
        ],
        "tiers": [
            dict(scenario=s, track="general", tier=k, threshold=th)
            for s in STANCES
            for k, th in (("base", 0), ("t1", 1))
        ],
        "tariffs": [
            dict(scenario=s, track="general", tier=k, sector="autos", rate=r)
            for s, (_, r1, _) in STANCES.items()
            for k, r in (("base", 0.3), ("t1", r1))
        ],
        "budget": [dict(year=2026, public_budget_usd_bn=1.0)],
    }
    return write_case(folder, meta, tables)


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return three_case(tmp_path_factory.mktemp("three") / "three")


@pytest.fixture(scope="module")
def case(three):
    return load_case(three)


@pytest.fixture(scope="module")
def options(case):
    return SolveOptions.resolve(case.meta)


def origins(sample) -> list[str]:
    return [s.rpartition("__")[0] for s in sample.scenarios]


# --- the spec and the draw ------------------------------------------------------------------


def test_a_sampled_case_is_reproducible_by_seed_and_named_by_origin(case):
    spec = SampleSpec.default()
    one = draw_case(case, spec, 12, np.random.default_rng(7))
    again = draw_case(case, spec, 12, np.random.default_rng(7))
    other = draw_case(case, spec, 12, np.random.default_rng(8))
    for name in ("scenarios", "tiers", "tariffs", "pillar_weights"):
        assert one.table(name).equals(again.table(name))
    assert not one.table("tiers")["threshold"].equals(other.table("tiers")["threshold"])
    assert [s.rpartition("__")[2] for s in one.scenarios] == [str(i) for i in range(1, 13)]
    assert set(origins(one)) <= set(STANCES)
    assert np.allclose(one.table("scenarios")["probability"], 1 / 12)


def test_the_default_spec_jitters_thresholds_and_credit_per_row_within_a_quarter(case):
    base = case.table("tiers").set_index(["scenario", "tier"])["threshold"]
    s = draw_case(case, SampleSpec.default(), 200, np.random.default_rng(3))
    t = s.table("tiers")
    ratio = [r.threshold / base[(r.scenario.rpartition("__")[0], r.tier)] for r in t.itertuples() if r.tier == "t1"]
    assert 0.75 <= min(ratio) < 0.8 and 1.2 < max(ratio) <= 1.25  # uniform(0.75, 1.25), one draw per row
    assert (t[t["tier"] == "base"]["threshold"] == 0).all()  # the baseline stays the baseline
    credit = s.table("scenarios")["commitment_credit"]
    assert credit.max() == 1.0 and 0.75 <= credit.min() < 0.8  # capped at 1, its valid range


def test_per_path_draws_once_per_stance_and_absolute_sets_values(case):
    spec = parse_spec(
        [
            {"path": "tariffs.*:*:*:*.rate", "triangular": [0.5, 1, 1.5], "per": "path"},
            {"path": "tiers.*:*:t1.threshold", "normal": {"mean": 3, "sd": 1, "low": 2, "high": 4}, "absolute": True},
        ],
        "t",
    )
    s = draw_case(case, spec, 30, np.random.default_rng(1))
    base = case.table("tariffs").set_index(["scenario", "tier"])["rate"]
    t = s.table("tariffs")
    factor = t["rate"] / [base[(o.rpartition("__")[0], k)] for o, k in zip(t["scenario"], t["tier"])]
    per_stance = factor.groupby(t["scenario"]).agg(["min", "max"])
    assert np.allclose(per_stance["min"], per_stance["max"])  # one draw for all rows of a stance
    assert per_stance["min"].nunique() == 30  # and another for each stance
    th = s.table("tiers")
    t1 = th[th["tier"] == "t1"]["threshold"]
    assert t1.between(2, 4).all() and t1.nunique() == 30


def test_stances_are_drawn_with_the_case_probabilities_and_a_probability_entry_reweights(case):
    spec = parse_spec(FIXED, "t")
    n = 4000
    freq = Counter(origins(draw_case(case, spec, n, np.random.default_rng(5), validate=False)))
    for s, (p, _, _) in STANCES.items():
        assert abs(freq[s] / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    never_a = parse_spec([{"path": "scenarios.A.probability", "uniform": [0, 0]}], "t")
    freq = Counter(origins(draw_case(case, never_a, 1000, np.random.default_rng(5), validate=False)))
    assert freq["A"] == 0 and abs(freq["B"] / 1000 - 0.6) < 0.07  # B : C = 0.3 : 0.2 renormalised


@pytest.mark.parametrize(
    "raw, words",
    [
        ({"path": "tiers.*:*:*.threshold"}, "entry 2, key uniform: give exactly one distribution"),
        ({"path": "tiers.*:*:*.threshold", "uniform": [1.2, 0.8]}, "entry 2, key uniform: low must not be above"),
        ({"path": "tiers.*:*:*.threshold", "uniform": [1], "per": "row"}, "entry 2, key uniform: write [low, high]"),
        ({"path": "tiers.*:*:*.threshold", "uniform": [0, 1], "per": "stance"}, "entry 2, key per"),
        ({"path": "tiers.*:*:*.threshold", "normal": {"mean": 1, "sd": 0, "low": 0, "high": 2}}, "key normal: need sd"),
        ({"path": "tiers.*:*:*.threshold", "uniform": [0, 1], "shape": 2}, "entry 2, key shape: unknown key"),
        ({"uniform": [0, 1]}, "entry 2, key path: missing"),
    ],
)
def test_a_bad_entry_is_named_by_file_entry_and_key(raw, words):
    with pytest.raises(SampleSpecError) as e:
        parse_spec([FIXED[0], raw], "spec.yaml")
    assert str(e.value).startswith("spec.yaml: ") and words in str(e.value)


def test_a_path_must_name_a_number_of_a_stance(case):
    for path, words in (("budget.2026.public_budget_usd_bn", "not a number of a U.S. stance"), ("tiers.*.x", "tiers")):
        with pytest.raises(SampleSpecError, match="s.yaml: entry 1, key path: .*" + words):
            parse_spec([{"path": path, "uniform": [0.9, 1.1]}], "s.yaml").check(case)


# --- the MRP: known answers, coverage, reproducibility ---------------------------------------


def test_each_replication_optimum_is_the_hand_worked_saa_optimum_and_each_gap_its_difference(case, options):
    spec = parse_spec(FIXED, "fixed")
    r = run_mrp(case, options, spec, n=5, replications=4, seed=11, evaluation_stances=50)
    lever = next(iter(r.candidate.evaluation.plan))[0]
    for row in r.rows:
        sample = draw_case(case, spec, 5, np.random.default_rng(row["seed"]))
        counts = Counter(origins(sample))
        assert row["saa_optimum"] == pytest.approx(max(RELIEF[s] * counts[s] for s in STANCES) / 5)
        mine = next(s for s, v in STANCES.items() if v[2] == lever)
        assert row["candidate_on_sample"] == pytest.approx(RELIEF[mine] * counts[mine] / 5)
        assert row["gap"] == pytest.approx(row["saa_optimum"] - row["candidate_on_sample"]) and row["gap"] >= 0
    assert r.streams == Streams.of(11, 4, 50) and r.streams.evaluation[0][0] == 50


def test_the_gap_interval_covers_the_true_gap_and_the_relief_interval_the_true_relief(case, options):
    """20 seeds, N = 5 stances, M = 3 replications: MRP is conservative, so its upper bound
    covers the exact gap of the candidate (z* - its expected relief) in at least 18 of 20;
    the candidate's relief interval (200 evaluation stances) covers its exact relief in at least 16."""
    spec = parse_spec(FIXED, "fixed")
    gap_covered = relief_covered = 0
    for seed in range(20):
        r = run_mrp(case, options, spec, n=5, replications=3, seed=seed, evaluation_stances=200)
        plan = r.candidate.evaluation.plan
        exact = evaluate_plan(case, plan).expected_relief
        g = r.gap_summary()
        assert all(x >= 0 for x in g["by_replication"]) and 0 <= g["estimate"] <= g["ci_upper"]
        assert r.evaluation["ci_low"] <= r.evaluation["estimate"] <= r.evaluation["ci_high"]
        assert Z_STAR - exact == pytest.approx(TRUE_GAP[next(iter(plan))[0]])
        gap_covered += g["ci_upper"] >= Z_STAR - exact - 1e-9
        relief_covered += r.evaluation["ci_low"] <= exact <= r.evaluation["ci_high"]
    assert gap_covered >= 18 and relief_covered >= 16


# A's tier needs 0.5 (p 0.4) or 3 (p 0.6) modules' score: lever a is worth 10 x 0.4 in A only
HARDER_A = [{"path": "tiers.A:*:t1.threshold", "discrete": {"values": [0.5, 3], "probabilities": [0.4, 0.6]}}]
WORTH_HARDER_A = {"a": 0.5 * 10 * 0.4, "b": 0.3 * 12, "c": 0.2 * 20}  # 2.0, 3.6, 4.0: now c is best


def test_with_a_discrete_perturbation_the_interval_covers_the_enumerated_gap(case, options):
    """The distribution has four outcomes (A easy, A hard, B, C): z* = 4 (lever c), and a
    candidate's exact gap is 4 - WORTH_HARDER_A[its lever]. 10 seeds, N = 8, M = 4."""
    spec = parse_spec(HARDER_A, "harder-a")
    big = draw_case(case, spec, 2000, np.random.default_rng(0), validate=False)
    for lever, worth in WORTH_HARDER_A.items():  # the hand-worked worths are the draw's
        v = np.array(list(evaluate_plan(big, {(lever, 2026): 1.0}).by_scenario.values()))
        assert abs(v.mean() - worth) < 4 * v.std() / math.sqrt(len(v))
    covered = 0
    for seed in range(10):
        r = run_mrp(case, options, spec, n=8, replications=4, seed=seed, evaluation_stances=100)
        lever = next(iter(r.candidate.evaluation.plan))[0]
        g = r.gap_summary()
        assert 0 <= g["estimate"] <= g["ci_upper"] and min(g["by_replication"]) >= 0
        covered += g["ci_upper"] >= max(WORTH_HARDER_A.values()) - WORTH_HARDER_A[lever] - 1e-9
    assert covered >= 9  # 10 of 10 measured (and seed 11, not run, misses: every replication chose b, as x̂ did)


def test_the_relief_interval_is_the_t_interval():
    e = estimate([1.0, 2.0, 3.0, 4.0], 0.95)
    assert e["estimate"] == 2.5 and e["half_width"] == pytest.approx(3.182446 * math.sqrt(5 / 3) / 2, rel=1e-6)


# --- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixed_spec(tmp_path_factory):
    p = tmp_path_factory.mktemp("spec") / "fixed.yaml"
    p.write_text("- path: scenarios.*.commitment_credit\n  uniform: [1, 1]\n", encoding="utf-8")
    return p


def test_the_cli_is_reproducible_by_seed_whatever_the_workers_and_writes_the_replications(three, fixed_spec, tmp_path):
    import subprocess

    from cliutil import ENV

    args = ["solve", three, "--sample", "6", "--replications", "3", "--seed", "4", "--evaluate-sample", "100"]
    args += ["--sample-spec", fixed_spec]
    out = tmp_path / "run"
    p = subprocess.run([relief_exe(), *map(str, args), "--out", str(out)], env=ENV, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "Sampled stances (MRP, Mak-Morton-Wood 1999): 6 stances × 3 replications, seed 4" in p.stdout
    assert "gap, 95% upper bound" in p.stdout
    one = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    two = json.loads(run_in_process(*args, "--json", "--workers", "2").stdout)
    other = json.loads(run_in_process(*args[:-2], "--seed", "5", "--json").stdout)

    def keep(s):  # the numbers, not the clock
        rows = [{k: v for k, v in r.items() if k != "solve_seconds"} for r in s["replication_rows"]]
        return {**{k: v for k, v in s.items() if k not in ("wall_seconds", "workers")}, "replication_rows": rows}

    assert keep(one["sample"]) == keep(two["sample"]) and one["portfolio"] == two["portfolio"]
    assert keep(other["sample"]) != keep(one["sample"])
    s = one["sample"]
    assert (s["n"], s["replications"], s["seed"], s["confidence"]) == (6, 3, 4, 0.95)
    assert s["spec"] == [
        {"path": "scenarios.*.commitment_credit", "uniform": [1.0, 1.0], "per": "row", "absolute": False}
    ]
    assert s["candidate_relief"]["evaluation_stances"] == 100
    assert len(s["gap"]["by_replication"]) == len(s["replication_optimum"]) == 3
    assert len(one["by_scenario"]) == 6  # the candidate's own sample
    assert one["input_sha256"] == load_case(three).sha256()  # the case asked about
    with open(out / "sample_replications.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["gap"]) for r in rows] == pytest.approx(s["gap"]["by_replication"])
    assert {"replication", "seed", "saa_optimum", "candidate_on_sample", "gap"} <= set(rows[0])


def test_the_cli_names_a_bad_spec_and_exits_2(three, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("- path: tiers.*:*:*.threshold\n  uniform: [0.8, 1.2]\n- path: x.y.z\n  uniform: [1, 2]\n")
    p = run_in_process("solve", three, "--sample", "4", "--sample-spec", spec)
    assert p.returncode == 2 and f"{spec}: entry 2, key path: 'x.y.z': no table 'x'" in p.stderr
    assert "Traceback" not in p.stderr
    p = run_in_process("solve", three, "--replications", "4")
    assert p.returncode == 2 and "--replications only work with --sample N" in p.stderr
    p = run_in_process("solve", three, "--sample", "4", "--sample-spec", tmp_path / "none.yaml")
    assert p.returncode == 2 and "no such sample spec file" in p.stderr
    zero = tmp_path / "zero.yaml"  # absolute thresholds 0: every ladder gets two baselines
    zero.write_text("- path: tiers.*:*:*.threshold\n  uniform: [0, 0]\n  absolute: true\n")
    p = run_in_process("solve", three, "--sample", "4", "--sample-spec", zero)
    assert p.returncode == 2 and f"{zero}: the drawn stances break the case's rules: tiers.csv" in p.stderr
    p = run_in_process("solve", three, "--sample", "4", "--risk", "worst")
    assert p.returncode == 2 and "--sample estimates expected relief" in p.stderr
