"""The `relief` command group: its global options and the one list of its commands.

Each command lives in the module named after it (cli/solve.py, cli/compare.py, ...);
`COMMANDS` below registers them all, in one place (as datasette does), so that adding
a command is one import and one entry. The error boundary is cli/errors.py.
"""

from __future__ import annotations

import signal

import click

from relief.cli.alternatives import alternatives_cmd
from relief.cli.case import init, template, validate
from relief.cli.compare import compare_cmd
from relief.cli.coordination import coordination_cmd
from relief.cli.delay import delay_cmd
from relief.cli.frontier import frontier
from relief.cli.marginal import marginal_cmd
from relief.cli.obligations import obligations_cmd
from relief.cli.report import report_cmd
from relief.cli.risk import risk_cmd
from relief.cli.serve import serve_cmd
from relief.cli.signals import on_sigterm
from relief.cli.solve import solve
from relief.cli.stress import stress_cmd
from relief.cli.sweep import sweep
from relief.cli.value import value_cmd

# every command of `relief`, in the order of the docs; --help lists them alphabetically
COMMANDS = [
    solve,
    validate,
    template,
    init,
    compare_cmd,
    report_cmd,
    value_cmd,
    alternatives_cmd,
    marginal_cmd,
    delay_cmd,
    coordination_cmd,
    obligations_cmd,
    sweep,
    frontier,
    risk_cmd,
    stress_cmd,
    serve_cmd,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="relief", prog_name="relief")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors (for developers).")
@click.pass_context
def main(ctx, debug):
    """relief: which contributions to U.S. strategic supply chains to commit, when and
    how much, to maximise the expected tariff relief across U.S. negotiating stances.

    \b
    Examples:
      relief solve                         # the default Korea case, shipped with relief
      relief solve examples/tiny --json    # one JSON object on stdout
      relief solve --set budget.*.public_budget_usd_bn*=0.5 --out runs/half-budget
      relief solve --force korea_zinc_smelter --exclude us_steel_mill
      relief init my-case                  # a copy of the default case to edit
      relief validate my-case/             # list every problem with file, row, column

    A case is a folder with case.yaml and CSV tables (or one .xlsx workbook with the
    same tables as sheets). Exit codes: 0 solved, 2 invalid input, 3 infeasible,
    4 no solution or solver failure, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    ctx.obj = {"debug": debug}
    # SIGTERM (kill, a scheduler's stop) ends relief like Ctrl-C: cleanly, nothing half-written
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_sigterm)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


for command in COMMANDS:
    main.add_command(command)
