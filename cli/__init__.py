"""relief.cli: the `relief` command line. `run` is the console script's entry point."""

import signal
import sys

from relief.cli.signals import Terminated, on_sigterm


def run() -> None:
    """`relief ...`: SIGINT and SIGTERM end relief with a short message and exit code 130
    or 143 from its first moment (also while its libraries are still being imported),
    never with a traceback; the commands themselves say what was or was not written."""
    signal.signal(signal.SIGTERM, on_sigterm)
    code = 0
    try:
        import click

        from relief.cli.main import main

        try:
            code = main(standalone_mode=False)
        except click.exceptions.Abort as e:  # click turns an interrupt outside a command into Abort
            cause = e.__cause__ or e.__context__
            if isinstance(cause, KeyboardInterrupt):
                raise cause from None
            click.echo("Aborted!", err=True)
            code = 1
        except click.ClickException as e:
            e.show()
            code = e.exit_code
        except SystemExit as e:
            # click itself exits 1 when stdout's reader went away outside a command (`relief
            # --help | head -1`), after wrapping stdout so that nothing more is said
            from click.utils import PacifyFlushWrapper

            if not isinstance(sys.stdout, PacifyFlushWrapper):
                raise
            code = 0 if e.code == 1 else e.code
        sys.stdout.flush()  # a closed pipe shows here at the latest
    except BrokenPipeError:  # `relief ... | head`: the reader has all it wanted, not an error
        from relief.cli.errors import stdout_closed

        stdout_closed()
    except KeyboardInterrupt as e:
        terminated = isinstance(e, Terminated)
        sys.stderr.write(f"relief: {'terminated' if terminated else 'interrupted'}\n")
        code = 143 if terminated else 130
    # the process ends here: what is left (a large model, HiGHS) is left to the operating
    # system, not scanned by the cyclic collector at exit (1.7 s at 150 stances x 30 levers:
    # part of --time-limit's promise)
    import gc

    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
