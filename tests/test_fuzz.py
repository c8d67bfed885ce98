"""Fuzzing the inputs (issue 5, item 6): valid random cases, damaged once, through the CLI.

A case from tests/casegen.py is written as files (or as a workbook), then damaged in one
way hypothesis chooses: a cell set to an odd value (text, unicode, control characters,
huge, tiny, NaN, inf, -0, odd booleans, ...), a column or row dropped or repeated, a
file removed, emptied, cut short, replaced by random bytes or re-encoded (latin-1,
UTF-16, a UTF-8 byte-order mark), a case.yaml field set to an odd YAML value (a python
tag, a list, an alias, a date ...), repeated or dropped, a workbook sheet dropped or a
cell changed. The property: relief either

* exits 2 from both `relief validate` and `relief solve`, every problem line naming a
  file of the case (or the workbook and sheet), with no traceback; or
* solves (exit 0), and the independent checker (tests/checker.py), reading the damaged
  files itself, agrees with the plan.

The CLI runs in-process (click's CliRunner, exceptions not caught); a few examples also
run through the console script in a real process. The budget is small by default
(RELIEF_FUZZ_EXAMPLES, default 60: about 15 s on two cores, with the real processes); run longer with e.g.

    RELIEF_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from casegen import _cell, cases, columns_of
from checker import check_run_folder
from click.testing import CliRunner
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from relief.cli.main import main
from relief.model.core.schema import CASE_FIELDS, TABLES

EXAMPLES = int(os.environ.get("RELIEF_FUZZ_EXAMPLES", "60"))
# The default (CI) budget replays the same examples every run, so a red CI is about the
# change under test; a longer run (RELIEF_FUZZ_EXAMPLES set) explores new ones.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    derandomize="RELIEF_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
RELIEF = shutil.which("relief", path=str(Path(sys.executable).parent)) or shutil.which("relief")
BOOK = "case.xlsx"
KNOWN_FILES = ("case.yaml", BOOK, "RELIEF_MAX_FILE_MB") + tuple(t.file for t in TABLES.values())

# Odd cell values: what people type, what spreadsheets export, and what breaks parsers.
ODD_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e308",
            "-1e308",
            "1e-320",
            "5e-324",
            "-0",
            "-0.0",
            "0",
            "1",
            "1e9",
            "1e10",
            "1e12",
            "-1",
            "0.5",
            "1.5",
            "2",
            "2026",
            "15%",
            "1,5",
            "1 000",
            "0x10",
            "1_000",
            "1e",
            ".",
            "-",
            "true",
            "FALSE",
            "Yes",
            "oui",
            "null",
            "None",
            "#N/A",
            "#DIV/0!",
            "=1+1",
            "\u0663",
            "\uff11",
            "\x00",
            "\u200b",
            "a:b",
            "x*y",
            "\uce69\uacf5\uc7a5",
            "\u00e9t\u00e9",
            "'",
            '"',
            "\n",
            "\r",
            "\t",
            "\U0001f600",
            "9" * 400,
            "x" * 5000,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**13), 10**13).map(str),
    st.text(max_size=12),
)

# Odd case.yaml values, written as YAML source after "field: ".
ODD_YAML = st.one_of(
    st.sampled_from(
        [
            "",
            "~",
            "null",
            ".nan",
            ".inf",
            "-.inf",
            "yes",
            "no",
            "2026-01-01",
            "0x7E9",
            "0o3752",
            "1_000",
            "2026.5",
            "'2026'",
            "[2026, 2027]",
            "{a: 1}",
            "*nowhere",
            "&anchor 2026",
            "!!python/object/apply:os.system ['true']",
            "!!python/name:os.system",
            "!!binary aGVsbG8=",
            "!!float 1e400",
            "1" + "0" * 400,
            "|\n  two\n  lines",
            '"\\x00"',
            "\u00e9t\u00e9",
            "[[[[[[[[]]]]]]]]",
            "- a",
            "a: b: c",
        ]
    ),
    ODD_VALUES.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()),
)


# ----------------------------------------------------------------------------------
# a valid case as files, and one damage
# ----------------------------------------------------------------------------------


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def as_files(meta: dict, tables: dict) -> dict[str, bytes]:
    files = {"case.yaml": yaml.safe_dump(meta, sort_keys=False).encode("utf-8")}
    for name, rows in tables.items():
        cols = columns_of(name, rows)
        files[f"{name}.csv"] = csv_bytes([cols] + [[_cell(r[c]) for c in cols] for r in rows])
    return files


def grid(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def damage_cell(draw, files):
    name = draw(st.sampled_from(sorted(f for f in files if f.endswith(".csv") and len(grid(files[f])) > 1)))
    rows = grid(files[name])
    i = draw(st.integers(1, len(rows) - 1))
    j = draw(st.integers(0, len(rows[0]) - 1))
    rows[i][j] = draw(ODD_VALUES)
    files[name] = csv_bytes(rows)
    return f"{name} row {i + 1} column {rows[0][j]} = {rows[i][j]!r}"


def damage_header(draw, files):
    name = draw(st.sampled_from(sorted(f for f in files if f.endswith(".csv"))))
    rows = grid(files[name])
    j = draw(st.integers(0, len(rows[0]) - 1))
    how = draw(st.sampled_from(["drop", "repeat", "rename", "extra"]))
    if how == "drop":
        rows = [r[:j] + r[j + 1 :] for r in rows]
    elif how == "repeat":
        rows = [r + [r[j]] for r in rows]
    elif how == "rename":
        rows[0][j] = draw(ODD_VALUES)
    else:
        rows = [rows[0] + [draw(ODD_VALUES)]] + [r + ["1"] for r in rows[1:]]
    files[name] = csv_bytes(rows)
    return f"{name}: {how} column {j}"


def damage_rows(draw, files):
    name = draw(st.sampled_from(sorted(f for f in files if f.endswith(".csv") and len(grid(files[f])) > 1)))
    rows = grid(files[name])
    i = draw(st.integers(1, len(rows) - 1))
    how = draw(st.sampled_from(["drop", "repeat", "header only", "short row", "long row"]))
    if how == "drop":
        del rows[i]
    elif how == "repeat":
        rows.append(list(rows[i]))
    elif how == "header only":
        rows = rows[:1]
    elif how == "short row":
        rows[i] = rows[i][:-1]
    else:
        rows[i] = rows[i] + ["extra"]
    files[name] = csv_bytes(rows)
    return f"{name}: {how} row {i + 1}"


def damage_file(draw, files):
    name = draw(st.sampled_from(sorted(files)))
    how = draw(
        st.sampled_from(
            ["remove", "empty", "blank lines", "cut", "bytes", "latin-1", "utf-16", "utf-8 bom", "crlf", "junk line"]
        )
    )
    data = files[name]
    if how == "remove":
        del files[name]
    elif how == "empty":
        files[name] = b""
    elif how == "blank lines":
        files[name] = b"\n \n"
    elif how == "cut":
        files[name] = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    elif how == "bytes":
        files[name] = draw(st.binary(min_size=1, max_size=300))
    elif how == "latin-1":
        files[name] = data.decode("utf-8").replace(",", ",\u00e9", 1).replace(":", ": \u00e9", 1).encode("latin-1")
    elif how == "utf-16":
        files[name] = data.decode("utf-8").encode("utf-16")
    elif how == "utf-8 bom":
        files[name] = b"\xef\xbb\xbf" + data
    elif how == "crlf":
        files[name] = data.replace(b"\n", b"\r\n")
    else:
        files[name] = data + draw(st.text(min_size=1, max_size=40)).encode("utf-8", "surrogatepass") + b"\n"
    return f"{name}: {how}"


def damage_yaml(draw, files):
    lines = files["case.yaml"].decode("utf-8").splitlines()
    how = draw(st.sampled_from(["value", "value", "drop", "repeat", "unknown", "whole"]))
    i = draw(st.integers(0, len(lines) - 1))
    field = lines[i].split(":")[0]
    if how == "value":
        field = draw(st.sampled_from(list(CASE_FIELDS)))
        lines = [l for l in lines if not l.startswith(f"{field}:")] + [f"{field}: {draw(ODD_YAML)}"]
    elif how == "drop":
        del lines[i]
    elif how == "repeat":
        lines.append(lines[i])
    elif how == "unknown":
        lines.append(f"{draw(st.sampled_from(['colour', 'First_Year', 'name ', '2026', 'x.y']))}: 1")
    else:
        lines = draw(st.text(max_size=60)).splitlines() or [""]
    files["case.yaml"] = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    return f"case.yaml: {how} {field}"


def damage_workbook(draw, files):
    """The case as a workbook (written by relief), then one sheet dropped or one cell changed."""
    how = draw(st.sampled_from(["drop sheet", "cell", "cell"]))
    sheet = draw(st.sampled_from(["case"] + [n for n in TABLES if f"{n}.csv" in files]))
    at = (draw(st.integers(1, 12)), draw(st.integers(1, 10)))
    value = draw(st.one_of(ODD_VALUES, st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none()))
    files[BOOK] = ("workbook", how, sheet, at, value)
    return f"{BOOK}: {how} {sheet} {at} = {value!r}"


DAMAGES = (damage_cell, damage_cell, damage_header, damage_rows, damage_file, damage_file, damage_yaml, damage_workbook)


@st.composite
def damaged_cases(draw):
    meta, tables = draw(cases(max_levers=2, max_years=2))
    files = as_files(meta, tables)
    what = draw(st.sampled_from(DAMAGES))(draw, files)
    return files, what


def write(folder: Path, files: dict) -> Path:
    """The damaged case on disk; the path to give relief."""
    folder.mkdir(parents=True)
    for name, data in files.items():
        if name != BOOK:
            (folder / name).write_bytes(data)
    if BOOK not in files:
        return folder
    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    from relief.model.core.case import load_case
    from relief.model.core.io import write_case_workbook

    _, how, sheet, (row, col), value = files[BOOK]
    book = folder.parent / BOOK
    write_case_workbook(load_case(folder), book)
    shutil.rmtree(folder)
    wb = openpyxl.load_workbook(book)
    if how == "drop sheet":
        del wb[sheet]
    else:
        try:
            wb[sheet].cell(row=row, column=col).value = value
        except (ValueError, IllegalCharacterError):  # a control character openpyxl cannot store
            wb[sheet].cell(row=row, column=col).value = "\\x00"
    wb.save(book)
    return book


# ----------------------------------------------------------------------------------
# the property
# ----------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_bad_input_reported(stderr: str) -> None:
    """Exit 2's message: a heading, then one line per problem, each naming a case file."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert lines and lines[0].startswith("relief: the case has"), stderr
    problems = [l for l in lines[1:] if l.strip()]
    assert problems, stderr
    for line in problems:
        assert line.startswith("  ") and line.strip().startswith(KNOWN_FILES), f"a problem that names no file: {line!r}"


def check_one(files: dict, work: Path) -> None:
    case = write(work / "case", files)
    v = invoke("validate", case)
    note(f"validate: exit {v.exit_code}\n{v.stderr}")
    assert v.exit_code in (0, 2), v.stderr
    out = work / "run"
    s = invoke("solve", case, "--mip-gap", "0", "--out", out)
    note(f"solve: exit {s.exit_code}\n{s.stderr}")
    assert s.exit_code == v.exit_code, s.stderr
    if v.exit_code == 2:
        assert_bad_input_reported(v.stderr)
        assert_bad_input_reported(s.stderr)
        assert not out.exists()
    else:  # solved: the checker, reading the damaged files itself (or relief's copy of a workbook), agrees
        check_run_folder(out, case_dir=case if case.is_dir() else None)


@FUZZ
@given(damaged_cases())
def test_damaged_case_is_solved_or_refused_plainly(damaged):
    files, what = damaged
    note(what)
    with tempfile.TemporaryDirectory() as tmp:
        check_one(files, Path(tmp))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(damaged_cases())
def test_no_traceback_reaches_a_real_terminal(damaged):
    files, what = damaged
    note(what)
    with tempfile.TemporaryDirectory() as tmp:
        case = write(Path(tmp) / "case", files)
        p = subprocess.run(
            [RELIEF, "validate", str(case)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert p.returncode in (0, 2), p.stderr
        assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
        if p.returncode == 2:
            assert_bad_input_reported(p.stderr)
