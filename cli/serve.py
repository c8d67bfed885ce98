"""`relief serve`: the what-if table in a browser (a Dash app), re-solving as a planner moves
a control. The model side (settings checked on the server, the overrides, the persistent
session, the figures) is model/analyses/whatif.py; this module is the page only.

The page's settings live in its address (the query string), so a copied link reproduces the
state; the server keeps no state per browser, only the case's sessions (one solve at a time).
"""

from __future__ import annotations

import click

from relief.cli import options as o
from relief.cli.errors import guarded

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command("serve")
@o.case_argument
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True, help="Port to listen on.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but 127.0.0.1 lets other machines reach the page (a warning says so).",
)
@guarded
def serve_cmd(case, port, host):
    """A local web page with the what-if controls (budget, stance probabilities, credit,
    capex, force/exclude, risk attitude) that re-solves the case at every change.

    \b
    Examples:
      relief serve                      # the default case, http://127.0.0.1:8050/
      relief serve examples/tiny --port 8060

    The settings are in the page's address: copy it to share the same what-if.
    """
    from relief.cli.inputs import load

    base = load(case)
    if host not in LOCAL_HOSTS:
        click.echo(
            f"relief: warning: --host {host} lets other machines on the network open this page and run solves",
            err=True,
        )
    app = make_app(base)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"relief serve: http://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    app.run(host=host, port=port, debug=False)


def fmt(v) -> str:
    """A figure as the page shows it (USD bn, two decimals)."""
    return "n/a" if v is None else f"{v:,.2f}"


def make_app(case):  # long: the page's layout, one block per control group
    import dash
    from dash import ALL, Input, Output, State, dcc, html

    from relief.model.analyses.whatif import WhatIf

    whatif = WhatIf(case)
    d = whatif.defaults()
    app = dash.Dash(__name__, title=f"relief serve: {case.name}", update_title=None)

    def slider(kind, name, value, lo, hi, step):
        return dcc.Slider(
            id={"type": kind, "index": name},
            min=lo,
            max=hi,
            step=step,
            value=value,
            marks=None,
            tooltip={"placement": "bottom", "always_visible": False},
        )

    def row(label, control):
        return html.Div([html.Label(label, className="lbl"), control], className="ctl")

    controls = [
        html.H3("Settings"),
        html.Button("Reset all to the case", id="reset", n_clicks=0),
        html.Button("Pin as baseline", id="pin", n_clicks=0),
        html.Button("Clear baseline", id="unpin", n_clicks=0),
        html.Button("Download run workbook", id="save", n_clicks=0),
        dcc.Download(id="download"),
        row("Budget scale, all years (case: 1)", dcc.Slider(id="budget", min=0, max=3, step=0.01, value=1, marks=None)),
        dcc.Input(id="budget-box", type="number", min=0, max=3, step=0.01, value=1, debounce=True),
        html.H4("Stance probability (the others rescale)"),
        *[row(f"{s} (case: {p:g})", slider("p", s, p, 0, 1, 0.005)) for s, p in d["probability"].items()],
        html.H4("Commitment credit"),
        *[
            row(
                f"{s} (case: {c:g})",
                dcc.Input(
                    id={"type": "credit", "index": s}, type="number", min=0, max=1, step=0.05, value=c, debounce=True
                ),
            )
            for s, c in d["credit"].items()
        ],
        html.H4("Capex multiplier"),
        *[
            row(
                f"{l} (case: 1)",
                dcc.Input(
                    id={"type": "capex", "index": l}, type="number", min=0.1, max=5, step=0.05, value=1, debounce=True
                ),
            )
            for l in d["levers"]
        ],
        html.H4("Levers"),
        row("Force", dcc.Dropdown(id="force", options=d["levers"], value=[], multi=True)),
        row("Exclude", dcc.Dropdown(id="exclude", options=d["levers"], value=[], multi=True)),
        html.H4("Risk attitude"),
        dcc.RadioItems(id="risk", options=["expected", "worst", "cvar"], value="expected", inline=True),
        row("CVaR alpha", dcc.Input(id="alpha", type="number", min=0, max=0.99, step=0.05, value=0.8, debounce=True)),
        row("CVaR weight", dcc.Input(id="weight", type="number", min=0, max=1, step=0.05, value=0.5, debounce=True)),
    ]
    views = [
        html.Div(id="message", className="message"),
        html.Div(id="keys", className="keys"),
        html.Div(id="against"),
        dcc.Graph(id="timeline", config={"displayModeBar": False}),
        dcc.Graph(id="stances", config={"displayModeBar": False}),
        dcc.Graph(id="spending", config={"displayModeBar": False}),
        html.H4("Tiers reached (margin = score - threshold)"),
        html.Div(id="tiers"),
        html.H4("Warnings"),
        html.Ul(id="warnings"),
    ]
    app.layout = html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="baseline", storage_type="memory"),  # this tab's pinned settings (a query string)
            html.H2(f"relief: what if? ({case.name})"),
            html.Div(
                [
                    html.Div(controls, className="controls"),
                    dcc.Loading(html.Div(views, className="views"), delay_show=300),
                ],
                className="page",
            ),
        ]
    )
    app.index_string = app.index_string.replace("</head>", f"<style>{CSS}</style></head>")

    control_inputs = [
        Input("budget", "value"),
        Input("budget-box", "value"),
        Input({"type": "p", "index": ALL}, "value"),
        Input({"type": "credit", "index": ALL}, "value"),
        Input({"type": "capex", "index": ALL}, "value"),
        Input("force", "value"),
        Input("exclude", "value"),
        Input("risk", "value"),
        Input("alpha", "value"),
        Input("weight", "value"),
    ]
    control_outputs = [Output(i.component_id, i.component_property) for i in control_inputs]
    view_outputs = [
        Output("message", "children"),
        Output("keys", "children"),
        Output("timeline", "figure"),
        Output("stances", "figure"),
        Output("spending", "figure"),
        Output("tiers", "children"),
        Output("warnings", "children"),
    ]

    @app.callback(
        [Output("url", "search"), *control_outputs, *view_outputs],
        [Input("url", "search"), Input("reset", "n_clicks"), *control_inputs],
        State("url", "search"),
    )
    def update(search, _reset, budget, budget_box, probs, credits, capexes, force, exclude, risk, alpha, weight, _s):
        from relief.model.analyses.whatif import Settings, SettingsError, parse_settings

        trig = dash.ctx.triggered_id
        if trig == "reset":
            settings, search = Settings(), ""
        elif trig is None or trig == "url":  # the page's first load, or an address typed in
            try:
                settings = parse_settings(case, search or "")
            except SettingsError as e:
                return ["", *controls_of(Settings(), d), *failed(f"The address has a setting relief cannot use: {e}")]
        else:
            scale = budget_box if trig == "budget-box" else budget
            query = settings_query(d, scale, probs, credits, capexes, force, exclude, risk, alpha, weight)
            try:
                settings = parse_settings(case, query)
            except SettingsError as e:
                keep = [dash.no_update] * 3 + [[dash.no_update] * len(x) for x in (probs, credits, capexes)]
                return keep + [dash.no_update] * 5 + failed(str(e))
            keep = [dash.no_update, dash.no_update, *[[dash.no_update] * len(x) for x in (probs, credits, capexes)]]
            keep += [dash.no_update] * 5
            keep[0 if trig == "budget-box" else 1] = settings.budget_scale  # the slider and its box agree
            return [settings.query(), *keep, *views_of(whatif.cached(settings))]
        return [settings.query(), *controls_of(settings, d), *views_of(whatif.cached(settings))]

    @app.callback(
        Output("baseline", "data"),
        [Input("pin", "n_clicks"), Input("unpin", "n_clicks")],
        State("url", "search"),
        prevent_initial_call=True,
    )
    def pin(_pin, _unpin, search):
        return (search or "") if dash.ctx.triggered_id == "pin" else None

    @app.callback(
        Output("download", "data"), Input("save", "n_clicks"), State("url", "search"), prevent_initial_call=True
    )
    def save(_n, search):
        from relief.model.analyses.whatif import SettingsError, parse_settings

        try:
            data = workbook_bytes(whatif, parse_settings(case, search or ""))
        except SettingsError:
            return dash.no_update
        if data is None:
            return dash.no_update
        return dcc.send_bytes(data, f"relief-{case.name}.xlsx")

    @app.callback(Output("against", "children"), [Input("url", "search"), Input("baseline", "data")])
    def against(search, baseline):
        from relief.model.analyses.whatif import SettingsError, parse_settings

        if baseline is None:
            return []
        try:
            diff = whatif.against(parse_settings(case, baseline), parse_settings(case, search or ""))
        except SettingsError as e:
            return html.Div(f"No comparison: {e}")
        return against_view(diff, baseline)

    return app


def workbook_bytes(whatif, settings) -> bytes | None:
    """The run workbook of these settings (as `relief solve --set ... --out run.xlsx` writes it),
    written to a temporary folder of the server's choosing; None when there is no plan."""
    import tempfile
    from pathlib import Path

    from relief.cli.workbook import write_run_workbook

    result = whatif.cached(settings).result
    if result is None:
        return None
    with tempfile.TemporaryDirectory(prefix="relief-serve-") as tmp:
        path = Path(tmp) / "run.xlsx"
        write_run_workbook(path, result, result.report())
        return path.read_bytes()


def against_view(diff, baseline):
    """The difference from the pinned baseline: what changed and why."""
    from dash import html

    if diff is None:
        return html.Div("No comparison: the baseline or these settings have no plan.", className="against")
    sign = "+" if diff["difference"] >= 0 else ""
    rows = [
        html.Tr([html.Td(a["scenario"]), html.Td(a["track"]), html.Td(f"{a['difference']:+.2f}"), html.Td(a["levers"])])
        for a in diff["attribution"]
    ]
    return html.Div(
        [
            html.Strong(
                f"Against the baseline ({baseline or 'the case'}): expected relief {sign}{fmt(diff['difference'])}"
            ),
            html.Span(f", public spending {diff['public_spend_difference']:+.2f}"),
            html.Div("What changed: ", className="k"),
            html.Ol(
                [html.Li(f"{l}: {', '.join(k)}") for l, k in diff["changes"]] or [html.Li("no lever")], id="changes"
            ),
            html.Div("Why (relief difference by stance and track, largest first):", className="k"),
            html.Table([html.Tr([html.Th(h) for h in ("stance", "track", "difference", "levers")]), *rows]),
        ],
        className="against",
    )


def settings_query(d, scale, probs, credits, capexes, force, exclude, risk, alpha, weight) -> dict:
    """The controls' values as the settings' query (only what differs from the case)."""
    q: dict = {}
    if scale is not None and scale != 1:
        q["budget"] = scale
    for (s, p0), p in zip(d["probability"].items(), probs):
        if p is not None and abs(p - p0) > 1e-12:
            q[f"p.{s}"] = p
    for (s, c0), c in zip(d["credit"].items(), credits):
        if c is not None and abs(c - c0) > 1e-12:
            q[f"credit.{s}"] = c
    for l, m in zip(d["levers"], capexes):
        if m is not None and m != 1:
            q[f"capex.{l}"] = m
    q["force"] = list(force or [])
    q["exclude"] = list(exclude or [])
    if risk == "cvar":
        q["risk"] = f"cvar:{alpha}:{weight}"
    elif risk and risk != "expected":
        q["risk"] = risk
    return q


def controls_of(settings, d) -> list:
    """The controls' values for some settings (the case's where a setting is unchanged)."""
    p, c, k = dict(settings.probability), dict(settings.credit), dict(settings.capex)
    return [
        settings.budget_scale,
        settings.budget_scale,
        [p.get(s, v) for s, v in d["probability"].items()],
        [c.get(s, v) for s, v in d["credit"].items()],
        [k.get(l, 1) for l in d["levers"]],
        list(settings.force),
        list(settings.exclude),
        settings.risk,
        settings.alpha,
        settings.weight,
    ]


def failed(message: str) -> list:
    empty = {"data": [], "layout": {"height": 80, "annotations": [{"text": "no plan", "showarrow": False}]}}
    return [html_message(message, []), [], empty, empty, empty, [], []]


def html_message(message, conflicts):
    from dash import html

    if not message:
        return []
    return html.Div([html.Strong(message), html.Ul([html.Li(c) for c in conflicts])], id="problem")


def views_of(ans) -> list:  # long: one block per view
    from dash import html

    if not ans.ok:
        out = failed(ans.message)
        out[0] = html_message(ans.message, ans.conflicts)
        return out
    f = ans.figures
    keys = [
        ("Expected relief", fmt(f["expected_relief"]), "expected-relief"),
        ("Against current rates", fmt(f["expected_relief_vs_current"]), "vs-current"),
        ("Public spending", fmt(f["public_spend"]), "public-spend"),
        (f"Worst stance: {f['worst_stance']}", fmt(f["worst_relief"]), "worst"),
        (f["risk"]["label"], fmt(f["risk"]["value"]), "risk-value"),
    ]
    key_cards = [
        html.Div([html.Div(k, className="k"), html.Div(v, id=i, className="v")], className="card") for k, v, i in keys
    ]
    key_cards.append(html.Div(f"solved in {ans.seconds:.2f} s, USD bn", className="small"))
    sched = f["schedule"]
    levers = sorted(sched)
    xs, ys, ms = [], [], []
    for l in levers:
        for y, m in sorted(sched[l].items()):
            xs.append(int(y))
            ys.append(l)
            ms.append(m)
    timeline = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": xs,
                "y": ys,
                "text": [f"{m:g}" for m in ms],
                "textposition": "middle right",
                "marker": {"size": [10 + 4 * min(m, 10) for m in ms]},
                "name": "commit",
            }
        ],
        "layout": {
            "title": {"text": "Roadmap: modules committed by year"},
            "height": 120 + 32 * max(len(levers), 1),
            "margin": {"l": 190, "r": 20, "t": 40, "b": 30},
            "xaxis": {"dtick": 1},
        },
    }
    st = f["by_scenario"]
    stances = {
        "data": [{"type": "bar", "x": list(st.values()), "y": list(st), "orientation": "h"}],
        "layout": {
            "title": {"text": "Relief by stance (USD bn, discounted)"},
            "height": 100 + 30 * len(st),
            "margin": {"l": 190, "r": 20, "t": 40, "b": 30},
        },
    }
    sp = f["spending"]
    data = []
    for env in dict.fromkeys(r["envelope"] for r in sp):
        rows = [r for r in sp if r["envelope"] == env]
        years = [r["year"] for r in rows]
        data.append({"type": "bar", "x": years, "y": [r["public_spend"] for r in rows], "name": f"{env}: spent"})
        if any(r["budget"] is not None for r in rows):
            budget = [r["budget"] for r in rows]
            data.append({"type": "scatter", "mode": "lines+markers", "x": years, "y": budget, "name": f"{env}: budget"})
    spending = {
        "data": data,
        "layout": {
            "title": {"text": "Public spending against each year's budget (USD bn)"},
            "height": 320,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 30},
            "xaxis": {"dtick": 1},
            "barmode": "group",
        },
    }
    tiers = html.Table(
        [html.Tr([html.Th(h) for h in ("stance", "track", "year", "tier", "margin", "")])]
        + [
            html.Tr(
                [
                    html.Td(t["scenario"]),
                    html.Td(t["track"]),
                    html.Td(t["year"]),
                    html.Td(t["tier"]),
                    html.Td(f"{t['margin']:.2f} ({t['margin_rel']:.0%})"),
                    html.Td("thin" if t["thin"] else ""),
                ]
            )
            for t in f["tier_margins"]
        ]
    )
    return [[], key_cards, timeline, stances, spending, tiers, [html.Li(w) for w in f["warnings"]]]


CSS = """
body { font-family: sans-serif; margin: 0 12px; }
.page { display: flex; gap: 16px; }
.controls { flex: 0 0 300px; max-width: 300px; overflow-wrap: anywhere; }
.views { flex: 1 1 auto; min-width: 0; }
.ctl { margin: 4px 0; } .lbl { font-size: 12px; display: block; }
.keys { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; }
.card .k { font-size: 12px; color: #555; } .card .v { font-size: 20px; font-weight: bold; }
.small { font-size: 11px; color: #777; align-self: end; }
.against { border: 1px solid #88a; background: #f4f6ff; padding: 6px 10px; margin: 8px 0; }
#problem { background: #fee; border: 1px solid #c66; padding: 8px; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 2px 6px; border-bottom: 1px solid #eee; }
input[type=number] { width: 80px; }
"""
