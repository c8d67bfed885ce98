"""What the tests that run relief as a real process share."""

from __future__ import annotations

import os
import shutil
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
