"""Write results and cases to disk atomically: a planner never finds a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from relief.model.core.schema import CASE_FIELDS, INFO_COLUMNS, TABLES

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
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class FolderInUse(ValueError):
    """An output folder relief will not replace (it holds files that are not relief's)."""


def check_out_dir(path: Path, marker: str) -> None:
    """`path` may become an output folder: missing, empty, or one this program wrote (holds `marker`)."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise FolderInUse(
                f"{path} exists and is not a plain folder (a file or a link); choose a new or empty folder"
            )
        if path.resolve() == Path.cwd().resolve():
            raise FolderInUse(f"{path} is the current folder; choose a new or empty folder")
        if any(path.iterdir()) and not (path / marker).exists():
            raise FolderInUse(
                f"{path} is not empty and was not written by relief (no {marker}); choose a new or empty folder"
            )


@contextmanager
def atomic_dir(path: Path, marker: str, owned: tuple = ()):
    """A fresh folder to fill, put in place of `path` as a whole only when the block ends
    without error: readers (and a planner after Ctrl-C, SIGTERM or a crash) find either
    the previous folder, untouched, or the complete new one, never a mix.

    The new folder is written as a hidden sibling, then swapped with the old one in one
    step (Linux renameat2 RENAME_EXCHANGE; elsewhere two renames, with SIGINT and SIGTERM
    held back in between), and the old one is deleted. An existing `path` is replaced
    only if it is empty or holds `marker` (a folder this program wrote); entries in it that
    are not `owned` (not among the names this program writes: e.g. a planner's notes)
    are copied into the new folder first, so nothing of the planner's is lost."""
    import shutil

    path = Path(path)
    parent = path.parent
    check_out_dir(path, marker)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
        if path.exists():
            for entry in path.iterdir():
                if entry.name not in owned and not (tmp / entry.name).exists():
                    (shutil.copytree if entry.is_dir() and not entry.is_symlink() else shutil.copy2)(
                        entry, tmp / entry.name
                    )
        _fsync_dir(tmp)
        with _signals_held():
            if path.exists():
                _swap(tmp, path)  # tmp now holds the old folder
            else:
                os.rename(tmp, path)
            _fsync_dir(parent)
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():  # the unfinished new folder
            with _signals_held():
                shutil.rmtree(tmp, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _swap(a: Path, b: Path) -> None:
    """Exchange two folders atomically where the system can; else rename b aside, a into place."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
        AT_FDCWD, RENAME_EXCHANGE = -100, 2
        if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
            return
    except (AttributeError, OSError):
        pass
    aside = Path(tempfile.mkdtemp(prefix=f".{b.name}.", suffix=".old", dir=b.parent))
    os.rmdir(aside)
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait (in the main thread) until the block is over."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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
    files = {
        "case.yaml": yaml.safe_dump(
            {k: v for k, v in case.meta.items() if v is not None}, sort_keys=False, allow_unicode=True
        )
    }
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


def schema_notes() -> pd.DataFrame:
    """One row per column of every table: the notes sheet of a case workbook."""
    rows = [
        {
            "sheet": "case",
            "column": f.name,
            "type": f.kind,
            "required": "yes" if f.required else "no",
            "range": _range_text(f),
            "refers to": "",
            "meaning": f.description,
        }
        for f in CASE_FIELDS.values()
    ]
    for t in TABLES.values():
        for c in t.columns:
            required = "optional sheet" if t.optional else ("yes" if c.required else f"no (default {c.default})")
            rows.append(
                {
                    "sheet": t.name,
                    "column": c.name,
                    "type": c.kind,
                    "required": required,
                    "range": _range_text(c),
                    "refers to": c.refers_to or "",
                    "meaning": c.description,
                }
            )
        for c in INFO_COLUMNS:
            rows.append(
                {
                    "sheet": t.name,
                    "column": c,
                    "type": "text",
                    "required": "no",
                    "range": "",
                    "refers to": "",
                    "meaning": "for people: ignored by the model, kept for reports",
                }
            )
    return pd.DataFrame(rows)


def _range_text(spec) -> str:
    lo = "" if spec.min is None else (f"> {spec.min:g}" if spec.min_exclusive else f">= {spec.min:g}")
    hi = "" if spec.max is None else f"<= {spec.max:g}"
    return ", ".join(x for x in (lo, hi) if x)


def write_workbook(path: Path, sheets: dict) -> None:
    """Write DataFrames as the sheets of one .xlsx file, atomically."""
    with atomic_file(path, binary=True) as f, pd.ExcelWriter(f, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name[:31], index=False)


def write_case_workbook(case, path: Path) -> None:
    """A case as one workbook: a sheet per table (as `relief solve case.xlsx` reads it), a
    `case` sheet of field/value, and a `notes` sheet with every column's meaning and units."""
    sheets = case_sheets(case)
    sheets["notes"] = schema_notes()
    write_workbook(path, sheets)


def case_sheets(case) -> dict[str, pd.DataFrame]:
    """A case as the sheets of a case workbook: `case` (field, value), then one per table
    with the schema's columns and the columns for people (name, source, notes, ...)."""
    sheets = {"case": pd.DataFrame([{"field": k, "value": v} for k, v in case.meta.items() if v is not None])}
    for name, spec in TABLES.items():
        df = case.table(name)
        cols = [c.name for c in spec.columns] + [c for c in INFO_COLUMNS if c in df.columns]
        sheets[name] = df[cols] if len(df) else pd.DataFrame(columns=cols)
    return sheets
