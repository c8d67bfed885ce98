"""Nothing lost (issue 5, item 5): `relief solve --out DIR` interrupted by SIGINT (Ctrl-C)
or SIGTERM at random moments, as real signals to real processes. DIR holds a previous
complete run; afterwards it holds exactly that run or exactly the complete new one (the
same files as an uninterrupted run, timings aside), never a mix, and no temporary
folder is left beside it. The process exits 130 (SIGINT) or 143 (SIGTERM) with one
short line and no traceback, and that line says truly whether DIR was changed.

The random moments are drawn from a seed printed on failure (RELIEF_TEST_SEED sets it).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")
TRIALS = 6  # alternately SIGINT and SIGTERM


from cliutil import relief_exe as _relief_exe  # noqa: E402

RELIEF = _relief_exe()


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def untimed(files: dict[str, bytes]) -> dict[str, bytes]:
    """The run's files with summary.json's solve_seconds line taken out (the one value that varies)."""
    out = dict(files)
    if "summary.json" in out:
        out["summary.json"] = re.sub(rb'^\s*"solve_seconds": .*\n', b"", out["summary.json"], flags=re.M)
    return out


def solve(cwd: Path, out: str, *args) -> float:
    t0 = time.monotonic()
    r = subprocess.run(
        [RELIEF, "solve", "--out", out, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV
    )
    assert r.returncode == 0, r.stderr
    return time.monotonic() - t0


def test_interrupted_solve_leaves_the_old_run_or_the_complete_new_one(tmp_path):
    seed = int(os.environ.get("RELIEF_TEST_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    # the previous run (half the yearly budgets) and what an uninterrupted new run writes
    solve(tmp_path, "old", "--set", "budget.*.public_budget_usd_bn*=0.5")
    took = solve(tmp_path, "new")
    old, new = files_of(tmp_path / "old"), untimed(files_of(tmp_path / "new"))
    assert untimed(old) != new
    outcomes = []
    for trial in range(TRIALS):
        sig = signal.SIGINT if trial % 2 == 0 else signal.SIGTERM
        run = tmp_path / "run"
        if run.exists():
            shutil.rmtree(run)
        shutil.copytree(tmp_path / "old", run)
        # half the moments anywhere in the run, half near its end (where the folder is written)
        # (not in Python's own first ~30 ms, before relief's code runs: a signal there has its
        # default effect, which leaves DIR alone too)
        delay = rng.uniform(0.2, took) if trial < TRIALS // 2 else rng.uniform(0.7 * took, 1.1 * took)
        proc = subprocess.Popen(
            [RELIEF, "solve", "--out", "run"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        where = f"seed {seed}, trial {trial}, {sig.name} after {delay:.2f} s: rc {proc.returncode}\n{err}"
        got = files_of(run)
        assert "Traceback" not in err, where
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old", "run"], where  # no temporary folder left
        if got == old:
            outcomes.append("old")
            assert proc.returncode in (128 + sig, -sig), where  # a run that ends normally has written its folder
        else:
            assert untimed(got) == new, f"{where}: the folder is neither the old run nor the complete new one"
            outcomes.append("new")
        if proc.returncode not in (0, -sig):
            assert proc.returncode == 128 + sig, where
            lines = [l for l in err.splitlines() if l.strip()]
            assert len(lines) == 1 and ("interrupted" if sig == signal.SIGINT else "terminated") in lines[0], where
            if "no output was changed" in err:
                assert outcomes[-1] == "old", where
            if "already written" in err:
                assert outcomes[-1] == "new", where
    print(f"seed {seed}: {outcomes}")
