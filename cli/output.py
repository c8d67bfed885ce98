"""Write a run folder (`relief solve --out DIR`): the folder is replaced as a whole, atomically."""

from __future__ import annotations

from pathlib import Path

from relief.model.core.io import (
    atomic_dir,
    atomic_write_csv,
    atomic_write_json,
    check_out_dir,
    write_case_folder,
)

# What relief writes into a run folder; anything else found there (a planner's notes, a
# report) is carried over when the folder is replaced.
RUN_ENTRIES = (
    "summary.json",
    "roadmap.csv",
    "tiers.csv",
    "relief.csv",
    "spending.csv",
    "envelope_spending.csv",  # only with several funding envelopes
    "duty.csv",
    "sample_replications.csv",  # only with relief solve --sample
    "case",
)
# The columns of duty.csv (yearly, undiscounted USD bn; docs/outputs.md).
DUTY_COLUMNS = (
    "scenario",
    "year",
    "track",
    "sector",
    "exports",
    "rate",
    "duty_paid",
    "duty_no_delivery",
    "duty_current",
)
# The columns of tiers.csv, in order (model-spec section 4 first; the margin of the tier
# reached, and whether it is thin, last). The run workbook shows the margins beside the
# threshold instead (cli/workbook.py, its own TIER_COLUMNS).
TIER_COLUMNS = (
    "scenario",
    "track",
    "year",
    "tier",
    "score",
    "threshold",
    "required_score",
    "rate_changes",
    "relief",
    "base_tier",
    "next_tier",
    "next_threshold",
    "margin",
    "margin_rel",
    "thin",
)


def check_run_dir(out_dir: Path) -> None:
    """Refuse, before solving, a folder `write_run` would not replace (raises FolderInUse)."""
    check_out_dir(Path(out_dir), "summary.json")


def write_run(out_dir: Path, result, summary: dict, extra: dict | None = None) -> None:
    """summary.json, roadmap.csv, tiers.csv, relief.csv, spending.csv (with several funding
    envelopes also envelope_spending.csv: envelope, year, public_spend, budget), duty.csv and case/ (the case
    as solved, overrides applied), written into a new folder that then replaces out_dir
    in one step: after an interrupt, out_dir is the previous run or the complete new one."""
    with atomic_dir(Path(out_dir), "summary.json", RUN_ENTRIES) as tmp:
        ev = result.evaluation
        if ev is not None:
            atomic_write_csv(tmp / "roadmap.csv", ev.roadmap)
            atomic_write_csv(tmp / "tiers.csv", ev.tiers[list(TIER_COLUMNS)])
            atomic_write_csv(tmp / "relief.csv", ev.relief)
            atomic_write_csv(tmp / "spending.csv", ev.spending)
            atomic_write_csv(tmp / "duty.csv", duty_table(ev))
            if ev.envelope_spending["envelope"].nunique() > 1:
                atomic_write_csv(tmp / "envelope_spending.csv", ev.envelope_spending)
        for name, table in (extra or {}).items():  # more tables of RUN_ENTRIES (sample_replications.csv)
            atomic_write_csv(tmp / name, table)
        write_case_folder(result.case, tmp / "case")
        atomic_write_json(tmp / "summary.json", summary)


def duty_table(ev):
    """duty.csv: the evaluation's duty rows in DUTY_COLUMNS order (a header alone if none)."""
    import pandas as pd

    return ev.duty[list(DUTY_COLUMNS)] if len(ev.duty) else pd.DataFrame(columns=list(DUTY_COLUMNS))


def write_run_workbook(path: Path, result, summary: dict) -> None:
    """`relief solve --out run.xlsx`: one workbook to hand on (cli/workbook.py)."""
    from relief.cli.workbook import write_run_workbook as write

    write(path, result, summary)
