"""Damaged cases through the real command line (issue 5, items 6 and 7).

Every case of the corpus in tests/damaged/ (examples/tiny with one damage, see
tests/damaged/make_corpus.py) and every damage that cannot be stored (a file over the
size limit, a zip bomb, links out of the case folder, a FIFO; made here in tmp_path)
must make `relief validate` and `relief solve` exit 2 with a short message naming the
file (and row and column where there is one), write nothing, and show no traceback.
The `ok-` cases are odd inputs relief accepts: they solve, and the independent checker
agrees with the plan. Most run in-process (click's CliRunner, exceptions not caught);
a handful run as real subprocesses of the console script.

Also the safe-input rules: YAML is read safely, no input value is ever evaluated as
code (case files, --set values, sweep files), and the size limit's variable works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from checker import check_run_folder
from click.testing import CliRunner

from relief.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
CORPUS = Path(__file__).resolve().parent / "damaged"
RELIEF = shutil.which("relief", path=str(Path(sys.executable).parent)) or shutil.which("relief")


def read_expected(folder: Path) -> dict:
    exp = {"exit": 2, "case": None, "expect": []}
    for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(": ")
        if key == "expect":
            exp["expect"].append(value)
        elif key == "exit":
            exp["exit"] = int(value)
        else:
            exp[key] = value
    return exp


CORPUS_CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").exists())


# ----------------------------------------------------------------------------------
# damages made at test time: fn(folder) -> (case path, expected, environment)
# ----------------------------------------------------------------------------------


def _tiny(folder: Path) -> Path:
    shutil.copytree(TINY, folder, ignore=shutil.ignore_patterns("README.md"))
    return folder


def huge_csv(folder):
    """levers.csv of 51 MB (a sparse file: nothing is written to disk)."""
    _tiny(folder)
    with open(folder / "levers.csv", "r+b") as f:
        f.truncate(51_000_000)
    return (
        folder,
        dict(file="levers.csv", expect=["levers.csv", "51.0 MB", "more than the 50 MB", "RELIEF_MAX_FILE_MB"]),
        {},
    )


def limit_from_environment(folder):
    """RELIEF_MAX_FILE_MB=1 and a tariffs.csv of 1.2 MB (a long note)."""
    _tiny(folder)
    with open(folder / "tariffs.csv", "a", encoding="utf-8") as f:
        f.write("hard,semis,s1,chip_exports,0," + "x" * 1_200_000 + "\n")
    return folder, dict(file="tariffs.csv", expect=["tariffs.csv", "more than the 1 MB"]), {"RELIEF_MAX_FILE_MB": "1"}


def limit_not_a_number(folder):
    _tiny(folder)
    return (
        folder,
        dict(file="RELIEF_MAX_FILE_MB", expect=["RELIEF_MAX_FILE_MB", "positive number of megabytes", "'lots'"]),
        {"RELIEF_MAX_FILE_MB": "lots"},
    )


def zip_bomb(folder):
    """A workbook of 0.1 MB that unpacks to 51 MB: refused before openpyxl reads it."""
    from relief.model.core.case import load_case
    from relief.model.core.io import write_case_workbook

    folder.mkdir()
    book = folder / "case.xlsx"
    write_case_workbook(load_case(TINY), book)
    with zipfile.ZipFile(book, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * 51_000_000)
    assert book.stat().st_size < 1_000_000
    return book, dict(file="case.xlsx", expect=["case.xlsx", "unpacks to 51", "more than the 50 MB"]), {}


def table_linked_outside(folder):
    """levers.csv is a link to a (valid) levers.csv outside the case folder."""
    _tiny(folder)
    outside = folder.parent / "elsewhere"
    outside.mkdir()
    shutil.move(folder / "levers.csv", outside / "levers.csv")
    os.symlink("../elsewhere/levers.csv", folder / "levers.csv")
    return folder, dict(file="levers.csv", expect=["levers.csv", "is a link to", "outside the case folder"]), {}


def case_yaml_linked_to_dev_zero(folder):
    """case.yaml is a link to /dev/zero (reading it would never end)."""
    _tiny(folder)
    (folder / "case.yaml").unlink()
    os.symlink("/dev/zero", folder / "case.yaml")
    return folder, dict(file="case.yaml", expect=["case.yaml", "outside the case folder"]), {}


def dangling_link(folder):
    _tiny(folder)
    (folder / "budget.csv").unlink()
    os.symlink("budget-2026.csv", folder / "budget.csv")
    return folder, dict(file="budget.csv", expect=["budget.csv", "is a link to nothing"]), {}


def fifo(folder):
    """levers.csv is a named pipe: reading it would wait forever."""
    _tiny(folder)
    (folder / "levers.csv").unlink()
    os.mkfifo(folder / "levers.csv")
    return folder, dict(file="levers.csv", expect=["levers.csv", "not a regular file"]), {}


GENERATED = {
    f.__name__: f
    for f in (
        huge_csv,
        limit_from_environment,
        limit_not_a_number,
        zip_bomb,
        table_linked_outside,
        case_yaml_linked_to_dev_zero,
        dangling_link,
        fifo,
    )
}


@pytest.fixture
def damaged(request, tmp_path, monkeypatch):
    """(case path, expected, environment) of a corpus case (copied) or a generated one."""
    name = request.param
    if name in GENERATED:
        case, exp, env = GENERATED[name](tmp_path / "case")
        exp = {"exit": 2, **exp}
    else:
        folder = shutil.copytree(CORPUS / name, tmp_path / "case", symlinks=True)
        exp = read_expected(folder)
        case, env = folder / (exp["case"] or ""), {}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return case, exp, env


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_reported(stderr: str, exp: dict) -> None:
    assert "Traceback" not in stderr, stderr
    if exp["exit"] == 2:
        assert exp["file"] in stderr, f"{exp['file']!r} not named:\n{stderr}"
    for fragment in exp["expect"]:
        assert fragment in stderr, f"{fragment!r} not in:\n{stderr}"
    if exp["exit"] == 2:
        problems = [l for l in stderr.splitlines() if l.startswith("  ")]
        assert problems and len(stderr.splitlines()) <= 12, stderr
        assert all(len(l) < 300 for l in problems), stderr  # short lines: file, row, column: what


# ----------------------------------------------------------------------------------
# the corpus, in-process
# ----------------------------------------------------------------------------------


def test_the_corpus_has_at_least_40_damaged_cases():
    damaged_cases = [n for n in CORPUS_CASES if read_expected(CORPUS / n)["exit"] == 2]
    assert len(damaged_cases) >= 40
    assert len(damaged_cases) + len(GENERATED) >= 60


@pytest.mark.parametrize("damaged", CORPUS_CASES + list(GENERATED), indirect=True)
def test_damaged_case_exits_2_naming_the_file(damaged, tmp_path):
    case, exp, _ = damaged
    v = invoke("validate", case)
    assert v.exit_code == exp["exit"], (v.stdout, v.stderr)
    assert_reported(v.stderr, exp)
    out = tmp_path / "run"
    s = invoke("solve", case, "--mip-gap", "0", "--out", out)
    assert s.exit_code == exp["exit"], (s.stdout, s.stderr)
    assert "Traceback" not in s.stderr
    if exp["exit"] == 2:
        assert_reported(s.stderr, exp)
        assert not out.exists()  # nothing written from a bad case
        assert s.stdout == ""
    else:  # accepted: the plan passes the independent checker, reading the odd files itself
        check_run_folder(out, case_dir=case)


def test_validate_json_lists_the_problem(tmp_path):
    import json

    folder = shutil.copytree(CORPUS / "57-workbook-bad-cell", tmp_path / "case")
    r = invoke("validate", folder / "case.xlsx", "--json")
    assert r.exit_code == 2
    problems = json.loads(r.stdout)["problems"]
    assert problems == [
        {
            "file": "case.xlsx [levers]",
            "message": "'two' is not a number",
            "row": 3,
            "column": "capex_per_module",
            "level": "error",
        }
    ]


def test_link_inside_the_case_folder_is_fine(tmp_path):
    folder = _tiny(tmp_path / "case")
    (folder / "tables").mkdir()
    shutil.move(folder / "levers.csv", folder / "tables" / "levers.csv")
    os.symlink("tables/levers.csv", folder / "levers.csv")
    assert invoke("validate", folder).exit_code == 0


# ----------------------------------------------------------------------------------
# a handful as real subprocesses: no traceback reaches a planner's terminal
# ----------------------------------------------------------------------------------

SUBPROCESS_CASES = [
    "08-levers-binary",
    "43-case-yaml-python-tag",
    "52-case-yaml-alias-bomb",
    "53-case-yaml-deep-nesting",
    "57-workbook-bad-cell",
    "fifo",
    "zip_bomb",
]


@pytest.mark.parametrize("damaged", SUBPROCESS_CASES, indirect=True)
def test_damaged_case_in_a_real_process(damaged, tmp_path):
    case, exp, env = damaged
    assert RELIEF, "the relief console script is not installed next to this Python"
    for command in ("validate", "solve"):
        p = subprocess.run(
            [RELIEF, command, str(case)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, **env, "PYTHONWARNINGS": "ignore"},
        )
        assert p.returncode == 2, p
        assert_reported(p.stderr, exp)
        assert "Traceback" not in p.stdout


# ----------------------------------------------------------------------------------
# safe inputs
# ----------------------------------------------------------------------------------


def test_python_tag_in_case_yaml_is_refused_and_never_run(tmp_path):
    folder = _tiny(tmp_path / "case")
    marker = tmp_path / "ran"
    text = (folder / "case.yaml").read_text(encoding="utf-8")
    (folder / "case.yaml").write_text(
        text.replace("name: tiny", f'name: !!python/object/apply:os.system ["touch {marker}"]'), encoding="utf-8"
    )
    r = invoke("solve", folder)
    assert r.exit_code == 2 and "not allowed" in r.stderr and "case.yaml" in r.stderr
    assert not marker.exists()


def test_set_values_are_never_evaluated(tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('os').system('touch {marker}')"
    r = invoke("solve", TINY, "--set", f"levers.chips.capex_per_module={code}")
    assert r.exit_code == 2 and "is not a number" in r.stderr
    r = invoke("solve", TINY, "--json", "--set", f"case.name={code}")  # a text field keeps the text as it is
    assert r.exit_code == 0, r.stderr
    assert f'"case": "{code}"' in r.stdout
    assert not marker.exists()


@pytest.mark.parametrize(
    "spec,words",
    [
        ('parameters: !!python/object/apply:os.system ["touch {marker}"]', ["not valid YAML", "python/object/apply"]),
        (
            "parameters: [{path: levers.chips.capex_per_module, "
            "values: [\"__import__('os').system('touch {marker}')\"]}]",
            ["is not a valid capex_per_module"],
        ),
        ("parameters: [{path: levers.chips.capex_per_module, range: [a, b, 3]}]", ["wrong kind"]),
        (
            "samples: [1]\nmethod: lhs\nparameters: [{path: levers.chips.capex_per_module, low: 1, high: 2}]",
            ["wrong kind"],
        ),
    ],
)
def test_sweep_files_are_read_safely(tmp_path, spec, words):
    marker = tmp_path / "ran"
    (tmp_path / "sweep.yaml").write_text(spec.replace("{marker}", str(marker)), encoding="utf-8")
    r = invoke("sweep", TINY, "--spec", tmp_path / "sweep.yaml", "--out", tmp_path / "out")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    for w in words:
        assert w in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not marker.exists()


def test_set_values_of_a_sweep_file_are_never_evaluated(tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('os').system('touch {marker}')"
    spec = (
        f'set: ["levers.chips.capex_per_module={code}", "case.name={code}"]\n'
        "parameters: [{path: case.mip_gap, values: [0]}]\n"
    )
    (tmp_path / "sweep.yaml").write_text(spec, encoding="utf-8")
    r = invoke("sweep", TINY, "--spec", tmp_path / "sweep.yaml", "--out", tmp_path / "out")
    assert r.exit_code in (0, 2) and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    assert not marker.exists()


def test_no_input_is_evaluated_as_code():
    """No eval, exec, literal_eval, pickle or unsafe YAML anywhere in relief's code; the
    one yaml.load uses a subclass of the safe loader."""
    from relief.model.core import read as case

    assert issubclass(case._CaseYamlLoader, __import__("yaml").SafeLoader)
    unsafe = re.compile(
        r"\b(eval|exec|literal_eval|unsafe_load|full_load|pickle\.loads?|marshal\.loads?)\(|yaml\.load\((?!.*Loader=_CaseYamlLoader)"
    )
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for folder in ("model", "cli")
        for p in sorted((ROOT / folder).rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if unsafe.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_docs_inputs_md_is_generated_from_the_schema():
    """The safe-input rules are documented where the table reference is (docs/inputs.md)."""
    from relief.model.core.schema import reference_markdown

    text = (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8")
    assert text == reference_markdown()
    assert "Reading a case safely" in text and "RELIEF_MAX_FILE_MB" in text
