"""Write a run folder (`relief solve --out DIR`): every file written atomically."""

from __future__ import annotations

from pathlib import Path

from relief.model.io import atomic_write_csv, atomic_write_json, write_case_folder


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
