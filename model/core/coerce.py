"""One cell or case.yaml field to a typed value, or the reason it cannot be one.

The planner's spellings are accepted (TRUE/yes/1 for a boolean, 2027.0 from Excel for a
year); a percentage, a non-finite or an oversized number is refused with a reason that
says how to write it instead.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from relief.model.core.schema import MAX_NUMBER, power_of_ten

if TYPE_CHECKING:
    from relief.model.core.schema import Column, Field

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def blank(v: object) -> bool:
    """An empty cell: None, NaN or pandas.NA (pandas' empties) or only white space."""
    if v is None or type(v).__name__ == "NAType":
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def shown(value: object) -> str:
    """A value as quoted in a message: at most 40 characters of it."""
    s = str(value)
    return s if len(s) <= 40 else s[:37] + "..."


def coerce(value: object, kind: str) -> tuple[object, str | None]:
    """Return (value, None) or (None, reason) for one cell or field."""
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 2027 as 2027.0
        s = str(value).strip()
        return s, None
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        s = str(value).strip().lower()
        if s in _TRUE:
            return True, None
        if s in _FALSE:
            return False, None
        return None, f"'{shown(value)}' is not true or false"
    if isinstance(value, bool):
        return None, f"'{shown(value)}' is not a number"
    if isinstance(value, str):
        s = value.strip()
        if s.endswith("%"):
            return None, f"'{shown(s)}' is a percentage: write fractions, e.g. 0.15 for 15%"
        try:
            num = float(s)
        except ValueError:
            return None, f"'{shown(s)}' is not a number"
    else:
        try:
            num = float(value)
        except OverflowError:  # a YAML integer of hundreds of digits
            return (
                None,
                f"'{shown(value)}' is too large: relief takes numbers up to {power_of_ten(MAX_NUMBER)} in size",
            )
        except (TypeError, ValueError):
            return None, f"'{shown(value)}' is not a number"
    if math.isnan(num) or math.isinf(num):
        return None, f"'{shown(value)}' is not a finite number"
    if abs(num) > MAX_NUMBER:
        return None, f"'{shown(value)}' is too large: relief takes numbers up to {power_of_ten(MAX_NUMBER)} in size"
    if kind == "int":
        if not num.is_integer():
            return None, f"'{shown(value)}' is not a whole number"
        return int(num), None
    return num, None


def range_reason(num: float, spec: Column | Field) -> str | None:
    """Why a number is outside its column's or field's range, or None."""
    lo, hi = spec.min, spec.max
    if lo is not None and (num < lo or (spec.min_exclusive and num == lo)):
        op = ">" if spec.min_exclusive else ">="
        return f"{num:g} is out of range: must be {op} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
    if hi is not None and num > hi:
        return f"{num:g} is out of range: must be <= {hi:g}" + (f" and >= {lo:g}" if lo is not None else "")
    return None
