"""Adaptive roadmaps (issue 13): commit now, adapt once the U.S. stance is known.

Known answers (a reveal in the first year is wait-and-see; a reveal after the horizon is the
static optimum), brute force on tiny all-integer cases with a reveal in the middle and with
partial revelation (information.csv) by the independent checker (tests/checker.py), which also
re-checks every branch's roadmap as written to roadmap.csv; static <= adaptive <= wait-and-see.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess

import pandas as pd
import pytest
from casegen import frames
from checker import SpecCase, brute_force_adaptive, check_plan, close, read_adaptive_plans
from cliutil import ENV, relief_exe

from relief.model.core.case import Case, CaseError, load_case
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.information import Information, scenarios_only
from relief.model.core.options import SolveOptions
from relief.model.core.run import run_case

OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)
TINY = "examples/tiny"
ADAPTIVE = "examples/adaptive"


def _with(case: Case, **meta) -> Case:
    return case.replaced({**case.meta, **meta})


def _wait_and_see(case: Case) -> float:
    """Each stance solved alone, probability-weighted."""
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    return sum(p * run_case(scenarios_only(case, [s]), OPTIONS).evaluation.expected_relief for s, p in prob.items())


def test_reveal_in_the_first_year_is_wait_and_see():
    case = load_case(TINY)
    adaptive = run_case(_with(case, reveal_year=case.meta["first_year"]), OPTIONS)
    assert adaptive.status == "optimal"
    ws = _wait_and_see(case)
    assert close(adaptive.evaluation.expected_relief, ws)
    # nothing is shared: no first moves
    assert adaptive.evaluation.reveal["first_moves_years"] == []
    assert all(v == 0 for v in adaptive.evaluation.portfolio.values())


def test_reveal_after_the_horizon_is_the_static_optimum():
    case = load_case(TINY)
    static = run_case(case, OPTIONS)
    late = run_case(_with(case, reveal_year=case.meta["last_year"] + 1), OPTIONS)
    assert late.evaluation.expected_relief == static.evaluation.expected_relief
    assert late.evaluation.plan == static.evaluation.plan
    assert not late.evaluation.adaptive and late.report()["reveal"]["static"]


def test_hand_worked_example_static_adaptive_wait_and_see():
    """examples/adaptive (its README works these out by hand): only one of two levers can be
    built, and each stance rewards one of them with 10 a year over 2026-2028. Static 15;
    stance known in 2027: wait, then build the right one: 20; known in 2028: 15; wait-and-see 30."""
    case = load_case(ADAPTIVE)
    assert run_case(case, OPTIONS).evaluation.expected_relief == 15
    by_year = {r: run_case(_with(case, reveal_year=r), OPTIONS).evaluation for r in (2026, 2027, 2028)}
    assert by_year[2026].expected_relief == 30 == _wait_and_see(case)
    assert by_year[2027].expected_relief == 20
    assert by_year[2028].expected_relief == 15
    ev = by_year[2027]
    assert ev.portfolio == {"chips": 0, "ships": 0}  # the first move: wait
    assert ev.plan_by_scenario == {"chips_first": {("chips", 2027): 1.0}, "ships_first": {("ships", 2027): 1.0}}
    assert ev.by_scenario == {"chips_first": 20, "ships_first": 20}


def _two_stance_case(seed: int) -> tuple[dict, dict]:
    """A random tiny case where what to build depends on the stance: 2-3 years, 2-3 stances
    that weight different pillars, 2-3 whole-module levers of different pillars, lead times 0-1,
    little money (about one or two modules in all); small enough to enumerate every plan."""
    rnd = random.Random(seed)
    first = 2026
    years = list(range(first, first + rnd.choice([3, 4])))
    pillars = ["p1", "p2", "p3"]
    levers = [f"L{i}" for i in range(1, rnd.choice([2, 3, 3]) + 1)]
    lever_rows = [
        {
            "lever": l,
            "capex_per_module": float(rnd.choice([1, 2])),
            "public_share": 1.0,
            "lead_time_years": rnd.choice([0, 0, 1]),
            "earliest_year": first,
            "min_modules": 0.0,
            "max_modules": float(rnd.choice([1, 2])),
            "max_modules_per_year": 1.0,
            "integer": True,
        }
        for l in levers
    ]
    contributions = [
        {"lever": l, "pillar": pillars[i % 3], "score_per_module": float(rnd.choice([1, 2]))}
        for i, l in enumerate(levers)
    ]
    stances = [f"s{i}" for i in range(1, rnd.choice([2, 3]) + 1)]
    raw = [rnd.choice([1, 2]) for _ in stances]
    scenarios = [
        {"scenario": s, "probability": w / sum(raw), "commitment_credit": rnd.choice([0.0, 0.5, 1.0])}
        for s, w in zip(stances, raw)
    ]
    weights, tiers, tariffs = [], [], []
    for i, s in enumerate(stances):
        liked = [pillars[i % 3]] + ([rnd.choice(pillars)] if rnd.random() < 0.3 else [])
        weights += [{"scenario": s, "track": "r1", "pillar": p, "weight": 1.0} for p in dict.fromkeys(liked)]
        tiers += [
            {"scenario": s, "track": "r1", "tier": "base", "threshold": 0.0},
            {"scenario": s, "track": "r1", "tier": "t1", "threshold": float(rnd.choice([1, 2]))},
        ]
        tariffs += [
            {"scenario": s, "track": "r1", "tier": "base", "sector": "j1", "rate": 0.25},
            {"scenario": s, "track": "r1", "tier": "t1", "sector": "j1", "rate": rnd.choice([0.1, 0.15])},
        ]
    money = max(r["capex_per_module"] for r in lever_rows) * rnd.choice([1, 1, 1.5])  # about one module
    meta = {"name": f"adaptive-{seed}", "first_year": first, "last_year": years[-1], "data_year": first,
            "discount_rate": rnd.choice([0.0, 0.05]), "total_public_budget": money}  # fmt: skip
    tables = {
        "levers": lever_rows,
        "contributions": contributions,
        "sectors": [{"sector": "j1", "track": "r1", "exports_usd_bn": float(rnd.choice([10, 20])), "growth_rate": 0.0}],
        "scenarios": scenarios,
        "pillar_weights": weights,
        "tiers": tiers,
        "tariffs": tariffs,
        "budget": [{"year": t, "public_budget_usd_bn": float(rnd.choice([1, 2, 2, 3]))} for t in years],
    }
    return meta, tables


def test_generated_adaptive_cases_have_something_to_learn():
    """Guard: in several of the brute-force cases below, adapting is worth something."""
    gains = 0
    for seed in range(8):
        meta, tables = _two_stance_case(seed)
        stances = [[r["scenario"]] for r in tables["scenarios"]]
        bf = brute_force_adaptive(SpecCase.from_tables(meta, tables), meta["first_year"] + 1, stances)
        gains += bf.best_relief is not None and bf.best_relief > bf.static_relief + 1e-6
    assert gains >= 2, gains


@pytest.mark.parametrize("seed", range(8))
def test_adaptive_optimum_equals_brute_force(seed, tmp_path):
    """A reveal in the middle of the horizon: relief's adaptive optimum and its spending stage
    equal brute force over the tree; every branch's roadmap is feasible and worth, in its own
    stances, what relief says; static <= adaptive <= wait-and-see."""
    meta, tables = _two_stance_case(seed)
    reveal = meta["first_year"] + 1
    spec = SpecCase.from_tables(meta, tables)
    stances = [r["scenario"] for r in tables["scenarios"]]
    bf = brute_force_adaptive(spec, reveal, [[s] for s in stances])
    case = Case.from_tables({**meta, "reveal_year": reveal}, frames(tables))
    res = run_case(case, OPTIONS)
    assert res.status == "optimal"
    ev = res.evaluation
    assert close(ev.expected_relief, bf.best_relief), (ev.expected_relief, bf.best_relief)
    assert close(ev.discounted_public_spend, bf.min_spend_at_best), (ev.discounted_public_spend, bf.min_spend_at_best)
    assert bf.static_relief - 1e-9 <= ev.expected_relief <= bf.wait_and_see + 1e-9
    for s, plan in ev.plan_by_scenario.items():
        rep = check_plan(spec, plan)
        assert rep.feasible, (s, rep.violations)
        assert close(rep.by_scenario[s], ev.by_scenario[s])
        first = ev.plan_by_scenario[stances[0]]
        assert {k: v for k, v in plan.items() if k[1] < reveal} == {k: v for k, v in first.items() if k[1] < reveal}


def test_partial_revelation_equals_brute_force():
    """information.csv: from the middle year two of three stances still cannot be told apart.
    On the first three three-stance cases drawn: brute force over that tree; the two stances keep
    one roadmap to the end; static <= partial <= full revelation in the same year."""
    cases = [c for c in (_two_stance_case(seed) for seed in range(40)) if len(c[1]["scenarios"]) == 3][:3]
    assert len(cases) == 3  # the generator draws three stances about half the time
    for meta, tables in cases:
        stances = [r["scenario"] for r in tables["scenarios"]]
        year = meta["first_year"] + 1
        groups = [stances[:2], stances[2:]]
        info = [{"year": year, "scenario": s, "group": f"g{i}"} for i, g in enumerate(groups) for s in g]
        case = Case.from_tables(meta, frames(tables)).replaced(information=pd.DataFrame(info))
        spec = SpecCase.from_tables(meta, tables)
        bf = brute_force_adaptive(spec, year, groups)
        ev = run_case(case, OPTIONS).evaluation
        assert close(ev.expected_relief, bf.best_relief)
        assert close(ev.discounted_public_spend, bf.min_spend_at_best)
        assert ev.plan_by_scenario[stances[0]] == ev.plan_by_scenario[stances[1]]  # one group to the end
        assert list(ev.reveal["branches"]) == ["g0", stances[2]]  # a lone stance is named by itself
        full = brute_force_adaptive(spec, year, [[s] for s in stances]).best_relief
        assert bf.static_relief - 1e-9 <= ev.expected_relief <= full + 1e-9


def test_information_rows_equal_reveal_year():
    """information.csv giving each stance its own group from year R is reveal_year R."""
    case = load_case(TINY)
    rows = [{"year": 2027, "scenario": s, "group": s} for s in case.scenarios]
    via_rows = case.replaced(information=pd.DataFrame(rows))
    a = run_case(via_rows, OPTIONS).evaluation
    b = run_case(_with(case, reveal_year=2027), OPTIONS).evaluation
    assert a.expected_relief == b.expected_relief and a.plan_by_scenario == b.plan_by_scenario


def test_evaluation_flags_a_plan_that_anticipates():
    """The twin of the non-anticipativity rows: stances that cannot yet be told apart must
    commit the same; a plan that differs before the reveal breaks it."""
    case = _with(load_case(TINY), reveal_year=2027)
    lever = case.levers[0]
    plan = {(lever, 2026, "deal"): 1.0}  # 'hard' commits nothing in 2026
    ev = evaluate_plan(case, plan)
    assert any("cannot yet be told apart" in v for v in ev.violations)
    ok = evaluate_plan(case, {(lever, 2026, "deal"): 1.0, (lever, 2026, "hard"): 1.0})
    assert not any("told apart" in v for v in ok.violations)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("2027", "deal", "a")], "does not place stance(s) hard"),
        ([("2031", "deal", "a"), ("2031", "hard", "b")], "outside the horizon"),
    ],
)
def test_bad_information_rows_are_named(tmp_path, rows, message):
    import shutil

    folder = tmp_path / "case"
    shutil.copytree(TINY, folder)
    with open(folder / "information.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["year", "scenario", "group"])
        w.writerows(rows)
    with pytest.raises(CaseError) as e:
        load_case(folder)
    assert "information.csv" in str(e.value) and message in str(e.value)


def test_groups_may_only_split():
    case = load_case(TINY)
    rows = [
        {"year": 2026, "scenario": "deal", "group": "a"},
        {"year": 2026, "scenario": "hard", "group": "b"},
        {"year": 2027, "scenario": "deal", "group": "c"},
        {"year": 2027, "scenario": "hard", "group": "c"},
    ]
    with pytest.raises(CaseError) as e:
        case.replaced(information=pd.DataFrame(rows))
    assert "may only split" in str(e.value) and "column group" in str(e.value)


def test_reveal_year_before_the_horizon_is_an_error():
    case = load_case(TINY)
    with pytest.raises(CaseError) as e:
        _with(case, reveal_year=2020)
    assert "reveal_year 2020 is before first_year" in str(e.value)


def test_information_structure_of_the_default_case():
    info = Information.of(_with(load_case("inputs/korea-2026"), reveal_year=2027))
    assert info.shared_years == (2026,)
    assert len(info.branches) == 5 and all(len(b) == 1 for b in info.branches)


def test_cli_reveal_writes_the_tree(tmp_path):
    """relief solve --reveal YEAR --json --out: portfolio = the first moves, portfolio_by_scenario,
    reveal; roadmap.csv has a scenario column, shared years identical; each stance's roadmap
    passes the independent checker and is worth what the summary says."""
    out = tmp_path / "run"
    r = subprocess.run(
        [relief_exe(), "solve", TINY, "--reveal", "2027", "--json", "--out", str(out)],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert "case.reveal_year=2027" in summary["overrides"]
    assert summary["reveal"]["reveal_year"] == 2027 and summary["reveal"]["first_moves_years"] == [2026]
    assert set(summary["portfolio_by_scenario"]) == {"deal", "hard"}
    plans = read_adaptive_plans(out / "roadmap.csv")
    assert set(plans) == {"deal", "hard"}
    shared = [{k: v for k, v in p.items() if k[1] < 2027} for p in plans.values()]
    assert shared[0] == shared[1]
    assert summary["portfolio"] == {
        l: sum(v for (ll, t), v in plans["deal"].items() if ll == l and t < 2027) for l in summary["portfolio"]
    }
    meta = load_case(TINY).meta
    spec = SpecCase.from_folder(TINY)
    for s, plan in plans.items():
        rep = check_plan(spec, plan)
        assert rep.feasible, rep.violations
        assert close(rep.by_scenario[s], summary["by_scenario"][s])
    assert meta["first_year"] == 2026
    text = subprocess.run(
        [relief_exe(), "solve", TINY, "--reveal", "2027"], capture_output=True, text=True, env=ENV, timeout=120
    ).stdout
    assert "First moves, 2026" in text and "Then, if deal" in text and "Then, if hard" in text


def test_information_csv_is_read_from_a_case_folder(tmp_path):
    import shutil

    folder = tmp_path / "case"
    shutil.copytree(TINY, folder)
    (folder / "information.csv").write_text("year,scenario,group\n2027,deal,deal\n2027,hard,hard\n")
    back = load_case(folder)
    assert Information.of(back).branches == (("deal",), ("hard",))
    assert back.sha256() != load_case(TINY).sha256()


@pytest.mark.parametrize("seed", range(4))
def test_learning_earlier_never_lowers_relief(seed):
    """Property: the adaptive optimum with the stance learnt in year R never exceeds the one with
    it learnt earlier, and lies between the static optimum and wait-and-see."""
    meta, tables = _two_stance_case(seed)
    case = Case.from_tables(meta, frames(tables))
    years = case.years
    values = [run_case(_with(case, reveal_year=r), OPTIONS).evaluation.expected_relief for r in [*years, years[-1] + 1]]
    assert all(a >= b - 1e-9 for a, b in zip(values, values[1:])), values
    assert close(values[-1], run_case(case, OPTIONS).evaluation.expected_relief)


def test_cli_value_tabulates_each_reveal_year(tmp_path):
    """relief value --reveal-years: examples/adaptive's hand-worked 30 / 20 / 15 (README), the
    value of flexibility 5 against the static 15, and adaptive.csv."""
    out = tmp_path / "value"
    r = subprocess.run(
        [relief_exe(), "value", ADAPTIVE, "--reveal-years", "2027,2026,2028", "--json", "--out", str(out)],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    assert v["recourse_problem"] == 15 and v["wait_and_see"] == 30
    assert v["adaptive"] == 20 and v["value_of_flexibility"] == 5 and v["reveal_year"] == 2027
    rows = {a["reveal_year"]: a for a in v["by_reveal_year"]}
    assert {y: a["adaptive"] for y, a in rows.items()} == {2027: 20, 2026: 30, 2028: 15}
    assert rows[2028]["cost_of_learning_late"] == 15 and rows[2028]["first_moves"] in ({"chips": 1}, {"ships": 1})
    with open(out / "adaptive.csv", newline="") as f:
        assert [int(row["reveal_year"]) for row in csv.DictReader(f)] == [2027, 2026, 2028]
    bad = subprocess.run(
        [relief_exe(), "value", ADAPTIVE, "--reveal-years", "2027,soon"], capture_output=True, text=True, env=ENV
    )
    assert bad.returncode == 2 and "comma-separated list of years" in bad.stderr


@pytest.mark.parametrize("command", ["alternatives", "marginal", "delay", "coordination", "risk"])
def test_analyses_of_one_roadmap_refuse_an_adaptive_case(command):
    r = subprocess.run(
        [relief_exe(), command, ADAPTIVE, "--set", "case.reveal_year=2027"],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "one roadmap for every U.S. stance" in r.stderr and "Traceback" not in r.stderr


def test_an_infeasible_adaptive_case_is_explained():
    """Every limit binds every branch: the adaptive case is infeasible exactly when one roadmap is,
    and the conflict is explained the same way (exit 3)."""
    r = subprocess.run(
        [relief_exe(), "solve", ADAPTIVE, "--reveal", "2027", "--force", "chips",
         "--set", "budget.*.public_budget_usd_bn=0"],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 3, r.stderr
    assert "forced chips" in r.stdout + r.stderr


def test_compare_report_and_workbook_show_the_tree(tmp_path):
    """An adaptive run next to a static one: compare gives expected modules and says the first
    moves and each stance's roadmap; the report draws one timeline per branch with the first moves
    marked; a run workbook of an adaptive run is read back the same."""
    static, tree, book = tmp_path / "static", tmp_path / "tree", tmp_path / "tree.xlsx"
    for args in ([ADAPTIVE, "--out", str(static)], [ADAPTIVE, "--reveal", "2027", "--out", str(tree)],
                 [ADAPTIVE, "--reveal", "2027", "--out", str(book)]):  # fmt: skip
        r = subprocess.run([relief_exe(), "solve", *args], capture_output=True, text=True, env=ENV, timeout=120)
        assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [relief_exe(), "compare", str(static), str(tree), str(book), "--json"],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert set(rep["adaptive"]) == {"tree", "tree.xlsx"} or len(rep["adaptive"]) == 2
    one = next(iter(rep["adaptive"].values()))
    assert one["first_moves"] == {} and one["portfolio_by_scenario"] == {
        "chips_first": {"chips": 1.0},
        "ships_first": {"ships": 1.0},
    }
    port = {(p["run"], p["lever"]): p["modules"] for p in rep["portfolio"]}
    assert port[(rep["runs"][1]["run"], "chips")] == 0.5  # expected over the two stances
    out = tmp_path / "report.html"
    r = subprocess.run([relief_exe(), "report", str(tree), "--out", str(out)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "if chips_first, probability 50%" in html and "if ships_first, probability 50%" in html
    assert "first moves (every stance)" in html


def test_stress_reads_an_adaptive_run(tmp_path):
    """relief stress on an adaptive run re-evaluates each stance's own roadmap: as planned it
    reproduces the run's 20 exactly; thresholds +5% lose every tier (scores 1 against 1)."""
    run = tmp_path / "tree"
    r = subprocess.run(
        [relief_exe(), "solve", ADAPTIVE, "--reveal", "2027", "--out", str(run)],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [relief_exe(), "stress", str(run), "--json"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert r.returncode == 0, r.stderr
    rows = {x["perturbation"]: x for x in json.loads(r.stdout)["rows"]}
    assert rows["as planned"]["expected_relief"] == 20
    assert rows["as planned"]["by_scenario"] == {"chips_first": 20, "ships_first": 20}
    assert rows["thresholds +5%"]["expected_relief"] == 0


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_cli_adaptive_optimum_on_unseen_cases(seed, tmp_path):
    """`relief solve CASE --reveal R --mip-gap 0 --json --out` on cases drawn here and never
    stored: the expected relief and expected discounted spending are brute force's over the tree
    (the independent checker), and each stance's roadmap as written is feasible, worth what the
    summary says, and shares the years before R with every other stance."""
    from casegen import write_case

    meta, tables = _two_stance_case(seed)
    reveal = meta["first_year"] + 1
    folder = write_case(tmp_path / "case", meta, tables)
    spec = SpecCase.from_tables(meta, tables)
    bf = brute_force_adaptive(spec, reveal, [[r["scenario"]] for r in tables["scenarios"]])
    r = subprocess.run(
        [relief_exe(), "solve", str(folder), "--reveal", str(reveal), "--mip-gap", "0", "--json",
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert close(summary["expected_relief"], bf.best_relief), (summary["expected_relief"], bf.best_relief)
    assert close(summary["discounted_public_spend"], bf.min_spend_at_best)
    assert bf.static_relief - 1e-9 <= summary["expected_relief"] <= bf.wait_and_see + 1e-9
    plans = read_adaptive_plans(tmp_path / "run" / "roadmap.csv")
    early = [{k: v for k, v in p.items() if k[1] < reveal} for p in plans.values()]
    assert all(e == early[0] for e in early)
    for s, plan in plans.items():
        rep = check_plan(spec, plan)
        assert rep.feasible, (s, rep.violations)
        assert close(rep.by_scenario[s], summary["by_scenario"][s])
