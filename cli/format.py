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


def tier_path(year_tiers, arrow: str = " → ") -> str:
    """'baseline → deal (2029) → deal_plus (2031)' from (year, tier) pairs in year order,
    '' standing for the baseline: each tier once, with the year it is first reached."""
    steps, prev = [], None
    for year, tier in year_tiers:
        if tier != prev:
            name = tier or "baseline"
            steps.append(name if prev is None else f"{name} ({year})")
            prev = tier
    return arrow.join(steps)


def tier_path_of(cells: dict, scenario: str, track: str) -> str:
    """'baseline -> deal (2029) -> deal_plus (2031)' of one scenario and track, from
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
