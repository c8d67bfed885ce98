"""Funding envelopes (levers.csv and budget.csv `envelope`, envelopes.csv): known answers worked
by hand on examples/two-envelopes (its README.md), validation, parameter paths, the
infeasibility explanation, marginal values, brute force and a hypothesis property.

examples/two-envelopes in short (tiny's scores, ladders and rates, 2026-2027, no discounting):
chips (2 of public money a module) draw on `cash` (1.5 in 2026, 2 in 2027: no chips in 2026),
the smelter (2) on `fund` (no yearly rows, total 2.5), lng (0.5, buys nothing) on `public`
(1 a year); total_public_budget 5. Optimum: the smelter in 2026, relief 1.4.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from casegen import cases, frames, random_case
from checker import SpecCase, brute_force, check_plan, close, plan_of_roadmap
from cliutil import relief_exe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relief.model.analyses.marginal import limits_of, marginal_values
from relief.model.core.case import Case, CaseError, load_case
from relief.model.core.options import SolveOptions
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.run import run_case

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "two-envelopes"
TINY = ROOT / "examples" / "tiny"
OPTIONS = SolveOptions(mip_gap=0, threads=1, seed=0, time_limit=60)


@pytest.fixture(scope="module")
def case():
    return load_case(CASE)


def _solve(case, sets=(), **kw):
    res = run_case(apply_overrides(case, list(sets)), OPTIONS, **kw)
    return res


def _checked(res, sets=(), **kw):
    """The independent checker finds relief's plan feasible and worth what relief says."""
    spec = SpecCase.from_tables(*_tables(apply_overrides(load_case(CASE), list(sets))))
    plan = plan_of_roadmap(res.evaluation.roadmap)
    rep = check_plan(spec, plan, **kw)
    assert rep.feasible, rep.violations
    assert close(rep.expected_relief, res.evaluation.expected_relief)
    return plan


def _tables(case: Case):
    return dict(case.meta), {name: case.table(name) for name in case.tables}


# --------------------------------------------------------------------------------------
# known answers (README.md of the example)
# --------------------------------------------------------------------------------------


def test_chips_are_blocked_by_their_own_envelope_while_the_fund_has_room(case):
    res = _solve(case)
    assert res.status == "optimal"
    ev = res.evaluation
    assert close(ev.expected_relief, 1.4) and close(ev.by_scenario["deal"], 2.0) and close(ev.by_scenario["hard"], 0.5)
    assert _checked(res) == {("smelter", 2026): 1.0}
    assert close(ev.public_spend, 2.0)
    assert ev.envelope_totals == {"fund": 2.0}
    sp = ev.envelope_spending.set_index(["envelope", "year"])
    assert sp.at[("cash", 2026), "budget"] == 1.5 and sp.at[("cash", 2026), "public_spend"] == 0.0
    assert (
        sp.at[("fund", 2026), "public_spend"] == 2.0
        and sp.at[("fund", 2026), "budget"] != sp.at[("fund", 2026), "budget"]
    )  # NaN: none


def test_a_looser_cash_envelope_brings_back_tinys_optimum(case):
    sets = ["budget.cash:2026.public_budget_usd_bn=2"]
    res = _solve(case, sets)
    assert close(res.evaluation.expected_relief, 2.2)
    assert _checked(res, sets) == {("chips", 2026): 1.0, ("chips", 2027): 1.0}


def test_an_envelope_total_binds(case):
    sets = ["envelopes.fund.total_usd_bn=1.5"]
    res = _solve(case, sets)
    assert close(res.evaluation.expected_relief, 0.6)
    assert _checked(res, sets) == {("chips", 2027): 1.0}


def test_without_envelopes_the_case_is_tiny(case):
    """All levers in `public` with tiny's budgets: tiny's answer, 2.2."""
    tiny = load_case(TINY)
    res = run_case(tiny, OPTIONS)
    assert close(res.evaluation.expected_relief, 2.2)
    assert set(res.evaluation.envelope_spending["envelope"]) == {"public"}
    assert tiny.table("levers")["envelope"].tolist() == ["public"] * 3


def test_the_evaluator_reports_each_envelope_broken(case):
    from relief.model.core.evaluate import evaluate_plan

    bad = evaluate_plan(case, {("chips", 2026): 1.0, ("smelter", 2026): 1.0, ("lng", 2026): 2.0}).violations
    assert any("envelope cash" in v and "2026" in v for v in bad), bad  # 2 > 1.5
    assert not any("fund" in v for v in bad), bad  # the smelter's 2 is within the fund's 2.5
    tight = apply_overrides(case, ["envelopes.fund.total_usd_bn=1"])
    assert any(
        "envelope fund" in v and "its total" in v for v in evaluate_plan(tight, {("smelter", 2026): 1}).violations
    )


# --------------------------------------------------------------------------------------
# paths: budget.ENVELOPE:YEAR, budget.YEAR (= public), envelopes.ENVELOPE
# --------------------------------------------------------------------------------------


def _budgets(case):
    b = case.table("budget")
    return {(e, int(t)): float(v) for e, t, v in zip(b["envelope"], b["year"], b["public_budget_usd_bn"])}


def test_a_one_part_budget_key_means_the_public_envelope(case):
    before = _budgets(case)
    after = _budgets(apply_overrides(case, ["budget.2026.public_budget_usd_bn=7"]))
    assert after == {**before, ("public", 2026): 7.0}
    halved = _budgets(apply_overrides(case, ["budget.*.public_budget_usd_bn*=0.5"]))
    assert halved == {k: v * (0.5 if k[0] == "public" else 1) for k, v in before.items()}
    every = _budgets(apply_overrides(case, ["budget.*:*.public_budget_usd_bn*=0.5"]))
    assert every == {k: v * 0.5 for k, v in before.items()}
    cash = _budgets(apply_overrides(case, ["budget.cash:*.public_budget_usd_bn=9"]))
    assert cash == {k: (9.0 if k[0] == "cash" else v) for k, v in before.items()}
    with pytest.raises(OverrideError, match="no row of budget"):
        apply_overrides(case, ["budget.masga:2026.public_budget_usd_bn=1"])


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------


def _copy(tmp_path) -> Path:
    return Path(shutil.copytree(CASE, tmp_path / "case"))


def _rewrite(path: Path, edit) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows = edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_unknown_envelope_names_file_row_and_column(tmp_path):
    folder = _copy(tmp_path)
    _rewrite(folder / "levers.csv", lambda rows: [*rows[:2], [*rows[2][:9], "csah", *rows[2][10:]], *rows[3:]])
    with pytest.raises(CaseError) as info:
        load_case(folder)
    (p,) = [p for p in info.value.problems if "unknown envelope" in p.message]
    assert (p.file, p.row, p.column) == ("levers.csv", 3, "envelope")
    assert "'csah'" in p.message


def test_an_envelope_with_yearly_rows_needs_every_year(tmp_path):
    folder = _copy(tmp_path)
    _rewrite(folder / "budget.csv", lambda rows: [r for r in rows if r[:2] != ["cash", "2027"]])
    with pytest.raises(CaseError) as info:
        load_case(folder)
    (p,) = info.value.problems
    assert (p.file, p.column) == ("budget.csv", "year")
    assert "budget of envelope cash" in p.message and "2027" in p.message


def test_a_case_without_the_column_keeps_todays_message(tmp_path):
    folder = Path(shutil.copytree(TINY, tmp_path / "tiny"))
    _rewrite(folder / "budget.csv", lambda rows: rows[:2])
    with pytest.raises(CaseError) as info:
        load_case(folder)
    assert [p.message for p in info.value.problems] == ["no public budget for year(s) 2027 of the horizon 2026-2027"]


def test_an_envelope_no_lever_uses_is_a_warning(tmp_path):
    folder = _copy(tmp_path)
    with open(folder / "envelopes.csv", "a", encoding="utf-8") as f:
        f.write("masga,150,assumption\n")
    from relief.model.core.checks import check_case

    warnings = [w for w in check_case(load_case(folder)) if w.check == "unused_envelope"]
    assert [(w.file, w.row, w.column) for w in warnings] == [("envelopes.csv", 3, "envelope")]
    assert "masga" in warnings[0].message


# --------------------------------------------------------------------------------------
# through the console script: --set on an envelope path, infeasibility naming the envelope
# --------------------------------------------------------------------------------------


def _relief(*args, cwd):
    env = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")
    return subprocess.run(
        [relief_exe(), *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_set_on_an_envelope_path(tmp_path):
    run = _relief(
        "solve", CASE, "--mip-gap", "0", "--json", "--set", "budget.cash:2026.public_budget_usd_bn=2", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert close(out["expected_relief"], 2.2) and out["portfolio"]["chips"] == 2


def test_cli_infeasible_envelope_total_is_explained(tmp_path):
    args = ["solve", CASE, "--force", "smelter", "--set", "envelopes.fund.total_usd_bn=1.5"]
    run = _relief(*args, cwd=tmp_path)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    assert (
        "forced smelter needs USD 2bn of the fund envelope in all, but the fund envelope's total is USD 1.5bn"
        in run.stderr
    )
    out = json.loads(_relief(*args, "--json", cwd=tmp_path).stdout)
    assert any(c["kind"] == "envelope_total" and c["name"] == "fund" for c in out["conflicts"]), out


def test_cli_infeasible_envelope_year_is_explained(tmp_path):
    run = _relief("solve", CASE, "--force", "chips", "--set", "budget.cash:2027.public_budget_usd_bn=1", cwd=tmp_path)
    assert run.returncode == 3, run.stderr
    assert "the cash envelope's 2026 budget (USD 1.5bn) would have to be USD 2bn" in run.stderr


def test_an_envelopes_yearly_budgets_conflict_as_one_family(case):
    """Two chip modules forced (min_modules 2) against cash's 1.5 a year: no year fits one
    module (2), so both years of the cash envelope conflict, said as one family with its fix."""
    sets = ["levers.chips.min_modules=2", "budget.cash:2027.public_budget_usd_bn=1.5"]
    res = run_case(apply_overrides(case, sets), OPTIONS, force=("chips",))
    assert res.status == "infeasible"
    (fam,) = [c for c in res.diagnosis.conflicts if c.kind == "envelope_budget"]
    assert fam.name == "every year of cash"
    assert fam.family["members"] == ["2026", "2027"] and fam.family["peak"] == 2.0
    assert fam.family["raise_every_by"] == 0.5  # 2 a year
    assert fam.smallest_fix["path"] == "budget.cash:2026.public_budget_usd_bn"
    assert "the cash envelope's yearly budgets (USD 1.5bn a year) cannot pay for forced chips" in fam.text


# --------------------------------------------------------------------------------------
# marginal values of an envelope's budgets and total
# --------------------------------------------------------------------------------------


def test_marginal_values_each_envelope(case):
    res = _solve(case)
    keys = [lim.key for lim in limits_of(case, res.evaluation)]
    assert keys[:6] == [
        "budget:2026",
        "budget:2027",
        "budget:cash:2026",
        "budget:cash:2027",
        "total_budget",
        "envelope_total:fund",
    ]
    m = marginal_values(case, OPTIONS, families=("budget", "total"))
    by = {v.limit.key: v for v in m.values}
    # one more USD bn of cash in 2026 (2.5): a chip module in 2026 and one in 2027, 2.2 - 1.4
    assert close(by["budget:cash:2026"].fd_up, 0.8)
    assert by["budget:cash:2026"].limit.path == "budget.cash:2026.public_budget_usd_bn"
    # one USD bn less of the fund (1.5): no smelter, one chip module in 2027, 0.6 - 1.4
    assert close(by["envelope_total:fund"].fd_down, -0.8)
    assert by["envelope_total:fund"].limit.name == "total of the fund envelope"


# --------------------------------------------------------------------------------------
# brute force and a property on random cases with envelopes
# --------------------------------------------------------------------------------------


def _uses_envelopes(meta, tables) -> bool:
    return "envelope" in tables["levers"][0] and brute_force(SpecCase.from_tables(meta, tables)).best_relief > 0


@pytest.mark.parametrize("seed", range(8))
def test_optimum_equals_brute_force_with_envelopes(seed):
    meta, tables = random_case(1000 + seed, min_plans=20, max_plans=3000, accept=_uses_envelopes)
    spec = SpecCase.from_tables(meta, tables)
    bf = brute_force(spec)
    res = run_case(Case.from_tables(meta, frames(tables)), OPTIONS)
    if bf.best_relief is None:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal" and close(res.evaluation.expected_relief, bf.best_relief)
    rep = check_plan(spec, plan_of_roadmap(res.evaluation.roadmap))
    assert rep.feasible, rep.violations
    assert close(rep.discounted_public_spend, bf.min_spend_at_best)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(), st.sampled_from([1.5, 2.0, 10.0]), st.booleans())
def test_a_looser_envelope_never_lowers_relief(mt, factor, yearly):
    meta, tables = mt
    case = Case.from_tables(meta, frames(tables))
    envelopes = sorted(set(case.table("levers")["envelope"]))
    e = envelopes[-1]
    if yearly:
        path = f"budget.{e}:*.public_budget_usd_bn*={factor}"
    else:
        if e not in set(case.table("envelopes")["envelope"]):
            return
        path = f"envelopes.{e}.total_usd_bn*={factor}"
    try:
        looser = apply_overrides(case, [path])
    except OverrideError:  # the envelope has no yearly rows
        return
    base, more = run_case(case, OPTIONS), run_case(looser, OPTIONS)
    assert base.status == more.status == "optimal"
    assert more.evaluation.expected_relief >= base.evaluation.expected_relief - 1e-6 * max(
        1.0, base.evaluation.expected_relief
    )


def test_report_shows_each_envelope_against_its_budgets(tmp_path):
    """The report's spending section gets one spend row and one budget row per envelope, from the
    run's roadmap.csv and the case: on two-envelopes chips (cash) spend 2 in 2026, the smelter
    (fund: no yearly rows, total 2.5) 2 in 2026 and 2 in all; a one-envelope run has no such table."""
    assert _relief("solve", CASE, "--mip-gap", "0", "--out", tmp_path / "run", cwd=tmp_path).returncode == 0
    r = _relief("report", tmp_path / "run", "--out", tmp_path / "r.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = html[html.index("By funding envelope") :]
    section = section[: section.index("</table>")]
    cells = [c.strip() for c in re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", section, flags=re.S)]
    assert cells[:5] == ["envelope", "", "2026", "2027", "all years"]
    rows = [cells[i : i + 5] for i in range(5, len(cells), 5)]
    fund = rows[[r[0] for r in rows].index("fund")]
    assert fund == ["fund", "spend", "2.00", "0.00", "2.00"]
    assert rows[[r[0] for r in rows].index("fund") + 1] == ["", "budget", "", "", "2.50"]
    tiny = ROOT / "examples" / "tiny"
    assert _relief("solve", tiny, "--out", tmp_path / "one", cwd=tmp_path).returncode == 0
    assert _relief("report", tmp_path / "one", "--out", tmp_path / "one.html", cwd=tmp_path).returncode == 0
    assert "By funding envelope" not in (tmp_path / "one.html").read_text(encoding="utf-8")
