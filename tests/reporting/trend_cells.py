"""Trend cells built in plain Python, for disclosure-control tests that need no export.

``cells_of`` aggregates contributions (period, dim1, dim2, contributor, measure, value) the way
the SQL does: per cell and per ``ALL`` total, the value, the distinct contributors and the
largest single contributor's part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import pyarrow as pa

from privacy_audit.reporting.trends.aggregates import CELL_SCHEMA
from privacy_audit.reporting.trends.disclosure import PUBLICATION_SCHEMA

Contribution = tuple[str, str, str | None, str, str, float]


def cells_of(
    breakdown: str,
    names: tuple[str, str | None],
    contributions: Iterable[Contribution],
    totals: Sequence[int] = (0, 1),
) -> list[dict]:
    """Cells and the ``ALL`` totals over the dimensions (0, 1) listed in ``totals``."""
    parts: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    two = names[1] is not None
    for period, d1, d2, who, measure, value in contributions:
        keys = {(d1, d2)}
        if 0 in totals:
            keys.add(("ALL", d2))
        if two and 1 in totals:
            keys |= {(d1, "ALL")} | ({("ALL", "ALL")} if 0 in totals else set())
        for a, b in keys:
            parts[(period, measure, a, b)][who] += value
    return [
        {
            "breakdown": breakdown,
            "period": period,
            "dim1_name": names[0],
            "dim1_value": a,
            "dim2_name": names[1],
            "dim2_value": b,
            "measure": measure,
            "value": float(sum(by.values())),
            "contributors": len(by),
            "top": float(max(by.values())),
        }
        for (period, measure, a, b), by in sorted(parts.items(), key=str)
    ]


def cell_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CELL_SCHEMA)


def naive(rows: list[dict], k: int) -> pa.Table:
    """Primary suppression only (cells below k hidden): what secondary suppression must fix."""
    out = [
        {
            **{c: r[c] for c in PUBLICATION_SCHEMA.names if c in r},
            **(
                {"value": None, "contributors": None, "status": "suppressed"}
                if r["contributors"] < k
                else {"status": "published"}
            ),
        }
        for r in rows
    ]
    return pa.Table.from_pylist(out, schema=PUBLICATION_SCHEMA)


def published(rows: list[dict], hidden: dict[tuple, str]) -> pa.Table:
    """A publication of ``rows`` where the cells keyed (dim1, dim2) in ``hidden`` get that status."""
    out = []
    for r in rows:
        status = hidden.get((r["dim1_value"], r["dim2_value"]), "published")
        shown = status == "published"
        out.append(
            {
                **{c: r[c] for c in PUBLICATION_SCHEMA.names if c in r},
                "value": r["value"] if shown else None,
                "contributors": r["contributors"] if shown else None,
                "status": status,
            }
        )
    return pa.Table.from_pylist(out, schema=PUBLICATION_SCHEMA)
