"""`relief stress RUN`: a run's roadmap re-evaluated, not re-solved, under slips, raised thresholds,
less commitment credit or any other change (the logic is model/analyses/stress.py; docs/analyses.md
explains it)."""

from __future__ import annotations

from pathlib import Path

import click

from relief.cli import options as o
from relief.cli.emit import emit, record_tables
from relief.cli.errors import EXIT_INPUT, Failure, guarded
from relief.cli.format import number
from relief.cli.render import table

STRESS_COLUMNS = [
    "perturbation",
    "scenario",
    "probability",
    "relief_planned",
    "relief",
    "relief_lost",
    "tiers_lost",
    "expected_relief",
    "expected_relief_lost",
]
LEFT = ("perturbation", "lost in each stance")
TIERS_LOST_COLUMNS = ["perturbation", "scenario", "track", "year", "tier", "now", "relief_lost"]


def stress_records(rep: dict) -> list[dict]:
    """stress.csv: one row per perturbation x stance."""
    planned = rep["rows"][0]["by_scenario"]
    out = []
    for r in rep["rows"]:
        for s, v in r["by_scenario"].items():
            out.append(
                {
                    "perturbation": r["perturbation"],
                    "scenario": s,
                    "probability": rep["probability"].get(s),
                    "relief_planned": planned[s],
                    "relief": v,
                    "relief_lost": r["lost_by_scenario"][s],
                    "tiers_lost": sum(1 for x in r["tiers_lost"] if x["scenario"] == s),
                    "expected_relief": r["expected_relief"],
                    "expected_relief_lost": r["relief_lost"],
                }
            )
    return out


STRESS_TABLES = {
    stress_records: ("stress.csv", STRESS_COLUMNS),
    (lambda rep: [{"perturbation": r["perturbation"], **x} for r in rep["rows"] for x in r["tiers_lost"]]): (
        "tiers_lost.csv",
        TIERS_LOST_COLUMNS,
    ),
}


def tier_text(x: dict, stance: bool = True) -> str:
    """'deal_restored general 2027 deal_plus→deal'."""
    return f"{x['scenario'] + ' ' if stance else ''}{x['track']} {x['year']} {x['tier']}→{x['now']}"


def render_stress(rep: dict) -> None:
    from relief.cli.render import console

    con = console()
    kind = "adaptive roadmap (one plan per stance)" if rep["adaptive"] else "roadmap"
    con.print(
        f"[bold]{rep['case']}[/]  stress test of the {kind} of {rep['run']}: re-evaluated, not re-solved "
        "(discounted relief, USD bn)"
    )
    t = table("perturbation", "expected relief", "lost", "lost %", "tiers lost", "lost in each stance", left=LEFT)
    for r in rep["rows"]:
        if r["perturbation"] == "as planned":
            t.add_row(r["perturbation"], number(r["expected_relief"]), "", "", "", "")
            continue
        t.add_row(
            r["perturbation"],
            number(r["expected_relief"]),
            number(r["relief_lost"]),
            "" if r["share_lost"] is None else number(100 * r["share_lost"], "{:.1f}%"),
            str(r["tiers_lost_count"]),
            ", ".join(f"{s} {number(v)}" for s, v in r["lost_by_scenario"].items() if abs(v) > 1e-9) or "none",
        )
    con.print(t)
    _render_tiers(con, rep)
    _render_break(con, rep)


def _render_tiers(con, rep: dict, show: int = 6) -> None:
    lines = [r for r in rep["rows"] if r["tiers_lost"] or r["violations"] or r["tiers_gained"]]
    if lines:
        con.print("[bold]Tiers lost[/] (stance, track, year: tier as planned → tier now)")
    for r in lines:
        if r["tiers_lost"]:
            cells = [tier_text(x) for x in r["tiers_lost"]]
            more = f"; … and {len(cells) - show} more" if len(cells) > show else ""
            con.print(f"  {r['perturbation']}: " + "; ".join(cells[:show]) + more)
        if r["tiers_gained"]:
            con.print(f"  {r['perturbation']}: gains " + "; ".join(tier_text(x) for x in r["tiers_gained"][:show]))
        for v in r["violations"][:3]:
            con.print(f"  [yellow]{r['perturbation']}: the plan now breaks a limit: {v}[/]")


def _render_break(con, rep: dict) -> None:
    fb = rep["first_break"]
    con.print("[bold]What breaks the roadmap first[/]")
    most, mildest, thr = fb["most_relief_lost"], fb["mildest_tier_lost"], fb["threshold_break"]
    if most is None and mildest is None:
        con.print("  none of these perturbations loses any relief or tier")
    if most is not None:
        con.print(
            f"  most relief lost: {most['perturbation']}: {number(most['relief_lost'])} "
            f"({most['tiers_lost_count']} tier(s) lost)"
        )
    if mildest is not None:
        con.print(
            f"  mildest that loses a tier: {mildest['perturbation']}: {number(mildest['relief_lost'])} of relief, "
            f"{mildest['tiers_lost_count']} tier(s)"
        )
    if thr is not None:
        con.print(
            f"  thresholds: any raise above {100 * thr['raise']:.2f}% loses a tier: {thr['scenario']} {thr['track']} "
            f"{thr['year']} {thr['tier']} (score {thr['score']:g} against {thr['threshold']:g})"
        )


def _load(run_path: Path):
    """The run (cli/runs.py) and its case, or a one-line error (exit 2)."""
    from relief.cli.runs import load_run
    from relief.cli.workbook import is_workbook
    from relief.model.core.case import load_case

    run = load_run(run_path)
    case = run.case
    if case is None:  # say why the case cannot be read
        case = load_case(run_path if is_workbook(run_path) else Path(run_path) / "case")
    return run, case


@click.command("stress")
@o.run_argument
@click.option(
    "--slip",
    "slips",
    multiple=True,
    metavar="LEVER:YEARS",
    help="The lever's modules start operating YEARS later (its lead time grows for the scores; commitments and "
    "spending unchanged); all:YEARS slips every lever. Repeatable.",
)
@click.option(
    "--raise-thresholds",
    "raise_by",
    type=o.Share(),
    help="Raise every tier threshold above the baseline by PCT (5% or 0.05).",
)
@click.option(
    "--credit",
    type=click.FloatRange(min=0),
    metavar="FACTOR",
    help="Multiply every stance's commitment credit by FACTOR (capped at 1), e.g. 0.8.",
)
@o.overrides(o.STRESS)
@o.as_json()
@o.out_folder("stress.csv, tiers_lost.csv and summary.json")
@guarded
def stress_cmd(run, slips, raise_by, credit, overrides, as_json, out_dir):
    """Stress test of a solved roadmap: RUN's plan (a run folder or workbook of relief solve --out)
    re-evaluated, never re-optimised, under a perturbation: relief lost in each stance and the tiers lost.
    Options given together are one perturbation; with none, a default battery (each lever the plan
    uses slipped a year, thresholds +5% and +10%, commitment credit x0.8) and what breaks the plan first.

    \b
    Examples:
      relief solve --out runs/base && relief stress runs/base
      relief stress runs/base --slip us_fab_module:1 --raise-thresholds 5%
      relief stress run.xlsx --slip all:1 --json
      relief stress runs/base --credit 0.5 --out runs/stress
    """
    from relief.model.analyses.stress import Perturbation, StressError, parse_slip, stress_test

    try:
        parsed = tuple(parse_slip(s) for s in slips)
        run, case = _load(run)
        asked = None
        if parsed or raise_by or credit is not None or overrides:
            p = Perturbation(parsed, raise_by or 0.0, 1.0 if credit is None else credit, tuple(overrides))
            asked = [] if p.empty else [p]  # --credit 1 or a raise of 0%: as planned only
        s = run.summary
        test = stress_test(
            case,
            run.roadmap_by_scenario if run.adaptive else run.roadmap,  # an adaptive run: each stance's own
            s.get("expected_relief"),
            asked,
            tuple(s.get("force") or ()),
            tuple(s.get("exclude") or ()),
        )
    except StressError as e:
        raise Failure(EXIT_INPUT, f"relief: {e}") from None
    rep = {
        "analysis": "stress",
        "run": str(run.source),
        "case": s.get("case", case.name),
        "input_sha256": s.get("input_sha256"),
        **test.report(),
    }
    emit(
        rep,
        as_json=as_json,
        render=lambda: render_stress(rep),
        out_dir=out_dir,
        tables=lambda: record_tables(rep, STRESS_TABLES),
    )
