"""relief's optimum equals brute force over every integer plan of tiny random cases.

For each seeded random case (tests/casegen.py) the independent checker
(tests/checker.py, written from the spec only) enumerates every plan with
0 <= x[l,t] <= max_modules_per_year, checks every limit and values it. Then
`run_case(..., mip_gap=0)` must

* be infeasible exactly when no plan is feasible;
* reach the best feasible expected relief (1e-6 relative);
* return a plan the checker finds feasible and worth what relief's evaluation says
  (expected relief, by scenario, public spending);
* spend, among the plans with that relief, the least discounted public money (the
  lexicographic second stage), 1e-6 relative.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from casegen import SeededChooser, frames, generate, plan_count, random_case, write_case
from checker import SpecCase, brute_force, check_plan, check_run_folder, close, duty_of, plan_of_roadmap
from cliutil import ENV, relief_exe

from relief.model.core.case import Case, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.run import run_case

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
N_CASES = 30


def _has_relief(meta, tables) -> bool:
    return brute_force(SpecCase.from_tables(meta, tables)).best_relief > 0


def make_case(seed: int):
    """Most seeds give a case where some plan earns relief; every sixth may be trivial."""
    accept = None if seed % 6 == 5 else _has_relief
    return random_case(seed, min_plans=30, max_plans=4000, accept=accept)


def _relief_case(meta, tables, folder, seed):
    """Give relief the case through its folder reader (even seeds) or from_tables (odd)."""
    if seed % 2 == 0:
        return load_case(write_case(folder, meta, tables))
    return Case.from_tables(meta, frames(tables))


def compare(case, spec: SpecCase, force=(), exclude=()):
    bf = brute_force(spec, force=force, exclude=exclude)
    res = run_case(case, OPTIONS, force=force, exclude=exclude)
    where = f"force={force} exclude={exclude}, {bf.n_feasible}/{bf.n_plans} feasible plans"
    if bf.best_relief is None:
        assert res.status == "infeasible", f"{where}: no plan is feasible but relief says {res.status}"
        return res, bf
    assert res.status == "optimal", f"{where}: status {res.status}"
    ev = res.evaluation
    assert close(ev.expected_relief, bf.best_relief), (
        f"{where}: relief {ev.expected_relief!r} != brute force {bf.best_relief!r}; "
        f"best plans: {[p for p, _ in bf.best_plans[:3]]}"
    )
    plan = plan_of_roadmap(ev.roadmap)
    rep = check_plan(spec, plan, force=force, exclude=exclude)
    assert rep.feasible, f"{where}: relief's plan {plan} breaks {rep.violations}"
    assert close(rep.expected_relief, ev.expected_relief), (
        f"{where}: plan worth {rep.expected_relief!r}, evaluation says {ev.expected_relief!r}"
    )
    assert set(rep.by_scenario) == set(ev.by_scenario)
    for s, v in rep.by_scenario.items():
        assert close(v, ev.by_scenario[s]), f"{where}: by_scenario[{s}] {ev.by_scenario[s]!r} != {v!r}"
    assert close(rep.public_spend, ev.public_spend), (
        f"{where}: public_spend {ev.public_spend!r} != {rep.public_spend!r}"
    )
    _same_duty(spec, rep, ev, where)
    assert close(rep.discounted_public_spend, bf.min_spend_at_best), (
        f"{where}: plan {plan} spends {rep.discounted_public_spend!r} (discounted), but a plan with the same relief "
        f"spends {bf.min_spend_at_best!r}: "
        f"{[p for p, r in bf.best_plans if close(r.discounted_public_spend, bf.min_spend_at_best)][:2]}"
    )
    return res, bf


def _same_duty(spec: SpecCase, rep, ev, where: str) -> None:
    """Duty paid, under no delivery and at current rates, by stance, as the checker computes them."""
    duty = duty_of(spec, rep.tiers)
    for s, d in duty.items():
        got = ev.duty_summary["duty_by_scenario"][s]
        for k, v in d.items():
            assert (got[k] is None) == (v is None), f"{where}: {s} {k} {got[k]!r} vs {v!r}"
            if v is not None:
                assert close(got[k], v), f"{where}: {s} {k} {got[k]!r} != checker {v!r}"


def test_some_cases_have_dated_rates_and_current_rates():
    """Guard on the generator: the brute-force cases exercise dated rates and current rates."""
    made = [make_case(s) for s in range(N_CASES)]
    assert sum(any(r.get("from_year") for r in t["tariffs"]) for _, t in made) >= 3
    assert sum("current_rate" in t["sectors"][0] for _, t in made) >= 3


@pytest.mark.parametrize("seed", range(N_CASES))
def test_optimum_equals_brute_force(seed, tmp_path):
    meta, tables = make_case(seed)
    case = _relief_case(meta, tables, tmp_path / "case", seed)
    spec = SpecCase.from_tables(meta, tables)
    compare(case, spec)


@pytest.mark.parametrize("seed", range(0, N_CASES, 2))
def test_force_and_exclude_equal_brute_force(seed, tmp_path):
    """Forcing one lever, or excluding one, is brute-forced the same way (forcing may
    make a case infeasible: then relief must say so)."""
    meta, tables = make_case(seed)
    case = _relief_case(meta, tables, tmp_path / "case", seed)
    spec = SpecCase.from_tables(meta, tables)
    c = SeededChooser(seed)
    lever = c.pick(case.levers)
    compare(case, spec, force=(lever,))
    compare(case, spec, exclude=(c.pick(case.levers),))


def test_generated_cases_are_not_all_trivial():
    """Guard on the generator: most brute-force cases have a non-zero optimum and
    several feasible plans, so the comparison above means something."""
    stats = [brute_force(SpecCase.from_tables(*make_case(s))) for s in range(N_CASES)]
    assert sum(b.best_relief > 0 for b in stats) >= N_CASES * 2 // 3
    assert sum(b.n_feasible >= 5 for b in stats) >= N_CASES // 2


# ------------------------------------------------------------ all three tables of issue 12 at once


def _all_three(meta, tables) -> bool:
    """Obligations that owe something, a second funding envelope, and a dated rate, together."""
    owed = any(o["min_modules"] > 0 for o in tables.get("obligations", ()))
    envelopes = any(r.get("envelope") == "e2" for r in tables["levers"])
    dated = any(r.get("from_year") for r in tables["tariffs"])
    return owed and envelopes and dated


def unseen_case(seed: int):
    """A random case that uses obligations.csv, funding envelopes and tariffs.csv's from_year
    at once, small enough to enumerate; drawn by the same generator, never stored."""
    for attempt in range(20000):
        meta, tables = generate(SeededChooser(seed * 104729 + attempt), obligations=True)
        if _all_three(meta, tables) and 20 <= plan_count(meta, tables) <= 3000:
            meta["name"] = f"unseen-{seed}"
            return meta, tables
    raise RuntimeError(f"no case with all three tables for seed {seed}")


@pytest.mark.parametrize("seed", range(6))
def test_cli_optimum_on_unseen_cases_with_obligations_envelopes_and_dated_rates(seed, tmp_path):
    """Issue 12: `relief solve --mip-gap 0 --json --out` on cases that use the three new tables
    is the true optimum (brute force over every plan, by the independent checker) and the
    written plan meets every obligation and envelope (checker.check_run_folder re-reads it)."""
    meta, tables = unseen_case(seed)
    folder = write_case(tmp_path / "case", meta, tables)
    bf = brute_force(SpecCase.from_tables(meta, tables))
    r = subprocess.run(
        [relief_exe(), "solve", str(folder), "--mip-gap", "0", "--json", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    if bf.best_relief is None:
        assert r.returncode == 3, r.stderr
        return
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["status"] == "optimal"
    assert close(summary["expected_relief"], bf.best_relief), (summary["expected_relief"], bf.best_relief)
    rep = check_run_folder(tmp_path / "run", folder)
    assert rep.feasible and not rep.violations, rep.violations
    assert close(rep.discounted_public_spend, bf.min_spend_at_best)
    assert all(o["met"] for o in summary["obligations"]) and summary["obligations"]


def test_unseen_cases_are_not_trivial():
    """Guard: in some of the cases above the obligations or the envelopes change the optimum."""
    changed = 0
    for seed in range(6):
        meta, tables = unseen_case(seed)
        loose = {k: v for k, v in tables.items() if k not in ("obligations", "envelopes")}
        loose["levers"] = [{k: v for k, v in r.items() if k != "envelope"} for r in tables["levers"]]
        loose["budget"] = [
            {k: v for k, v in r.items() if k != "envelope"}
            for r in tables["budget"]
            if r.get("envelope", "public") == "public"
        ]
        a, b = brute_force(SpecCase.from_tables(meta, tables)), brute_force(SpecCase.from_tables(meta, loose))
        changed += a.best_relief != b.best_relief or a.min_spend_at_best != b.min_spend_at_best
    assert changed >= 2, changed


# ------------------------------------------------------------ a tier margin (issue 13, item 5)


def margin_case(seed: int):
    """A case with a tier_margin (casegen's `margins`, drawn after everything else) where some
    plan earns relief."""
    return random_case(
        seed,
        min_plans=30,
        max_plans=4000,
        accept=lambda m, t: bool(m.get("tier_margin")) and _has_relief(m, t),
        margins=True,
    )


@pytest.mark.parametrize("seed", range(10))
def test_optimum_with_a_tier_margin_equals_brute_force(seed, tmp_path):
    """A tier counts only at threshold x (1 + tier_margin): relief's optimum, plan, relief by
    stance, duty and least spending equal the checker's brute force under the margin."""
    meta, tables = margin_case(seed)
    case = _relief_case(meta, tables, tmp_path / "case", seed)
    assert case.meta["tier_margin"] == meta["tier_margin"] > 0
    compare(case, SpecCase.from_tables(meta, tables))


def test_the_margin_changes_some_brute_force_optima():
    """Guard: in some of the cases above the margin costs relief or money (the test means something)."""
    changed = 0
    for seed in range(10):
        meta, tables = margin_case(seed)
        a = brute_force(SpecCase.from_tables(meta, tables))
        b = brute_force(SpecCase.from_tables({**meta, "tier_margin": 0.0}, tables))
        changed += a.best_relief != b.best_relief or a.min_spend_at_best != b.min_spend_at_best
    assert changed >= 3, changed
