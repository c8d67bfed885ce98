"""The rows of a case's tables as plain Python objects, computed once per table.

A case's tables are never changed in place: a changed case is a new `Case` whose changed
tables are new DataFrames and whose other tables are the same objects. So the rows of a
DataFrame can be kept for as long as it lives, and every step that reads a table row by
row (validation's rules, the model's numbers, the independent evaluation) shares one
conversion. pandas' `to_dict("records")` and `itertuples` cost about 1-5 ms a table,
and a sweep point used to pay that some 25 times (issue 14: 0.27 s a point, of which
HiGHS 0.03 s).

`records(df)`: each row a read-only mapping {column: value} (values as
`to_dict("records")` gives them: Python scalars). `rows(df)`: each row a named tuple
(`r.lever`), as `itertuples(index=False)` gives them.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from types import MappingProxyType

_RECORDS: dict[int, tuple] = {}
_ROWS: dict[int, tuple] = {}


def _cached(cache: dict, df, make):
    key = id(df)
    hit = cache.get(key)
    if hit is not None and hit[0]() is df:
        return hit[1]
    value = make(df)
    cache[key] = (weakref.ref(df, lambda _, k=key, c=cache: c.pop(k, None)), value)
    return value


def _columns(df) -> tuple[list[str], list]:
    cols = [str(c) for c in df.columns]
    return cols, list(zip(*(df[c].tolist() for c in df.columns))) if cols else [() for _ in range(len(df))]


def records(df) -> tuple:
    """The rows of `df` as read-only {column: value} mappings (cached per DataFrame object)."""

    def make(df):
        cols, values = _columns(df)
        return tuple(MappingProxyType(dict(zip(cols, v))) for v in values)

    return _cached(_RECORDS, df, make)


def rows(df) -> tuple:
    """The rows of `df` as named tuples, like `itertuples(index=False)` (cached per DataFrame object)."""

    def make(df):
        cols, values = _columns(df)
        row = namedtuple("Row", cols, rename=True)
        return tuple(row._make(v) for v in values)

    return _cached(_ROWS, df, make)


_MEMO: dict[int, tuple] = {}


def memo(owner, key, make):
    """`make()`, computed once per (`owner` object, `key`) while `owner` lives: what is
    derived from an immutable case (its model's numbers, its yearly rates) is shared by
    the steps that need it (validation's coefficient check and the model's parameters;
    the model and the independent evaluation). Callers must not change what it returns."""
    table = _cached(_MEMO, owner, lambda _: {})
    if key not in table:
        table[key] = make()
    return table[key]
