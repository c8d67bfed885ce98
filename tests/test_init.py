"""The case a planner edits is the case relief solves (issue 11, items 1 and 2).

Through the real console script, from a temporary working directory:
- `relief init DIR` copies the shipped default case (with its README) to edit, and
  refuses a folder that is not empty;
- `relief solve` without CASE reads the shipped copy inside the installation, so an
  edited `inputs/korea-2026` in the working directory (a checkout) is warned about;
- the terminal header names the folder that was solved;
- a misspelt case.yaml field or column, or a semicolon-separated CSV, is bad input (exit 2)
  for `relief validate`, not "valid".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cliutil import ENV, relief_exe

from relief.cli.inputs import default_case_path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
SHIPPED = default_case_path()
RELIEF = relief_exe()


def relief(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([RELIEF, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV)


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr


def halve_other_goods_exports(case: Path) -> None:
    """Halve the exports of `other_covered_goods`, the case's weakest number (its README: the
    first a planner replaces). Issue 11's edit, halving the 2026 budget, no longer moves the
    answer: since issue 12 the MOU cash (the only envelope with yearly budgets) has room to
    spare, so an edit that changes relief is needed to tell the two cases apart."""
    lines = (case / "sectors.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (i,) = [i for i, line in enumerate(lines) if line.startswith("other_covered_goods,")]
    cells = lines[i].split(",", 5)  # sector, track, name, unit, exports_usd_bn, rest
    cells[4] = str(float(cells[4]) / 2)
    lines[i] = ",".join(cells)
    (case / "sectors.csv").write_text("".join(lines), encoding="utf-8")


# ----------------------------------------------------------------------------------
# relief init
# ----------------------------------------------------------------------------------


def test_init_copies_the_default_case_with_its_readme(tmp_path):
    r = relief("init", "my-case", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    case = tmp_path / "my-case"
    shipped = sorted(p.name for p in SHIPPED.iterdir() if p.is_file() and not p.name.startswith("."))
    assert sorted(p.name for p in case.iterdir()) == shipped
    assert "README.md" in shipped and "case.yaml" in shipped
    for name in shipped:  # a copy, byte for byte: nothing is rewritten
        assert (case / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    assert r.stdout.splitlines()[0].startswith("wrote my-case: a copy of the shipped default case korea-2026")
    assert r.stdout.splitlines()[-1] == "next: edit the files, then run: relief solve my-case"
    v = relief("validate", "my-case", cwd=tmp_path)
    assert v.returncode == 0 and "my-case: valid" in v.stdout, v.stderr


def test_init_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes", encoding="utf-8")
    r = relief("init", "mine", cwd=tmp_path)
    no_traceback(r)
    assert r.returncode == 2
    assert "mine already exists and is not empty" in r.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_init_into_an_empty_folder_and_from_another_case(tmp_path):
    (tmp_path / "empty").mkdir()
    r = relief("init", "empty", "--from", TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "empty" / "README.md").read_bytes() == (TINY / "README.md").read_bytes()
    assert f"a copy of {TINY}" in r.stdout
    assert relief("validate", "empty", cwd=tmp_path).returncode == 0


def test_init_from_a_workbook_writes_a_case_folder(tmp_path):
    assert relief("template", TINY, "--out", "tiny.xlsx", cwd=tmp_path).returncode == 0
    r = relief("init", "from-book", "--from", "tiny.xlsx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    solved = json.loads(relief("solve", "from-book", "--json", cwd=tmp_path).stdout)
    assert solved["expected_relief"] == pytest.approx(2.2, rel=1e-9)


@pytest.mark.parametrize("source, words", [("nowhere", "no such case folder"), (".", "has no case.yaml")])
def test_init_from_what_is_not_a_case_exits_2(tmp_path, source, words):
    r = relief("init", "x", "--from", source, cwd=tmp_path)
    no_traceback(r)
    assert r.returncode == 2 and words in r.stderr
    assert not (tmp_path / "x").exists()  # nothing half-made


# ----------------------------------------------------------------------------------
# the folder solved, and an edited checkout that is not
# ----------------------------------------------------------------------------------


def test_an_edited_inputs_folder_in_the_working_directory_is_warned_about(tmp_path):
    """Issue 11 item 1: halving the 2026 budget in a checkout's inputs/korea-2026 changed
    nothing for `relief solve`, silently. The edit here halves other goods' exports instead
    (see halve_other_goods_exports): the edited case gives 55.55 (measured with
    `relief solve inputs/korea-2026 --json` on the edited copy; the same as
    `--set "sectors.other_covered_goods.exports_usd_bn*=0.5"`), the shipped one 71.54."""
    shutil.copytree(SHIPPED, tmp_path / "inputs" / "korea-2026")
    halve_other_goods_exports(tmp_path / "inputs" / "korea-2026")
    r = relief("solve", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    warning = (
        "relief: warning: inputs/korea-2026 in this folder differs from the shipped default case, which is what "
        f"this command reads ({SHIPPED}): your edits there are NOT used. To use them: relief solve inputs/korea-2026"
    )
    assert warning in r.stderr.replace("\n", " ")
    assert "the shipped default case" in r.stdout.splitlines()[1]  # the header says what was solved
    edited = relief("solve", "inputs/korea-2026", "--json", cwd=tmp_path)
    assert "warning: inputs/korea-2026" not in edited.stderr
    assert json.loads(edited.stdout)["expected_relief"] == pytest.approx(55.55, abs=0.01)
    assert json.loads(relief("solve", "--json", cwd=tmp_path).stdout)["expected_relief"] == pytest.approx(
        71.54, abs=0.01
    )
    v = relief("validate", cwd=tmp_path)
    assert v.returncode == 0 and "To use them: relief validate inputs/korea-2026" in v.stderr.replace("\n", " ")


def test_an_unedited_copy_gives_no_warning(tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "inputs" / "korea-2026")
    (tmp_path / "inputs" / "korea-2026" / "README.md").write_text("my own notes", encoding="utf-8")  # not read
    r = relief("validate", cwd=tmp_path)
    assert r.returncode == 0
    assert "warning" not in r.stderr, r.stderr


def test_the_header_names_the_folder_solved(tmp_path):
    shutil.copytree(TINY, tmp_path / "tiny")
    r = relief("solve", "tiny", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].strip() == f"case: tiny ({(tmp_path / 'tiny').resolve()})"
    r = relief("solve", cwd=tmp_path)
    assert r.stdout.splitlines()[1].strip() == (
        f"case: korea-2026 (the shipped default case, {SHIPPED.resolve()}; relief init DIR copies it to edit)"
    )
    # a deep folder on a narrow terminal: the line stays whole, so the path can be copied
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 4, "tiny")
    shutil.copytree(TINY, deep)
    r = subprocess.run(
        [RELIEF, "solve", str(deep)], capture_output=True, text=True, timeout=120, env=dict(ENV, COLUMNS="60")
    )
    assert r.stdout.splitlines()[1].strip() == f"case: tiny ({deep.resolve()})"


def test_an_analysis_names_the_folder_too(tmp_path):
    shutil.copytree(TINY, tmp_path / "tiny")
    r = relief("value", "tiny", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"Case: tiny ({(tmp_path / 'tiny').resolve()})"


# ----------------------------------------------------------------------------------
# validate: a misspelling is not "valid"
# ----------------------------------------------------------------------------------


def test_validate_refuses_a_misspelt_case_yaml_field(tmp_path):
    """Issue 11 item 2: `discount_rte: 0.05` gave relief 95.89 instead of 79.49, exit 0."""
    shutil.copytree(SHIPPED, tmp_path / "k")
    text = (tmp_path / "k" / "case.yaml").read_text(encoding="utf-8")
    (tmp_path / "k" / "case.yaml").write_text(text.replace("\ndiscount_rate:", "\ndiscount_rte:"), encoding="utf-8")
    for command in ("validate", "solve"):
        r = relief(command, "k", cwd=tmp_path)
        no_traceback(r)
        assert r.returncode == 2, r.stdout
        assert "valid" not in r.stdout
        assert "case.yaml, column discount_rte: unknown field 'discount_rte': did you mean discount_rate?" in r.stderr


def test_validate_refuses_a_misspelt_column_and_a_semicolon_csv(tmp_path):
    shutil.copytree(TINY, tmp_path / "t")
    levers = (tmp_path / "t" / "levers.csv").read_text(encoding="utf-8")
    (tmp_path / "t" / "levers.csv").write_text(levers.replace("max_modules,", "max_module,", 1), encoding="utf-8")
    budget = (tmp_path / "t" / "budget.csv").read_text(encoding="utf-8")
    (tmp_path / "t" / "budget.csv").write_text(budget.replace(",", ";"), encoding="utf-8")
    r = relief("validate", "t", cwd=tmp_path)
    no_traceback(r)
    assert r.returncode == 2
    assert (
        "levers.csv, column max_modules: required column is missing: the header has 'max_module', "
        "did you mean max_modules?"
    ) in r.stderr
    assert "budget.csv, row 1: columns must be separated by commas; this file uses semicolons (;)" in r.stderr
