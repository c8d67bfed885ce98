"""A sweep's folder: points.csv grows one flushed line per finished point, so nothing
finished is ever lost, and `--resume` picks up exactly the points still missing.

Layout: sweep.json (the definition and its hash, written first), points.csv (one row per
point: point id, every varied parameter, status, expected_relief, public_spend, mip_gap,
solve_seconds, relief:SCENARIO for every scenario (its discounted relief if it comes true),
the total modules of every lever, message), summary.json (last: its
presence means the sweep finished), and the charts.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from relief.model.core.io import atomic_write_json, atomic_write_text
from relief.model.sweeps.spec import SweepError


def relief_column(scenario: str) -> str:
    """The points.csv column of a scenario's relief (discounted, if it comes true)."""
    return f"relief:{scenario}"


class SweepStore:
    def __init__(
        self,
        out_dir: Path,
        labels: list[str],
        levers: list[str],
        definition: dict,
        def_hash: str,
        resume: bool,
        scenarios=(),
    ):
        self.dir = Path(out_dir)
        self.labels, self.levers = list(labels), list(levers)
        self.scenarios = list(scenarios)
        self.columns = [
            "point",
            *self.labels,
            "status",
            "expected_relief",
            "public_spend",
            "mip_gap",
            "solve_seconds",
            *(relief_column(s) for s in self.scenarios),
            *self.levers,
            "message",
        ]
        self.path = self.dir / "points.csv"
        self.meta_path = self.dir / "sweep.json"
        self.done: dict[int, dict] = {}
        if self.path.exists() or self.meta_path.exists():
            if not resume:
                raise SweepError(
                    f"{self.dir} already holds a sweep: add --resume to continue it, or choose another --out"
                )
            self._load_existing(def_hash)
        elif resume and not self.dir.exists():
            raise SweepError(f"{self.dir}: nothing to resume (no such folder)")
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.meta_path.exists():
            atomic_write_json(
                self.meta_path, {"definition": definition, "definition_sha256": def_hash, "columns": self.columns}
            )
        new = not self.path.exists() or self.path.stat().st_size == 0  # a header cut short was trimmed away
        # open for the sweep's lifetime (each point appends one flushed line); close() ends it
        self._fh = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._fh, lineterminator="\n")
        if new:
            self._csv.writerow(self.columns)
            self._fh.flush()

    def _load_existing(self, def_hash: str) -> None:
        if not self.meta_path.exists():
            raise SweepError(f"{self.dir}: points.csv without sweep.json; not a relief sweep folder")
        for stale in self.dir.glob(".*.tmp"):  # an atomic write cut short by a kill -9
            if stale.is_file():
                stale.unlink()
        meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        if meta.get("definition_sha256") != def_hash:
            raise SweepError(
                f"{self.dir} holds a different sweep (other parameters, case or options); choose another --out"
            )
        if meta.get("columns") != self.columns:
            raise SweepError(f"{self.dir}: points.csv has other columns than this sweep")
        if not self.path.exists():
            return
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):  # a line cut short by a kill: drop it
            text = text[: text.rfind("\n") + 1]
            atomic_write_text(self.path, text)
        rows = list(csv.reader(io.StringIO(text)))
        if not rows:
            return
        if rows[0] != self.columns:
            raise SweepError(f"{self.path}: unexpected header")
        for r in rows[1:]:
            if len(r) != len(self.columns):
                continue
            row = dict(zip(self.columns, r))
            self.done[int(row["point"])] = row

    def append(self, row: dict, values: dict) -> dict:
        """Write one finished point and flush it; returns the flat row as written."""
        flat = {"point": row["point"], **{l: values.get(l, "") for l in self.labels}}
        for c in ("status", "expected_relief", "public_spend", "mip_gap", "solve_seconds"):
            v = row.get(c)
            flat[c] = "" if v is None else v
        by_scenario = row.get("by_scenario") or {}
        for sc in self.scenarios:
            flat[relief_column(sc)] = by_scenario.get(sc, "")
        modules = row.get("modules") or {}
        for l in self.levers:
            flat[l] = modules.get(l, "")
        flat["message"] = row.get("message", "")
        self._csv.writerow([flat[c] for c in self.columns])
        self._fh.flush()
        self.done[int(row["point"])] = {k: ("" if v is None else str(v)) for k, v in flat.items()}
        return flat

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def finalize(self, summary: dict) -> None:
        """Rewrite points.csv sorted by point (atomically), then write summary.json."""
        self.close()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for pid in sorted(self.done):
            w.writerow([self.done[pid].get(c, "") for c in self.columns])
        atomic_write_text(self.path, buf.getvalue())
        atomic_write_json(self.dir / "summary.json", summary)
