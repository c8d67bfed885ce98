"""`relief report`: one self-contained HTML file a planner can mail to a minister's office.

The report reads run folders (`relief solve --out DIR`) or solves a case and its variants
on the fly (the same `--case`/`--variant` as `relief compare`). The first run is the one
the report is about: the question, the case's key assumptions, the roadmap as a
timeline, spending against budget, relief by U.S. stance and track and the tier ladders.
With several runs it adds the comparison of `relief compare` (portfolio changes, relief
and spending side by side, the ranked attribution, tiers reached differently) and each
other run's roadmap. The input tables with their sources close the report.

Charts are matplotlib SVG inlined in the page (cli/report_charts.py); the page has no
script and loads nothing from the network. The page is assembled from a Jinja2
template (cli/templates/report.html) and written atomically.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import click

from relief.cli.compare import Run, compare, load_runs, portfolio_rows, run_options, tier_path
from relief.cli.main import EXIT_INPUT, Failure, guarded, main

TOL = 1e-9
OPEN_TABLES = ("scenarios", "levers", "budget", "pools")  # shown unfolded; the long tables fold


def _fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:,.{digits}f}"
    return str(v)


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
            f"USD {_fmt(s.get('expected_relief'))}bn"
            + (
                f", discounted at {case.meta['discount_rate']:.1%}/yr"
                if case is not None and case.meta.get("discount_rate")
                else ""
            ),
        ),
        (
            "Public spending",
            f"USD {_fmt(s.get('public_spend'))}bn" + (f" of a USD {_fmt(float(cap), 0)}bn cap" if cap else ""),
        ),
        ("Total capex (public and private)", f"USD {_fmt(s.get('total_spend'))}bn"),
        ("Levers used", f"{len(chosen)} of {len(_portfolio_rows(run, case))}"),
        *(
            [("Worst stance", f"USD {_fmt(d['worst'])}bn ({d['worst_scenario']})")]
            if (d := s.get("relief_distribution"))
            else []
        ),
        ("Solver status", status),
    ]


def _portfolio_rows(run: Run, case) -> list[dict]:
    from relief.cli.report_charts import modules

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
                    f"+{modules(v)} in {int(y)}" for y, v in zip(g["year"], g["committed"]) if v > TOL
                ),
            }
        )
    return rows


def _table(columns: list[str], rows: list[list], numeric=()) -> dict:
    return {
        "columns": columns,
        "rows": [[_fmt(v) if not isinstance(v, str) else v for v in r] for r in rows],
        "numeric": [c in numeric for c in columns],
    }


def run_sections(run: Run, case) -> dict:
    """Charts and tables of one run, as template context."""
    from relief.cli import report_charts as ch

    years = sorted(int(y) for y in run.spending["year"])
    port = _portfolio_rows(run, case)
    used = [p for p in port if p["modules"] > TOL]
    unused = [p["lever"] for p in port if p["modules"] <= TOL]
    out = {
        "timeline": ch.roadmap_timeline(run.roadmap, years),
        "portfolio": _table(
            ["lever", "what", "modules", "commitments", "first operating", "public spend, USD bn"],
            [
                [
                    p["lever"],
                    p["name"],
                    ch.modules(p["modules"]),
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
        "spending": _table(
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
    out["relief"] = _table(
        ["scenario", "probability", *tracks, "total"], rows, numeric=("probability", *tracks, "total")
    )
    if run.tiers is not None and case is not None and len(run.tiers):
        scen = list(run.probability)
        tr = list(dict.fromkeys(str(t) for t in run.tiers["track"]))
        out["ladders_chart"] = ch.tier_ladders(run.tiers, case.table("tiers"), scen, tr)
        cellmap = {
            (str(r.scenario), str(r.track), int(r.year)): ("" if r.tier == r.base_tier else str(r.tier))
            for r in run.tiers.itertuples()
        }
        out["ladders"] = _table(
            ["scenario", "track", "tiers reached (first year)"],
            [[s, t, tier_path(cellmap, s, t)] for s in scen for t in tr],
        )
    return out


def assumptions(run: Run, case) -> dict:
    if case is None:
        return {}
    m = case.meta
    s = run.summary
    asked = (
        [f"--set {o}" for o in s.get("overrides") or []]
        + [f"--force {l}" for l in s.get("force") or []]
        + [f"--exclude {l}" for l in s.get("exclude") or []]
    )
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
    scen = _table(
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
        pools = _table(
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
    overview = _table(
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
    prow = portfolio_rows(rep, ch.modules)
    portfolio = _table(["lever", *labels, "change"], prow)
    scen = list(dict.fromkeys([*runs[0].probability, *(x["scenario"] for x in rep["relief_by_scenario"])]))
    rs = {(x["run"], x["scenario"]): x["relief"] for x in rep["relief_by_scenario"]}
    relief_chart = ch.grouped_bars(
        scen, {lab: [rs.get((lab, s), 0.0) for s in scen] for lab in labels}, "relief if the stance comes true, USD bn"
    )
    years = sorted({s["year"] for s in rep["spending"]})
    sp = {(s["run"], s["year"]): s for s in rep["spending"]}
    ref_budget = [sp[(ref, y)]["budget"] if (ref, y) in sp else 0.0 for y in years]
    spending_chart = ch.grouped_bars(
        [str(y) for y in years],
        {lab: [sp[(lab, y)]["public_spend"] if (lab, y) in sp else 0.0 for y in years] for lab in labels},
        "public spending, USD bn",
        reference_line=ref_budget,
    )
    whys = []
    for lab in labels[1:]:
        diff = next(o["difference"] for o in rep["runs"] if o["run"] == lab)
        rows = [x for x in rep["attribution"] if x["run"] == lab and abs(x["difference"]) > TOL]
        srows = [x for x in rep["attribution_by_scenario"] if x["run"] == lab and abs(x["difference"]) > TOL]
        tiers = sorted({(x["scenario"], x["track"]) for x in rep["tiers"] if x["run"] == lab and x["changed"]})
        cells = {
            r: {(x["scenario"], x["track"], x["year"]): x["tier"] for x in rep["tiers"] if x["run"] == r}
            for r in (ref, lab)
        }
        whys.append(
            {
                "label": lab,
                "difference": diff,
                "chart": ch.attribution_bars(rows),
                "table": _table(
                    ["#", "scenario", "track", "probability", "difference", "share", "levers changed there"],
                    [
                        [
                            str(x["rank"]),
                            x["scenario"],
                            x["track"],
                            x["probability"],
                            f"{x['difference']:+.3f}",
                            "-" if x["share"] is None else f"{x['share']:.0%}",
                            _levers(x["levers"], rep["changes"][lab]),
                        ]
                        for x in rows[:10]
                    ],
                    numeric=("probability", "difference", "share"),
                ),
                "more": len(rows) - 10 if len(rows) > 10 else 0,
                "by_scenario": "; ".join(f"{x['scenario']} {x['difference']:+.2f}" for x in srows),
                "tiers": _table(
                    ["scenario", "track", ref, lab],
                    [[s, t, tier_path(cells[ref], s, t), tier_path(cells[lab], s, t)] for s, t in tiers],
                )
                if tiers
                else None,
            }
        )
    return {
        "reference": ref,
        "overview": overview,
        "portfolio": portfolio,
        "relief_chart": relief_chart,
        "spending_chart": spending_chart,
        "whys": whys,
    }


def _levers(levers: str, changes: dict, show: int = 3) -> str:
    ls = [l for l in levers.split(",") if l]
    text = ", ".join(f"{l} ({'/'.join(changes[l])})" for l in ls[:show])
    return text + (f" and {len(ls) - show} more" if len(ls) > show else "")


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return f"{v:g}" if isinstance(v, float) else str(v)


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
            if c in ("source", "notes") or c not in spec.key and df[c].map(lambda v: len(_cell(v))).max() > 24
        ]
        cols = [c for c in visible if c not in text_cols]
        rows = []
        for r in df.to_dict("records"):
            cells = [_cell(r[c]) for c in cols]
            notes = [(c, _cell(r[c])) for c in text_cols if _cell(r[c])]
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


def analysis_sections(folders) -> list[dict]:
    from relief.cli.report_analyses import sections

    return sections(folders) if folders else []


def build_report(runs: list[Run], title: str | None = None, analyses=()) -> str:
    """The report's HTML text."""
    import jinja2

    if not runs:
        raise Failure(EXIT_INPUT, "relief: report needs at least one run (a run folder, or --case)")
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
        "analyses": analysis_sections(analyses),
        "version": version,
        "solver": main_run.summary.get("solver") or {},
        "input_sha256": main_run.summary.get("input_sha256", ""),
        "sources": [(r.label, r.source) for r in runs],
    }
    return env.get_template("report.html").render(**ctx)


@main.command("report")
@run_options
@click.option("--title", help="The report's title (default: relief: CASE NAME).")
@click.option(
    "--analysis",
    "analyses",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The --out folder of relief value, alternatives, risk, delay, coordination or marginal: adds its section. Repeatable.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default="report.html",
    show_default=True,
    help="The HTML file to write (atomically: an interrupted run leaves the previous file).",
)
@guarded
def report_cmd(runs, case, variants, time_limit, mip_gap, title, analyses, out_path):
    """Write one self-contained HTML report of solved runs; the first is the main one.

    RUNS are run folders written by `relief solve --out`. Or give --case (and --variant)
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
