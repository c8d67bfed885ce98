"""What a command reads before it solves: the case (the shipped default without CASE),
the levers asked for, and the solver's options."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from relief.cli.errors import EXIT_INPUT, Failure

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions

DEFAULT_CASE_NAME = "korea-2026"


def default_case_path() -> Path:
    """The shipped default case, found from the installed package, from any directory."""
    return Path(str(files("relief.inputs") / DEFAULT_CASE_NAME))


def is_default_case(origin: str | Path) -> bool:
    """Whether a case's origin is the shipped default case (the package's own copy)."""
    try:
        return Path(origin).resolve() == default_case_path().resolve()
    except (OSError, ValueError):
        return False


def case_label(name: str, origin: str | Path) -> str:
    """Which case was solved, for a header: its name and the folder or workbook it was read
    from (resolved), and whether that is the shipped default case."""
    if str(origin) == "<memory>":
        return name
    where = Path(origin).resolve()
    if is_default_case(where):
        return f"{name} (the shipped default case, {where}; relief init DIR copies it to edit)"
    return f"{name} ({where})"


def load(case_path: Path | None) -> Case:
    """The case at CASE, or the shipped default case without it (with a warning on stderr
    if the current folder holds an edited inputs/korea-2026 that is not what is read)."""
    from relief.model.core.case import load_case

    if case_path is None:
        warn_edited_checkout()
    return load_case(case_path if case_path is not None else default_case_path())


def _case_files(folder: Path) -> dict[str, bytes]:
    """case.yaml and the CSV tables of a folder, by name, as bytes (what a solve reads)."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and (p.name == "case.yaml" or p.suffix == ".csv"):
            out[p.name] = p.read_bytes()
    return out


def edited_checkout(cwd: Path | None = None) -> Path | None:
    """The folder inputs/korea-2026 under the current directory (a checkout of relief) when
    it is not the shipped copy and its case.yaml or tables differ from it; else None."""
    shipped = default_case_path()
    try:
        here = (cwd or Path.cwd()) / "inputs" / DEFAULT_CASE_NAME
        if not here.is_dir() or here.resolve() == shipped.resolve():
            return None
        return here if _case_files(here) != _case_files(shipped) else None
    except OSError:
        return None


def warn_edited_checkout() -> None:
    """Say on stderr that an edited inputs/korea-2026 in the current folder is not what
    this command reads (the shipped default is), and how to use the edited one."""
    import click

    here = edited_checkout()
    if here is None:
        return
    ctx = click.get_current_context(silent=True)
    command = ctx.command_path if ctx is not None else "relief solve"
    click.echo(
        f"relief: warning: {here.relative_to(Path.cwd())} in this folder differs from the shipped default case, "
        f"which is what this command reads ({default_case_path()}): your edits there are NOT used. "
        f"To use them: {command} inputs/{DEFAULT_CASE_NAME}",
        err=True,
    )


def check_levers(case: Case, force=(), exclude=()) -> None:
    """Unknown levers in --force/--exclude (or a lever both forced and excluded) are bad input
    (exit 2), said before any solve. The rule itself is the model's (`session.check_levers`)."""
    from relief.model.core.session import check_levers as model_check_levers  # Pyomo: only when needed

    try:
        model_check_levers(case, force, exclude)
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None


def prepare(
    case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations: bool = False
) -> tuple[Case, SolveOptions]:
    """(case with the overrides applied, and without its obligations if asked; solve options) for a
    command with `solve_options`; unknown levers in --force/--exclude are bad input (exit 2)."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides

    work = apply_overrides(load(case), list(overrides))
    if without_obligations:
        work = work.without_obligations()
    check_levers(work, force, exclude)
    return work, SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)


def asked(overrides=(), force=(), exclude=(), without_obligations: bool = False) -> dict:
    """What was asked of the case, as every analysis's summary.json records it (without_obligations
    only when asked: the summaries of cases without obligations stay as they were)."""
    out = {"overrides": list(overrides), "force": list(force), "exclude": list(exclude)}
    return {**out, "without_obligations": True} if without_obligations else out
