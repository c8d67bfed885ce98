"""What a planner reads first: a compact terminal summary of a solved case (rich), and
the console and table style every command's terminal view shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from relief.cli.format import as_typed, margin_pct, modules, share_text, thin_line, tier_path, usd

if TYPE_CHECKING:
    from relief.model.core.run import RunResult

# the columns of a record table read as labels (left), every other one as a number (right)
LABELS = ("plan", "lever", "owner", "scenario", "track", "sector", "year", "obligation", "")


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich exits 1 when stdout's reader went away (`relief solve | head -1`); relief's error
        boundary (cli/errors.py `guarded`) treats it as the end of the output instead: exit 0."""
        raise BrokenPipeError


def console(stderr: bool = False) -> Console:
    """Rich's own width in a terminal; 120 columns when piped to a file."""
    c = _Console(stderr=stderr)
    return c if c.is_terminal else _Console(stderr=stderr, width=120)


def table(*columns: str, left=LABELS) -> Table:
    """A plain table of records: labels left, numbers right, long cells folded."""
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for c in columns:
        t.add_column(c, overflow="fold", justify="left" if c in left else "right")
    return t


def print_case_line(con: Console, name: str, origin, lead: str = "  case: ") -> None:
    """The folder or workbook that was solved, resolved: under `relief solve`'s headline, or
    (lead "Case: ") above an analysis's."""
    from relief.cli.inputs import case_label

    if origin is not None and str(origin) != "<memory>":
        # one line whatever its length: a path broken over two lines cannot be copied
        con.print(Text(f"{lead}{case_label(name, origin)}", style="dim"), soft_wrap=True)


def _year(y: int, years) -> str:
    return f"'{str(y)[-2:]}" if len(years) > 6 else str(y)


def _render_risk(result: RunResult, con: Console) -> None:
    """One line on the spread of relief across stances, and the risk measure if one was asked."""
    from relief.model.core.risk import Risk, distribution, measure_value

    case, ev = result.case, result.evaluation
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    risk = Risk.of_case(case.meta)
    alpha = risk.alpha if risk.kind == "cvar" else 0.8
    d = distribution(dict(ev.by_scenario), prob, alpha)
    if risk.kind != "expected":
        con.print(
            f"Maximised: [bold]{risk.label()}[/] = USD {usd(measure_value(risk, ev.by_scenario, prob))}bn "
            "(then expected relief, then least spending)."
        )
    con.print(
        f"Across stances: worst USD {usd(d['worst'])}bn ({d['worst_scenario']}), mean of the worst "
        f"{1 - alpha:.0%} of probability (CVaR) {usd(d[f'cvar_{alpha:g}'])}, best {usd(d['best'])} "
        f"({d['best_scenario']}), standard deviation {usd(d['std'])}.",
        style="dim",
    )


def render_solution(result: RunResult, con: Console | None = None) -> None:
    """`relief solve`: the headline, the roadmap, relief by stance, tiers, spending."""
    con = con or console()
    for part in (_render_headline, _render_risk, _render_roadmap, _render_relief, _render_tiers, _render_spending):
        part(result, con)
    # the case's warnings went to stderr before the solve (relief solve)


def _render_headline(result: RunResult, con: Console) -> None:
    case, ev, out = result.case, result.evaluation, result.outcome
    meta = case.meta
    head = Text()
    head.append(f"{case.name}", style="bold")
    head.append(f"  {meta['first_year']}-{meta['last_year']}  ")
    if meta.get("as_of"):
        head.append(f"as of {meta['as_of']}  ")
    head.append(f"status {out.status}", style="green" if out.status == "optimal" else "yellow")
    gap = "" if out.mip_gap is None else f", gap {out.mip_gap:.2g}"
    head.append(f"  (HiGHS {out.solver.get('version', '')}, {out.solve_seconds:.2f} s{gap})", style="dim")
    con.print(head)
    print_case_line(con, case.name, case.origin)
    bits = as_typed(result.overrides, result.force, result.exclude, result.risk_option)
    if result.without_obligations:
        bits = [*bits, "--without-obligations"]
    if bits:
        con.print(Text("  as asked: " + "  ".join(bits), style="dim"))
    disc = meta["discount_rate"]
    dtxt = f"discounted at {disc:.1%}/yr" if disc else "undiscounted"
    con.print(
        f"Expected tariff relief: [bold]USD {usd(ev.expected_relief)}bn[/] over the horizon ({dtxt}); "
        f"public spending USD {usd(ev.public_spend)}bn"
        + (
            f" of a total budget of USD {usd(meta['total_public_budget'])}bn"
            if meta.get("total_public_budget") is not None
            else ""
        )
        + f"; total capex USD {usd(ev.total_spend)}bn."
    )
    line = duty_line(ev.expected_relief, ev.duty_summary, meta)
    if line:
        con.print(line)
    if meta.get("tier_margin"):
        con.print(margin_line(meta["tier_margin"]))
    _render_obligations(result, con)


def margin_line(margin: float) -> str:
    """What case.tier_margin (relief solve --margin) means for the plan shown."""
    return (
        f"[yellow]Tiers count only with a {margin * 100:g}% margin above their thresholds[/] "
        f"(tier_margin {margin:g}: score >= threshold x {1 + margin:g}; margins below are against the thresholds)."
    )


def _render_obligations(result: RunResult, con: Console) -> None:
    """How many obligations there are and that each is met (re-checked by the evaluator), or that they were dropped."""
    obligations = result.evaluation.obligations
    if result.without_obligations:
        con.print("[yellow]Obligations dropped[/] (--without-obligations): this roadmap owes nothing.")
    if not obligations:
        return
    met = sum(o["met"] for o in obligations)
    binding = [o for o in obligations if o["binding"]]
    con.print(
        f"Obligations: {met} of {len(obligations)} met (obligations.csv, re-checked)"
        + (
            "; binding (exactly what is owed): "
            + ", ".join(f"{o['lever']} {modules(o['min_modules'])} by {o['by_year']}" for o in binding)
            if binding
            else "; none binding"
        )
        + "."
    )


def duty_line(relief: float, duty: dict, meta: dict) -> str:
    """The two reliefs and the duty paid, in expectation (discounted over the horizon)."""
    if not duty or duty.get("expected_duty_paid") is None:
        return ""
    vs = duty.get("expected_relief_vs_current")
    against = (
        f", {usd(vs)} against current rates" + (f" (as of {meta['as_of']})" if meta.get("as_of") else "")
        if vs is not None
        else " (no current rates in sectors.csv)"
    )
    return (
        f"Expected relief {usd(relief)} against no delivery{against}; expected duty paid "
        f"{usd(duty['expected_duty_paid'])} of {usd(duty['expected_duty_no_delivery'])} under no delivery"
        + (
            f", {usd(duty['expected_duty_current'])} at current rates"
            if duty.get("expected_duty_current") is not None
            else ""
        )
        + f" (USD bn, {'discounted' if meta['discount_rate'] else 'undiscounted'}, "
        f"{meta['first_year']}-{meta['last_year']})."
    )


def _roadmap_cell(committed: float, operating: float, cumulative: float) -> str:
    if committed:
        return f"[bold green]+{modules(committed)}[/]"
    if operating and operating >= cumulative - 1e-9:
        return "●"
    if operating:
        return "◐"
    return "[dim]…[/]" if cumulative else ""


ROADMAP_KEY = "+n = modules committed that year, … = under construction, ● = all operating, ◐ = partly"


def _roadmap_table(rm, portfolio: dict, years: list, all_years: list) -> Table | None:
    """Lever by year of one roadmap (rows of roadmap.csv), the levers with modules only."""
    chosen = [l for l, v in portfolio.items() if v > 0]
    if not chosen:
        return None
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("lever", no_wrap=True)
    t.add_column("total", justify="right")
    for y in years:
        t.add_column(_year(y, all_years), justify="right", no_wrap=True)
    for l in chosen:
        rows = rm[rm["lever"] == l].set_index("year")
        cells = [
            _roadmap_cell(rows.at[y, "committed"], rows.at[y, "operating"], rows.at[y, "cumulative"]) for y in years
        ]
        t.add_row(l, modules(portfolio[l]), *cells)
    return t


def _render_roadmap(result: RunResult, con: Console) -> None:
    """Lever by year: +n committed, … under construction, ● all operating, ◐ partly."""
    case, ev = result.case, result.evaluation
    if ev.adaptive:
        _render_tree(result, con)
        return
    years, rm = case.years, ev.roadmap
    con.print(Text(f"Roadmap: {ROADMAP_KEY}", style="bold"))
    t = _roadmap_table(rm, ev.portfolio, years, years)
    if t is not None:
        con.print(t)
    else:
        con.print("[yellow]No lever is worth committing: no tier is reachable within the limits.[/]")
    unused = [l for l in case.levers if not ev.portfolio.get(l)]
    if unused:
        con.print(Text("  not used: " + ", ".join(unused), style="dim"))


def _render_tree(result: RunResult, con: Console) -> None:
    """An adaptive roadmap: the first moves every stance shares, then each branch's continuation
    (the stances of a branch share one roadmap; `reveal` in --json says what is known when)."""
    case, ev = result.case, result.evaluation
    years, rm, reveal = case.years, ev.roadmap, ev.reveal
    shared = [y for y in years if y in reveal["first_moves_years"]]
    later = [y for y in years if y not in shared]
    first = case.scenarios[0]
    con.print(Text(f"Adaptive roadmap: {ROADMAP_KEY}", style="bold"))
    if shared:
        con.print(
            Text(
                f"First moves, {_span(shared)}: the same whatever the U.S. stance (committed before it is known)",
                style="bold",
            )
        )
        t = _roadmap_table(rm[rm["scenario"] == first], ev.portfolio, shared, years)
        con.print(t if t is not None else Text("  nothing committed before the stance is known", style="dim"))
    else:
        con.print(Text("No first moves: every stance is known from the first year (wait and see).", style="dim"))
    prob = dict(zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"]))
    for label, stances in reveal["branches"].items():
        p = sum(prob[s] for s in stances)
        who = label if stances == [label] else f"{label} ({', '.join(stances)})"
        con.print(Text(f"Then, if {who} (probability {p:.0%}), {_span(later)}:", style="bold"))
        s = stances[0]
        later_modules = {
            l: sum(v for (ll, t), v in ev.plan_by_scenario[s].items() if ll == l and t in later) for l in case.levers
        }
        t = _roadmap_table(rm[rm["scenario"] == s], later_modules, later, years)
        con.print(t if t is not None else Text("  nothing more committed", style="dim"))


def _span(years: list) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


def _render_relief(result: RunResult, con: Console) -> None:
    ev = result.evaluation
    sc = result.case.table("scenarios").set_index("scenario")
    con.print(Text("Relief by U.S. stance", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (
        ("scenario", "left"),
        ("probability", "right"),
        ("credit for pledges", "right"),
        ("relief, USD bn", "right"),
    ):
        t.add_column(col, justify=just)
    for s, v in ev.by_scenario.items():
        t.add_row(s, f"{sc.at[s, 'probability']:.0%}", f"{sc.at[s, 'commitment_credit']:.0%}", usd(v))
    t.add_row("[bold]expected[/]", "", "", f"[bold]{usd(ev.expected_relief)}[/]")
    con.print(t)


def _render_tiers(result: RunResult, con: Console) -> None:
    ev = result.evaluation
    tol = result.margin_tolerance
    con.print(Text("Tiers reached: the tier on each track, from the year it is reached", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("scenario", no_wrap=True)
    t.add_column("track", no_wrap=True)
    t.add_column("tier path")
    t.add_column("least margin", justify="right", no_wrap=True)
    t.add_column("relief, USD bn", justify="right")
    last_s = None
    for (s, r), g in ev.tiers.groupby(["scenario", "track"], sort=False):
        g = g.sort_values("year")
        # the case's own name for the baseline (no_delivery, no_quota, ...), plain; tiers above it in colour
        path = tier_path(zip(g["year"], [k if k == b else f"[cyan]{k}[/]" for k, b in zip(g["tier"], g["base_tier"])]))
        rel = ev.relief[(ev.relief["scenario"] == s) & (ev.relief["track"] == r)]["discounted_relief"].sum()
        t.add_row(s if s != last_s else "", r, path, _least_margin(g), usd(rel))
        last_s = s
    con.print(t)
    thin = ev.tiers[ev.tiers["thin"].astype(bool)] if len(ev.tiers) else ev.tiers
    if len(thin):
        con.print(Text(thin_line(thin.to_dict("records"), tol), style="yellow"))
    else:
        con.print(Text(f"Every tier reached has at least {share_text(tol)} of its threshold to spare.", style="dim"))


def _least_margin(g) -> str:
    """The smallest margin of a track's tiers reached above the baseline, as a share of the
    threshold with its year: '+0.0% (2028)!' ('!' where thin); '' if none is reached."""
    reached = g[g["tier"] != g["base_tier"]]
    if not len(reached):
        return ""
    low = reached.loc[reached["margin_rel"].astype(float).idxmin()]
    text = f"{margin_pct(low['margin_rel'])} ({int(low['year'])})"
    return f"[bold yellow]{text}![/]" if bool(low["thin"]) else f"{text} "


def _render_spending_tree(result: RunResult, con: Console) -> None:
    """An adaptive roadmap's public spending: one row per branch, and the budget."""
    years, sp, ev = result.case.years, result.evaluation.spending, result.evaluation
    con.print(Text("Public spending by branch, USD bn (all funding envelopes)", style="bold"))
    shown = sorted({int(r.year) for r in sp.itertuples() if r.year in years or r.public_spend})
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("")
    for y in shown:
        t.add_column(_year(y, shown), justify="right")
    t.add_column("all", justify="right")
    for label, stances in ev.reveal["branches"].items():
        g = sp[sp["scenario"] == stances[0]].set_index("year")
        t.add_row(
            label,
            *[usd(g.at[y, "public_spend"]) if y in g.index else "" for y in shown],
            usd(ev.public_spend_by_scenario[stances[0]]),
        )
    g = sp[sp["scenario"] == result.case.scenarios[0]].set_index("year")
    if any(b == b and b is not None for b in g["budget"]):
        t.add_row(
            "budget",
            *[
                "" if y not in g.index or g.at[y, "budget"] != g.at[y, "budget"] else usd(g.at[y, "budget"])
                for y in shown
            ],
            "",
        )
    con.print(t)
    con.print(
        Text(
            f"  expected public spending USD {usd(ev.public_spend)}bn; by envelope: envelope_spending.csv (--out)",
            style="dim",
        )
    )


def _render_spending(result: RunResult, con: Console) -> None:
    if result.evaluation.adaptive:
        _render_spending_tree(result, con)
        return
    years, sp = result.case.years, result.evaluation.spending
    con.print(
        Text("Public spending against the budget, USD bn", style="bold")
        if not _several_envelopes(result)
        else Text("Public spending, all funding envelopes, USD bn", style="bold")
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("")
    shown = [r for r in sp.itertuples() if r.year in years or r.public_spend]
    for r in shown:
        t.add_column(_year(r.year, [x.year for x in shown]), justify="right")
    sp_e = result.evaluation.envelope_spending
    several = sp_e is not None and len(sp_e) > 0 and sp_e["envelope"].nunique() > 1
    t.add_row("spend", *[usd(r.public_spend) for r in shown])
    if any(r.budget is not None and r.budget == r.budget for r in shown):
        t.add_row(
            "budgets" if several else "budget",  # several envelopes: the sum of their yearly budgets
            *["" if r.budget is None or r.budget != r.budget else usd(r.budget) for r in shown],
        )
    if several:  # a share of a sum that leaves out envelopes without yearly limits means little
        con.print(t)
        _render_envelopes(result, con, [r.year for r in shown])
        return
    t.add_row(
        "used",
        *[
            "" if r.budget is None or r.budget != r.budget or not r.budget else f"{r.public_spend / r.budget:.0%}"
            for r in shown
        ],
    )
    con.print(t)


def _several_envelopes(result: RunResult) -> bool:
    sp_e = result.evaluation.envelope_spending
    return sp_e is not None and len(sp_e) > 0 and sp_e["envelope"].nunique() > 1


def _render_envelopes(result: RunResult, con: Console, years: list) -> None:
    """With several funding envelopes: each envelope's spending against its yearly budget
    (blank: no yearly limit) and against its total (envelopes.csv), under the table of all."""
    sp = result.evaluation.envelope_spending
    if sp is None or len(sp) == 0 or sp["envelope"].nunique() < 2:
        return
    con.print(Text("By funding envelope, USD bn (budget blank: no yearly limit)", style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("envelope")
    t.add_column("")
    for y in years:
        t.add_column(_year(y, years), justify="right")
    t.add_column("all years", justify="right")
    totals = dict(zip(result.case.table("envelopes")["envelope"], result.case.table("envelopes")["total_usd_bn"]))
    spent_all = result.evaluation.envelope_totals
    for e, g in sp.groupby("envelope", sort=False):
        by = {int(r.year): r for r in g.itertuples()}
        spend = [usd(by[y].public_spend) if y in by else usd(0.0) for y in years]
        budget = [
            "" if y not in by or by[y].budget != by[y].budget or by[y].budget is None else usd(by[y].budget)
            for y in years
        ]
        t.add_row(e, "spend", *spend, usd(spent_all.get(e, 0.0)))
        t.add_row("", "budget", *budget, usd(totals[e]) if e in totals else "")
    con.print(t)


def render_infeasible(result: RunResult, con: Console | None = None) -> None:
    con = console(stderr=True) if con is None else con
    con.print("[bold red]Infeasible:[/] no roadmap meets every limit of this request.")
    d = result.diagnosis
    if d is not None and d.conflicts and d.note:
        con.print(Text(f"  {d.note[0].upper()}{d.note[1:]}:"))
    for line in result.conflicts:
        con.print(Text(f"  - {line}"))
