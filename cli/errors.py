"""The error boundary of the `relief` commands: the exit codes of the contract and
`guarded`, which turns every error into a few plain lines on stderr.

Exit codes: 0 solved (optimal, or a plan found at a time or gap limit, with its status
said); 2 invalid input or usage; 3 infeasible; 4 no solution or solver failure;
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A closed stdout (`relief solve | head`)
is not an error: relief stops writing and exits 0.
Errors are one or a few plain lines on stderr, never a traceback (unless --debug).
"""

from __future__ import annotations

import functools
import signal

import click

from relief.cli.signals import Terminated

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_FAILED = 0, 2, 3, 4


class Failure(Exception):
    """An error to report in plain words with an exit code."""

    def __init__(self, code: int, lines):
        self.code = code
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


def stdout_is_closed() -> bool:
    """Whether stdout's reader went away (its pipe reports an error), as opposed to a broken
    pipe elsewhere (a worker process, a scheduler's socket), which is an error."""
    import select
    import sys

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows) or no real stdout: trust the error
        return True


def stdout_closed() -> None:
    """The reader of stdout went away (`relief solve | head -1`): not an error. Whatever is
    still to be printed goes nowhere, so that Python's last flush cannot fail either."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor behind stdout (tests)
        pass


def interrupted_code(e: KeyboardInterrupt) -> int:
    return 128 + signal.SIGTERM if isinstance(e, Terminated) else 130


def note_written(path) -> None:
    """Remember that a result is on disk, so that an interrupt after it says so."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().obj is not None:
        ctx.find_root().obj.setdefault("written", []).append(str(path))


def say_written(path, entries=()) -> None:
    """One line on stderr (stdout stays the result, pure JSON with --json): what --out wrote
    and where, e.g. 'relief: wrote runs/base/: summary.json, roadmap.csv, ..., case/'."""
    from pathlib import Path

    path = Path(path)
    where = f"{path}/" if path.is_dir() else str(path)
    click.echo(f"relief: wrote {where}" + (f": {', '.join(entries)}" if entries else ""), err=True)


def _fail(ctx: click.Context, exc: Failure):
    for line in exc.lines:
        click.echo(line, err=True)
    ctx.exit(exc.code)


def guarded(fn):
    """Turn every error into short lines on stderr and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = (ctx.find_root().obj or {}).get("debug", False)
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError as e:
            if not stdout_is_closed():  # another pipe (a worker's, a scheduler's): a real error
                _fail(ctx, _failure(e, debug) or Failure(EXIT_FAILED, f"relief: {e}"))
            stdout_closed()
            ctx.exit(EXIT_OK)
        except Failure as e:
            _fail(ctx, e)
        except KeyboardInterrupt as e:
            _interrupted(ctx, e)
        except Exception as e:
            # an interrupt while a C extension (pandas) is being imported surfaces as another error
            interrupt = _interrupt_in(e)
            if interrupt is not None:
                _interrupted(ctx, interrupt)
            failure = _failure(e, debug)
            if failure is None:
                raise
            _fail(ctx, failure)

    return wrapper


def _interrupt_in(e: BaseException) -> KeyboardInterrupt | None:
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def _interrupted(ctx: click.Context, e: KeyboardInterrupt) -> None:
    written = (ctx.find_root().obj or {}).get("written")
    what = "terminated" if isinstance(e, Terminated) else "interrupted"
    click.echo(
        f"relief: {what}; "
        + (f"the results were already written to {', '.join(written)}" if written else "no output was changed"),
        err=True,
    )
    ctx.exit(interrupted_code(e))


def _failure(e: Exception, debug: bool) -> Failure | None:
    """The plain words for a model's error; None: re-raise it (--debug shows the traceback)."""
    from relief.model.analyses.compare import CompareError
    from relief.model.core.case import CaseError
    from relief.model.core.information import OneRoadmapOnly
    from relief.model.core.io import FolderInUse
    from relief.model.core.overrides import OverrideError
    from relief.model.core.run import CheckError

    if isinstance(e, CompareError):  # bad input, said in a line even with --debug
        return Failure(EXIT_INPUT, f"relief: {e}")
    if isinstance(e, FolderInUse):
        return Failure(EXIT_INPUT, f"relief: --out {e}")
    if isinstance(e, OneRoadmapOnly):
        return Failure(EXIT_INPUT, f"relief: {e}")
    if debug:
        return None
    if isinstance(e, CaseError):
        n = len(e.problems)
        return Failure(
            EXIT_INPUT, [f"relief: the case has {n} problem{'s' if n > 1 else ''}:"] + [f"  {p}" for p in e.problems]
        )
    if isinstance(e, OverrideError):
        return Failure(EXIT_INPUT, f"relief: --set {e}")
    if isinstance(e, CheckError):
        return Failure(EXIT_FAILED, f"relief: the plan failed relief's independent check, so it is not reported: {e}")
    # the last line of defence: no traceback for planners
    return Failure(
        EXIT_FAILED, [f"relief: unexpected error: {type(e).__name__}: {e}", "  (run with --debug for the details)"]
    )
