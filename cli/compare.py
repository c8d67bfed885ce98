"""`relief compare`: several solved roadmaps side by side, the first as the reference.

Runs are run folders (`relief solve --out DIR`) or run workbooks (`--out run.xlsx`), or
a case solved on the fly with variants (`--case CASE --variant "LABEL: --set PATH=V --force L --exclude L"`). The
comparison itself is model/analyses/compare.py; here it is parsed, shown and written.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import guarded
from relief.cli.format import MISSING, modules, number, signed, tier_path_of
from relief.cli.runs import load_runs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

TOL = 1e-6
CSV_FILES = {
    "portfolio": "portfolio.csv",
    "spending": "spending.csv",
    "relief_by_scenario": "relief_by_scenario.csv",
    "relief_by_track": "relief_by_track.csv",
    "relief_by_sector": "relief_by_sector.csv",
    "tiers": "tiers.csv",
    "attribution": "attribution.csv",
    "attribution_by_scenario": "attribution_by_scenario.csv",
    "runs": "runs.csv",
}
LABEL_COLUMNS = ("run", "lever", "scenario", "track", "change", "levers", "year")


@click.command("compare")
@o.run_options
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="Attribution rows to show per run."
)
@o.out_folder(
    "runs.csv, portfolio.csv, spending.csv, relief_by_scenario.csv, relief_by_track.csv, relief_by_sector.csv, "
    "tiers.csv, attribution.csv, attribution_by_scenario.csv"
)
@o.as_json()
@guarded
def compare_cmd(runs, case, variants, time_limit, mip_gap, top, out_dir, as_json):
    """Compare solved roadmaps side by side; the first run is the reference.

    RUNS are run folders or run workbooks (run.xlsx) written by `relief solve --out`.
    Or give --case (a case
    folder; `--case default` for the shipped case) with --variant strings to solve on
    the fly: the case as given is the reference 'base', the variants follow, then any
    RUNS.

    \b
    Examples:
      relief compare runs/base runs/no-smelter
      relief compare runs/a runs/b --json
      relief compare --case examples/tiny --variant "no-chips: --exclude chips" --out cmp/
      relief compare --case default --variant "half: --set budget.*.public_budget_usd_bn*=0.5"
    """
    import pandas as pd

    from relief.model.analyses.compare import compare

    report = compare(load_runs(runs, case, variants, time_limit, mip_gap))
    if as_json or not sys.stdout.isatty():  # on a terminal the view itself opens with them
        for w in report["warnings"]:
            click.echo(f"relief: warning: {w}", err=True)
    emit(
        report,
        as_json=as_json,
        render=lambda: render(report, top=top),
        out_dir=out_dir,
        tables=lambda: {name: pd.DataFrame(report[key]) for key, name in CSV_FILES.items()},
        with_summary=False,
    )


def portfolio_rows(report: dict, modules=modules) -> list[list[str]]:
    """[lever, 'modules (first commit/first operating)' per run, changes] for every lever
    used by some run or changed; `modules` formats a number of modules (as `relief solve`
    does: whole numbers as they are, others to 2 decimals)."""
    labels = [r["run"] for r in report["runs"]]
    by = {(p["run"], p["lever"]): p for p in report["portfolio"]}
    rows = []
    for l in dict.fromkeys(p["lever"] for p in report["portfolio"]):
        cells = []
        for lab in labels:
            p = by[(lab, l)]
            cells.append(
                MISSING
                if p["modules"] <= TOL
                else f"{modules(p['modules'])} ({p['first_commit']}/{p['first_operating'] or '-'})"
            )
        change = "; ".join(
            f"{lab}: {', '.join(report['changes'][lab][l])}"
            for lab in labels[1:]
            if l in report["changes"].get(lab, {})
        )
        if any(c != MISSING for c in cells) or change:
            rows.append([l, *cells, change])
    return rows


def levers_changed(levers: str, changes: dict, show: int = 2, more: str = "+{} more") -> str:
    """'a (dropped), b (resized) +3 more' from a cell's 'a,b,...' and the run's changes."""
    ls = [l for l in levers.split(",") if l]
    text = ", ".join(f"{l} ({'/'.join(changes[l])})" for l in ls[:show])
    return text + (" " + more.format(len(ls) - show) if len(ls) > show else "")


# ---------------------------------------------------------------- the terminal view


def _table(*cols: str) -> Table:
    from relief.cli.render import table

    return table(*cols, left=LABEL_COLUMNS)


def _heading(con: Console, text: str) -> None:
    con.print()
    con.print(f"[bold]{text}[/]")


def render(report: dict, top: int = 10) -> None:
    from relief.cli.render import console

    con = console()
    for w in report.get("warnings", []):
        con.print(f"[yellow]warning: {w}[/]", highlight=False)
    for part in (
        _render_runs,
        _render_obligations,
        _render_portfolio,
        _render_spending,
        _render_scenarios,
        _render_tracks_and_sectors,
    ):
        part(con, report)
    _render_tiers(con, report, top)
    _render_why(con, report, top)


def _render_runs(con: Console, report: dict) -> None:
    ref = report["reference"]
    _heading(con, f"Runs (reference: {ref})")
    duty = any(r.get("expected_duty_paid") is not None for r in report["runs"])
    current = any(r.get("expected_relief_vs_current") is not None for r in report["runs"])
    cols = ["run", "status", "expected relief", "vs ref"]
    cols += ["vs current rates", "vs ref"] if current else []
    cols += ["duty paid", "vs ref"] if duty else []
    t = _table(*cols, "public spend", "total spend")
    for r in report["runs"]:
        is_ref = r["run"] == ref
        cells = [r["run"], str(r["status"]), number(r["expected_relief"], "{:.3f}")]
        cells.append("" if is_ref else signed(r["difference"]))
        if current:
            cells.append(number(r.get("expected_relief_vs_current"), "{:.3f}"))
            cells.append("" if is_ref else signed(r.get("relief_vs_current_difference")))
        if duty:
            cells.append(number(r.get("expected_duty_paid"), "{:.3f}"))
            cells.append("" if is_ref else signed(r.get("duty_paid_difference")))
        t.add_row(*cells, number(r["public_spend"], "{:.3f}"), number(r["total_spend"], "{:.3f}"))
    con.print(t)


def _render_obligations(con: Console, report: dict) -> None:
    """Modules committed by each obligation's year, run by run (only when some run has obligations)."""
    records = report.get("obligations") or []
    if not records:
        return
    labels = [r["run"] for r in report["runs"]]
    _heading(con, "Obligations (obligations.csv): modules committed by the year, · = not owed in that run")
    t = _table("obligation", *labels)
    by = {(ob["run"], ob["lever"], ob["by_year"]): ob for ob in records}
    for key in dict.fromkeys((ob["lever"], ob["by_year"], ob["min_modules"]) for ob in records):
        lever, year, need = key
        cells = []
        for lab in labels:
            ob = by.get((lab, lever, year))
            cells.append("·" if ob is None else f"{ob['committed_by_year']:g}" + ("" if ob["met"] else " (short)"))
        t.add_row(f"{lever} {need:g} by {year}", *cells)
    con.print(t)


def _render_portfolio(con: Console, report: dict) -> None:
    labels = [r["run"] for r in report["runs"]]
    _heading(con, "Portfolio by lever (modules, first commit / first operating year)")
    t = _table("lever", *labels, "change")
    for row in portfolio_rows(report):
        t.add_row(*row)
    con.print(t)
    from rich.text import Text

    for label, tree in (report.get("adaptive") or {}).items():
        years = tree["first_moves_years"]
        moves = ", ".join(f"{l} {modules(v)}" for l, v in tree["first_moves"].items()) or "nothing"
        when = f" ({years[0]}-{years[-1]})" if len(years) > 1 else f" ({years[0]})" if years else ""
        con.print(
            Text(
                f"  {label} is adaptive (reveal {tree['reveal_year']}): its modules and spending are expected over the "
                f"stances (probability-weighted); first moves{when}: {moves}; each stance: "
                + "; ".join(
                    f"{s} " + (", ".join(f"{l} {modules(v)}" for l, v in p.items()) or "nothing")
                    for s, p in tree["portfolio_by_scenario"].items()
                ),
                style="dim",
            )
        )


def _render_spending(con: Console, report: dict) -> None:
    labels = [r["run"] for r in report["runs"]]
    _heading(con, "Public spending by year vs budget")
    years = sorted({s["year"] for s in report["spending"]})
    sp = {(s["run"], s["year"]): s for s in report["spending"]}
    t = _table("year", *labels, "budget")
    for y in years:
        budgets = {sp[(lab, y)]["budget"] for lab in labels if (lab, y) in sp} - {None}
        t.add_row(
            str(y),
            *[number(sp[(lab, y)]["public_spend"]) if (lab, y) in sp else "-" for lab in labels],
            ", ".join(f"{b:.2f}" for b in sorted(budgets)),
        )
    con.print(t)


def _render_scenarios(con: Console, report: dict) -> None:
    labels = [r["run"] for r in report["runs"]]
    ref = report["reference"]
    _heading(
        con,
        "Relief by scenario if that stance comes true (discounted, not weighted; its probability p in brackets; "
        "the change from the reference if that stance comes true)",
    )
    scen = list(dict.fromkeys(x["scenario"] for x in report["relief_by_scenario"]))
    rs = {(x["run"], x["scenario"]): x for x in report["relief_by_scenario"]}
    t = _table("scenario", *labels)
    for s in scen:
        row = []
        for lab in labels:
            x = rs.get((lab, s))
            row.append(
                MISSING
                if x is None
                else f"{x['relief']:.3f} (p {x['probability']:.2f})"
                + ("" if lab == ref else f" {signed(x['relief_change'])}")
            )
        t.add_row(s, *row)
    t.add_row("expected", *[number(r["expected_relief"], "{:.3f}") for r in report["runs"]])
    con.print(t)


def _render_tracks_and_sectors(con: Console, report: dict) -> None:
    labels = [r["run"] for r in report["runs"]]
    ref = report["reference"]
    for key, rows in (("track", report["relief_by_track"]), ("sector", report.get("relief_by_sector", []))):
        if not rows:
            continue
        _heading(con, f"Expected relief by {key} (discounted, probability-weighted)")
        by = {(x["run"], x[key]): x for x in rows}
        t = _table(key, *labels)
        for name in dict.fromkeys(x[key] for x in rows):
            t.add_row(
                name,
                *[
                    "-"
                    if (lab, name) not in by
                    else number(by[(lab, name)]["expected_relief"], "{:.3f}")
                    + ("" if lab == ref else f" ({by[(lab, name)]['change']:+.3f})")
                    for lab in labels
                ],
            )
        con.print(t)


def _render_tiers(con: Console, report: dict, top: int) -> None:
    from relief.model.analyses.compare import tier_cells

    labels = [r["run"] for r in report["runs"]]
    ref = report["reference"]
    cells = {lab: tier_cells(report, lab) for lab in labels}
    for lab in labels[1:]:
        moved = sorted(
            {(x["scenario"], x["track"]) for x in report.get("tiers", []) if x["run"] == lab and x["changed"]}
        )
        if not moved:
            continue
        _heading(con, f"Tiers that {lab} reaches differently from {ref}")
        t = _table("scenario", "track", ref, lab)
        for s_, r_ in moved[:top]:
            t.add_row(s_, r_, tier_path_of(cells[ref], s_, r_), tier_path_of(cells[lab], s_, r_))
        if len(moved) > top:
            t.add_row(f"{len(moved) - top} more", "", "", "")
        con.print(t)


def _render_why(con: Console, report: dict, top: int) -> None:
    """The attribution: why each run differs from the reference, largest cells first."""
    labels = [r["run"] for r in report["runs"]]
    ref = report["reference"]
    for lab in labels[1:]:
        diff = next(r["difference"] for r in report["runs"] if r["run"] == lab)
        _heading(
            con,
            f"Why {lab} differs from {ref}: {diff:+.3f} expected relief (each cell probability-weighted: "
            "its contribution to that difference)",
        )
        rows = [x for x in report["attribution"] if x["run"] == lab and abs(x["difference"]) > 1e-9]
        t = _table("#", "scenario", "track", "p (run)", "weighted difference", "share", "levers")
        for x in rows[:top]:
            t.add_row(
                str(x["rank"]),
                x["scenario"],
                x["track"],
                number(x["probability"]),
                signed(x["difference"]),
                "-" if x["share"] is None else f"{x['share']:.0%}",
                levers_changed(x["levers"], report["changes"].get(lab, {})),
            )
        if len(rows) > top:
            rest = sum(x["difference"] for x in rows[top:])
            t.add_row("", f"{len(rows) - top} more", "", "", signed(rest), "", "")
        if not rows:
            con.print("  no difference in relief")
        else:
            con.print(t)
        srows = [x for x in report["attribution_by_scenario"] if x["run"] == lab and abs(x["difference"]) > 1e-9]
        if srows:
            con.print(
                "  by scenario, probability-weighted (contribution to the expected difference): "
                + "; ".join(f"{x['scenario']} {x['difference']:+.3f}" for x in srows),
                highlight=False,
            )
