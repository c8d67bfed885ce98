"""The charts of `relief report`, drawn with matplotlib and returned as inline SVG text.

SVG keeps the report one self-contained file that needs no network and no script to
open, scales to any screen width and prints sharply. Text stays text (svg.fonttype
'none'), element ids are salted with a fixed string and the metadata carry no date, so
the same runs give a byte-identical report. Every function takes tidy tables (pandas
DataFrames from a run folder) and returns an SVG string; none reads files.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from relief.cli.format import REPORT_TOLERANCE  # noqa: E402
from relief.cli.format import modules as format_modules  # noqa: E402

WIDTH = 9.0  # inches: the report's text column is about 1,100 px wide
OPERATING, BUILDING, COMMIT = "#1f4e79", "#9ecae1", "#d95f02"
SHARED = "#f2efe6"  # the first moves of an adaptive roadmap (the years every stance shares)
THIN = "#e08214"  # a tier held with less than the margin tolerance to spare
PALETTE = ["#1f4e79", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text as text: smaller, selectable, searchable
        "svg.hashsalt": "relief-report",  # stable element ids
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def to_svg(fig) -> str:
    """The figure as an <svg> element sized by CSS (its viewBox kept, its fixed size dropped)."""
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inline in HTML
    head_end = text.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    return head + ' preserveAspectRatio="xMinYMin meet"' + text[head_end:]


def modules(v: float) -> str:
    """Whole modules as '2', divisible amounts as '4.88' (solver noise forgiven)."""
    return format_modules(v, REPORT_TOLERANCE)


def _years_axis(ax, years):
    ax.set_xlim(min(years) - 0.1, max(years) + 1.1)
    ax.set_xticks([y + 0.5 for y in years])
    ax.set_xticklabels([str(y) for y in years])
    ax.tick_params(axis="x", length=0)


def _used_levers(rm) -> list:
    used = rm.groupby("lever", sort=False)["committed"].sum()
    levers = [l for l in used.index if used[l] > 1e-9]
    first = {l: rm[(rm["lever"] == l) & (rm["committed"] > 1e-9)]["year"].min() for l in levers}
    return sorted(levers, key=lambda l: (first[l], l))


def _draw_timeline(ax, rm, years, levers) -> None:
    """The bars and commitment markers of one roadmap on `ax`, one row per lever."""
    for i, lever in enumerate(levers):
        g = rm[rm["lever"] == lever].set_index("year")
        for y in years:
            if y not in g.index:
                continue
            r = g.loc[y]
            building = float(r["cumulative"]) - float(r["operating"])
            if float(r["operating"]) > 1e-9:
                ax.broken_barh([(y, 1)], (i - 0.32, 0.64), color=OPERATING)
                ax.text(y + 0.5, i, modules(r["operating"]), ha="center", va="center", color="white", fontsize=8)
            elif building > 1e-9:
                ax.broken_barh([(y, 1)], (i - 0.32, 0.64), color=BUILDING)
            if float(r["committed"]) > 1e-9:
                ax.plot([y + 0.08], [i - 0.32], marker="v", color=COMMIT, markersize=7, clip_on=False)
                ax.text(
                    y + 0.17, i - 0.36, "+" + modules(r["committed"]), ha="left", va="bottom", color=COMMIT, fontsize=8
                )
    ax.set_yticks(range(len(levers)))
    ax.set_yticklabels(list(levers))
    ax.set_ylim(len(levers) - 0.5, -0.8)
    _years_axis(ax, years)
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)


def _timeline_legend(ax, shared: bool = False) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], marker="v", color=COMMIT, linestyle="", label="+n modules committed"),
        Patch(color=BUILDING, label="under construction"),
        Patch(color=OPERATING, label="operating (modules)"),
    ]
    if shared:
        handles.append(Patch(color=SHARED, label="first moves (every stance)"))
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False, fontsize=9
    )


def roadmap_timeline(roadmap, years, names: dict | None = None) -> str | None:
    """One row per lever used: a light bar while modules are committed but not yet
    operating, a dark bar while they operate, and a marker with '+n' in each year of a
    new commitment. None when the plan commits nothing."""
    rm = roadmap.copy()
    levers = _used_levers(rm)
    if not levers:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH, 0.9 + 0.42 * len(levers)))
    _draw_timeline(ax, rm, years, levers)
    _timeline_legend(ax)
    return to_svg(fig)


def tree_timeline(roadmap, years, reveal: dict, probability: dict) -> str | None:
    """An adaptive roadmap as small multiples: one timeline per branch (its stances and
    probability in the title), the years every stance shares shaded as the first moves."""
    branches = reveal.get("branches") or {}
    shared = [y for y in years if y in (reveal.get("first_moves_years") or [])]
    parts = [
        (label, stances, roadmap[roadmap["scenario"].astype(str) == stances[0]]) for label, stances in branches.items()
    ]
    levers = _used_levers(roadmap)
    if not levers or not parts:
        return None
    height = 0.55 + 0.42 * len(levers)
    fig, axes = plt.subplots(len(parts), 1, figsize=(WIDTH, 0.6 + height * len(parts)), sharex=True, squeeze=False)
    for ax, (label, stances, rm) in zip(axes[:, 0], parts):
        if shared:
            ax.axvspan(min(shared), max(shared) + 1, color=SHARED, zorder=0)
        _draw_timeline(ax, rm, years, levers)
        p = sum(probability.get(s, 0.0) for s in stances)
        who = label if stances == [label] else f"{label} ({', '.join(stances)})"
        ax.set_title(f"if {who}, probability {p:.0%}", fontsize=9, loc="left")
    _timeline_legend(axes[0, 0], shared=bool(shared))
    fig.tight_layout()
    return to_svg(fig)


def spending_vs_budget(spending) -> str:
    """Public spending per year as bars against the year's public budget (a step line),
    with the plan's total capex (public and private) as a light bar behind."""
    s = spending.sort_values("year")
    x = np.arange(len(s))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    if "capex_spend" in s.columns:
        ax.bar(x, s["capex_spend"], width=0.7, color="#e3e3e3", label="total capex (public and private)")
    ax.bar(x, s["public_spend"], width=0.5, color=OPERATING, label="public spending")
    ax.step(
        np.r_[x - 0.5, x[-1] + 0.5],
        np.r_[s["budget"].values, s["budget"].values[-1]],
        where="post",
        color=COMMIT,
        linewidth=2,
        label="public budget",
    )
    ax.set_xticks(x)
    ax.set_xticklabels([str(int(y)) for y in s["year"]])
    ax.set_ylabel("USD bn")
    ax.grid(axis="y", color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=9)
    return to_svg(fig)


def relief_by_scenario_track(relief, probability: dict, scenario_names: dict | None = None) -> str:
    """Stacked bars: discounted relief over the horizon if each U.S. stance comes true,
    split by track; the probability-weighted expectation as a dashed line."""
    cells = relief.groupby(["scenario", "track"])["discounted_relief"].sum().unstack(fill_value=0.0)
    scen = [s for s in probability if s in cells.index] + [s for s in cells.index if s not in probability]
    cells = cells.loc[scen]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.8 + 0.55 * len(scen)))
    left = np.zeros(len(scen))
    for j, track in enumerate(cells.columns):
        v = cells[track].values
        ax.barh(range(len(scen)), v, left=left, color=PALETTE[j % len(PALETTE)], height=0.6, label=str(track))
        left += v
    for i, total in enumerate(left):
        ax.text(
            total,
            i,
            f" {total:.1f}",
            va="center",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.85},
        )
    expected = sum(probability.get(s, 0.0) * t for s, t in zip(scen, left))
    ax.axvline(expected, color="black", linestyle="--", linewidth=1)
    ax.text(expected, -0.6, f" expected {expected:.1f}", fontsize=9, va="bottom")
    ax.set_yticks(range(len(scen)))
    ax.set_yticklabels([f"{s}\np = {probability.get(s, 0.0):.2f}" for s in scen], fontsize=9)
    ax.set_ylim(len(scen) - 0.5, -0.9)
    ax.set_xlim(0, max(left.max(), 1e-9) * 1.12)
    ax.set_xlabel("discounted tariff relief over the horizon, USD bn")
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.05), ncol=min(len(cells.columns), 6), frameon=False, fontsize=9
    )
    return to_svg(fig)


def tier_ladders(tiers, ladder, scenarios: list, tracks: list) -> str:
    """Small multiples, one per scenario (row) and track (column): the track's score year
    by year against the thresholds of its ladder; the panel's title says the tier reached.

    `tiers` is a run's tiers.csv (scenario, track, year, tier, score, base_tier; thin, if
    given, marks in orange the years a tier is held with less than the margin tolerance);
    `ladder` the case's tiers table (scenario, track, tier, threshold)."""
    rows, cols = len(scenarios), len(tracks)
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 1.75 * rows + 0.4), squeeze=False, sharex=True)
    for i, s in enumerate(scenarios):
        for j, r in enumerate(tracks):
            ax = axes[i][j]
            g = tiers[(tiers["scenario"] == s) & (tiers["track"] == r)].sort_values("year")
            steps = ladder[(ladder["scenario"] == s) & (ladder["track"] == r)].sort_values("threshold")
            top = float(g["score"].max()) if len(g) else 0.0
            above = steps[steps["threshold"] > top + 1e-9]
            # the tiers passed and the next one up, so the distance to it is visible
            shown = steps[steps["threshold"] <= float(above["threshold"].iloc[0])] if len(above) else steps
            reached = g["tier"].iloc[-1] if len(g) else ""
            base = g["base_tier"].iloc[-1] if len(g) else ""
            if len(steps) <= 1:  # a ladder of one tier: nothing to reach in this stance
                ax.set_title(f"{s} / {r}", fontsize=8, color="#555555", loc="left")
                ax.text(
                    0.5,
                    0.5,
                    f"{reached or base}: the only tier\nof this track in this stance",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#888888",
                )
                ax.axis("off")
                continue
            ymax = max(float(shown["threshold"].max()), top) * 1.15 or 1.0
            for t in shown.itertuples():
                if t.threshold > 0:
                    ax.axhline(t.threshold, color="#999999", linestyle=":", linewidth=1)
                    ax.text(
                        1.0,
                        t.threshold,
                        f" {t.tier}",
                        transform=ax.get_yaxis_transform(),
                        fontsize=7,
                        va="center",
                        ha="left",
                        color="#555555",
                        clip_on=False,
                    )
            if len(g):
                ax.plot(g["year"], g["score"], marker="o", markersize=3, color=OPERATING, linewidth=1.5)
                if "thin" in g.columns and g["thin"].astype(bool).any():  # reached on a knife edge
                    k = g[g["thin"].astype(bool)]
                    ax.plot(k["year"], k["score"], linestyle="none", marker="o", markersize=5, color=THIN, zorder=3)
            ax.set_ylim(0, ymax)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            colour = "#1b7837" if reached != base else "#555555"
            ax.set_title(
                f"{s} / {r}\nreaches {reached}" if reached != base else f"{s} / {r}\nstays at {reached}",
                fontsize=8,
                color=colour,
                loc="left",
            )
            ax.tick_params(labelsize=7)
            if len(above) > 1:
                ax.text(
                    0.02,
                    0.95,
                    f"{len(above) - 1} tier(s) higher",
                    transform=ax.transAxes,
                    fontsize=6,
                    va="top",
                    color="#888888",
                )
    for ax in axes[-1]:
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.tight_layout(h_pad=0.6, w_pad=2.4)
    return to_svg(fig)


def grouped_bars(categories: list, series: dict, ylabel: str, horizontal: bool = False, reference_line=None) -> str:
    """Bars per category, one colour per run (series: run label -> values in category order)."""
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(categories))
    if horizontal:
        fig, ax = plt.subplots(figsize=(WIDTH, 0.8 + 0.35 * n * len(categories)))
    else:
        fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    for k, (label, values) in enumerate(series.items()):
        pos = x - 0.4 + width * (k + 0.5)
        if horizontal:
            ax.barh(pos, values, height=width, color=PALETTE[k % len(PALETTE)], label=label)
        else:
            ax.bar(pos, values, width=width, color=PALETTE[k % len(PALETTE)], label=label)
    if horizontal:
        ax.set_yticks(x)
        ax.set_yticklabels(categories, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.grid(axis="x", color="#eeeeee")
    else:
        ax.set_xticks(x)
        ax.set_xticklabels(categories, fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#eeeeee")
    if reference_line is not None:
        ax.step(
            np.r_[x - 0.5, x[-1] + 0.5],
            np.r_[reference_line, reference_line[-1]],
            where="post",
            color="black",
            linewidth=1.5,
            linestyle="--",
            label="budget",
        )
    ax.set_axisbelow(True)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(n + 1, 5), frameon=False, fontsize=9)
    return to_svg(fig)


def attribution_bars(rows: list, top: int = 10) -> str | None:
    """The largest scenario x track differences of one run against the reference, as
    horizontal bars (losses left, gains right), largest first."""
    rows = [x for x in rows if abs(x["difference"]) > 1e-9][:top]
    if not rows:
        return None
    labels = [f"{x['scenario']} / {x['track']}" for x in rows]
    values = [x["difference"] for x in rows]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.7 + 0.36 * len(rows)))
    ax.barh(range(len(rows)), values, color=[COMMIT if v < 0 else "#1b9e77" for v in values], height=0.6)
    for i, v in enumerate(values):
        ax.text(
            v, i, f" {v:+.2f} " if v >= 0 else f" {v:+.2f} ", va="center", ha="left" if v >= 0 else "right", fontsize=8
        )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=9)
    ax.invert_yaxis()
    span = max(abs(v) for v in values)
    ax.set_xlim(min(min(values), 0) - 0.25 * span, max(max(values), 0) + 0.25 * span)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("probability-weighted difference in expected relief, USD bn")
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    return to_svg(fig)


def risk_frontier(table, alpha: float) -> str:
    """The risk frontier of `relief risk` (cli/charts.py draws it), as the report's SVG."""
    from relief.cli.charts import risk_figure

    return to_svg(risk_figure(table, alpha, size=(WIDTH, 3.4), title=None))
