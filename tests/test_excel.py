"""Excel both ways: a case written as a workbook solves exactly like the CSV case it came
from, an edit made in the workbook is what gets solved, and results can be a workbook."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "examples" / "tiny"
KOREA = ROOT / "inputs" / "korea-2026"
RELIEF = shutil.which("relief") or str(Path(sys.executable).with_name("relief"))


def relief(*args, cwd=None):
    return subprocess.run([RELIEF, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def solve_json(case, *extra):
    p = relief("solve", case, "--json", *extra)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """`relief template` of the tiny and the default case, made once: {"tiny": path, "korea-2026": path}.
    Tests that edit a workbook edit their own copy."""
    tmp = tmp_path_factory.mktemp("templates")
    books = {}
    for name, case in (("tiny", TINY), ("korea-2026", KOREA)):
        books[name] = tmp / f"{name}.xlsx"
        p = relief("template", case, "--out", books[name])
        assert p.returncode == 0, p.stderr
    return books


def tiny_book(templates, tmp_path) -> Path:
    book = tmp_path / "tiny.xlsx"
    shutil.copyfile(templates["tiny"], book)
    return book


@pytest.mark.parametrize("case", [TINY, KOREA], ids=["tiny", "korea-2026"])
def test_workbook_round_trip_solves_to_the_same_answer(case, templates, request):
    # the default case as solved from its folder is korea_runs' run (summary.json is what --json prints)
    if case == KOREA:
        a = json.loads((request.getfixturevalue("korea_runs") / "base" / "summary.json").read_text())
    else:
        a = solve_json(case)
    b = solve_json(templates[case.name])
    assert b["input_sha256"] == a["input_sha256"]  # the same numbers, whatever the format
    assert b["expected_relief"] == pytest.approx(a["expected_relief"], rel=1e-12)
    assert b["public_spend"] == pytest.approx(a["public_spend"], rel=1e-12)
    assert b["portfolio"] == a["portfolio"]


def test_workbook_has_a_notes_sheet_and_keeps_sources(templates):
    book = templates["korea-2026"]
    sheets = pd.read_excel(book, sheet_name=None)
    assert {"case", "levers", "tariffs", "budget", "notes"} <= set(sheets)
    notes = sheets["notes"]
    row = notes[(notes["sheet"] == "levers") & (notes["column"] == "public_share")].iloc[0]
    assert row["range"] == ">= 0, <= 1" and "public" in row["meaning"]
    assert "source" in sheets["levers"].columns and sheets["levers"]["source"].notna().all()


def test_an_edit_in_excel_is_what_gets_solved(templates, tmp_path):
    """Tiny case, total public budget edited 5 -> 2 in the workbook: the two chip modules
    (public 4) no longer fit; the best plan is the smelter in 2026 (README: 1.4)."""
    book = tiny_book(templates, tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb["case"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "total_public_budget":
            row[1].value = 2
    wb.save(book)
    out = solve_json(book, "--mip-gap", "0")
    assert out["expected_relief"] == pytest.approx(1.4, rel=1e-9)
    assert out["portfolio"]["smelter"] == 1 and out["portfolio"]["chips"] == 0


def test_a_bad_cell_in_the_workbook_names_sheet_row_and_column(templates, tmp_path):
    book = tiny_book(templates, tmp_path)
    wb = openpyxl.load_workbook(book)
    wb["levers"]["B3"] = "two"  # chips' capex_per_module
    wb.save(book)
    p = relief("solve", book)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "levers" in p.stderr and "row 3" in p.stderr and "capex_per_module" in p.stderr


def _cells(book, *, hidden=False):
    """(sheet, cell) of every filled cell of the sheets a person sees (or all)."""
    for ws in book.worksheets:
        if ws.sheet_state == "visible" or hidden:
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        yield ws.title, c


@pytest.fixture(scope="module")
def korea_runs(tmp_path_factory):
    """The default case solved once into a run folder and once into a run workbook."""
    tmp = tmp_path_factory.mktemp("runs")
    for out in ("base", "run.xlsx"):
        p = relief("solve", KOREA, "--out", tmp / out)
        assert p.returncode == 0, p.stderr
    return tmp


def test_results_as_a_workbook(tmp_path):
    run = tmp_path / "run.xlsx"
    p = relief("solve", TINY, "--out", run)
    assert p.returncode == 0, p.stderr
    sheets = pd.read_excel(run, sheet_name=None)
    assert list(sheets)[:7] == ["summary", "roadmap", "relief by stance", "tiers", "spending", "relief", "roadmap data"]
    assert {"in_case", "in_levers", "in_tiers", "summary_json"} <= set(sheets)
    roadmap = sheets["roadmap data"]  # roadmap.csv's columns
    assert list(roadmap.columns[:7]) == [
        "lever",
        "year",
        "committed",
        "cumulative",
        "operating",
        "capex_spend",
        "public_spend",
    ]
    assert roadmap.loc[roadmap["lever"] == "chips", "committed"].sum() == 2
    grid = sheets["roadmap"].set_index("lever")  # lever x year, then the total
    assert grid.loc["chips", "total"] == 2 and grid.loc["chips", [c for c in grid.columns if c != "total"]].sum() == 2
    summary = dict(zip(sheets["summary"]["field"], sheets["summary"]["value"]))
    assert float(summary["Expected tariff relief, discounted"]) == pytest.approx(2.2, rel=1e-9)
    assert summary["Solver"] == "highs" and str(summary["Solver version"]).count(".") == 2
    assert "Solver setting: time limit" in summary and "Solver setting: threads" in summary
    stance = sheets["relief by stance"].set_index("scenario")
    assert stance.loc["expected", "relief, USD bn"] == pytest.approx(2.2, rel=1e-9)
    spending = sheets["spending"]
    assert list(spending.columns[:6]) == ["year", "public_spend", "capex_spend", "budget", "headroom", "used"]
    assert (spending["headroom"] == spending["budget"] - spending["public_spend"]).all()
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_run_workbook_is_formatted_for_people(korea_runs):
    """No Python text in any cell; number formats instead of rounded data; bold frozen
    headers; every sheet printed landscape, one page wide; the JSON sheet hidden. Figures of
    the default case of issue 12 (`relief solve inputs/korea-2026 --json`): expected relief
    71.5367705589, deal_restored's probability 0.36."""
    book = openpyxl.load_workbook(korea_runs / "run.xlsx")
    for title, c in _cells(book):
        assert not (isinstance(c.value, str) and ("{'" in c.value or "['" in c.value)), (title, c.coordinate)
    assert book["summary_json"].sheet_state == "hidden"
    for ws in book.worksheets:
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None), ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.column_dimensions["A"].width >= 8, ws.title
    summary = {ws_row[0].value: ws_row[1] for ws_row in book["summary"].iter_rows(min_row=2)}
    relief_cell = summary["Expected tariff relief, discounted"]
    assert relief_cell.number_format == "#,##0.00" and relief_cell.value == pytest.approx(71.5367705589, rel=1e-9)
    assert relief_cell.value != round(relief_cell.value, 2)  # the data keeps its precision
    assert summary["Optimality gap"].number_format == "0.00%"
    head = [c.value for c in book["relief by stance"][1]]
    prob = book["relief by stance"].cell(row=2, column=head.index("probability") + 1)
    assert prob.number_format == "0.0%" and prob.value == pytest.approx(0.36)
    head = [c.value for c in book["spending"][1]]
    assert book["spending"].cell(row=2, column=head.index("public_spend") + 1).number_format == "#,##0.00"
    assert book["spending"].cell(row=2, column=head.index("used") + 1).number_format == "0.0%"
    head = [c.value for c in book["tiers"][1]]
    assert {"scenario", "track", "year", "tier", "score", "threshold"} <= set(head)
    assert book["tiers"].cell(row=2, column=head.index("score") + 1).number_format == "0.00"
    grid = book["roadmap"]
    assert [c.value for c in grid[1]][:3] == ["lever", "name", "2026"]  # display names beside the levers
    smelter = next(r for r in grid.iter_rows(min_row=2) if r[0].value == "korea_zinc_smelter")
    assert "Clarksville" in smelter[1].value and smelter[2].value == 1
    levers = [c.value for c in book["in_levers"][1]]
    assert "source" in levers and "notes" in levers  # the inputs with their sources


def test_report_and_compare_read_a_run_workbook(korea_runs, tmp_path):
    folder, book = korea_runs / "base", korea_runs / "run.xlsx"
    html = {}
    for name, run in (("folder", folder), ("book", book)):
        out = tmp_path / f"{name}.html"
        p = relief("report", run, "--out", out)
        assert p.returncode == 0, p.stderr
        html[name] = out.read_text()
    # the default case of issue 12 (relief solve --json): expected 71.54; deal_restored 74.43,
    # chip_phase2 108.28, hardline_301 38.30
    for figure in ("71.54", "74.43", "108.28", "38.30"):
        assert figure in html["book"] and html["book"].count(figure) == html["folder"].count(figure), figure
    p = relief("compare", folder, book, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [r["run"] for r in out["runs"]] == ["base", "run"]
    assert out["runs"][1]["expected_relief"] == pytest.approx(out["runs"][0]["expected_relief"], rel=1e-12)
    assert abs(out["runs"][1]["difference"]) < 1e-9


def test_a_case_workbook_is_not_a_run(templates, tmp_path):
    book = tmp_path / "case.xlsx"
    shutil.copyfile(templates["tiny"], book)
    for cmd in ("compare", "report"):
        p = relief(cmd, book, "--out", tmp_path / "x.html") if cmd == "report" else relief(cmd, book)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
        assert "case workbook, not a run" in p.stderr and f"relief solve {book}" in p.stderr


def test_a_run_workbook_solves_again_as_its_case(korea_runs, tmp_path):
    """`relief solve run.xlsx` solves the case as it was solved (its in_ sheets): the
    same inputs, the same answer; a damaged input names its in_ sheet."""
    base = json.loads((korea_runs / "base" / "summary.json").read_text())
    again = solve_json(korea_runs / "run.xlsx")
    assert again["input_sha256"] == base["input_sha256"]
    assert again["expected_relief"] == pytest.approx(base["expected_relief"], rel=1e-12)
    wb = openpyxl.load_workbook(korea_runs / "run.xlsx")
    head = [c.value for c in wb["in_levers"][1]]
    wb["in_levers"].cell(row=3, column=head.index("lead_time_years") + 1).value = "two"
    wb.save(tmp_path / "bad.xlsx")
    p = relief("solve", tmp_path / "bad.xlsx")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "bad.xlsx [in_levers], row 3, column lead_time_years" in p.stderr, p.stderr


def test_the_run_workbook_holds_no_clock(tmp_path, monkeypatch):
    """Written twice a day apart, the same run gives the same bytes; text starting with
    '=' stays text (never a formula)."""
    import time

    from relief.cli.workbook import write_run_workbook
    from relief.model.core.case import load_case
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import run_case

    case = load_case(TINY)
    levers = case.table("levers").copy()
    levers["notes"] = "=1+1 is not a formula"
    case = case.replaced(levers=levers)
    result = run_case(case, SolveOptions.resolve(case.meta))
    summary = result.report()
    write_run_workbook(tmp_path / "a.xlsx", result, summary)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 86400 + 3600)
    write_run_workbook(tmp_path / "b.xlsx", result, summary)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    cell = openpyxl.load_workbook(tmp_path / "a.xlsx")["in_levers"]
    notes = [c.value for c in cell[1]].index("notes") + 1
    assert cell.cell(row=2, column=notes).value == "=1+1 is not a formula"
    assert cell.cell(row=2, column=notes).data_type == "s"


def test_template_needs_an_xlsx_name(tmp_path):
    p = relief("template", TINY, "--out", tmp_path / "case.csv")
    assert p.returncode == 2 and "xlsx" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "case.csv").exists()


def test_thin_tiers_are_shaded_and_margins_formatted(tmp_path):
    """Where the evaluation has tier margins, the tiers sheet shows them beside the
    threshold, as numbers and shares, and shades the rows of thin tiers."""
    from relief.cli.workbook import write_run_workbook
    from relief.model.core.case import load_case
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import run_case

    case = load_case(TINY)
    result = run_case(case, SolveOptions.resolve(case.meta))
    tiers = result.evaluation.tiers
    tiers["margin"] = tiers["score"] - tiers["threshold"]
    tiers["margin_rel"] = 0.5
    tiers["thin"] = [i == 0 for i in range(len(tiers))]
    write_run_workbook(tmp_path / "run.xlsx", result, result.report())
    ws = openpyxl.load_workbook(tmp_path / "run.xlsx")["tiers"]
    head = [c.value for c in ws[1]]
    assert head.index("margin") == head.index("threshold") + 1 and "thin" in head
    assert ws.cell(row=2, column=head.index("margin_rel") + 1).number_format == "0.0%"
    assert ws.cell(row=2, column=head.index("thin") + 1).value is True
    assert ws.cell(row=2, column=1).fill.fgColor.rgb.endswith("FCE4B6")  # thin: shaded
    assert ws.cell(row=3, column=1).fill.fill_type is None  # not thin: plain


def test_an_infeasible_run_workbook_says_why_and_is_not_a_plan(tmp_path):
    """No plan: the summary lists the conflicts as sentences and '-' for the figures; the
    workbook holds the case as asked; compare and report say there is no plan."""
    run = tmp_path / "run.xlsx"
    p = relief("solve", KOREA, "--force", "us_fab_module", "--set", "budget.*.public_budget_usd_bn*=0.05", "--out", run)
    assert p.returncode == 3, p.stderr
    book = openpyxl.load_workbook(run)
    assert book.sheetnames[:2] == ["summary", "in_case"] and "roadmap" not in book.sheetnames
    rows = {}
    for label, value, _ in book["summary"].iter_rows(min_row=2, values_only=True):
        rows.setdefault(label, []).append(value)
    assert rows["Solver status"] == ["infeasible"] and rows["Expected tariff relief, discounted"] == ["-"]
    assert rows["Conflict"] and all("budget" in c or "forced" in c for c in rows["Conflict"])
    assert not any(isinstance(c.value, str) and ("{'" in c.value or "kind:" in c.value) for _, c in _cells(book))
    assert not any(str(label).startswith("Sheet: roadmap") for label in rows)  # no sheet named that is absent
    p = relief("report", run, "--out", tmp_path / "r.html")
    assert p.returncode == 2 and "holds no plan (status infeasible)" in p.stderr, p.stderr
    assert not (tmp_path / "r.html").exists()
