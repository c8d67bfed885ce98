"""Test-run order: the longest test files first, so that with two processes (pytest-xdist,
`--dist loadfile`) neither waits alone at the end for a long file started last."""

from __future__ import annotations

# the files that take longest, measured with --durations on 2 cores (README walkthrough ~3 min)
LONG_FIRST = (
    "test_readme.py",
    "test_readme_sweeps.py",
    "test_sweep.py",
    "test_report.py",
    "test_excel.py",
    "test_infeasible.py",
    "test_risk.py",
)


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the others is kept
