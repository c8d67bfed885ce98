"""`relief report`: one self-contained HTML file a planner can mail to a minister's office.

The report reads run folders (`relief solve --out DIR`) or run workbooks (`--out
run.xlsx`), or solves a case and its variants on the fly (the same `--case`/`--variant`
as `relief compare`). The first run is the one the report is about: the question, the
case's key assumptions, the roadmap as a timeline, spending against budget, relief by
U.S. stance and track and the tier ladders. With several runs it adds the comparison of
`relief compare` (portfolio changes, relief and spending side by side, the ranked
attribution, tiers reached differently) and each other run's roadmap. The input tables
with their sources close the report.

Charts are matplotlib SVG inlined in the page (cli/report_charts.py); the page has no
script and loads nothing from the network. The page is assembled from a Jinja2
template (cli/templates/report.html) and written atomically. The sections are
cli/report_sections.py (runs) and cli/report_analyses.py (analyses).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import click

from relief.cli import options as o
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.report_analyses import sections
from relief.cli.report_sections import (
    assumptions,
    comparison_sections,
    input_tables,
    key_figures,
    question,
    run_sections,
)
from relief.cli.runs import load_runs

if TYPE_CHECKING:
    from relief.model.analyses.compare import Run


def build_report(runs: list[Run], title: str | None = None, analyses=()) -> str:
    """The report's HTML text."""
    import jinja2

    if not runs:
        raise Failure(EXIT_INPUT, "relief: report needs at least one run (a run folder or workbook, or --case)")
    main_run = runs[0]
    case = main_run.case
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("relief.cli", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        version = metadata.version("relief")
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed
        version = "?"
    ctx = {
        "title": title or f"relief: {case.name if case is not None else main_run.label}",
        "run": main_run,
        "labels": [r.label for r in runs],
        "question": question(case, main_run),
        "key_figures": key_figures(main_run, case),
        "assumptions": assumptions(main_run, case),
        "main": run_sections(main_run, case),
        "comparison": comparison_sections(runs) if len(runs) > 1 else None,
        "others": [
            {"label": r.label, "timeline": run_sections(r, r.case)["timeline"], "figures": key_figures(r, r.case)}
            for r in runs[1:]
        ],
        "inputs": input_tables(case) if case is not None else [],
        "analyses": sections(analyses) if analyses else [],
        "version": version,
        "solver": main_run.summary.get("solver") or {},
        "input_sha256": main_run.summary.get("input_sha256", ""),
        "sources": [(r.label, r.source) for r in runs],
    }
    return env.get_template("report.html").render(**ctx)


@click.command("report")
@o.run_options
@click.option("--title", help="The report's title (default: relief: CASE NAME).")
@click.option(
    "--analysis",
    "analyses",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The --out folder of relief value, alternatives, risk, delay, coordination, marginal, obligations or "
    "stress: adds its section. Repeatable.",
)
@o.out_file(
    "The HTML file to write (atomically: an interrupted run leaves the previous file).",
    default="report.html",
    show_default=True,
)
@guarded
def report_cmd(runs, case, variants, time_limit, mip_gap, title, analyses, out_path):
    """Write one self-contained HTML report of solved runs; the first is the main one.

    RUNS are run folders or run workbooks (run.xlsx) written by `relief solve --out`.
    Or give --case (and --variant)
    to solve on the fly, as in `relief compare`. With several runs the report adds the
    comparison views. The file opens offline in any browser and needs no script.

    \b
    Examples:
      relief solve --out runs/base && relief report runs/base --out base.html
      relief report runs/base runs/no-smelter --out compare.html
      relief report --case default --variant "no-smelter: --exclude korea_zinc_smelter" --out report.html
      relief value --out runs/value && relief report runs/base --analysis runs/value --out report.html
    """
    from relief.model.core.io import atomic_write_text

    if out_path.suffix.lower() not in (".html", ".htm"):
        raise Failure(EXIT_INPUT, f"relief: {out_path}: the report's name must end in .html")
    loaded = load_runs(runs, case, variants, time_limit, mip_gap)
    html = build_report(loaded, title, analyses)
    atomic_write_text(out_path, html)  # creates the folder if need be
    click.echo(
        f"relief: wrote {out_path} ({len(html) / 1e6:.1f} MB, {len(loaded)} run{'s' if len(loaded) > 1 else ''})",
        err=True,
    )
