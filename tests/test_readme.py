"""The README's walkthrough runs as written, in order, in a fresh copy of the checkout.

Every ```sh block of the section "A planner's walkthrough" is run line by line by bash
(comments stripped by bash itself), in a new temporary folder holding what a fresh clone
holds (no run folders, no sweeps, no virtual environment), with the `relief` under test
first on PATH. A block fails the test at its first command that exits non-zero; the
command, its exit code and the tail of its output are in the failure message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cliutil import ENV, relief_exe

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## A planner's walkthrough"

# what a fresh clone does not hold: build products anywhere, and at the top what a walkthrough
# leaves behind (examples/sweeps/ is part of the clone; ./sweeps/ is not)
BUILD = shutil.ignore_patterns(
    ".git", ".venv", ".ci-venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".ruff_cache",
    ".hypothesis",
)  # fmt: skip
LEFT_BEHIND = {"runs", "sweeps", "my-case", "frontier"}


def not_in_a_clone(folder: str, names: list[str]) -> set[str]:
    ignored = set(BUILD(folder, names))
    if Path(folder) == ROOT:
        ignored |= {n for n in names if n in LEFT_BEHIND or n.endswith((".xlsx", ".html"))}
    return ignored


def walkthrough_blocks(text: str) -> list[str]:
    """The ```sh blocks between the walkthrough's heading and the next second-level heading."""
    start = text.index(SECTION)
    nxt = text.find("\n## ", start + len(SECTION))
    section = text[start : nxt if nxt != -1 else len(text)]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def commands(block: str) -> list[str]:
    """The block's command lines (blank lines and whole-line comments left out)."""
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_walkthrough_has_the_blocks_a_planner_reads():
    blocks = walkthrough_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    lines = [c for b in blocks for c in commands(b)]
    assert len(blocks) >= 4 and len(lines) >= 25
    assert all(c.startswith("relief ") for c in lines), [c for c in lines if not c.startswith("relief ")]
    # every folder or file a later command reads is made by an earlier one
    made: set[str] = set()
    for c in lines:
        for name in ("runs/base", "runs/no-smelter", "runs/value", "my-case.xlsx", "run.xlsx"):
            reads = re.search(rf"(?<![\w/-]){re.escape(name)}(?![\w.-])", c) and not re.search(
                rf"--out {re.escape(name)}(?![\w.-])", c
            )
            if reads:
                assert name in made, f"{c!r} reads {name} before any command makes it"
        for out in re.findall(r"--out (\S+)", c):
            made.add(out)
        if c.startswith("relief init "):
            made.add(c.split()[2])


def sweep_block(blocks: list[str]) -> int:
    """The index of the sweeps block: it reads nothing an earlier block made (checked by
    test_the_walkthrough_has_the_blocks_a_planner_reads), so tests/test_readme_sweeps.py runs it in
    its own fresh copy, on the other test process, while this file runs the rest in order."""
    (i,) = [i for i, b in enumerate(blocks) if any(c.startswith("relief sweep ") for c in commands(b))]
    return i


def run_blocks(tmp_path, pick) -> Path:
    """Run the walkthrough blocks `pick(blocks)` chooses, in order, in a fresh copy of the checkout."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=not_in_a_clone)
    bindir = str(Path(relief_exe()).parent)
    env = dict(ENV, PATH=bindir + os.pathsep + ENV.get("PATH", ""))
    blocks = walkthrough_blocks((clone / "README.md").read_text(encoding="utf-8"))
    assert blocks
    for i, block in pick(blocks):
        for line in commands(block):
            run = subprocess.run(
                ["bash", "-o", "pipefail", "-c", line],
                cwd=clone,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if run.returncode != 0:
                pytest.fail(
                    f"README walkthrough block {i}: {line!r} exited {run.returncode}\n"
                    f"stdout (tail): {run.stdout[-1500:]}\nstderr (tail): {run.stderr[-1500:]}"
                )
    return clone


def test_the_sweeps_block_reads_nothing_made_before_it():
    """What lets tests/test_readme_sweeps.py run the sweeps block on its own: none of its lines
    reads a folder or file an earlier block writes."""
    blocks = walkthrough_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    k = sweep_block(blocks)
    made = {o for b in blocks[:k] for c in commands(b) for o in re.findall(r"--out (\S+)", c)}
    made |= {c.split()[2] for b in blocks[:k] for c in commands(b) if c.startswith("relief init ")}
    for c in commands(blocks[k]):
        assert not [m for m in made if re.search(rf"(?<![\w/-]){re.escape(m)}(?![\w.-])", c)], c


def test_every_block_runs_as_written_in_order(tmp_path):
    """Every block but the sweeps block (tests/test_readme_sweeps.py), in order, in one fresh copy."""
    clone = run_blocks(
        tmp_path, lambda blocks: [(i, b) for i, b in enumerate(blocks, 1) if i - 1 != sweep_block(blocks)]
    )
    # what the blocks promise to leave behind is there
    made = ("my-case/case.yaml", "my-case/README.md", "runs/base/summary.json", "runs/no-smelter/summary.json",
            "runs/value", "my-case.xlsx", "run.xlsx", "base.html", "cmp.html", "full.html", "run.html")  # fmt: skip
    assert [m for m in made if not (clone / m).exists()] == []
