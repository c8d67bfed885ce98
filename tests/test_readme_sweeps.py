"""The README walkthrough's sweeps block, as written, in a fresh copy of the checkout.

It reads nothing an earlier block makes (tests/test_readme.py checks that), so it runs here,
in its own file, which pytest-xdist gives to the other test process: the walkthrough's two
longest parts then run side by side instead of one after the other.
"""

from __future__ import annotations

from test_readme import run_blocks, sweep_block


def test_the_sweeps_block_runs_as_written(tmp_path):
    clone = run_blocks(tmp_path, lambda blocks: [(sweep_block(blocks) + 1, blocks[sweep_block(blocks)])])
    assert (clone / "sweeps" / "budget" / "points.csv").exists()
    assert (clone / "sweeps" / "budget" / "summary.json").exists()
