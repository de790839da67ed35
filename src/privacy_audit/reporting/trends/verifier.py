"""An independent check of a trend publication, from the published table alone.

It shares no code with disclosure control: it reads only what an analyst receives (plus ``k``
and ``protection_pct``) and rebuilds from it, on its own, what an attacker knows:

- within each (breakdown, period, measure), a cell whose dimension value is ``ALL`` is the sum
  of the cells beside it along that dimension (for 2-D tables row and column totals, the grand
  total both ways); a cell labelled ``Other (rolled up)`` is the sum of the ``rolled_up`` cells
  that share its other dimension's value;
- ``top_collections``' grand total of a quarter is the sum of ``sales_by_category_region``'s
  monthly grand totals of the same measure in that quarter (both count the same order lines);
- no cell is negative.

It then proves three things, and raises ``VerificationError`` naming every offending cell by its
dimensions (never a value or a contributor count):

1. every published cell has a value and at least ``k`` contributors; hidden cells show neither;
2. no hidden cell is *recoverable*: for each connected system of hidden cells, the null space
   of its equations is computed; a cell whose coordinate vanishes on the whole null space is
   fixed by adding and subtracting published cells, whatever the values;
3. no hidden cell is *narrowed*: two linear programs give the smallest and largest value each
   hidden cell can take; whatever its true value, the promise "at least ``protection_pct`` on
   each side" can only hold when ``lo * (1 + p) <= hi * (1 - p)`` (the interval must hold a point
   with ±p around it), so a narrower interval is a breach. Disclosure control, which knows the
   true values, checks the stronger condition around the true value itself.

Totals that do not add up, or a system with no solution, mean the published table is not the
additive structure this proof assumes; that is reported too rather than passed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import pairwise

import numpy as np
import pyarrow as pa
from scipy.linalg import null_space
from scipy.optimize import linprog

TOTAL = "ALL"
GROUP = "Other (rolled up)"
STATUSES = ("published", "suppressed", "rolled_up")
QUARTER_OF_MONTHS = {"top_collections": "sales_by_category_region"}
COLUMNS = (
    "breakdown",
    "period",
    "dim1_name",
    "dim1_value",
    "dim2_name",
    "dim2_value",
    "measure",
    "value",
    "contributors",
    "status",
)
_EPS = 1e-6

Key = tuple[str, str, str, str, str | None]  # breakdown, period, measure, dim1, dim2


class VerificationError(Exception):
    """The publication breaks an anonymity promise; ``problems`` name the cells, never values."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        first = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
        listed = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"trend publication fails verification ({len(problems)} problems): {first}\n{listed}{more}"
        )


def verify(published: pa.Table, k: int, protection_pct: float) -> None:
    """Raise ``VerificationError`` unless ``published`` keeps all three promises."""
    missing = [c for c in COLUMNS if c not in published.column_names]
    if missing:
        raise VerificationError([f"the table lacks column(s) {', '.join(missing)}"])
    rows = published.select(list(COLUMNS)).to_pylist()
    names = {_key(r): r for r in rows}
    problems = [_describe(r, p) for r in rows for p in _row_problems(r, k)]
    if len(names) < len(rows):
        problems.append(f"{len(rows) - len(names)} cells appear more than once")
    known = {key: r["value"] for key, r in names.items() if r["status"] == "published"}
    hidden = {key for key, r in names.items() if r["status"] != "published"}
    relations = _relations(rows)
    problems += _inconsistent(relations, known, names)
    touching: dict[Key, list[int]] = defaultdict(list)  # hidden cell -> its relations, in order
    for n, (whole, parts) in enumerate(relations):
        for cell in {whole, *parts} & hidden:
            touching[cell].append(n)
    for system in _systems(relations, hidden):
        involved = sorted({n for cell in system for n in touching[cell]})
        problems += _check_system(
            system, [relations[n] for n in involved], known, names, protection_pct / 100
        )
    if problems:
        raise VerificationError(problems)


def _key(row: dict) -> Key:
    return row["breakdown"], row["period"], row["measure"], row["dim1_value"], row["dim2_value"]


def _describe(row: dict, problem: str) -> str:
    where = f"{row['dim1_name']}={row['dim1_value']}"
    if row["dim2_name"] is not None:
        where += f", {row['dim2_name']}={row['dim2_value']}"
    return f"{row['breakdown']} {row['period']} {row['measure']} ({where}): {problem}"


def _row_problems(row: dict, k: int) -> Iterable[str]:
    if row["status"] not in STATUSES:
        yield "status is none of published, suppressed, rolled_up"
    elif row["status"] == "published":
        if row["value"] is None or row["contributors"] is None:
            yield "published without a value or a contributor count"
        elif row["contributors"] < k:
            yield "published with fewer than k contributors"
    elif row["value"] is not None or row["contributors"] is not None:
        yield f"{row['status']} but its value or contributor count is shown"


def _relations(rows: list[dict]) -> list[tuple[Key, list[Key]]]:
    """(whole, parts): every additive relation the table's layout implies."""
    tables: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in rows:
        tables[(r["breakdown"], r["period"], r["measure"])].append(r)
    relations = []
    for (breakdown, period, measure), cells in tables.items():
        pairs = {(r["dim1_value"], r["dim2_value"]): r for r in cells}
        two = any(r["dim2_name"] is not None for r in cells)
        for axis in (0, 1) if two else (0,):
            # The cells of each line along ``axis`` (by the other dimension's value), in table
            # order: a whole's parts are looked up, not searched for among all the table's cells.
            lines: dict[str | None, list[tuple[str, str | None]]] = defaultdict(list)
            for q in pairs:
                if q[axis] not in (TOTAL, GROUP):
                    lines[q[1 - axis] if two else None].append(q)
            for pos in pairs:
                label, other = pos[axis], pos[1 - axis] if two else None
                if label not in (TOTAL, GROUP) or other == GROUP:
                    continue  # not a whole; a column of groups has no total
                parts = [q for q in lines[other] if label == TOTAL or pairs[q]["status"] == "rolled_up"]
                relations.append(
                    ((breakdown, period, measure, *pos), [(breakdown, period, measure, *q) for q in parts])
                )
    return relations + _quarter_relations(rows)


def _quarter_relations(rows: list[dict]) -> list[tuple[Key, list[Key]]]:
    def grand(r: dict) -> bool:
        return r["dim1_value"] == TOTAL and r["dim2_value"] in (TOTAL, None)

    months: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for r in rows:
        if grand(r) and r["breakdown"] in QUARTER_OF_MONTHS.values():
            year, month = r["period"].split("-")
            quarter = f"{year}-Q{(int(month) + 2) // 3}"
            months[(r["breakdown"], quarter, r["measure"])].append(_key(r))
    return [
        (_key(r), months[(QUARTER_OF_MONTHS[r["breakdown"]], r["period"], r["measure"])])
        for r in rows
        if grand(r)
        and r["breakdown"] in QUARTER_OF_MONTHS
        and months.get((QUARTER_OF_MONTHS[r["breakdown"]], r["period"], r["measure"]))
    ]


def _inconsistent(relations: list, known: dict[Key, float], names: dict[Key, dict]) -> list[str]:
    problems = []
    for whole, parts in relations:
        if whole in known and all(p in known for p in parts):
            residual = known[whole] - sum(known[p] for p in parts)
            if abs(residual) > _EPS * max(1.0, abs(known[whole])):
                problems.append(_describe(names[whole], "does not equal the sum of the cells it totals"))
    return problems


def _systems(relations: list, hidden: set[Key]) -> list[list[Key]]:
    """Hidden cells grouped into systems linked by relations (union-find)."""
    parent = {h: h for h in hidden}

    def root(x: Key) -> Key:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for whole, parts in relations:
        members = [c for c in [whole, *parts] if c in hidden]
        for a, b in pairwise(members):
            parent[root(a)] = root(b)
    systems: dict[Key, list[Key]] = defaultdict(list)
    for h in sorted(hidden, key=str):
        systems[root(h)].append(h)
    return list(systems.values())


def _check_system(
    system: list[Key], relations: list, known: dict[Key, float], names: dict[Key, dict], p: float
) -> list[str]:
    """The problems of one system of hidden cells, from the ``relations`` that involve it."""
    position = {cell: n for n, cell in enumerate(system)}
    rows, rhs = [], []
    for whole, parts in relations:
        terms = [(whole, 1.0)] + [(part, -1.0) for part in parts]
        row = np.zeros(len(system))
        constant = 0.0
        for cell, sign in terms:
            if cell in position:
                row[position[cell]] += sign
            else:
                constant -= sign * known[cell]
        rows.append(row)
        rhs.append(constant)
    if not rows:
        return []
    a, b = np.array(rows), np.array(rhs)
    basis = null_space(a)
    fixed = np.abs(basis).max(axis=1) < 1e-8 if basis.shape[1] else np.ones(len(system), bool)
    problems = [
        _describe(names[c], "recoverable by adding and subtracting published cells")
        for c, f in zip(system, fixed, strict=True)
        if f
    ]
    slack = _EPS * max(1.0, np.abs(b).max())

    def wide(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (hi - lo > slack) & (lo * (1 + p) <= hi * (1 - p) + slack)

    spans = _spans(a, b, ~fixed, wide)
    if spans is None:
        return problems + [
            _describe(names[c], "its published totals admit no non-negative solution") for c in system
        ]
    narrowed = ~fixed & ~wide(*spans)
    return problems + [
        _describe(names[c], f"narrowed to less than ±{p:.0%} by published cells")
        for c, n in zip(system, narrowed, strict=True)
        if n
    ]


def _spans(
    a: np.ndarray, b: np.ndarray, wanted: np.ndarray, wide: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """For each ``wanted`` variable of ``a @ x == b, x >= 0``, a span that is either already
    ``wide`` or exactly its smallest and largest value; None when no such x exists.

    Probes first: an LP that pushes every still-open variable down, then one that pushes them
    up. Each optimum is a feasible point, so the span it shows is attainable: a variable whose
    probed span is wide is proven at once. Only the others get exact LPs: the largest value,
    then, if that is not enough, the smallest.
    """
    n = a.shape[1]
    if not b.any():
        return _cone_spans(a)
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    ceiling = 10 * (np.abs(b).sum() + 1)  # bounds the push up; its optimum stays a feasible point
    proven = np.zeros(n, bool)
    for _ in range(8):
        open_ = wanted & ~proven
        if not open_.any():
            break
        for direction, cap in ((1.0, None), (-1.0, ceiling)):
            result = linprog(direction * open_, A_eq=a, b_eq=b, bounds=(0, cap), method="highs")
            if result.status == 2 and cap is None:
                return None
            if result.status == 0:
                lo, hi = np.minimum(lo, result.x), np.maximum(hi, result.x)
        now = wide(lo, hi)
        if (now == proven).all():
            break
        proven = now
    for v in np.flatnonzero(wanted & ~proven):
        target = np.zeros(n)
        target[v] = 1.0
        high = linprog(-target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if high.status == 2:
            return None
        if high.status in (0, 3):  # an LP that fails otherwise proves nothing: the probe stands
            hi[v] = np.inf if high.status == 3 else -high.fun
        if not wide(lo, hi)[v]:  # the probed low end is attainable; only its exact value may help
            low = linprog(target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            lo[v] = low.fun if low.status == 0 else lo[v]
    return lo, hi


def _cone_spans(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans when nothing published enters the equations: the solutions form a cone, so a
    variable is either held at 0 or unbounded. One LP tells which: maximize the sum of
    ``y <= min(x, 1)``; every variable that can be positive at all reaches ``y = 1``, because a
    sum of solutions is a solution."""
    n = a.shape[1]
    objective = np.concatenate([np.zeros(n), -np.ones(n)])
    equalities = np.hstack([a, np.zeros_like(a)])
    y_below_x = np.hstack([-np.eye(n), np.eye(n)])
    bounds = [(0, None)] * n + [(0, 1)] * n
    result = linprog(
        objective,
        A_ub=y_below_x,
        b_ub=np.zeros(n),
        A_eq=equalities,
        b_eq=np.zeros(len(a)),
        bounds=bounds,
        method="highs",
    )
    positive = result.x[n:] > 0.5
    return np.zeros(n), np.where(positive, np.inf, 0.0)
