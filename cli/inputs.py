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


def load(case_path: Path | None) -> Case:
    """The case at CASE, or the shipped default case without it."""
    from relief.model.core.case import load_case

    return load_case(case_path if case_path is not None else default_case_path())


def check_levers(case: Case, force=(), exclude=()) -> None:
    """Unknown levers in --force/--exclude (or a lever both forced and excluded) are bad input
    (exit 2), said before any solve. The rule itself is the model's (`session.check_levers`)."""
    from relief.model.core.session import check_levers as model_check_levers  # Pyomo: only when needed

    try:
        model_check_levers(case, force, exclude)
    except ValueError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None


def prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed) -> tuple[Case, SolveOptions]:
    """(case with the overrides applied, solve options) for a command with `solve_options`;
    unknown levers in --force/--exclude are bad input (exit 2)."""
    from relief.model.core.options import SolveOptions
    from relief.model.core.overrides import apply_overrides

    work = apply_overrides(load(case), list(overrides))
    check_levers(work, force, exclude)
    return work, SolveOptions.resolve(work.meta, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed)


def asked(overrides=(), force=(), exclude=()) -> dict:
    """What was asked of the case, as every analysis's summary.json records it."""
    return {"overrides": list(overrides), "force": list(force), "exclude": list(exclude)}
