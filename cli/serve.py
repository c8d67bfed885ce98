"""`relief serve`: the what-if table in a browser (a Dash app), re-solving as a planner moves
a control. The model side (settings checked on the server, the overrides, the persistent
session, the figures) is model/analyses/whatif.py; this module is the page only.

The page's settings live in its address (the query string), so a copied link reproduces the
state; the server keeps no state per browser, only the case's sessions (one solve at a time).
"""

from __future__ import annotations

from pathlib import Path

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
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help='Where the page\'s "Save run" writes run folders (serve-YYYYMMDD-HHMMSS-<settings hash>).',
)
@guarded
def serve_cmd(case, port, host, runs_dir):
    """A local web page with the what-if controls (budget, stance probabilities, credit,
    capex, force/exclude, risk attitude, reveal year, tier margin) that re-solves the case
    at every change.

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
    app = make_app(base, runs_dir=runs_dir)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"relief serve: http://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    app.run(host=host, port=port, debug=False)


def fmt(v) -> str:
    """A figure as the page shows it (USD bn, two decimals)."""
    return "n/a" if v is None else f"{v:,.2f}"


# The controls, in the order the page's callback takes (and gives back) their values.
CONTROLS = (
    ("budget", "budget"),
    ("budget-box", "budget"),
    ("part", "part"),
    ("part-scale", "part"),
    ("total", "total"),
    ("p", None),
    ("credit", None),
    ("capex", None),
    ("force", "force"),
    ("exclude", "exclude"),
    ("risk", "risk"),
    ("alpha", "risk"),
    ("weight", "risk"),
    ("reveal", "reveal"),
    ("margin", "margin"),
)
PER_NAME = ("p", "credit", "capex")  # one control per stance or lever (pattern-matching ids)
VIEWS = ("message", "keys", "timeline", "stances", "tracks", "spending", "tiers", "warnings")


def number_box(id_, value, width="80px"):
    """A number typed in a text box, sent on Enter or leaving the box. Dash 4's number input
    compares what was typed with a stale copy of its value and sent nothing when a value set
    by the server (the address) was typed back: a text box sends what is typed, and the
    server checks it (parse_settings)."""
    from dash import dcc

    return dcc.Input(
        id=id_,
        type="text",
        inputMode="decimal",
        value=value,
        debounce=True,
        style={"width": width},
        className="box",
    )


def make_app(case, runs_dir: Path | None = None):  # long: the page's layout, one block per control group
    import dash
    from dash import ALL, Input, Output, State, dcc, html

    from relief.model.analyses.whatif import WhatIf

    whatif = WhatIf(case)
    d = whatif.defaults()
    runs_dir = Path("runs") if runs_dir is None else Path(runs_dir)
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

    def row(label, control, reset=None):
        """A control with its label (the case's value) and its reset button."""
        parts = [html.Label(label, className="lbl"), control]
        if reset is not None:
            parts.insert(1, html.Button("\u21ba", id={"type": "reset", "index": reset}, title="reset", className="rs"))
        return html.Div(parts, className="ctl")

    total = "none" if d["total"] is None else f"{d['total']:g}"
    reveal_opts = [{"label": f"as the case ({d['reveal'] or 'none'})", "value": ""}]
    reveal_opts += [{"label": str(y), "value": str(y)} for y in d["years"]]
    if d["reveal"] is not None:  # a year after the horizon: one roadmap for all
        reveal_opts.append({"label": "none: one roadmap for all", "value": str(d["years"][-1] + 1)})
    part_opts = [{"label": f"{k} ({v})", "value": k} for k, v in d["budget_parts"].items()]
    controls = [
        html.H3("Settings"),
        html.Button("Reset all to the case", id="reset", n_clicks=0),
        html.Button("Pin as baseline", id="pin", n_clicks=0),
        html.Button("Clear baseline", id="unpin", n_clicks=0),
        html.Button("Cancel solve", id="cancel", n_clicks=0),
        html.Div(
            [
                html.Button("Save run", id="save-run", n_clicks=0),
                html.Button("Download run workbook", id="save", n_clicks=0),
                html.Button("Download HTML report", id="report", n_clicks=0),
            ]
        ),
        html.Div(id="saved", className="small"),
        dcc.Download(id="download"),
        dcc.Download(id="download-report"),
        row(
            "Budget scale, all years (case: 1)",
            dcc.Slider(id="budget", min=0, max=3, step=0.01, value=1, marks=None),
            "budget",
        ),
        number_box("budget-box", 1),
        row(
            "Budget scale of one year or envelope (case: 1)",
            dcc.Dropdown(id="part", options=part_opts, value=None, placeholder="a year or envelope"),
            "part",
        ),
        number_box("part-scale", 1),
        row(f"Total public budget, USD bn (case: {total})", number_box("total", d["total"]), "total"),
        html.H4("Stance probability (the others rescale)"),
        *[row(f"{s} (case: {p:g})", slider("p", s, p, 0, 1, 0.005), f"p.{s}") for s, p in d["probability"].items()],
        html.H4("Commitment credit"),
        *[
            row(f"{s} (case: {c:g})", number_box({"type": "credit", "index": s}, c), f"credit.{s}")
            for s, c in d["credit"].items()
        ],
        html.H4("Capex multiplier"),
        *[row(f"{l} (case: 1)", number_box({"type": "capex", "index": l}, 1), f"capex.{l}") for l in d["levers"]],
        html.H4("Levers"),
        row("Force", dcc.Dropdown(id="force", options=d["levers"], value=[], multi=True), "force"),
        row("Exclude", dcc.Dropdown(id="exclude", options=d["levers"], value=[], multi=True), "exclude"),
        html.H4("Risk attitude"),
        row(
            f"case: {d['risk']}",
            dcc.RadioItems(id="risk", options=["expected", "worst", "cvar"], value="expected", inline=True),
            "risk",
        ),
        row("CVaR alpha", number_box("alpha", 0.8)),
        row("CVaR weight", number_box("weight", 0.5)),
        html.H4("Information and tiers"),
        row(
            "Reveal year (adaptive roadmap: each stance its own commitments from then; slower solves)",
            dcc.Dropdown(id="reveal", options=reveal_opts, value="", clearable=False),
            "reveal",
        ),
        row(
            f"Tier margin (case: {d['margin']:g}; 0.05 = 5% above each threshold)",
            number_box("margin", d["margin"]),
            "margin",
        ),
    ]
    views = [
        html.Div(id="message", className="message"),
        html.Div(id="keys", className="keys"),
        html.Div(id="against"),
        dcc.Graph(id="timeline", config={"displayModeBar": False}),
        dcc.Graph(id="stances", config={"displayModeBar": False}),
        dcc.Graph(id="tracks", config={"displayModeBar": False}),
        dcc.Graph(id="spending", config={"displayModeBar": False}),
        html.H4("Tiers reached (margin = score - threshold)"),
        html.Div(id="tiers"),
        html.H4("Warnings"),
        html.Ul(id="warnings"),
    ]

    def layout():
        import uuid

        return html.Div(
            [
                dcc.Location(id="url", refresh=False),
                dcc.Store(id="baseline", storage_type="memory"),  # this tab's pinned settings (a query string)
                dcc.Store(id="sid", storage_type="memory", data=uuid.uuid4().hex),  # this page's session
                dcc.Store(id="cancelled", storage_type="memory"),
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

    app.layout = layout
    app.index_string = app.index_string.replace("</head>", f"<style>{CSS}</style></head>")

    def control(cid, prop="value"):
        return {"type": cid, "index": ALL} if cid in PER_NAME else cid

    control_inputs = [Input(control(c), "value") for c, _ in CONTROLS]
    control_outputs = [Output(control(c), "value") for c, _ in CONTROLS]
    view_outputs = [
        Output(v, "figure" if v in ("timeline", "stances", "tracks", "spending") else "children") for v in VIEWS
    ]

    @app.callback(
        [Output("url", "search"), *control_outputs, *view_outputs],
        [
            Input("url", "search"),
            Input("reset", "n_clicks"),
            Input({"type": "reset", "index": ALL}, "n_clicks"),
            *control_inputs,
        ],
        [State("url", "search"), State("sid", "data")],
    )
    def update(search, _reset, _resets, *args):
        from relief.model.analyses.whatif import Settings, SettingsError, parse_settings

        *values, before, sid = args
        vals = dict(zip([c for c, _ in CONTROLS], values))
        trig = dash.ctx.triggered_id
        moved = None  # the control moved (its value stays as typed)
        if trig == "reset":
            settings = Settings()
        elif trig is None or trig == "url":  # the page's first load, or an address typed in
            try:
                settings = parse_settings(case, search or "")
            except SettingsError as e:
                return ["", *controls_of(Settings(), d), *failed(f"The address has a setting relief cannot use: {e}")]
        else:
            query = settings_query(d, vals, box=trig == "budget-box")
            if isinstance(trig, dict) and trig.get("type") == "reset":
                reset_one(query, trig["index"])
            else:
                moved = trig
            try:
                settings = parse_settings(case, query)
            except SettingsError as e:
                return [dash.no_update, *untouched(vals), *failed(str(e))]
        ans = whatif.request(sid, settings)
        if ans.status == "superseded":  # a newer move of this page is being solved
            raise dash.exceptions.PreventUpdate
        if ans.status == "cancelled":  # the previous settings stay, in the controls too
            try:
                kept = parse_settings(case, before or "")
            except SettingsError:
                kept = Settings()
            note = html.Div("Cancelled: the figures are still those of the settings before.", id="problem")
            return [dash.no_update, *controls_of(kept, d), note, *[dash.no_update] * (len(VIEWS) - 1)]
        if moved is None:
            shown = controls_of(settings, d)
        else:
            shown = untouched(vals)
            if moved in ("budget", "budget-box"):  # the slider and its box agree
                shown[0 if moved == "budget-box" else 1] = settings.budget_scale
        return [settings.query(), *shown, *views_of(ans)]

    @app.callback(
        Output("cancelled", "data"), Input("cancel", "n_clicks"), State("sid", "data"), prevent_initial_call=True
    )
    def cancel(n, sid):
        whatif.cancel(sid, wait=2.0)
        return n

    @app.callback(
        Output("baseline", "data"),
        [Input("pin", "n_clicks"), Input("unpin", "n_clicks")],
        State("url", "search"),
        prevent_initial_call=True,
    )
    def pin(_pin, _unpin, search):
        return (search or "") if dash.ctx.triggered_id == "pin" else None

    def page_settings(search):
        from relief.model.analyses.whatif import SettingsError, parse_settings

        try:
            return parse_settings(case, search or "")
        except SettingsError:
            return None

    @app.callback(
        Output("download", "data"), Input("save", "n_clicks"), State("url", "search"), prevent_initial_call=True
    )
    def save(_n, search):
        settings = page_settings(search)
        data = None if settings is None else workbook_bytes(whatif, settings)
        return dash.no_update if data is None else dcc.send_bytes(data, f"relief-{case.name}.xlsx")

    @app.callback(
        Output("download-report", "data"),
        Input("report", "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def report(_n, search):
        settings = page_settings(search)
        text = None if settings is None else report_html(whatif, settings)
        return dash.no_update if text is None else dcc.send_string(text, f"relief-{case.name}.html")

    @app.callback(
        Output("saved", "children"), Input("save-run", "n_clicks"), State("url", "search"), prevent_initial_call=True
    )
    def save_run(_n, search):
        settings = page_settings(search)
        if settings is None:
            return "Not saved: the address has a setting relief cannot use."
        try:
            folder = write_run_folder(whatif, settings, runs_dir)
        except OSError as e:
            return f"Not saved: {e.strerror or 'the folder cannot be written'}."
        if folder is None:
            return "Not saved: these settings have no plan."
        return html.Span(["Saved: ", html.Code(str(folder.resolve()), id="saved-path")])

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


def save_folder_name(settings) -> str:
    """serve-YYYYMMDD-HHMMSS-<hash of the settings>: chosen by the server, never the browser."""
    import hashlib
    import time

    digest = hashlib.sha256(settings.query().encode()).hexdigest()[:8]
    return f"serve-{time.strftime('%Y%m%d-%H%M%S')}-{digest}"


def write_run_folder(whatif, settings, runs_dir: Path) -> Path | None:
    """The run folder of these settings, as `relief solve --set ... --out DIR` writes it
    (cli/output.py, atomically), under runs_dir; None when there is no plan."""
    from relief.cli.output import write_run

    result = whatif.cached(settings).result
    if result is None:
        return None
    folder = Path(runs_dir) / save_folder_name(settings)
    write_run(folder, result, result.report())
    return folder


def report_html(whatif, settings) -> str | None:
    """The offline HTML report of these settings' run (`relief report RUN` of cli/report.py);
    None when there is no plan."""
    from relief.cli.report import build_report
    from relief.model.analyses.compare import run_from_result

    result = whatif.cached(settings).result
    if result is None:
        return None
    label = settings.query().lstrip("?") or "the case"
    return build_report([run_from_result(label, result)], title=f"relief serve: {whatif.case.name} ({label})")


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


def _f(v):
    """A control's value as a number; None when empty; the text itself when it is not a
    number (parse_settings then says so)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def settings_query(d, vals: dict, box: bool = False) -> dict:
    """The controls' values as the settings' query (only what differs from the case)."""
    q: dict = {}
    scale = _f(vals["budget-box"] if box else vals["budget"])
    if scale is not None and scale != 1:
        q["budget"] = scale
    part, part_scale = vals["part"], _f(vals["part-scale"])
    if part and part_scale is not None and part_scale != 1:
        q[f"budget.{part}"] = part_scale
    total = _f(vals["total"])
    if total is not None and total != d["total"]:
        q["total"] = total
    for (s, p0), p in zip(d["probability"].items(), vals["p"]):
        if _f(p) is not None and _f(p) != p0:
            q[f"p.{s}"] = _f(p)
    for (s, c0), c in zip(d["credit"].items(), vals["credit"]):
        if _f(c) is not None and _f(c) != c0:
            q[f"credit.{s}"] = _f(c)
    for l, m in zip(d["levers"], vals["capex"]):
        if _f(m) is not None and _f(m) != 1:
            q[f"capex.{l}"] = _f(m)
    q["force"] = list(vals["force"] or [])
    q["exclude"] = list(vals["exclude"] or [])
    risk = vals["risk"]
    if risk == "cvar":
        q["risk"] = f"cvar:{vals['alpha']}:{vals['weight']}"
    elif risk and risk != "expected":
        q["risk"] = risk
    if vals["reveal"]:
        q["reveal"] = vals["reveal"]
    margin = _f(vals["margin"])
    if margin is not None and margin != d["margin"]:
        q["margin"] = margin
    return q


def reset_one(query: dict, key: str) -> None:
    """One control back to the case's value: its setting dropped from the query."""
    for k in list(query):
        if k == key or (key == "part" and k.startswith("budget.")):
            del query[k]


def untouched(vals: dict) -> list:
    """no_update for every control (lists for the per-stance and per-lever ones)."""
    import dash

    return [[dash.no_update] * len(vals[c]) if c in PER_NAME else dash.no_update for c, _ in CONTROLS]


def controls_of(settings, d) -> list:
    """The controls' values for some settings (the case's where a setting is unchanged), in
    CONTROLS's order."""
    p, c, k = dict(settings.probability), dict(settings.credit), dict(settings.capex)
    return [
        settings.budget_scale,
        settings.budget_scale,
        settings.budget_part or None,
        settings.part_scale,
        d["total"] if settings.total is None else settings.total,
        [p.get(s, v) for s, v in d["probability"].items()],
        [c.get(s, v) for s, v in d["credit"].items()],
        [k.get(l, 1) for l in d["levers"]],
        list(settings.force),
        list(settings.exclude),
        settings.risk,
        settings.alpha,
        settings.weight,
        settings.reveal,
        d["margin"] if settings.margin is None else settings.margin,
    ]


def failed(message: str) -> list:
    empty = {"data": [], "layout": {"height": 80, "annotations": [{"text": "no plan", "showarrow": False}]}}
    return [html_message(message, []), [], empty, empty, empty, empty, [], []]


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
    timeline = timeline_figure(f)
    st = f["by_scenario"]
    stances = {
        "data": [{"type": "bar", "x": list(st.values()), "y": list(st), "orientation": "h"}],
        "layout": {
            "title": {"text": "Relief by stance (USD bn, discounted)"},
            "height": 100 + 30 * len(st),
            "margin": {"l": 190, "r": 20, "t": 40, "b": 30},
        },
    }
    tracks_ = sorted({r["track"] for r in f["by_track"]})
    tracks = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": t,
                "y": list(st),
                "x": [sum(r["relief"] for r in f["by_track"] if r["scenario"] == s and r["track"] == t) for s in st],
            }
            for t in tracks_
        ],
        "layout": {
            "title": {"text": "Relief by stance and track (USD bn, discounted)"},
            "barmode": "relative",
            "height": 130 + 30 * len(st),
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
    return [[], key_cards, timeline, stances, tracks, spending, tiers, [html.Li(w) for w in f["warnings"]]]


def timeline_figure(f) -> dict:
    """The roadmap: each lever's commitments (markers: modules committed that year, the first
    trace) over its building years (committed, not yet operating: the lead time) and its
    operating years (bars)."""
    sched, ph = f["schedule"], f["phases"]
    levers = sorted(set(sched) | set(ph))
    xs, ys, ms = [], [], []
    for l in levers:
        for y, m in sorted(sched.get(l, {}).items()):
            xs.append(int(y))
            ys.append(l)
            ms.append(m)
    commit = {
        "type": "scatter",
        "mode": "markers+text",
        "x": xs,
        "y": ys,
        "text": [f"{m:g}" for m in ms],
        "textposition": "middle right",
        "marker": {"size": [10 + 4 * min(m, 10) for m in ms], "color": "#1f3b73"},
        "name": "commit",
    }
    bars = []
    for phase, colour in (("build", "#f2c14e"), ("operate", "#7cb87c")):
        cells = [(l, y) for l in levers for y in ph.get(l, {}).get(phase, [])]
        bars.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": phase,
                "y": [l for l, _ in cells],
                "x": [1] * len(cells),
                "base": [y - 0.5 for _, y in cells],
                "marker": {"color": colour, "opacity": 0.6},
                "hovertemplate": "%{y}: " + phase + "<extra></extra>",
            }
        )
    return {
        "data": [commit, *bars],
        "layout": {
            "title": {"text": "Roadmap: modules committed (markers), building and operating years"},
            "height": 140 + 32 * max(len(levers), 1),
            "margin": {"l": 190, "r": 20, "t": 40, "b": 30},
            "xaxis": {"dtick": 1},
            "barmode": "overlay",
        },
    }


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
.rs { font-size: 11px; padding: 0 4px; margin-right: 4px; float: right; }
"""
