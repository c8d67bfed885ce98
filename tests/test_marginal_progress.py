"""`relief marginal` shows a progress bar while it re-solves (issue 11): one callback per
limit, a bar on a terminal's stderr, nothing that could spoil --json."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from cliutil import ENV, relief_exe

from relief.model.analyses.marginal import marginal_values
from relief.model.core.case import load_case
from relief.model.core.options import SolveOptions

TINY = Path(__file__).resolve().parents[1] / "examples" / "tiny"


def test_progress_is_called_once_per_limit_in_order():
    calls = []
    m = marginal_values(load_case(TINY), SolveOptions(), on_progress=lambda *a: calls.append(a))
    n = len(m.values)
    assert n >= 3
    assert calls[0] == (0, n, None)
    assert [c[0] for c in calls] == list(range(n + 1))  # 0, then once after each limit
    assert all(c[1] == n for c in calls)
    assert [c[2] for c in calls[1:]] == [v.limit.name for v in m.values]


def test_json_stdout_stays_pure_json():
    r = subprocess.run(
        [relief_exe(), "marginal", str(TINY), "--json"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["analysis"] == "marginal"
    assert "marginal ━" not in r.stderr


def test_a_terminal_sees_the_bar_on_stderr_and_a_pipe_does_not():
    # stderr a terminal (a pty), stdout a pipe: the bar goes to the terminal only
    master, slave = pty.openpty()
    p = subprocess.Popen(
        [relief_exe(), "marginal", str(TINY)],
        stdout=subprocess.PIPE,
        stderr=slave,
        env={k: v for k, v in ENV.items() if k != "NO_COLOR"},
    )
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read().decode()
    assert p.wait(timeout=120) == 0
    os.close(master)
    assert "marginal" in err.decode(errors="replace") and "/4" in err.decode(errors="replace")
    assert "Marginal values of the limits" in out and "━" not in out
