"""`relief value`: the value of knowing the U.S. stance before committing (EVPI) and of
planning for every stance rather than the average one (VSS), with the plans side by side."""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.emit import emit
from relief.cli.errors import EXIT_FAILED, Failure, guarded
from relief.cli.format import modules
from relief.cli.inputs import asked, prepare


def _labels(v) -> list[str]:
    return ["stochastic", *v.probability, "ev"]


def _title(label: str, v) -> str:
    if label == "stochastic":
        return "roadmap"
    if label == "ev":
        return "EV plan"
    return label


def tables(v) -> dict:
    import pandas as pd

    labels = _labels(v)
    rows = []
    for lab in labels:
        for s, p in v.probability.items():
            rows.append({"plan": lab, "scenario": s, "probability": p, "relief": v.values[lab][s]})
        rows.append({"plan": lab, "scenario": "expected", "probability": 1.0, "relief": v.expected[lab]})
    levers = list(dict.fromkeys(l for lab in labels for l in v.portfolio[lab]))
    port = [{"plan": lab, "lever": l, "modules": v.portfolio[lab].get(l, 0.0)} for lab in labels for l in levers]
    plans = [
        {"plan": lab, "lever": l, "year": y, "modules": m}
        for lab in labels
        for (l, y), m in sorted(v.plans[lab].items())
    ]
    adaptive = [
        {k: val for k, val in a.report().items() if k not in ("first_moves", "by_scenario")} for a in v.adaptive
    ]
    for row, a in zip(adaptive, v.adaptive):
        row["first_moves_years"] = " ".join(str(y) for y in a.first_moves_years)
        row["first_moves"] = "; ".join(f"{l} {m:g}" for l, m in a.first_moves.items() if m)
    return {
        "value.csv": pd.DataFrame(rows),
        "portfolio.csv": pd.DataFrame(port),
        "plans.csv": pd.DataFrame(plans),
        "adaptive.csv": pd.DataFrame(adaptive),
    }


def render(v) -> None:
    from rich import box
    from rich.table import Table

    from relief.cli.render import console

    con = console()
    con.print("[bold]Value of information[/] (expected relief, discounted, USD bn)")
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("measure")
    t.add_column("USD bn", justify="right")
    t.add_column("what it means")
    t.add_row("RP", f"{v.rp:.3f}", "the roadmap committed now, before the U.S. stance is known (relief solve)")
    t.add_row("WS", f"{v.ws:.3f}", "wait-and-see: each stance's own optimum, weighted by its probability")
    t.add_row("EVPI = WS - RP", f"{v.evpi:.3f}", "the most that knowing the stance before committing is worth")
    ev = (
        "the expected-value stance"
        if v.ev_how == "mean"
        else f"the most probable stance, {v.ev_how.split(': ')[1]} (ladders differ, no mean stance)"
    )
    t.add_row("EEV", f"{v.eev:.3f}", f"the roadmap optimal for {ev}, valued over all stances")
    t.add_row("VSS = RP - EEV", f"{v.vss:.3f}", "what planning for every stance gains over planning for one")
    if v.adaptive:
        a = v.adaptive[0]
        when = f"known from {a.reveal_year}" if a.reveal_year is not None else "revealed as information.csv says"
        t.add_row("AR", f"{a.relief:.3f}", f"adaptive: commit first moves now, adapt once the stance is {when}")
        t.add_row(
            "flexibility = AR - RP", f"{a.value_of_flexibility:.3f}", "what keeping the later years open is worth"
        )
    con.print(t)
    if v.adaptive:
        _render_adaptive(v, con)
    labels = _labels(v)
    con.print()
    con.print("[bold]Each plan if each stance comes true[/]")
    con.print(
        "  Columns: 'roadmap' is the plan for all stances (RP); a stance's name, the plan optimal were that stance "
        "known (WS); 'EV plan', the plan for "
        + (
            "the expected-value stance."
            if v.ev_how == "mean"
            else f"the most probable stance ({v.ev_how.split(': ')[1]})."
        ),
        style="dim",
    )
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("stance", no_wrap=True)
    t.add_column("p", justify="right")
    for lab in labels:
        t.add_column(_title(lab, v), justify="right", overflow="fold")
    for s, p in v.probability.items():
        t.add_row(s, f"{p:.2f}", *[f"{v.values[lab][s]:.2f}" for lab in labels])
    t.add_row("expected", "", *[f"{v.expected[lab]:.2f}" for lab in labels])
    con.print(t)
    con.print()
    con.print("[bold]Modules of each plan[/]")
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("lever", no_wrap=True)
    for lab in labels:
        t.add_column(_title(lab, v), justify="right", overflow="fold")
    levers = list(dict.fromkeys(l for lab in labels for l in v.portfolio[lab]))
    for l in levers:
        cells = [v.portfolio[lab].get(l, 0.0) for lab in labels]
        if any(c > 1e-9 for c in cells):
            t.add_row(l, *[("-" if c <= 1e-9 else modules(c)) for c in cells])
    con.print(t)


def _render_adaptive(v, con) -> None:
    """The adaptive roadmap for each reveal year: relief, flexibility, the cost of learning late."""
    from rich import box
    from rich.table import Table

    from relief.cli.format import usd

    con.print()
    con.print("[bold]Adaptive roadmaps: the stance learnt in year R[/] (RP <= AR <= WS)")
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("reveal", "AR", "flexibility", "learning late", "public spend", "saved", "first moves"):
        t.add_column(col, justify="left" if col in ("reveal", "first moves") else "right")
    for a in v.adaptive:
        moves = ", ".join(f"{l} {modules(m)}" for l, m in a.first_moves.items() if m) or "nothing (wait)"
        if not a.first_moves_years:
            moves = "none (every stance known from the start)"
        t.add_row(
            str(a.reveal_year) if a.reveal_year is not None else "information.csv",
            f"{a.relief:.3f}",
            f"{a.value_of_flexibility:.3f}",
            f"{a.cost_of_learning_late:.3f}",
            usd(a.public_spend),
            usd(a.public_spend_saved),
            moves,
        )
    con.print(t)
    con.print(
        "  flexibility = AR - RP; learning late = WS - AR, what learning the stance in R rather than before "
        "committing costs; public spend: expected over the stances, USD bn; saved: against the static roadmap's.",
        style="dim",
    )


class _Years(click.ParamType):
    name = "YEARS"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(int(y) for y in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of years, e.g. 2027,2028,2029", param, ctx)


@click.command("value")
@o.case_argument
@click.option(
    "--reveal-years",
    type=_Years(),
    default=None,
    metavar="YEARS",
    help="Value an adaptive roadmap with the stance learnt in each of these years (e.g. 2027,2028,2029): "
    "what each later revelation is worth. Default: the case's reveal_year or information.csv, else the second year.",
)
@o.out_folder("value.csv, portfolio.csv, plans.csv, adaptive.csv, summary.json")
@o.solve_options
@guarded
def value_cmd(
    case,
    reveal_years,
    out_dir,
    overrides,
    force,
    exclude,
    without_obligations,
    time_limit,
    mip_gap,
    threads,
    seed,
    as_json,
):
    """The value of information: the expected value of perfect information (EVPI: what
    knowing the U.S. stance before committing would be worth) and the value of the
    stochastic solution (VSS: what planning for every stance gains over planning for the
    average one), with the plan optimal for each stance alone side by side.

    Solves the case, each scenario alone, and the expected-value scenario (docs/analyses.md).

    \b
    Examples:
      relief value
      relief value --set 'budget.*.public_budget_usd_bn*=0.5' --out runs/value-half
      relief value --reveal-years 2027,2028,2029      # what learning the stance later costs
    """
    from relief.model.analyses.value import value_of_information
    from relief.model.core.run import NoPlan

    work, options = prepare(case, overrides, force, exclude, time_limit, mip_gap, threads, seed, without_obligations)
    try:
        v = value_of_information(work, options, tuple(force), tuple(exclude), reveal_years or ())
    except NoPlan as e:
        raise Failure(EXIT_FAILED, f"relief: value of information: {e}") from None
    summary = {
        "analysis": "value",
        "case": work.name,
        "case_path": work.origin,
        "input_sha256": work.sha256(),
        **asked(overrides, force, exclude, without_obligations),
        **v.report(),
    }
    summary["plans"] = {
        lab: [{"lever": l, "year": y, "modules": m} for (l, y), m in sorted(p.items())] for lab, p in v.plans.items()
    }
    emit(summary, as_json=as_json, render=lambda: render(v), out_dir=out_dir, tables=lambda: tables(v))
