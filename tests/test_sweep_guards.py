"""Guards of a sweep (issue 11, items 9 and the Dask scheduler): a long sweep asks first
(off a terminal: refuses without --yes), an empty value is an error, an unreachable
scheduler fails at once with exit 2, and none of these leaves a folder behind."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cliutil import ENV, relief_exe

from relief.model.sweeps.spec import SweepError, load_spec, parse_vary

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "tiny"
GRID = ["--vary", "case.total_public_budget=0:6:12", "--no-reuse"]


def relief(*args, cwd: Path, env=None, timeout: float = 120):
    return subprocess.run(
        [relief_exe(), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or ENV,
        stdin=subprocess.DEVNULL,  # not a terminal
    )


@pytest.fixture
def work(tmp_path) -> Path:
    shutil.copytree(TINY, tmp_path / "tiny")
    return tmp_path


# a threshold of a millisecond makes any sweep "long"
LOW = dict(ENV, RELIEF_SWEEP_CONFIRM_SECONDS="0.001")


def test_long_sweep_off_a_terminal_is_refused_and_leaves_nothing(work):
    r = relief("sweep", "tiny", *GRID, "--out", "s", cwd=work, env=LOW)
    assert r.returncode == 2, r.stderr
    assert "this sweep has 12 points and would take about" in r.stderr
    assert "on 1 worker" in r.stderr and "--yes" in r.stderr and "nothing was kept" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (work / "s").exists()
    # the same command can be run again at once: nothing blocks it
    r = relief("sweep", "tiny", *GRID, "--out", "s", "--yes", "--json", cwd=work, env=LOW)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"optimal": 12}
    assert (work / "s" / "summary.json").exists()


def test_short_sweep_is_not_asked_about(work):
    r = relief("sweep", "tiny", *GRID, "--out", "s", "--json", cwd=work)  # threshold 10 minutes
    assert r.returncode == 0, r.stderr
    assert "would take about" not in r.stderr
    assert json.loads(r.stdout)["finished"] == 12


def test_refused_resume_keeps_the_finished_points(work):
    vary = ("--vary", "case.total_public_budget=0:6:6", "--no-reuse")
    r = relief("sweep", "tiny", *vary, "--out", "s", cwd=work)
    assert r.returncode == 0, r.stderr
    (work / "s" / "summary.json").unlink()
    lines = (work / "s" / "points.csv").read_text().splitlines()
    (work / "s" / "points.csv").write_text("\n".join(lines[:2]) + "\n")  # one point of six left
    r = relief("sweep", "tiny", *vary, "--out", "s", "--resume", cwd=work, env=LOW)
    assert r.returncode == 2, r.stderr
    assert "--resume and --yes" in r.stderr
    assert (work / "s" / "points.csv").exists()


def test_frontier_has_yes_too(work):
    r = relief("frontier", "tiny", "--range", "0:6:12", "--no-reuse", "--out", "f", cwd=work, env=LOW)
    assert r.returncode == 2 and "would take about" in r.stderr, r.stderr
    assert not (work / "f").exists()


def test_empty_value_in_a_list_is_an_error(work):
    r = relief("sweep", "tiny", "--vary", "case.total_public_budget=0.5,,1.5", cwd=work)
    assert r.returncode == 2
    assert "value 2 of 3 is empty" in r.stderr and "0.5,,1.5" in r.stderr
    assert not (work / "sweeps").exists()


@pytest.mark.parametrize("text", ["x.y=1,", "x.y=,1", "x.y=1,,2", "x.y=1, ,2"])
def test_parse_vary_names_the_empty_item(text):
    with pytest.raises(SweepError, match="is empty"):
        parse_vary(text)


@pytest.mark.parametrize("values", ["[1, null, 2]", "[1, '', 2]", "[1, ' ', 2]"])
def test_spec_file_empty_value_is_an_error(tmp_path, values):
    f = tmp_path / "s.yaml"
    f.write_text(f"method: grid\nparameters:\n  - path: case.total_public_budget\n    values: {values}\n")
    with pytest.raises(SweepError, match=r"case.total_public_budget: value 2 of 3 is empty"):
        load_spec(f)


def test_unreachable_scheduler_exits_2_and_leaves_nothing(work):
    pytest.importorskip("distributed")
    args = ("sweep", "tiny", "--vary", "case.total_public_budget=0:6:3", "--out", "d")
    r = relief(*args, "--scheduler", "tcp://127.0.0.1:9", cwd=work, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "relief: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr
    assert "unexpected" not in r.stderr and "Traceback" not in r.stderr
    assert not (work / "d").exists()  # so nothing blocks the same sweep run again


def test_frontier_default_range_is_what_the_docs_say():
    """The default top of the total budget is 1.5 x the uncapped optimum's spending to 2 digits:
    since issue 12 the optimum spends 98.524 (`relief solve --json`, MASGA and defence pledges
    included), so 150 (it was 110 = 1.5 x 73.5 before)."""
    from relief.model.core.case import load_case
    from relief.model.sweeps.frontier import default_high, frontier_definition

    case = load_case(ROOT / "inputs" / "korea-2026")
    assert default_high(case, "case.total_public_budget") == 150  # 1.5 x 98.524, to 2 digits
    defn, p = frontier_definition(case, "levers.us_fab_module.capex_per_module*", None)
    assert (p.values[0], p.values[-1], len(p.values)) == (0, 2, 21)
    docs = (ROOT / "docs" / "sweeps.md").read_text()
    assert "spans 0 to 150" in docs and "twice the case's\n" not in docs


def _on_a_terminal(args, cwd: Path, answer: str) -> tuple[int, str]:
    """Run relief with a pseudo-terminal as stdin/stdout/stderr, answering the question."""
    import os
    import pty
    import time

    master, slave = pty.openpty()
    p = subprocess.Popen([relief_exe(), *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=LOW)
    os.close(slave)
    seen, answered, t0 = b"", False, time.time()
    while time.time() - t0 < 120:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the process ended
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Go on?" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
    rc = p.wait(timeout=60)
    os.close(master)
    return rc, seen.decode(errors="replace")


@pytest.mark.parametrize("answer", ["n", "y"])
def test_on_a_terminal_the_planner_is_asked(work, answer):
    rc, seen = _on_a_terminal(["sweep", "tiny", *GRID, "--out", "s"], work, answer)
    assert "this sweep has 12 points and would take about" in seen and "Go on? [y/N]" in seen
    if answer == "n":
        assert rc == 2 and "stopped at your answer" in seen
        assert not (work / "s").exists()
    else:
        assert rc == 0, seen[-2000:]
        assert (work / "s" / "summary.json").exists()
