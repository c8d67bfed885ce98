"""How relief writes numbers in its tables (terminal and report): one place, so that a
figure reads the same in every command."""

from __future__ import annotations

import contextlib
import math

MISSING = "-"
REPORT_TOLERANCE = 1e-9  # the report writes 2.0000000001 modules as 2


def is_missing(v) -> bool:
    """None or NaN: a figure that does not exist (a plan not found, a column not given)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def number(v, fmt: str = "{:.2f}", missing: str = MISSING) -> str:
    """A float by `fmt`; `missing` for None or NaN; anything else (years, counts, labels)
    as it is."""
    if is_missing(v):
        return missing
    return fmt.format(v) if isinstance(v, float) else str(v)


def signed(v, places: int = 3, missing: str = MISSING) -> str:
    """A difference, always with its sign: '+0.250', '-1.000'."""
    return number(v, f"{{:+.{places}f}}", missing)


def short(v) -> str:
    """Three significant digits, for chart labels: '1.23e+03', '0.25'; 'n/a' if not a finite number."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return f"{v:,.3g}"
    return "n/a"


def usd(v: float) -> str:
    """USD bn in the solve summary: '1,234.56' (any number, an integer too)."""
    return f"{v:,.2f}"


def amount(v, places: int = 2) -> str:
    """An amount in a report: '1,234.56'; '-' if missing; a year or count as it is."""
    return number(v, f"{{:,.{places}f}}")


def modules(v: float, tolerance: float = 0.0) -> str:
    """Whole modules as '2', divisible amounts as '4.88'. The terminal tells a whole number
    exactly (tolerance 0); the report forgives solver noise (tolerance 1e-9)."""
    v = float(v)
    whole = v.is_integer() if tolerance == 0 else math.isfinite(v) and abs(v - round(v)) < tolerance
    return f"{v:g}" if whole else f"{v:.2f}"


def modules_since(m, first_year) -> str:
    """Modules with the year first committed, as in the delay and coordination views:
    '2 ('27)'; '·' for a lever not used, '-' for no plan."""
    if m is None:
        return MISSING
    if m <= 1e-9:
        return "·"
    return modules(m) + ("" if first_year is None else f" ('{str(first_year)[-2:]})")


def margin_pct(share) -> str:
    """A tier's margin as a share of its threshold: '+0.0%', '+12.5%'; '' if none (the baseline)."""
    return "" if is_missing(share) else f"{share:+.1%}"


def share_text(share: float) -> str:
    """A tolerance as a planner writes it: 0.02 -> '2%', 0.025 -> '2.5%'."""
    return f"{share * 100:.3g}%"


def years_text(years) -> str:
    """'2029', '2029-2031', '2026, 2029-2031': years as a planner reads them."""
    ys, parts = sorted({int(y) for y in years}), []
    for y in ys:
        if parts and y == parts[-1][1] + 1:
            parts[-1][1] = y
        else:
            parts.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def thin_parts(rows: list[dict], tolerance: float) -> tuple[str, list[str]]:
    """The knife-edge tiers of a plan (records of tiers.csv with thin true): a heading, '6 tiers
    reached with a margin below 2% of the threshold (...)', and one item per tier with the
    years it is thin and its least margin, 'deal_restored/general deal_plus 2028 (score 130
    vs 130, +0.0%)'."""
    groups: dict = {}
    for x in rows:
        groups.setdefault((x["scenario"], x["track"], x["tier"]), []).append(x)
    n = len(groups)
    head = (
        f"{n} tier{'s' if n != 1 else ''} reached with a margin below {share_text(tolerance)} of the threshold "
        f"(a small shortfall in delivery or credit loses {'them' if n != 1 else 'it'})"
    )
    items = []
    for (s, r, k), xs in groups.items():
        low = min(xs, key=lambda x: x["margin_rel"])
        items.append(
            f"{s}/{r} {k} {years_text(x['year'] for x in xs)} "
            f"(score {low['score']:.6g} vs {low['threshold']:.6g}, {margin_pct(low['margin_rel'])})"
        )
    return head, items


def thin_line(rows: list[dict], tolerance: float, show: int = 8) -> str:
    """The knife-edge tiers in one line (the terminal): the heading, then up to `show` tiers."""
    head, items = thin_parts(rows, tolerance)
    more = f"; and {len(items) - show} more (tiers.csv, column thin)" if len(items) > show else ""
    return f"{head}: " + "; ".join(items[:show]) + more


def tier_path(year_tiers, arrow: str = " → ") -> str:
    """'no_delivery → deal (2029) → deal_plus (2031)' from (year, tier) pairs in year order,
    each tier once, with the year it is first reached. The baseline goes by the case's own
    name for it ('' is written 'baseline', for runs that did not name it)."""
    steps, prev = [], None
    for year, tier in year_tiers:
        if tier != prev:
            name = tier or "baseline"
            steps.append(name if prev is None else f"{name} ({year})")
            prev = tier
    return arrow.join(steps)


def tier_path_of(cells: dict, scenario: str, track: str) -> str:
    """'no_delivery -> deal (2029) -> deal_plus (2031)' of one scenario and track, from
    {(scenario, track, year): tier} (compare and report)."""
    return tier_path(
        ((y, tier) for (s, r, y), tier in sorted(cells.items()) if (s, r) == (scenario, track)), arrow=" -> "
    )


def what_differs(plan: dict) -> str:
    """What an alternative roadmap does differently from the optimum (a record of
    `Alternatives.report()["plans"]`), in the terminal and in the report alike."""
    parts = (
        f"adds {plan['added']}" if plan["added"] else "",
        f"drops {plan['dropped']}" if plan["dropped"] else "",
        plan["other_changes"],
    )
    return "; ".join(x for x in parts if x) or ("the optimum" if plan["plan"] == "optimum" else "")


def as_typed(overrides=(), force=(), exclude=(), risk: str | None = None) -> list[str]:
    """What was asked of a run, as the planner typed it: '--set P=V', '--force L', '--exclude L',
    '--risk worst' (not the case.yaml overrides that --risk stands for, which `overrides` holds)."""
    hidden: set[str] = set()
    if risk:
        from relief.model.core.risk import Risk

        with contextlib.suppress(ValueError):  # not a measure: relief refused it before solving
            hidden = set(Risk.parse(risk).overrides())
    return (
        [f"--set {o}" for o in overrides if str(o) not in hidden]
        + [f"--force {l}" for l in force]
        + [f"--exclude {l}" for l in exclude]
        + ([f"--risk {risk}"] if risk else [])
    )
