"""Write a run folder (`relief solve --out DIR`): every file written atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from relief.model.io import atomic_write_csv, atomic_write_json, write_case_folder, write_workbook


def write_run(out_dir: Path, result, summary: dict) -> None:
    """summary.json, roadmap.csv, tiers.csv, relief.csv, spending.csv and case/ (the case
    as solved, overrides applied). Tables first, summary last: a summary.json on disk
    means the run folder is complete."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ev = result.evaluation
    if ev is not None:
        atomic_write_csv(out_dir / "roadmap.csv", ev.roadmap)
        tiers = ev.tiers[["scenario", "track", "year", "tier", "score", "threshold", "rate_changes", "relief", "base_tier", "next_tier", "next_threshold"]]
        atomic_write_csv(out_dir / "tiers.csv", tiers)
        atomic_write_csv(out_dir / "relief.csv", ev.relief)
        atomic_write_csv(out_dir / "spending.csv", ev.spending)
    write_case_folder(result.case, out_dir / "case")
    atomic_write_json(out_dir / "summary.json", summary)


def write_run_workbook(path: Path, result, summary: dict) -> None:
    """`relief solve --out run.xlsx`: the results tables as sheets of one workbook."""
    flat = {k: (v if not isinstance(v, (dict, list)) else str(v)) for k, v in summary.items()}
    sheets = {"summary": pd.DataFrame([{"field": k, "value": v} for k, v in flat.items()])}
    ev = result.evaluation
    if ev is not None:
        sheets.update({"roadmap": ev.roadmap, "tiers": ev.tiers, "relief": ev.relief, "spending": ev.spending,
                       "by_scenario": pd.DataFrame([{"scenario": s, "relief": v} for s, v in ev.by_scenario.items()])})
    write_workbook(path, sheets)
