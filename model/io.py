"""Write results and cases to disk atomically: a planner never finds a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from .schema import INFO_COLUMNS, TABLES


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_file(path: Path, binary: bool = False):
    """A file object for `path`: written to a temporary file beside it, renamed into place
    only when the block ends without error (so readers see the old file or the whole new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes owner-only files; results are for sharing
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_file(path) as f:
        f.write(text)


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_jsonable) + "\n")


def atomic_write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write_text(path, df.to_csv(index=False, lineterminator="\n"))


def _jsonable(o):
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def case_to_text(case) -> dict[str, str]:
    """The files of a case folder (case.yaml and one CSV per non-empty table) as text."""
    files = {"case.yaml": yaml.safe_dump({k: v for k, v in case.meta.items() if v is not None}, sort_keys=False, allow_unicode=True)}
    for name, spec in TABLES.items():
        df = case.table(name)
        if spec.optional and not len(df):
            continue
        cols = [c.name for c in spec.columns] + [c for c in INFO_COLUMNS if c in df.columns]
        files[spec.file] = df[cols].to_csv(index=False, lineterminator="\n")
    return files


def write_case_folder(case, folder: Path) -> None:
    for name, text in case_to_text(case).items():
        atomic_write_text(Path(folder) / name, text)
