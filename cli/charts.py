"""Charts of sweeps and frontiers, as PNG files a planner can paste into a brief.

Every chart is drawn off-screen (the Agg backend, so it works on a server and in worker
processes), sized for a laptop screen, with its units on the axes, and written atomically:
a temporary file in the same folder, then os.replace, so a folder never holds half a
chart. Each function returns the Path it wrote. Long parameter paths are wrapped at their
dots rather than cut off.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from relief.cli.format import short  # noqa: E402
from relief.model.core.io import atomic_file  # noqa: E402

WIDTH = 9.0  # inches; at DPI this is about 1,100 px, a laptop's width
DPI = 125
LABEL_WIDTH = 34  # characters before a parameter label wraps
LOW_COLOUR, HIGH_COLOUR = "#d95f02", "#1b9e77"
MAIN_COLOUR, SECOND_COLOUR = "#1f4e79", "#9ecae1"


def _save(fig, path) -> Path:
    """Write the figure to `path` atomically (the format follows the suffix, PNG by default)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        with atomic_file(path, binary=True) as f:
            fig.savefig(f, format=fmt, dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def _wrap(label: str, width: int = LABEL_WIDTH) -> str:
    """Wrap a long parameter path or lever id after its dots (then its underscores, then
    anywhere in a word longer than a line), so that no label is cut off."""

    def pack(text: str, separators: list[str]) -> list[str]:
        if len(text) <= width:
            return [text]
        if not separators:
            return textwrap.wrap(text, width, break_long_words=True) or [text]
        lines, line = [], ""
        for part in re.split(f"(?<=[{re.escape(separators[0])}])", text):
            if line and len(line) + len(part) > width:
                lines.append(line)
                line = ""
            line += part
        lines.append(line)
        return [piece for l in lines for piece in pack(l, separators[1:])]

    return "\n".join(pack(str(label), [".:", "_"]))


def _figure(rows: int, *, ncols: int = 1, min_height: float = 3.2):
    """A figure whose height grows with the number of horizontal bars."""
    height = max(min_height, 1.6 + 0.5 * rows)
    return plt.subplots(1, ncols, figsize=(WIDTH, height), layout="constrained", squeeze=False)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _legend(fig, *axes) -> None:
    """One legend below the plot, where it can never hide a bar or a point."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(
            entries.values(),
            entries.keys(),
            loc="outside lower center",
            ncols=min(len(entries), 3),
            fontsize=8,
            frameon=False,
        )


def _message(path, title: str, text: str) -> Path:
    """A chart that only says why there is nothing to draw."""
    fig, axes = plt.subplots(figsize=(WIDTH, 2.6), layout="constrained")
    axes.set_axis_off()
    axes.set_title(title, fontsize=13, loc="left")
    axes.text(0.0, 0.5, textwrap.fill(text, 90), transform=axes.transAxes, va="center", fontsize=11)
    return _save(fig, path)


def tornado(
    base: float,
    rows: list[dict],
    path,
    title: str = "What moves expected relief: one parameter at a time",
    value_label: str = "expected relief, USD bn",
) -> Path:
    """Bars from the base case's value to the value at each parameter's low and high end,
    widest swing on top. rows: {label, low_value, high_value, relief_at_low, relief_at_high};
    a missing relief (a failed point) is shown as "no result"."""
    if not rows:
        return _message(path, title, "No parameters were varied, so there is nothing to compare with the base case.")

    def swing(r):
        ends = [v for v in (r.get("relief_at_low"), r.get("relief_at_high")) if _is_num(v)]
        return max((abs(v - base) for v in ends), default=0.0) + (max(ends) - min(ends) if ends else 0.0)

    ordered = sorted(rows, key=swing)  # barh draws from the bottom: widest ends up on top
    fig, axes = _figure(len(ordered))
    ax = axes[0][0]
    span = [base] + [v for r in ordered for v in (r.get("relief_at_low"), r.get("relief_at_high")) if _is_num(v)]
    pad = (max(span) - min(span)) or max(abs(base), 1.0) * 0.05
    for y, r in enumerate(ordered):
        for key, value_key, colour, name in (
            ("relief_at_low", "low_value", LOW_COLOUR, "parameter at its low value"),
            ("relief_at_high", "high_value", HIGH_COLOUR, "parameter at its high value"),
        ):
            v = r.get(key)
            offset = -0.2 if key == "relief_at_low" else 0.2
            if not _is_num(v):
                ax.text(
                    base, y + offset, f"  {short(r.get(value_key))}: no result", va="center", fontsize=8, color="grey"
                )
                continue
            ax.barh(y + offset, v - base, left=base, height=0.38, color=colour, label=name if y == 0 else None)
            right = v >= base
            ax.text(
                v + (0.01 if right else -0.01) * pad,
                y + offset,
                f"{short(r.get(value_key))} \u2192 {short(v)}",
                va="center",
                ha="left" if right else "right",
                fontsize=8,
            )
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(ordered)), [_wrap(r["label"]) for r in ordered])
    ax.set_xlim(min(span) - 0.35 * pad, max(span) + 0.35 * pad)  # room for the value labels
    ax.set_ylim(-0.7, len(ordered) - 0.3)
    ax.set_xlabel(value_label)
    ax.set_title(
        f"{title}\nbase case: {short(base)} (vertical line); labels: parameter value \u2192 result",
        fontsize=12,
        loc="left",
    )
    _legend(fig, ax)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _inner(indices: dict) -> dict:
    return indices.get("indices", indices) if isinstance(indices, dict) else {}


def indices_chart(
    indices: dict, method: str, path, *, output_label: str = "expected relief", unit: str = "USD bn"
) -> Path:
    """Sensitivity indices per parameter, most influential on top: Sobol' S1 and ST with
    their confidence intervals, Morris mu* (with its interval) and sigma, or LHS Spearman
    correlations with their intervals. `indices` is what designs.analyze returns (or its
    "indices" part); an analysis that ended in an error gives a chart stating the error."""
    titles = {
        "sobol": "Sobol' sensitivity indices",
        "morris": "Morris screening (elementary effects)",
        "lhs": "Rank correlation with " + output_label + " (Latin hypercube)",
    }
    if method not in titles:
        raise ValueError(f"no indices chart for method '{method}' (sobol, morris or lhs)")
    title = f"{titles[method]} of {output_label}" if method != "lhs" else titles[method]
    if isinstance(indices, dict) and "error" in indices:
        return _message(path, title, f"No indices: {indices['error']}.")
    data = _inner(indices)
    if not data:
        return _message(path, title, "No indices to show.")
    labels = list(data)
    get = lambda l, k: data[l].get(k) if _is_num(data[l].get(k)) else None  # noqa: E731

    series, order_key, xlabel = _index_series(method, output_label, unit)
    labels.sort(key=lambda l: abs(get(l, order_key) or 0.0))  # most influential on top
    fig, axes = _figure(len(labels) * (0.6 + 0.4 * len(series)))
    ax = axes[0][0]
    _index_bars(ax, labels, series, get, method)
    ax.axvline(0, color="black", linewidth=0.8)
    if method == "lhs":
        ax.set_xlim(-1.05, 1.05)
    elif method == "sobol":
        ax.set_xlim(min(0.0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
    ax.set_yticks(range(len(labels)), [_wrap(l) for l in labels])
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlabel(xlabel)
    subtitle = _index_subtitle(method, indices)
    ax.set_title(f"{title}\n{subtitle}", fontsize=12, loc="left")
    _legend(fig, ax)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _index_series(method: str, output_label: str, unit: str) -> tuple[list[tuple], str, str]:
    """The bars of an indices chart (index, its interval, legend, colour), the index that
    orders the parameters, and the x axis's label."""
    if method == "sobol":
        series = [
            ("ST", "ST_conf", "total (ST): alone and with interactions", MAIN_COLOUR),
            ("S1", "S1_conf", "first order (S1): alone", SECOND_COLOUR),
        ]
        return series, "ST", f"share of the variance of {output_label} (Sobol' index, 0 to 1)"
    if method == "morris":
        series = [
            ("mu_star", "mu_star_conf", "\u03bc*: mean absolute effect (importance)", MAIN_COLOUR),
            ("sigma", None, "\u03c3: spread of effects (interactions, non-linearity)", SECOND_COLOUR),
        ]
        return series, "mu_star", f"change in {output_label} when the parameter moves across its whole range, {unit}"
    series = [("spearman", None, "Spearman \u03c1 with 95% interval", MAIN_COLOUR)]
    return series, "spearman", f"Spearman rank correlation with {output_label} (\u22121 to 1)"


def _index_bars(ax, labels: list, series: list[tuple], get, method: str) -> None:
    """One group of horizontal bars per parameter, with the intervals as error bars."""
    height = 0.8 / len(series)
    for s, (key, conf_key, name, colour) in enumerate(series):
        offset = (len(series) - 1) / 2 * height - s * height  # first series on top within a row
        ys, widths, errs = [], [], [[], []]
        for y, l in enumerate(labels):
            v = get(l, key)
            if v is None:
                ax.text(0, y + offset, "  n/a", va="center", fontsize=8, color="grey")
                continue
            ys.append(y + offset)
            widths.append(v)
            if method == "lhs":
                lo, hi = get(l, "spearman_low"), get(l, "spearman_high")
                errs[0].append(v - lo if lo is not None else 0.0)
                errs[1].append(hi - v if hi is not None else 0.0)
            else:
                c = get(l, conf_key) if conf_key else None
                errs[0].append(c or 0.0)
                errs[1].append(c or 0.0)
        xerr = errs if any(errs[0]) or any(errs[1]) else None
        ax.barh(
            ys,
            widths,
            height=height * 0.95,
            color=colour,
            label=name,
            xerr=xerr,
            error_kw={"ecolor": "#444444", "capsize": 3, "linewidth": 1},
        )


def _index_subtitle(method: str, indices) -> str:
    subtitle = {
        "sobol": "error bars: 95% confidence interval",
        "morris": "error bars: 95% confidence interval of \u03bc*",
        "lhs": "error bars: 95% bootstrap interval",
    }[method]
    n = indices.get("points") if isinstance(indices, dict) else None
    if n:
        subtitle += f"; {n:,} points"
    note = indices.get("note") if isinstance(indices, dict) else None
    if note:  # e.g. a constant output or dropped points: say why bars are missing or thin
        subtitle += "\n" + textwrap.fill(f"note: {note}", 100)
    return subtitle


def lever_frequency(
    freq: dict[str, float], path, title: str = "How often each lever is chosen across the sweep"
) -> Path:
    """Share of the sweep's points (0 to 1) in which each lever is committed, most often on top."""
    if not freq:
        return _message(path, title, "No points with a result, so no lever choices to count.")
    items = sorted(freq.items(), key=lambda kv: (kv[1] if _is_num(kv[1]) else -1.0, str(kv[0])))
    fig, axes = _figure(len(items))
    ax = axes[0][0]
    values = [v if _is_num(v) else 0.0 for _, v in items]
    ax.barh(range(len(items)), values, color=MAIN_COLOUR, height=0.6)
    for y, v in enumerate(values):
        ax.text(min(v, 1.0) + 0.01, y, f"{v:.0%}", va="center", fontsize=8)
    ax.set_yticks(range(len(items)), [_wrap(k) for k, _ in items])
    ax.set_xlim(0, 1.1)
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of points in which the lever is committed (%)")
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _floats(values) -> list[float]:
    return [float(v) if _is_num(v) else float("nan") for v in values]


def line_chart(x, y, path, xlabel: str, ylabel: str, title: str) -> Path:
    """One output against one parameter (a one-parameter grid); points without a result
    leave a gap and are marked on the axis."""
    xs, ys = _floats(x), _floats(y)
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values but y has {len(ys)}")
    pairs = sorted(zip(xs, ys), key=lambda p: p[0])
    fig, axes = plt.subplots(figsize=(WIDTH, 4.8), layout="constrained")
    ax = axes
    ax.plot([p[0] for p in pairs], [p[1] for p in pairs], marker="o", markersize=4, color=MAIN_COLOUR)
    if _mark_no_result(ax, [p[0] for p in pairs if math.isnan(p[1])]):
        _legend(fig, ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def frontier_chart(
    x,
    y,
    path,
    knees: list[int],
    marginal: list[float | None],
    xlabel: str,
    ylabel: str,
    title: str = "Expected relief against the public budget",
    marginal_label: str = "marginal relief per extra USD bn",
) -> Path:
    """The frontier (y against x, in the order given), its knees (indices into x) ringed
    and labelled, and the marginal relief per extra unit of x as bars on a second axis.
    marginal[i] is the slope from point i to point i+1 (len(x) - 1 values); a list of
    len(x) values whose first is None (the slope into each point) is also accepted. None
    means no slope there (a failed point) and draws no bar."""
    xs, ys = _floats(x), _floats(y)
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} values but y has {len(ys)}")
    marginal = list(marginal or [])
    if len(marginal) == len(xs) and len(xs) > 0 and marginal[0] is None:
        marginal = marginal[1:]
    if marginal and len(marginal) != max(len(xs) - 1, 0):
        raise ValueError(
            f"marginal needs {max(len(xs) - 1, 0)} values (one between each pair of points), not {len(marginal)}"
        )
    fig, ax = plt.subplots(figsize=(WIDTH, 5.2), layout="constrained")
    ax2 = ax.twinx()
    bars = [((a + b) / 2, abs(b - a), m) for a, b, m in zip(xs, xs[1:], marginal) if _is_num(m)]
    if bars:
        ax2.bar(
            [b[0] for b in bars],
            [b[2] for b in bars],
            width=[0.8 * b[1] or 1.0 for b in bars],
            color=SECOND_COLOUR,
            alpha=0.7,
            label=marginal_label,
        )
        ax2.axhline(0, color=SECOND_COLOUR, linewidth=0.8)
    ax2.set_ylabel(marginal_label, color="#3b7fb6")
    ax2.tick_params(axis="y", colors="#3b7fb6")
    ax.set_zorder(ax2.get_zorder() + 1)  # the frontier line in front of the bars
    ax.patch.set_visible(False)
    ax.plot(xs, ys, marker="o", markersize=4, color=MAIN_COLOUR, label=ylabel, zorder=3)
    _ring_knees(ax, xs, ys, knees)
    _mark_no_result(ax, [a for a, b in zip(xs, ys) if math.isnan(b) and not math.isnan(a)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(alpha=0.3)
    _legend(fig, ax, ax2)
    return _save(fig, path)


def _ring_knees(ax, xs: list[float], ys: list[float], knees: list[int] | None) -> None:
    """Each knee of a frontier ringed and labelled 'knee x -> y'."""
    shown = [k for k in (knees or []) if 0 <= k < len(xs) and not math.isnan(ys[k])]
    for n, k in enumerate(shown):
        ax.plot(
            xs[k],
            ys[k],
            "o",
            markersize=13,
            markerfacecolor="none",
            markeredgecolor="#c0392b",
            markeredgewidth=2,
            zorder=4,
            label="knee" if n == 0 else None,
        )
        ax.annotate(
            f"knee\n{short(xs[k])} \u2192 {short(ys[k])}",
            (xs[k], ys[k]),
            xytext=(12, -28 if n % 2 else 14),
            textcoords="offset points",
            fontsize=8,
            color="#c0392b",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            arrowprops={"arrowstyle": "-", "color": "#c0392b", "linewidth": 0.8},
        )


def risk_figure(
    table, alpha: float, size=(WIDTH * 0.75, 4.8), title: str | None = "What protection against a bad U.S. stance costs"
):
    """Expected relief (y) against CVaR (x), one point per weight on CVaR, each distinct
    plan labelled once, at its lowest weight. Returns the figure (for a PNG or the report's SVG)."""
    fig, ax = plt.subplots(figsize=size)
    ax.plot(table["cvar"], table["expected_relief"], marker="o", color=MAIN_COLOUR)
    last = None
    for r in table.itertuples():
        key = (round(r.cvar, 6), round(r.expected_relief, 6))
        if key != last:
            ax.annotate(
                f"w={r.weight:g}", (r.cvar, r.expected_relief), textcoords="offset points", xytext=(6, 4), fontsize=8
            )
        last = key
    ax.set_xlabel(f"CVaR{alpha:g}: mean relief of the worst {1 - alpha:.0%} of probability, USD bn")
    ax.set_ylabel("expected relief, USD bn")
    if title:
        ax.set_title(title, loc="left")
    ax.grid(color="#eeeeee")
    return fig


def risk_chart(table, alpha: float, path) -> Path:
    """The risk frontier as a PNG (relief risk)."""
    return _save(risk_figure(table, alpha), path)


def _mark_no_result(ax, failed: list) -> bool:
    """Grey crosses on the x axis where a point has no result; whether there were any."""
    if failed:
        ax.plot(
            failed,
            [0] * len(failed),
            "x",
            color="grey",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="no result",
        )
    return bool(failed)
