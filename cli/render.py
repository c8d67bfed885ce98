"""What a planner reads first: a compact terminal summary of a solved case (rich)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def _bn(v: float) -> str:
    return f"{v:,.2f}"


def _mod(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.2f}"


def _year(y: int, years) -> str:
    return f"'{str(y)[-2:]}" if len(years) > 6 else str(y)


def _console(stderr: bool = False) -> Console:
    """Rich's own width in a terminal; 120 columns when piped to a file."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=120)


def tier_path(year_tiers, arrow: str = " → ") -> str:
    """'baseline → deal (2029) → deal_plus (2031)' from (year, tier) pairs in year order,
    '' standing for the baseline: each tier once, with the year it is first reached."""
    steps, prev = [], None
    for year, tier in year_tiers:
        if tier != prev:
            name = tier or "baseline"
            steps.append(name if prev is None else f"{name} ({year})")
            prev = tier
    return arrow.join(steps)


def _render_risk(result, console) -> None:
    """One line on the spread of relief across stances, and the risk measure if one was asked."""
    from relief.model.core.risk import Risk, distribution, measure_value

    case, ev = result.case, result.evaluation
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    risk = Risk.of_case(case.meta)
    alpha = risk.alpha if risk.kind == "cvar" else 0.8
    d = distribution(dict(ev.by_scenario), prob, alpha)
    if risk.kind != "expected":
        console.print(
            f"Maximised: [bold]{risk.label()}[/] = USD {_bn(measure_value(risk, ev.by_scenario, prob))}bn "
            "(then expected relief, then least spending)."
        )
    console.print(
        f"Across stances: worst USD {_bn(d['worst'])}bn ({d['worst_scenario']}), mean of the worst "
        f"{1 - alpha:.0%} of probability (CVaR) {_bn(d[f'cvar_{alpha:g}'])}, best {_bn(d['best'])} "
        f"({d['best_scenario']}), standard deviation {_bn(d['std'])}.",
        style="dim",
    )


def render_solution(result, console: Console | None = None) -> None:
    console = console or _console()
    case, ev, out = result.case, result.evaluation, result.outcome
    years = case.years
    meta = case.meta
    head = Text()
    head.append(f"{case.name}", style="bold")
    head.append(f"  {meta['first_year']}-{meta['last_year']}  ")
    head.append(f"status {out.status}", style="green" if out.status == "optimal" else "yellow")
    gap = "" if out.mip_gap is None else f", gap {out.mip_gap:.2g}"
    head.append(f"  (HiGHS {out.solver.get('version', '')}, {out.solve_seconds:.2f} s{gap})", style="dim")
    console.print(head)
    if result.overrides or result.force or result.exclude:
        bits = (
            [f"--set {o}" for o in result.overrides]
            + [f"--force {l}" for l in result.force]
            + [f"--exclude {l}" for l in result.exclude]
        )
        console.print(Text("  as asked: " + "  ".join(bits), style="dim"))
    disc = meta["discount_rate"]
    dtxt = f"discounted at {disc:.1%}/yr" if disc else "undiscounted"
    console.print(
        f"Expected tariff relief: [bold]USD {_bn(ev.expected_relief)}bn[/] over the horizon ({dtxt}); "
        f"public spending USD {_bn(ev.public_spend)}bn"
        + (
            f" of a total budget of USD {_bn(meta['total_public_budget'])}bn"
            if meta.get("total_public_budget") is not None
            else ""
        )
        + f"; total capex USD {_bn(ev.total_spend)}bn."
    )
    _render_risk(result, console)

    # --- roadmap: lever by year -------------------------------------------------------
    rm = ev.roadmap
    chosen = [l for l, v in ev.portfolio.items() if v > 0]
    console.print(
        Text(
            "Roadmap: +n = modules committed that year, … = under construction, ● = all operating, ◐ = partly",
            style="bold",
        )
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("lever", no_wrap=True)
    t.add_column("total", justify="right")
    for y in years:
        t.add_column(_year(y, years), justify="right", no_wrap=True)
    lv = case.table("levers").set_index("lever")
    for l in chosen:
        cells = []
        rows = rm[rm["lever"] == l].set_index("year")
        for y in years:
            c, o, cum = rows.at[y, "committed"], rows.at[y, "operating"], rows.at[y, "cumulative"]
            if c:
                cells.append(f"[bold green]+{_mod(c)}[/]")
            elif o and o >= cum - 1e-9:
                cells.append("●")
            elif o:
                cells.append("◐")
            elif cum:
                cells.append("[dim]…[/]")
            else:
                cells.append("")
        t.add_row(l, _mod(ev.portfolio[l]), *cells)
    if chosen:
        console.print(t)
    else:
        console.print("[yellow]No lever is worth committing: no tier is reachable within the limits.[/]")
    unused = [l for l in lv.index if l not in chosen]
    if unused:
        console.print(Text("  not used: " + ", ".join(unused), style="dim"))

    # --- relief by scenario --------------------------------------------------------------
    sc = case.table("scenarios").set_index("scenario")
    console.print(Text("Relief by U.S. stance", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (
        ("scenario", "left"),
        ("probability", "right"),
        ("credit for pledges", "right"),
        ("relief, USD bn", "right"),
    ):
        t.add_column(col, justify=just)
    for s, v in ev.by_scenario.items():
        t.add_row(s, f"{sc.at[s, 'probability']:.0%}", f"{sc.at[s, 'commitment_credit']:.0%}", _bn(v))
    t.add_row("[bold]expected[/]", "", "", f"[bold]{_bn(ev.expected_relief)}[/]")
    console.print(t)

    # --- tiers reached ----------------------------------------------------------------------
    console.print(Text("Tiers reached: the tier on each track, from the year it is reached", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("scenario", no_wrap=True)
    t.add_column("track", no_wrap=True)
    t.add_column("tier path")
    t.add_column("relief, USD bn", justify="right")
    last_s = None
    for (s, r), g in ev.tiers.groupby(["scenario", "track"], sort=False):
        g = g.sort_values("year")
        path = tier_path(zip(g["year"], ["" if k == b else f"[cyan]{k}[/]" for k, b in zip(g["tier"], g["base_tier"])]))
        rel = ev.relief[(ev.relief["scenario"] == s) & (ev.relief["track"] == r)]["discounted_relief"].sum()
        t.add_row(s if s != last_s else "", r, path, _bn(rel))
        last_s = s
    console.print(t)

    # --- spending against budget ------------------------------------------------------------
    sp = ev.spending
    console.print(Text("Public spending against the budget, USD bn", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("")
    shown = [r for r in sp.itertuples() if r.year in years or r.public_spend]
    for r in shown:
        t.add_column(_year(r.year, [x.year for x in shown]), justify="right")
    t.add_row("spend", *[_bn(r.public_spend) for r in shown])
    t.add_row("budget", *["" if r.budget is None or r.budget != r.budget else _bn(r.budget) for r in shown])
    t.add_row(
        "used",
        *[
            "" if r.budget is None or r.budget != r.budget or not r.budget else f"{r.public_spend / r.budget:.0%}"
            for r in shown
        ],
    )
    console.print(t)
    # the case's warnings went to stderr before the solve (relief solve)


def render_infeasible(result, console: Console | None = None) -> None:
    console = _console(stderr=True) if console is None else console
    console.print("[bold red]Infeasible:[/] no roadmap meets every limit of this request.")
    d = result.diagnosis
    if d is not None and d.conflicts and d.note:
        console.print(Text(f"  {d.note[0].upper()}{d.note[1:]}:"))
    for line in result.conflicts:
        console.print(Text(f"  - {line}"))
