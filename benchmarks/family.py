"""A family of many-stance cases built from the shipped default case (issue 14).

The default case's stances are copied until there are N of them (round robin: stance i
of the default case gets copies i, i+5, i+10, ...). Each copy's tier thresholds
(tiers.csv `threshold`) and its commitment credit (scenarios.csv `commitment_credit`)
are multiplied by an independent draw from uniform(0.75, 1.25) (credit capped at 1;
a threshold of 0, the baseline tier, stays 0; a ladder's thresholds are kept strictly
increasing). Each stance's probability is split evenly among its copies. Every other
table is the default case's, copied row for row (rows of a stance once per copy).
The same N and seed always give the same case, byte for byte.

    python benchmarks/family.py --stances 64 --seed 1 --out /tmp/fam64
    relief solve /tmp/fam64

From Python: `write_family(out, stances=64, seed=1)`.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import pandas as pd

DEFAULT = Path(__file__).resolve().parent.parent / "inputs" / "korea-2026"
JITTER = 0.25


def write_family(out: str | Path, stances: int, seed: int = 1, base: str | Path = DEFAULT) -> Path:
    """Write the family case with `stances` stances to the folder `out` (replaced)."""
    base, out = Path(base), Path(out)
    rng = random.Random(seed)
    scen = pd.read_csv(base / "scenarios.csv", dtype=str, keep_default_na=False)
    names = list(scen["scenario"])
    copies = {n: [] for n in names}
    for i in range(stances):
        origin = names[i % len(names)]
        copies[origin].append(f"{origin}__{len(copies[origin]) + 1}")
    copies = {k: v for k, v in copies.items() if v}
    origin_of = {c: o for o, cs in copies.items() for c in cs}
    credit = {c: rng.uniform(1 - JITTER, 1 + JITTER) for c in origin_of}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for f in sorted(base.iterdir()):
        if f.suffix != ".csv":
            shutil.copy(f, out / f.name)
            continue
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "scenario" not in t.columns:
            t.to_csv(out / f.name, index=False)
            continue
        parts = []
        for copy, origin in origin_of.items():
            rows = t[t["scenario"] == origin].copy()
            rows["scenario"] = copy
            parts.append(rows)
        t = pd.concat(parts, ignore_index=True)
        if f.name == "scenarios.csv":
            p = t["probability"].astype(float) / t["scenario"].map(lambda c: len(copies[origin_of[c]]))
            t["probability"] = [repr(round(x, 12)) for x in p / p.sum()]
            k = t["commitment_credit"].astype(float) * t["scenario"].map(credit)
            t["commitment_credit"] = [repr(round(min(1.0, x), 6)) for x in k]
            t["notes"] = "benchmark family (benchmarks/family.py): credit and thresholds jittered +-25%"
        if f.name == "tiers.csv":
            t["threshold"] = _jittered_ladders(t, rng)
        t.to_csv(out / f.name, index=False)
    return out


def _jittered_ladders(tiers: pd.DataFrame, rng: random.Random) -> list[str]:
    """Each positive threshold times uniform(0.75, 1.25), each ladder kept increasing."""
    values = [float(x) for x in tiers["threshold"]]
    out = list(values)
    for _, idx in tiers.groupby(["scenario", "track"], sort=False).groups.items():
        last = 0.0
        for i in sorted(idx, key=lambda j: values[j]):
            if values[i] > 0:
                out[i] = max(round(values[i] * rng.uniform(1 - JITTER, 1 + JITTER), 4), last + 0.01)
                last = out[i]
    return [repr(x) for x in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stances", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    print(write_family(args.out, args.stances, args.seed))


if __name__ == "__main__":
    main()
