"""The sections of `relief report` about runs: the question, key figures, assumptions,
one run's roadmap, spending, relief and tier ladders, the comparison of several runs,
and the input tables. Each returns template context (charts as SVG, tables as text
cells); nothing is solved here."""

from __future__ import annotations

from relief.cli.compare import levers_changed, portfolio_rows
from relief.cli.format import (
    REPORT_TOLERANCE,
    amount,
    as_typed,
    margin_pct,
    modules,
    number,
    share_text,
    thin_parts,
    tier_path_of,
)
from relief.model.analyses.compare import Run, compare, tier_cells, tier_map

TOL = 1e-9
OPEN_TABLES = ("scenarios", "levers", "budget", "pools")  # shown unfolded; the long tables fold


def table(columns: list[str], rows: list[list], numeric=()) -> dict:
    """A table for the template: numbers written as text ('1,234.56'), numeric columns marked."""
    return {
        "columns": columns,
        "rows": [[amount(v) if not isinstance(v, str) else v for v in r] for r in rows],
        "numeric": [c in numeric for c in columns],
    }


def _text(v) -> str:
    """An input table's cell: a float as short as it reads ('0.25'), a gap as nothing."""
    return number(v, "{:g}", missing="")


def question(case, run: Run) -> str:
    """The case's own description, or the question the model answers in its numbers."""
    meta = case.meta if case is not None else {}
    if meta.get("description"):
        return str(meta["description"])
    years = f"{meta.get('first_year', '?')}-{meta.get('last_year', '?')}"
    n = len(run.probability)
    return (
        f"Which contributions to commit, in which year and at what size, to maximise the expected tariff "
        f"relief over {n} U.S. negotiating stance{'s' if n != 1 else ''} in {years}, within the public budgets "
        "and industrial capacity of the case?"
    )


def key_figures(run: Run, case) -> list[tuple[str, str]]:
    s = run.summary
    cap = case.meta.get("total_public_budget") if case is not None else None
    gap = s.get("mip_gap")
    status = str(s.get("status"))
    if gap is not None and status != "optimal":
        status += f" (gap {gap:.2%})"
    chosen = [p for p in _portfolio_rows(run, case) if p["modules"] > TOL]
    return [
        (
            "Expected tariff relief",
            f"USD {amount(s.get('expected_relief'))}bn"
            + (
                f", discounted at {case.meta['discount_rate']:.1%}/yr"
                if case is not None and case.meta.get("discount_rate")
                else ""
            ),
        ),
        (
            "Public spending",
            f"USD {amount(s.get('public_spend'))}bn" + (f" of a USD {amount(float(cap), 0)}bn cap" if cap else ""),
        ),
        *duty_figures(s),
        ("Total capex (public and private)", f"USD {amount(s.get('total_spend'))}bn"),
        ("Levers used", f"{len(chosen)} of {len(_portfolio_rows(run, case))}"),
        *obligations_figure(run),
        *(
            [("Worst stance", f"USD {amount(d['worst'])}bn ({d['worst_scenario']})")]
            if (d := s.get("relief_distribution"))
            else []
        ),
        *knife_edge_figure(run, case),
        ("Solver status", status),
    ]


def obligations_figure(run: Run) -> list[tuple[str, str]]:
    """The key figure of the obligations (obligations.csv): how many are met and which bind, or that
    they were dropped (none for a run without any)."""
    s = run.summary
    if s.get("without_obligations"):
        return [("Obligations", "dropped (--without-obligations)")]
    owed = s.get("obligations") or []
    if not owed:
        return []
    binding = [f"{o['lever']} {o['min_modules']:g} by {o['by_year']}" for o in owed if o.get("binding")]
    text = f"{sum(bool(o.get('met')) for o in owed)} of {len(owed)} met"
    return [("Obligations", text + (f"; binding: {', '.join(binding)}" if binding else ""))]


def duty_figures(s: dict) -> list[tuple[str, str]]:
    """Relief against current rates and the duty paid, in expectation (none in a run from before
    they were reported)."""
    out = []
    if s.get("expected_relief_vs_current") is not None:
        when = f" (as of {s['as_of']})" if s.get("as_of") else ""
        out.append(("Expected relief against current rates" + when, f"USD {amount(s['expected_relief_vs_current'])}bn"))
    if s.get("expected_duty_paid") is not None:
        out.append(
            (
                "Expected duty paid",
                f"USD {amount(s['expected_duty_paid'])}bn of USD {amount(s.get('expected_duty_no_delivery'))}bn "
                "under no delivery"
                + (
                    f", USD {amount(s['expected_duty_current'])}bn at current rates"
                    if s.get("expected_duty_current") is not None
                    else ""
                ),
            )
        )
    return out


def duty_table(run: Run) -> dict | None:
    """Duty by stance, discounted (summary.json's duty_by_scenario), and the expectation."""
    by = run.summary.get("duty_by_scenario") or {}
    if not by:
        return None
    cols = ["duty_paid", "duty_no_delivery", "duty_current", "relief", "relief_vs_current"]
    rows = [[sc, run.probability.get(sc, 0.0), *[d.get(c) for c in cols]] for sc, d in by.items()]
    s = run.summary
    rows.append(
        [
            "expected",
            1.0,
            s.get("expected_duty_paid"),
            s.get("expected_duty_no_delivery"),
            s.get("expected_duty_current"),
            s.get("expected_relief"),
            s.get("expected_relief_vs_current"),
        ]
    )
    rows = [[("-" if v is None else v) for v in r] for r in rows]
    head = ["scenario", "probability", "duty paid", "duty, no delivery", "duty, current rates"]
    head += ["relief vs no delivery", "relief vs current"]
    return table(head, rows, numeric=tuple(head[1:]))


def knife_edge_figure(run: Run, case) -> list[tuple[str, str]]:
    """The key figure of tiers reached with less than the margin tolerance to spare (none
    without tiers): '6 tiers below 2%' or 'none below 2%'."""
    from relief.model.core.evaluate import MARGIN_TOLERANCE

    if run.tiers is None or case is None or not len(run.tiers):
        return []
    tol = float(run.summary.get("margin_tolerance", MARGIN_TOLERANCE))
    t = tier_margins(run.tiers, tol)
    n = len({(r["scenario"], r["track"], r["tier"]) for r in t[t["thin"]].to_dict("records")})
    text = f"{n} tier{'s' if n != 1 else ''} below {share_text(tol)}" if n else f"none below {share_text(tol)}"
    return [("Tiers on a knife edge", text)]


def _portfolio_rows(run: Run, case) -> list[dict]:
    names = {}
    if case is not None:
        lv = case.table("levers")
        names = dict(zip(lv["lever"], lv["name"])) if "name" in lv.columns else {}
    rows = []
    rm = run.roadmap
    for lever, g in rm.groupby("lever", sort=False):
        com = g[g["committed"] > TOL]["year"]
        op = g[g["operating"] > TOL]["year"]
        rows.append(
            {
                "lever": str(lever),
                "name": str(names.get(lever, "") or ""),
                "modules": float(g["committed"].sum()),
                "first_commit": int(com.min()) if len(com) else None,
                "first_operating": int(op.min()) if len(op) else None,
                "public_spend": float(g["public_spend"].sum()) if "public_spend" in g else None,
                "schedule": ", ".join(
                    f"+{modules(v, REPORT_TOLERANCE)} in {int(y)}" for y, v in zip(g["year"], g["committed"]) if v > TOL
                ),
            }
        )
    return rows


def envelope_table(run: Run, case) -> dict | None:
    """With several funding envelopes: each one's public spending by year (roadmap.csv) against
    its yearly budget (blank: no yearly limit), and in all (summary.json's public_spend_by_envelope,
    also after the horizon) against its total (envelopes.csv, blank: none). None otherwise."""
    if case is None:
        return None
    lv = case.table("levers")
    envelope = dict(zip(lv["lever"], lv["envelope"])) if "envelope" in lv.columns else {}
    in_all = run.summary.get("public_spend_by_envelope") or {}
    if len(set(envelope.values())) < 2 or not in_all:
        return None
    years = sorted(int(y) for y in run.spending["year"])
    b = case.table("budget")
    budget = {(e, int(t)): float(v) for e, t, v in zip(b["envelope"], b["year"], b["public_budget_usd_bn"])}
    env_t = case.table("envelopes") if "envelopes" in case.tables else None
    total = {} if env_t is None else dict(zip(env_t["envelope"], env_t["total_usd_bn"]))
    rm = run.roadmap.assign(envelope=run.roadmap["lever"].map(envelope))
    spend = rm.groupby(["envelope", "year"])["public_spend"].sum().to_dict()
    rows = []
    for e in dict.fromkeys(envelope.values()):
        rows.append([e, "spend", *[spend.get((e, t), 0.0) for t in years], in_all.get(e, 0.0)])
        rows.append(["", "budget", *[budget.get((e, t), "") for t in years], total.get(e, "")])
    cols = ["envelope", "", *[str(t) for t in years], "all years"]
    return table(cols, rows, numeric=tuple(cols[2:]))


def run_sections(run: Run, case) -> dict:
    """Charts and tables of one run, as template context."""
    from relief.cli import report_charts as ch

    years = sorted(int(y) for y in run.spending["year"])
    port = _portfolio_rows(run, case)
    used = [p for p in port if p["modules"] > TOL]
    unused = [p["lever"] for p in port if p["modules"] <= TOL]
    out = {
        "timeline": ch.tree_timeline(run.roadmap_by_scenario, years, run.summary.get("reveal", {}), run.probability)
        if run.adaptive
        else ch.roadmap_timeline(run.roadmap, years),
        "portfolio": table(
            ["lever", "what", "modules", "commitments", "first operating", "public spend, USD bn"],
            [
                [
                    p["lever"],
                    p["name"],
                    modules(p["modules"], REPORT_TOLERANCE),
                    p["schedule"],
                    p["first_operating"] or "after the horizon",
                    p["public_spend"],
                ]
                for p in used
            ],
            numeric=("modules", "public spend, USD bn"),
        ),
        "unused": unused,
        "spending_chart": ch.spending_vs_budget(run.spending),
        "envelopes": envelope_table(run, case),
        "spending": table(
            ["year", "public spending", "budget", "headroom", "total capex"],
            [
                [
                    int(r.year),
                    float(r.public_spend),
                    float(r.budget),
                    max(float(r.budget - r.public_spend), 0.0)
                    if r.budget - r.public_spend > -1e-6
                    else float(r.budget - r.public_spend),
                    float(getattr(r, "capex_spend", float("nan"))),
                ]
                for r in run.spending.sort_values("year").itertuples()
            ],
            numeric=("public spending", "budget", "headroom", "total capex"),
        ),
        "relief_chart": ch.relief_by_scenario_track(run.relief, run.probability),
    }
    cells = run.relief.groupby(["scenario", "track"])["discounted_relief"].sum().unstack(fill_value=0.0)
    tracks = [str(t) for t in cells.columns]
    rows = []
    for s in [s for s in run.probability if s in cells.index]:
        rows.append(
            [s, run.probability[s], *[float(cells.loc[s, t]) for t in cells.columns], float(cells.loc[s].sum())]
        )
    expected = [
        sum(run.probability[s] * float(cells.loc[s, t]) for s in run.probability if s in cells.index)
        for t in cells.columns
    ]
    rows.append(["expected", 1.0, *expected, sum(expected)])
    out["relief"] = table(
        ["scenario", "probability", *tracks, "total"], rows, numeric=("probability", *tracks, "total")
    )
    out["duty"] = duty_table(run)
    out["as_of"] = run.summary.get("as_of")
    if run.tiers is not None and case is not None and len(run.tiers):
        out.update(ladder_sections(run, case))
    return out


def tier_margins(tiers, tolerance: float):
    """A run's tiers with margin, margin_rel and thin: the margins as written, or, for a run
    folder written before relief wrote them, computed from score and threshold; thin
    re-marked against `tolerance`."""
    from relief.model.core.evaluate import thin, tidy
    from relief.model.core.evaluate import tier_margin as margin_of

    t = tiers.copy()
    if "margin_rel" not in t.columns:
        above = [str(k) != str(b) for k, b in zip(t["tier"], t["base_tier"])]
        pairs = [margin_of(tidy(s, thr), float(thr), a) for s, thr, a in zip(t["score"], t["threshold"], above)]
        t["margin"] = [m for m, _ in pairs]
        t["margin_rel"] = [r for _, r in pairs]
    t["thin"] = [thin(m, tolerance) for m in t["margin_rel"]]
    return t


def ladder_sections(run: Run, case) -> dict:
    """The tier ladders chart and the table of tiers reached, with the least margin of each
    track and the tiers reached with less than the margin tolerance to spare."""
    from relief.cli import report_charts as ch
    from relief.model.core.evaluate import MARGIN_TOLERANCE

    tol = float(run.summary.get("margin_tolerance", MARGIN_TOLERANCE))
    tiers = tier_margins(run.tiers, tol)
    scen = list(run.probability)
    tr = list(dict.fromkeys(str(t) for t in tiers["track"]))
    cells = tier_map(run)
    rows = []
    for s in scen:
        for r in tr:
            g = tiers[(tiers["scenario"] == s) & (tiers["track"] == r)].sort_values("year")
            reached = g[g["tier"].astype(str) != g["base_tier"].astype(str)]
            least = reached.loc[reached["margin_rel"].astype(float).idxmin()] if len(reached) else None
            sel = reached[reached["thin"]]
            thin_years = ", ".join(f"{k} {int(y)}" for k, y in zip(sel["tier"], sel["year"]))
            rows.append(
                [
                    s,
                    r,
                    tier_path_of(cells, s, r),
                    "" if least is None else f"{margin_pct(least['margin_rel'])} ({int(least['year'])})",
                    thin_years,
                ]
            )
    thin_rows = tiers[tiers["thin"]].to_dict("records")
    return {
        "ladders_chart": ch.tier_ladders(tiers, case.table("tiers"), scen, tr),
        "ladders": table(
            ["scenario", "track", "tiers reached (first year)", "least margin (year)", f"below {share_text(tol)} in"],
            rows,
        ),
        "thin": thin_parts(thin_rows, tol) if thin_rows else None,
        "margin_tolerance": share_text(tol),
    }


def assumptions(run: Run, case) -> dict:
    if case is None:
        return {}
    m = case.meta
    s = run.summary
    asked = as_typed(s.get("overrides") or [], s.get("force") or [], s.get("exclude") or [], s.get("risk_option"))
    facts = [
        ("Horizon", f"{m['first_year']}-{m['last_year']} (export figures of {m['data_year']})"),
        ("Discount rate", f"{m.get('discount_rate') or 0:.1%} per year"),
        (
            "Cap on all public spending",
            "none" if m.get("total_public_budget") is None else f"USD {m['total_public_budget']:g}bn",
        ),
    ]
    if m.get("source"):
        facts.append(("Source", str(m["source"])))
    if asked:
        facts.append(("Asked of this run", "  ".join(asked)))
    sc = case.table("scenarios")
    scen = table(
        ["scenario", "what the U.S. does", "probability", "credit for commitments"],
        [
            [
                r.scenario,
                str(getattr(r, "name", "") or ""),
                float(r.probability),
                float(getattr(r, "commitment_credit", float("nan"))),
            ]
            for r in sc.itertuples()
        ],
        numeric=("probability", "credit for commitments"),
    )
    pools = None
    if "pools" in case.tables and len(case.table("pools")):
        p = case.table("pools")
        pools = table(
            ["pool", "limit", "unit"],
            [[r.pool, float(r.limit), str(getattr(r, "unit", "") or "")] for r in p.itertuples()],
            numeric=("limit",),
        )
    return {"facts": facts, "scenarios": scen, "pools": pools}


def comparison_sections(runs: list[Run]) -> dict:
    """The views of `relief compare`, as charts and tables."""
    from relief.cli import report_charts as ch

    rep = compare(runs)
    labels = [o["run"] for o in rep["runs"]]
    ref = rep["reference"]
    overview = table(
        ["run", "status", "expected relief", "vs reference", "public spend", "total capex"],
        [
            [
                o["run"],
                str(o["status"]),
                o["expected_relief"],
                "" if o["run"] == ref else f"{o['difference']:+.2f}",
                o["public_spend"],
                o["total_spend"],
            ]
            for o in rep["runs"]
        ],
        numeric=("expected relief", "vs reference", "public spend", "total capex"),
    )
    prow = portfolio_rows(rep, lambda v: modules(v, REPORT_TOLERANCE))
    portfolio = table(["lever", *labels, "change"], prow)
    scen = list(dict.fromkeys([*runs[0].probability, *(x["scenario"] for x in rep["relief_by_scenario"])]))
    rs = {(x["run"], x["scenario"]): x["relief"] for x in rep["relief_by_scenario"]}
    relief_chart = ch.grouped_bars(
        scen, {lab: [rs.get((lab, s), 0.0) for s in scen] for lab in labels}, "relief if the stance comes true, USD bn"
    )
    years = sorted({s["year"] for s in rep["spending"]})
    sp = {(s["run"], s["year"]): s for s in rep["spending"]}
    ref_budget = [sp[(ref, y)]["budget"] if (ref, y) in sp else 0.0 for y in years]
    ref_budget = [float("nan") if b is None else b for b in ref_budget]  # no common yearly budget: no line
    spending_chart = ch.grouped_bars(
        [str(y) for y in years],
        {lab: [sp[(lab, y)]["public_spend"] if (lab, y) in sp else 0.0 for y in years] for lab in labels},
        "public spending, USD bn",
        reference_line=ref_budget,
    )
    whys = [_why(rep, lab) for lab in labels[1:]]
    return {
        "reference": ref,
        "warnings": rep["warnings"],
        "overview": overview,
        "portfolio": portfolio,
        "relief_chart": relief_chart,
        "spending_chart": spending_chart,
        "whys": whys,
    }


def _why(rep: dict, lab: str) -> dict:
    """Why run `lab` differs from the reference: the attribution as a chart and a table,
    by scenario, and the tiers it reaches differently."""
    from relief.cli import report_charts as ch

    ref = rep["reference"]
    diff = next(o["difference"] for o in rep["runs"] if o["run"] == lab)
    rows = [x for x in rep["attribution"] if x["run"] == lab and abs(x["difference"]) > TOL]
    srows = [x for x in rep["attribution_by_scenario"] if x["run"] == lab and abs(x["difference"]) > TOL]
    tiers = sorted({(x["scenario"], x["track"]) for x in rep["tiers"] if x["run"] == lab and x["changed"]})
    cells = {r: tier_cells(rep, r) for r in (ref, lab)}
    return {
        "label": lab,
        "difference": diff,
        "chart": ch.attribution_bars(rows),
        "table": table(
            ["#", "scenario", "track", "probability (run)", "weighted difference", "share", "levers changed there"],
            [
                [
                    str(x["rank"]),
                    x["scenario"],
                    x["track"],
                    x["probability"],
                    f"{x['difference']:+.3f}",
                    "-" if x["share"] is None else f"{x['share']:.0%}",
                    levers_changed(x["levers"], rep["changes"].get(lab, {}), show=3, more="and {} more"),
                ]
                for x in rows[:10]
            ],
            numeric=("probability (run)", "weighted difference", "share"),
        ),
        "more": len(rows) - 10 if len(rows) > 10 else 0,
        "by_scenario": "; ".join(f"{x['scenario']} {x['difference']:+.2f}" for x in srows),
        "tiers": table(
            ["scenario", "track", ref, lab],
            [[s, t, tier_path_of(cells[ref], s, t), tier_path_of(cells[lab], s, t)] for s, t in tiers],
        )
        if tiers
        else None,
    }


def input_tables(case) -> list[dict]:
    """Every table of the case as given, in schema order; each row's source and notes go
    on a full-width line under it, so the tables stay readable at a laptop's width."""
    from relief.model.core.schema import TABLES

    out = []
    for name, spec in TABLES.items():
        df = case.tables.get(name)
        if df is None or not len(df):
            continue
        order = [c.name for c in spec.columns]
        visible = sorted(
            (c for c in df.columns if not str(c).startswith("_")),  # not the loader's row numbers
            key=lambda c: order.index(c) if c in order else len(order),
        )
        # long text (names, units, sources, notes) goes on the line under the row
        text_cols = [
            c
            for c in visible
            if c in ("source", "notes") or c not in spec.key and df[c].map(lambda v: len(_text(v))).max() > 24
        ]
        cols = [c for c in visible if c not in text_cols]
        rows = []
        for r in df.to_dict("records"):
            cells = [_text(r[c]) for c in cols]
            notes = [(c, _text(r[c])) for c in text_cols if _text(r[c])]
            rows.append({"cells": cells, "notes": notes})
        out.append(
            {
                "name": name,
                "file": spec.file,
                "description": spec.description,
                "n": len(df),
                "open": name in OPEN_TABLES,
                "columns": cols,
                "rows": rows,
            }
        )
    return out
