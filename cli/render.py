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


def render_solution(result, console: Console | None = None) -> None:
    console = console or Console()
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
        bits = [f"--set {o}" for o in result.overrides] + [f"--force {l}" for l in result.force] + [f"--exclude {l}" for l in result.exclude]
        console.print(Text("  as asked: " + "  ".join(bits), style="dim"))
    disc = meta["discount_rate"]
    dtxt = f"discounted at {disc:.1%}/yr" if disc else "undiscounted"
    console.print(
        f"Expected tariff relief: [bold]USD {_bn(ev.expected_relief)}bn[/] over the horizon ({dtxt}); "
        f"public spending USD {_bn(ev.public_spend)}bn"
        + (f" of a total budget of USD {_bn(meta['total_public_budget'])}bn" if meta.get("total_public_budget") is not None else "")
        + f"; total capex USD {_bn(ev.total_spend)}bn."
    )

    # --- roadmap: lever by year -------------------------------------------------------
    rm = ev.roadmap
    chosen = [l for l, v in ev.portfolio.items() if v > 0]
    console.print(Text("Roadmap: modules committed (+n) and operating (●n) by year", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("lever", no_wrap=True)
    t.add_column("total", justify="right")
    for y in years:
        t.add_column(str(y)[-2:] if len(years) > 8 else str(y), justify="right", no_wrap=True)
    lv = case.table("levers").set_index("lever")
    for l in chosen:
        cells = []
        rows = rm[rm["lever"] == l].set_index("year")
        for y in years:
            c, o = rows.at[y, "committed"], rows.at[y, "operating"]
            parts = []
            if c:
                parts.append(f"[bold green]+{_mod(c)}[/]")
            if o:
                parts.append(f"●{_mod(o)}")
            elif rows.at[y, "cumulative"]:
                parts.append("[dim]…[/]")
            cells.append(" ".join(parts))
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
    for col, just in (("scenario", "left"), ("probability", "right"), ("credit for pledges", "right"), ("relief, USD bn", "right")):
        t.add_column(col, justify=just)
    for s, v in ev.by_scenario.items():
        t.add_row(s, f"{sc.at[s, 'probability']:.0%}", f"{sc.at[s, 'commitment_credit']:.0%}", _bn(v))
    t.add_row("[bold]expected[/]", "", "", f"[bold]{_bn(ev.expected_relief)}[/]")
    console.print(t)

    # --- tiers reached ----------------------------------------------------------------------
    tiers = ev.tiers
    console.print(Text("Tier reached on each track (· = baseline, no relief)", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("scenario", no_wrap=True)
    t.add_column("track", no_wrap=True)
    for y in years:
        t.add_column(str(y)[-2:] if len(years) > 8 else str(y), justify="center", no_wrap=True)
    for (s, r), g in tiers.groupby(["scenario", "track"], sort=False):
        g = g.set_index("year")
        cells = ["[dim]·[/]" if g.at[y, "tier"] == g.at[y, "base_tier"] else f"[cyan]{g.at[y, 'tier']}[/]" for y in years]
        t.add_row(s, r, *cells)
    console.print(t)

    # --- spending against budget ------------------------------------------------------------
    sp = ev.spending
    console.print(Text("Public spending against the budget, USD bn", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("")
    shown = [r for r in sp.itertuples() if r.year in years or r.public_spend]
    for r in shown:
        t.add_column(str(r.year)[-2:] if len(shown) > 8 else str(r.year), justify="right")
    t.add_row("spend", *[_bn(r.public_spend) for r in shown])
    t.add_row("budget", *["" if r.budget is None or r.budget != r.budget else _bn(r.budget) for r in shown])
    t.add_row("used", *["" if r.budget is None or r.budget != r.budget or not r.budget else f"{r.public_spend / r.budget:.0%}" for r in shown])
    console.print(t)
    for w in case.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))


def render_infeasible(result, console: Console | None = None) -> None:
    console = Console(stderr=True) if console is None else console
    console.print("[bold red]Infeasible:[/] no roadmap meets every limit of this request.")
    for line in result.conflicts:
        console.print(f"  - {line}")
