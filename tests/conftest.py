"""Test-run order: the longest test files first, so that with two processes (pytest-xdist,
`--dist loadfile`) neither waits alone at the end for a long file started last."""

from __future__ import annotations

# the files that take longest (CPU seconds measured one file at a time with -n 0, Nov 2026: README
# walkthrough ~175 + ~90 s, sweep ~146, Excel ~90, report ~66, limits ~60, infeasible ~49, fuzz ~46, risk ~39)
LONG_FIRST = (
    "test_readme.py",
    "test_readme_sweeps.py",
    "test_sweep.py",
    "test_report.py",
    "test_excel.py",
    "test_limits.py",
    "test_infeasible.py",
    "test_fuzz.py",
    "test_risk.py",
)


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the others is kept
