"""The report's periods: every month or quarter the parameters span, and which of them are cut.

A breakdown's first or last period may cover only part of its month or quarter (a report from
2025-11-01 cuts 2025-Q4 to two months). Its figures are not comparable with a whole period's,
so the report labels such a period with the days it covers instead of refusing the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    """One month (``YYYY-MM``) or quarter (``YYYY-Qn``) and the days of it the report covers."""

    name: str
    first: date
    last: date
    covered_from: date
    covered_to: date

    @property
    def partial(self) -> bool:
        return (self.covered_from, self.covered_to) != (self.first, self.last)

    @property
    def label(self) -> str:
        """The name, starred when the period is cut (tables and axes; the note below says how)."""
        return f"{self.name}*" if self.partial else self.name


def _next(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def periods(kind: str, start: date, end: date) -> list[Period]:
    """Every ``kind`` ("month" or "quarter") period overlapping [start, end], in order."""
    months = 3 if kind == "quarter" else 1
    first = date(start.year, start.month - (start.month - 1) % months, 1)
    found = []
    while first <= end:
        after = _next(first, months)
        name = f"{first:%Y}-Q{(first.month - 1) // 3 + 1}" if kind == "quarter" else f"{first:%Y-%m}"
        last = after - timedelta(days=1)
        found.append(Period(name, first, last, max(first, start), min(last, end)))
        first = after
    return found
