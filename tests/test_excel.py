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


@pytest.mark.parametrize("case", [TINY, KOREA], ids=["tiny", "korea-2026"])
def test_workbook_round_trip_solves_to_the_same_answer(case, tmp_path):
    book = tmp_path / "case.xlsx"
    p = relief("template", case, "--out", book)
    assert p.returncode == 0, p.stderr
    a, b = solve_json(case), solve_json(book)
    assert b["input_sha256"] == a["input_sha256"]  # the same numbers, whatever the format
    assert b["expected_relief"] == pytest.approx(a["expected_relief"], rel=1e-12)
    assert b["public_spend"] == pytest.approx(a["public_spend"], rel=1e-12)
    assert b["portfolio"] == a["portfolio"]


def test_workbook_has_a_notes_sheet_and_keeps_sources(tmp_path):
    book = tmp_path / "korea.xlsx"
    assert relief("template", KOREA, "--out", book).returncode == 0
    sheets = pd.read_excel(book, sheet_name=None)
    assert {"case", "levers", "tariffs", "budget", "notes"} <= set(sheets)
    notes = sheets["notes"]
    row = notes[(notes["sheet"] == "levers") & (notes["column"] == "public_share")].iloc[0]
    assert row["range"] == ">= 0, <= 1" and "public" in row["meaning"]
    assert "source" in sheets["levers"].columns and sheets["levers"]["source"].notna().all()


def test_an_edit_in_excel_is_what_gets_solved(tmp_path):
    """Tiny case, total public budget edited 5 -> 2 in the workbook: the two chip modules
    (public 4) no longer fit; the best plan is the smelter in 2026 (README: 1.4)."""
    book = tmp_path / "tiny.xlsx"
    assert relief("template", TINY, "--out", book).returncode == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["case"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "total_public_budget":
            row[1].value = 2
    wb.save(book)
    out = solve_json(book, "--mip-gap", "0")
    assert out["expected_relief"] == pytest.approx(1.4, rel=1e-9)
    assert out["portfolio"]["smelter"] == 1 and out["portfolio"]["chips"] == 0


def test_a_bad_cell_in_the_workbook_names_sheet_row_and_column(tmp_path):
    book = tmp_path / "tiny.xlsx"
    assert relief("template", TINY, "--out", book).returncode == 0
    wb = openpyxl.load_workbook(book)
    wb["levers"]["B3"] = "two"  # chips' capex_per_module
    wb.save(book)
    p = relief("solve", book)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "levers" in p.stderr and "row 3" in p.stderr and "capex_per_module" in p.stderr


def test_results_as_a_workbook(tmp_path):
    run = tmp_path / "run.xlsx"
    p = relief("solve", TINY, "--out", run)
    assert p.returncode == 0, p.stderr
    sheets = pd.read_excel(run, sheet_name=None)
    assert {"summary", "roadmap", "tiers", "relief", "spending", "by_scenario"} <= set(sheets)
    roadmap = sheets["roadmap"]
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
    summary = dict(zip(sheets["summary"]["field"], sheets["summary"]["value"]))
    assert float(summary["expected_relief"]) == pytest.approx(2.2, rel=1e-9)
    assert not list(tmp_path.glob(".*.tmp"))


def test_template_needs_an_xlsx_name(tmp_path):
    p = relief("template", TINY, "--out", tmp_path / "case.csv")
    assert p.returncode == 2 and "xlsx" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "case.csv").exists()
