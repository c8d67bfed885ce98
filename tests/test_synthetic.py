"""The synthetic case generator of the benchmarks (benchmarks/synthetic.py).

Small synthetic cases are valid relief cases (in memory and as a folder that `relief
validate` accepts) and solve to proven optimality through `run_case`; the generator is
deterministic for a seed and sizes its tables as asked, up to 1,000 scenarios.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relief.model.core.case import load_case
from relief.model.core.options import SolveOptions
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import Size, generate, make_case, write_case  # noqa: E402

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=30)
SMALL = [
    (Size(levers=4, scenarios=3, years=4, tracks=2, tiers=3, pillars=3), 0),
    (Size(levers=5, scenarios=2, years=5, tracks=3, tiers=2, pillars=4), 1),
    (Size(levers=3, scenarios=2, years=3, tracks=1, tiers=4, pillars=2), 2),
    (Size(levers=1, scenarios=1, years=1, tracks=1, tiers=1, pillars=1), 3),
]


@pytest.mark.parametrize("size,seed", SMALL, ids=[s.label() for s, _ in SMALL])
def test_small_cases_validate_and_solve_to_optimal(size, seed):
    case = make_case(size, seed)
    assert len(case.levers) == size.levers and len(case.scenarios) == size.scenarios
    assert len(case.years) == size.years and len(case.tracks) == size.tracks
    result = run_case(case, OPTIONS)
    assert result.status == "optimal"
    assert result.outcome.stage2 == "optimal"
    ev = result.evaluation
    assert ev is not None and not ev.violations
    assert ev.public_spend <= case.meta["total_public_budget"] + 1e-6


def test_the_optimum_is_not_trivial():
    """Budgets bind, and the plan reaches some tiers but not all: in some years and
    scenarios a track stays at its baseline, elsewhere it climbs one or two rungs."""
    size = Size(levers=6, scenarios=4, years=5, tracks=3, tiers=3, pillars=4)
    for seed in (0, 3):  # not every seed of so small a case binds both ways; these two do
        case = make_case(size, seed)
        result = run_case(case, OPTIONS)
        assert result.status == "optimal"
        ev = result.evaluation
        assert ev.expected_relief > 0
        assert ev.public_spend > 0.8 * case.meta["total_public_budget"]
        assert set(ev.tiers["tier"]) == {"base", "tier_1", "tier_2"}


def test_generator_is_deterministic_for_a_seed(tmp_path):
    size = Size(levers=6, scenarios=20, years=5, tracks=3, tiers=3, pillars=4)
    a, b = generate(size, seed=7), generate(size, seed=7)
    assert a == b
    assert generate(size, seed=8) != a
    one, two = write_case(tmp_path / "one", *a), write_case(tmp_path / "two", *b)
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(one, two, names, shallow=False)
    assert not mismatch and not errors


def test_folder_reads_back_to_the_same_case(tmp_path):
    size = Size(levers=5, scenarios=6, years=4, tracks=2, tiers=3, pillars=3)
    meta, tables = generate(size, seed=4)
    folder = write_case(tmp_path / "case", meta, tables)
    assert load_case(folder).sha256() == make_case(size, seed=4).sha256()


def test_command_line_writes_a_folder_relief_validate_accepts(tmp_path):
    out = tmp_path / "syn"
    p = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "synthetic.py"),
            "--levers",
            "4",
            "--scenarios",
            "12",
            "--years",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    exe = shutil.which("relief", path=str(Path(sys.executable).parent)) or shutil.which("relief")
    assert exe, "the relief console script is not installed next to this Python"
    v = subprocess.run([exe, "validate", str(out)], capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "valid" in v.stdout


def test_sizes_up_to_a_thousand_scenarios():
    size = Size(levers=10, scenarios=1000, years=8, tracks=4, tiers=3, pillars=7)
    meta, tables = generate(size, seed=0)
    assert meta["last_year"] - meta["first_year"] + 1 == 8
    assert len(tables["levers"]) == 10 and len(tables["budget"]) == 8
    assert len(tables["scenarios"]) == 1000
    assert len(tables["tiers"]) == 1000 * 4 * 3
    assert abs(sum(r["probability"] for r in tables["scenarios"]) - 1.0) < 1e-6
    assert len({r["scenario"] for r in tables["scenarios"]}) == 1000


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        Size(scenarios=0)
    with pytest.raises(ValueError):
        Size(years=101)
