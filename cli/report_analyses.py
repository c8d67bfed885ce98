"""The decision analyses in `relief report`: each `--analysis DIR` (the --out folder of
relief value, alternatives, risk, delay, coordination, marginal, obligations or stress) becomes one section of
charts and tables, read from that folder's summary.json. Presentation only: nothing is
solved here."""

from __future__ import annotations

import json
from pathlib import Path

from relief.cli.errors import EXIT_INPUT, Failure
from relief.cli.format import as_typed, signed, what_differs
from relief.cli.report_sections import table as _t


def load(folder: Path) -> dict:
    path = Path(folder) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Failure(
            EXIT_INPUT,
            f"relief: --analysis {folder}: no summary.json (give the --out folder of relief value, "
            "alternatives, risk, delay, coordination, marginal, obligations or stress)",
        ) from None
    except (OSError, ValueError) as e:
        raise Failure(
            EXIT_INPUT, f"relief: --analysis {folder}: summary.json cannot be read ({type(e).__name__})"
        ) from None
    kind = summary.get("analysis")
    if kind not in RENDER:
        raise Failure(
            EXIT_INPUT,
            f"relief: --analysis {folder}: not the output of an analysis relief knows ({', '.join(sorted(RENDER))})",
        )
    return summary


def value_section(s: dict) -> dict:
    from relief.cli import report_charts as ch

    how = s["expected_value_scenario"]
    ev = "the expected-value stance" if how == "mean" else f"the most probable stance ({how.split(': ')[1]})"
    measures = _t(
        ["measure", "USD bn", "what it means"],
        [
            ["RP", s["recourse_problem"], "the roadmap committed before the U.S. stance is known"],
            ["WS", s["wait_and_see"], "each stance's own optimum, weighted by its probability"],
            ["EVPI", s["evpi"], "the most that knowing the stance before committing is worth"],
            ["EEV", s["expected_value_solution"], f"the plan optimal for {ev}, valued over all stances"],
            ["VSS", s["vss"], "what planning for every stance gains over planning for one"],
        ],
        numeric=("USD bn",),
    )
    labels = ["stochastic", *s["probability"], "ev"]
    names = {"stochastic": "roadmap", "ev": "EV plan"}
    scen = list(s["probability"])
    chart = ch.grouped_bars(
        scen,
        {names.get(l, f"plan for {l}"): [s["plans_by_scenario"][l][x] for x in scen] for l in labels},
        "relief if the stance comes true, USD bn",
    )
    rows = [[x, s["probability"][x], *[s["plans_by_scenario"][l][x] for l in labels]] for x in scen]
    rows.append(["expected", 1.0, *[s["plans_expected_relief"][l] for l in labels]])
    matrix = _t(
        ["stance", "p", *[names.get(l, l) for l in labels]], rows, numeric=("p", *[names.get(l, l) for l in labels])
    )
    return {
        "title": "Value of information",
        "intro": "What knowing the U.S. stance before committing would be worth (EVPI), "
        "and what planning for every stance gains over planning for one (VSS). Columns: the plan optimal "
        "for all stances "
        "(the roadmap), for each stance alone, and for " + ev + ".",
        "tables": [measures, matrix],
        "charts": [chart],
    }


def alternatives_section(s: dict) -> dict:
    rows = []
    for p in s["plans"]:
        diff = what_differs(p)
        rows.append([p["plan"], p["expected_relief"], f"{p['share_of_optimum']:.1%}", p["public_spend"], diff])
    table = _t(
        ["plan", "expected relief", "of optimum", "public spend", "what it does differently"],
        rows,
        numeric=("expected relief", "of optimum", "public spend"),
    )
    return {
        "title": f"Roadmaps within {s['within']:.0%} of the optimum",
        "intro": "Each leaves out at least one lever of "
        "every roadmap above it and is re-checked independently: room to negotiate.",
        "tables": [table],
        "charts": [],
    }


def risk_section(s: dict) -> dict:
    import pandas as pd

    from relief.cli import report_charts as ch

    rf = s["risk_frontier"]
    t = pd.DataFrame(rf["rows"])
    table = _t(
        ["weight on CVaR", "expected relief", "CVaR", "worst stance", "public spend", "what changes"],
        [
            [
                r["weight"],
                r["expected_relief"],
                r["cvar"],
                f"{r['worst']:.2f} ({r['worst_scenario']})",
                r["public_spend"],
                r["changes"],
            ]
            for r in rf["rows"]
        ],
        numeric=("weight on CVaR", "expected relief", "CVaR", "public spend"),
    )
    return {
        "title": f"Risk: expected relief against CVaR{rf['alpha']:g}",
        "intro": f"As the weight on CVaR (the mean relief of the worst {1 - rf['alpha']:.0%} of probability) "
        "rises from 0 to 1, what protection against a bad stance costs in expected relief.",
        "tables": [table],
        "charts": [ch.risk_frontier(t, rf["alpha"]) if len(t) else None],
    }


def _changes(ch) -> str:
    """{'later': [...], 'dropped': [...]} -> 'later: a, b; dropped: c'."""
    if isinstance(ch, dict):
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in ch.items() if v)
    if isinstance(ch, list):
        return "; ".join(map(str, ch))
    return str(ch or "")


def _sectors(sec) -> str:
    if isinstance(sec, str):
        return sec
    return ", ".join(sec) if sec else "none"


def delay_section(s: dict) -> dict:
    from relief.cli import report_charts as ch

    now = s["now"]
    rows = [[0, s["first_year"], now["expected_relief"], "", "", now["public_spend"], ""]]
    for d in s["delays"]:
        rows.append(
            [
                d["delay_years"],
                d["start_year"],
                d.get("expected_relief"),
                d.get("relief_lost"),
                "" if d.get("share_lost") is None else f"{d['share_lost']:.0%}",
                d.get("public_spend"),
                _changes(d.get("changes")),
            ]
        )
    table = _t(
        ["delay, years", "first commitment", "expected relief", "lost", "share lost", "public spend", "what changes"],
        rows,
        numeric=("expected relief", "lost", "share lost", "public spend"),
    )
    scen = list(now["by_scenario"])
    series = {"act now": [now["by_scenario"][x] for x in scen]}
    for d in s["delays"]:
        if d.get("by_scenario"):
            series[f"wait {d['delay_years']} year{'s' if d['delay_years'] > 1 else ''}"] = [
                d["by_scenario"].get(x, 0.0) for x in scen
            ]
    chart = ch.grouped_bars(scen, series, "relief if the stance comes true, USD bn")
    return {
        "title": "Cost of delay",
        "intro": "The best roadmap if no commitment can start before a later year, against "
        "acting now: relief lost in expectation and under each stance.",
        "tables": [table],
        "charts": [chart],
    }


def coordination_section(s: dict) -> dict:
    from relief.cli import report_charts as ch
    from relief.cli.coordination import SHORT, headline_sentence

    co = s["coordinated"]
    regimes = s.get("regimes") or []
    head = _t(
        ["plan", "attainable", "expected relief", "public spend", "total capex", "coordination worth"],
        [["coordinated (joint optimum)", "yes", co["expected_relief"], co["public_spend"], co["total_spend"], None]]
        + [
            [
                SHORT[g["regime"]] + (" (headline)" if g["headline"] else ""),
                "yes" if g["feasible"] else "no: breaks limits",
                g["expected_relief"],
                g["public_spend"],
                g["total_spend"],
                g["value_of_coordination"],
            ]
            for g in regimes
        ],
        numeric=("expected relief", "public spend", "total capex", "coordination worth"),
    )
    owners = _t(
        ["owner", "kind", "capacity", "relief alone", "first come", "rationed", "coordinated", "cares about"],
        [
            [
                o["owner"],
                o["kind"],
                o.get("capacity_usd_bn"),
                o["own_relief_alone"],
                o.get("own_relief_first_come"),
                o.get("own_relief_rationed"),
                o["own_relief_coordinated"],
                _sectors(o.get("sectors")),
            ]
            for o in s["owners"]
        ],
        numeric=("capacity", "relief alone", "first come", "rationed", "coordinated"),
    )
    scen = [r["scenario"] for r in s["relief_by_scenario"]]
    series = {"coordinated": [r["coordinated"] for r in s["relief_by_scenario"]]}
    series.update({SHORT[g["regime"]]: [r[g["regime"]] for r in s["relief_by_scenario"]] for g in regimes})
    chart = ch.grouped_bars(scen, series, "relief if the stance comes true, USD bn")
    intro = headline_sentence(s) + "".join(" " + w["text"] for w in s.get("why") or [])
    for g in regimes:
        if g["violations"]:
            intro += (
                f" The plan '{SHORT[g['regime']]}' breaks joint limits ("
                + "; ".join(g["violations"][:3])
                + "), so its relief is not attainable."
            )
    return {"title": "Value of coordination", "intro": intro, "tables": [head, owners], "charts": [chart]}


def marginal_section(s: dict) -> dict:
    rows = [
        [
            r["name"],
            r["value"],
            r.get("binding", ""),
            signed(r.get("fd_up")),
            signed(r.get("fd_down")),
            signed(r.get("dual_spend")),
            r.get("words_up") or "",
        ]
        for r in s["limits"]
    ]
    table = _t(
        ["limit", "value", "binding", "relief per unit up", "relief per unit down", "spending dual", "in words"],
        rows,
        numeric=("value", "relief per unit up", "relief per unit down", "spending dual"),
    )
    return {
        "title": "Marginal values of the limits",
        "intro": "Relief per unit: finite differences (the MILP re-solved with "
        "the limit moved by its step), because relief moves in steps when a tier is reached or lost. Spending dual: LP "
        "dual with the integer decisions fixed, the discounted public spending one more unit would save "
        "at the same relief "
        "(negative = saves money).",
        "tables": [table],
        "charts": [],
    }


def obligations_section(s: dict) -> dict:
    plans = _t(
        ["plan", "status", "expected relief", "public spend (discounted)"],
        [
            [label, w["status"], w["expected_relief"], w["discounted_public_spend"]]
            for label, w in (("no obligation", s["none"]), ("every obligation", s["all"]))
        ],
        numeric=("expected relief", "public spend (discounted)"),
    )
    rows = [
        [
            f"{r['lever']} {r['min_modules']:g} by {r['by_year']}",
            r["committed_without_obligations"],
            signed(r["relief_cost_alone"]),
            signed(r["spend_cost_alone"]),
            signed(r["relief_cost_last"]),
            signed(r["spend_cost_last"]),
        ]
        for r in s["obligations"]
    ]
    each = _t(
        ["obligation", "modules without it", "relief lost alone", "spend alone", "relief lost last", "spend last"],
        rows,
        numeric=("modules without it", "relief lost alone", "spend alone", "relief lost last", "spend last"),
    )
    return {
        "title": "The price of each obligation",
        "intro": "Each obligation of obligations.csv priced alone (against no obligation) and as the last one "
        "added (against all the others): the expected relief it costs and the discounted public spending it adds, "
        "USD bn. 'Modules without it': what the roadmap owing nothing commits by the obligation's year.",
        "tables": [plans, each],
        "charts": [],
    }


def stress_section(s: dict) -> dict:
    from relief.cli import report_charts as ch

    rows = []
    for r in s["rows"]:
        lost = [f"{x['scenario']} {x['track']} {x['year']} {x['tier']}→{x['now']}" for x in r["tiers_lost"]]
        rows.append(
            [
                r["perturbation"],
                r["expected_relief"],
                r["relief_lost"],
                "" if r["share_lost"] is None else f"{r['share_lost']:.1%}",
                r["tiers_lost_count"],
                "; ".join(lost[:4]) + (f"; and {len(lost) - 4} more" if len(lost) > 4 else ""),
            ]
        )
    table = _t(
        ["perturbation", "expected relief", "lost", "share lost", "tiers lost", "which (stance track year: tier)"],
        rows,
        numeric=("expected relief", "lost", "share lost", "tiers lost"),
    )
    chart = ch.grouped_bars(
        [r["perturbation"] for r in s["rows"][1:]],
        {"expected relief lost": [r["relief_lost"] for r in s["rows"][1:]]},
        "expected relief lost, USD bn",
        horizontal=True,
    )
    fb = s["first_break"]
    said = []
    if fb.get("most_relief_lost"):
        m = fb["most_relief_lost"]
        said.append(f"Most relief lost: {m['perturbation']} ({m['relief_lost']:.2f}).")
    if fb.get("mildest_tier_lost"):
        m = fb["mildest_tier_lost"]
        said.append(f"The mildest that loses a tier: {m['perturbation']} ({m['relief_lost']:.2f}).")
    if fb.get("threshold_break"):
        t = fb["threshold_break"]
        said.append(
            f"Any raise of the thresholds above {t['raise']:.2%} loses {t['scenario']} {t['track']} {t['year']} "
            f"{t['tier']}."
        )
    return {
        "title": "Stress test of the roadmap",
        "intro": f"The roadmap of {s['run']} re-evaluated, not re-solved, under each perturbation: expected "
        "relief lost and the tiers lost (discounted USD bn). " + " ".join(said),
        "tables": [table],
        "charts": [chart],
    }


RENDER = {
    "value": value_section,
    "marginal": marginal_section,
    "alternatives": alternatives_section,
    "risk": risk_section,
    "delay": delay_section,
    "coordination": coordination_section,
    "obligations": obligations_section,
    "stress": stress_section,
}


def sections(folders) -> list[dict]:
    out = []
    for f in folders:
        s = load(f)
        sec = RENDER[s["analysis"]](s)
        overrides = list(s.get("overrides") or (s.get("definition") or {}).get("fixed") or [])
        asked = as_typed(overrides, s.get("force") or [], s.get("exclude") or [], s.get("risk_option"))
        sec["source"] = str(f) + (": " + " ".join(asked) if asked else "")
        out.append(sec)
    return out
