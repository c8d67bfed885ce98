"""What the tests that run relief as a real process share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def relief_exe() -> str:
    """The `relief` console script installed next to this Python (the one under test)."""
    exe = shutil.which("relief", path=str(Path(sys.executable).parent)) or shutil.which("relief")
    if exe is None:
        pytest.fail("the relief console script is not installed next to this Python")
    return exe


# plain, wide, warning-free output, whatever the terminal running the tests
ENV = dict(os.environ, COLUMNS="120", NO_COLOR="1", PYTHONWARNINGS="ignore")


def run_in_process(*args, cwd=None) -> subprocess.CompletedProcess:
    """`relief ARGS` in-process (click's runner, exceptions not caught, so a traceback fails the
    test), as a CompletedProcess like the console script's: for the many variants of one check
    whose first variant runs through the console script (2 s of imports saved per variant)."""
    import contextlib
    import warnings

    from click.testing import CliRunner

    from relief.cli.main import main

    runner = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
    with contextlib.chdir(cwd or os.getcwd()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    return subprocess.CompletedProcess(["relief", *map(str, args)], r.exit_code, r.stdout, r.stderr)
