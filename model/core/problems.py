"""What is wrong with a case, and where: the `Problem` every reader, check and rule reports,
and the `CaseError` that carries all of them at once.

The lowest module of the case layer, so that reading, coercion, validation and the rules
across tables all report the same way without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious, level='warning') with a case, where it is."""

    file: str
    message: str
    row: int | None = None  # spreadsheet row: the header is row 1, the first data row is 2
    column: str | None = None
    level: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        # a NUL, a line break or a zero-width space in a value is shown, not obeyed by the terminal
        return "".join(
            c if c.isprintable() else c.encode("unicode_escape").decode() for c in f"{where}: {self.message}"
        )


class CaseError(Exception):
    """The case cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
