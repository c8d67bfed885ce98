"""The small manners of the command line (issue 11): a closed pipe is not an error, --help
lists every exit code, --out says what it wrote and where, --risk is echoed as typed, and
--force on a lever the optimum already commits says that it changed nothing.

Every command runs as the real console script (tests/cliutil.py), on the tiny case
(examples/tiny/README.md: the optimum commits 2 modules of chips and nothing else, relief 2.2;
forcing the smelter gives 1.4).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cliutil import ENV, relief_exe

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
RELIEF = relief_exe()


def relief(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([RELIEF, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV)


def piped(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """`relief COMMAND | ...` in bash with pipefail: the exit code is relief's own."""
    line = f"set -o pipefail; {shlex.quote(RELIEF)} {command}"
    return subprocess.run(["bash", "-c", line], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV)


@pytest.fixture
def work(tmp_path) -> Path:
    shutil.copytree(TINY, tmp_path / "tiny")
    return tmp_path


# ---------------------------------------------------------------- a closed pipe


@pytest.mark.parametrize(
    "command",
    [
        "solve tiny | true",  # `true` never reads: every write of relief meets a closed pipe
        "solve tiny | head -1",
        "solve tiny --json | true",
        "--help | true",
    ],
)
def test_a_closed_pipe_is_not_an_error(work, command):
    run = piped(command, work)
    assert run.returncode == 0, run
    # nothing on stderr but the tiny case's own warning (lng scores in no weighted pillar)
    assert all(l.startswith("warning: levers.csv") for l in run.stderr.splitlines()), run


def test_a_closed_pipe_keeps_the_exit_code_of_an_infeasible_request(work):
    run = piped("solve tiny --force smelter --set case.total_public_budget=1 | true", work)
    assert run.returncode == 3, run
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr, run


BROKEN_ELSEWHERE = """
import click
from relief.cli.errors import guarded

@click.command()
@guarded
def c():
    raise BrokenPipeError(32, "Broken pipe")  # a worker's or a scheduler's pipe, not stdout

@click.group()
@click.pass_context
def g(ctx):
    ctx.obj = {}

g.add_command(c)
g(["c"])
"""


def test_a_broken_pipe_other_than_stdout_is_still_an_error(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text(BROKEN_ELSEWHERE, encoding="utf-8")
    run = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60, env=ENV)
    assert run.returncode == 4 and "BrokenPipeError" in run.stderr, run


# ---------------------------------------------------------------- --help


def test_help_lists_every_exit_code(work):
    run = relief("--help", cwd=work)
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    for code, words in (("0", "solved"), ("2", "invalid"), ("3", "infeasible"), ("4", "no solution")):
        assert f"{code} {words}" in text, text
    assert "130 interrupted (Ctrl-C)" in text and "143 terminated (SIGTERM)" in text, text


# ---------------------------------------------------------------- --out says what it wrote


def test_solve_out_folder_says_what_it_wrote(work):
    run = relief("solve", "tiny", "--out", "runs/base", "--json", cwd=work)
    assert run.returncode == 0, run.stderr
    json.loads(run.stdout)  # stdout stays one JSON object
    line = next(l for l in run.stderr.splitlines() if l.startswith("relief: wrote"))
    assert line == (
        "relief: wrote runs/base/: summary.json, roadmap.csv, tiers.csv, relief.csv, spending.csv, duty.csv, case/"
    )
    for name in line.split(": ", 2)[2].split(", "):
        assert (work / "runs" / "base" / name.rstrip("/")).exists(), name


def test_solve_out_workbook_says_what_it_wrote(work):
    run = relief("solve", "tiny", "--out", "run.xlsx", cwd=work)
    assert run.returncode == 0, run.stderr
    assert (work / "run.xlsx").is_file()
    line = next(l for l in run.stderr.splitlines() if l.startswith("relief: wrote"))
    assert line.startswith("relief: wrote run.xlsx: sheets summary, "), line
    assert "wrote" not in run.stdout  # the terminal summary is stdout's; the line is stderr's


def test_an_analysis_out_says_what_it_wrote(work):
    run = relief("marginal", "tiny", "--out", "m", "--json", cwd=work)
    assert run.returncode == 0, run.stderr
    json.loads(run.stdout)
    assert "relief: wrote m/: marginal.csv, summary.json" in run.stderr.splitlines(), run.stderr
    assert (work / "m" / "marginal.csv").is_file() and (work / "m" / "summary.json").is_file()


def test_no_out_no_wrote_line(work):
    run = relief("solve", "tiny", cwd=work)
    assert run.returncode == 0 and "wrote" not in run.stderr, run.stderr


# ---------------------------------------------------------------- --risk as typed


def test_risk_is_echoed_as_typed(work):
    run = relief("solve", "tiny", "--risk", "worst", "--set", "budget.2027.public_budget_usd_bn=2.5", cwd=work)
    assert run.returncode == 0, run.stderr
    asked = next(l for l in run.stdout.splitlines() if "as asked" in l)
    assert "--risk worst" in asked and "--set budget.2027.public_budget_usd_bn=2.5" in asked, asked
    assert "risk_measure" not in asked, asked

    obj = json.loads(relief("solve", "tiny", "--risk", "worst", "--json", cwd=work).stdout)
    assert obj["risk_option"] == "worst"
    assert obj["overrides"] == ["case.risk_measure=worst"]  # what it stands for, kept for a rerun

    assert relief("solve", "tiny", "--risk", "cvar:0.5:0.5", "--out", "r", cwd=work).returncode == 0
    rep = relief("report", "r", "--out", "r.html", cwd=work)
    assert rep.returncode == 0, rep.stderr
    html = (work / "r.html").read_text(encoding="utf-8")
    assert "--risk cvar:0.5:0.5" in html and "case.risk_measure" not in html


# ---------------------------------------------------------------- --force that changed nothing


def test_forcing_a_lever_the_optimum_commits_says_it_changed_nothing(work):
    """chips is in the optimum (2 modules): forcing it changes nothing."""
    run = relief("solve", "tiny", "--force", "chips", "--json", cwd=work)
    assert run.returncode == 0, run.stderr
    note = "--force chips changed nothing: the optimal roadmap already commits it"
    assert json.loads(run.stdout)["notes"] == [note]
    assert f"relief: note: {note}" in run.stderr.splitlines(), run.stderr


def test_forcing_a_lever_the_optimum_leaves_out_says_nothing(work):
    """The smelter is not in the optimum: forced, relief falls from 2.2 to 1.4, no note."""
    run = relief("solve", "tiny", "--force", "smelter", "--json", cwd=work)
    assert run.returncode == 0, run.stderr
    obj = json.loads(run.stdout)
    assert obj["expected_relief"] == pytest.approx(1.4)
    assert obj["notes"] == [] and "changed nothing" not in run.stderr


def test_a_sweep_says_where_its_folder_is(work):
    """A sweep writes its folder with or without --out (sweeps/CASE-KIND-HASH): the same line."""
    run = relief("frontier", "tiny", "--param", "case.total_public_budget", "--out", "fr", "--json", cwd=work)
    assert run.returncode == 0, run.stderr
    json.loads(run.stdout)
    line = next(l for l in run.stderr.splitlines() if l.startswith("relief: wrote"))
    assert line.startswith("relief: wrote fr/: ") and "frontier.csv" in line and "points.csv" in line, line
    for name in line.split(": ", 2)[2].split(", "):
        assert (work / "fr" / name).is_file(), name
