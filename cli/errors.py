"""The error boundary of the `relief` commands: the exit codes of the contract and
`guarded`, which turns every error into a few plain lines on stderr.

Exit codes: 0 solved (optimal, or a plan found at a time or gap limit, with its status
said); 2 invalid input or usage; 3 infeasible; 4 no solution or solver failure.
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


def interrupted_code(e: KeyboardInterrupt) -> int:
    return 128 + signal.SIGTERM if isinstance(e, Terminated) else 130


def note_written(path) -> None:
    """Remember that a result is on disk, so that an interrupt after it says so."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().obj is not None:
        ctx.find_root().obj.setdefault("written", []).append(str(path))


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
        from relief.model.analyses.compare import CompareError
        from relief.model.core.case import CaseError
        from relief.model.core.io import FolderInUse
        from relief.model.core.overrides import OverrideError
        from relief.model.core.run import CheckError

        try:
            return fn(*args, **kwargs)
        except Failure as e:
            _fail(ctx, e)
        except CompareError as e:  # bad input, said in a line even with --debug
            _fail(ctx, Failure(EXIT_INPUT, f"relief: {e}"))
        except CaseError as e:
            if debug:
                raise
            n = len(e.problems)
            _fail(
                ctx,
                Failure(
                    EXIT_INPUT,
                    [f"relief: the case has {n} problem{'s' if n > 1 else ''}:"] + [f"  {p}" for p in e.problems],
                ),
            )
        except OverrideError as e:
            if debug:
                raise
            _fail(ctx, Failure(EXIT_INPUT, f"relief: --set {e}"))
        except FolderInUse as e:
            _fail(ctx, Failure(EXIT_INPUT, f"relief: --out {e}"))
        except CheckError as e:
            if debug:
                raise
            _fail(
                ctx,
                Failure(EXIT_FAILED, f"relief: the plan failed relief's independent check, so it is not reported: {e}"),
            )
        except KeyboardInterrupt as e:
            written = (ctx.find_root().obj or {}).get("written")
            what = "terminated" if isinstance(e, Terminated) else "interrupted"
            click.echo(
                f"relief: {what}; "
                + (f"the results were already written to {', '.join(written)}" if written else "no output was changed"),
                err=True,
            )
            ctx.exit(interrupted_code(e))
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # the last line of defence: no traceback for planners
            if debug:
                raise
            _fail(
                ctx,
                Failure(
                    EXIT_FAILED,
                    [f"relief: unexpected error: {type(e).__name__}: {e}", "  (run with --debug for the details)"],
                ),
            )

    return wrapper
