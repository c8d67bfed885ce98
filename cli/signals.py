"""SIGTERM handled like Ctrl-C (standard library only: `relief.cli.run` installs it
before anything heavy is imported)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: a short message and exit code 143 (128 + 15)."""


def on_sigterm(signum, frame):
    raise Terminated()
