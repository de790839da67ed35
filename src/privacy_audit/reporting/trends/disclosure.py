"""Disclosure control: decide, before anything is written, which trend cells may be published.

The method, in the order it runs (every cell of one breakdown, period and measure forms a
table whose ``ALL`` cells are totals of the cells they cover):

1. Primary suppression. A cell with fewer than ``k`` distinct contributors, or a revenue cell
   whose largest contributor holds more than ``dominance_share`` of it, is sensitive.
2. Roll-up. Along a *partition* dimension (one whose values split contributors into disjoint
   sets: an account's region, a session's device type) the sensitive cells of one line are
   merged: when they are all the cells of the line, into its published ``ALL`` total; otherwise
   into one new cell labelled ``ROLLED_UP`` whose contributors are exactly the sum of its
   members' and which must itself pass ``k`` and dominance. Members become ``rolled_up``.
   A group of one cell would be the cell itself, so at least two are needed.
3. Secondary suppression, to a fixpoint, against an attacker who knows every additive relation
   (each total is the sum of its cells, a group the sum of its members, a quarter's grand total
   the sum of its months') and that no cell is negative. First the cheap rule: an equation with
   exactly one hidden cell gets a second one. Then the exact test: for every hidden cell
   (suppressed or rolled up) a linear program finds the smallest and largest values consistent
   with what is published; the interval must reach ``protection_pct`` of the true value below
   and above it, and must not be a single point. A failing cell gets a complement: a published
   cell of one of its equations, preferring inner cells to totals and, among them, the smallest
   one at least as large as the protection it needs (else the largest). Repeat until all pass.
   Complements are protected like the cells they protect: the promise covers every suppressed
   cell, and the published table cannot tell an attacker (or the verifier) which is which.

Cells are judged per measure: a cell may publish its units and suppress its revenue (dominance
concerns revenue only); the LP of one measure never involves another measure's numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from scipy.optimize import linprog

ALL = "ALL"
ROLLED_UP = "Other (rolled up)"
PUBLISHED, SUPPRESSED, ROLLED = "published", "suppressed", "rolled_up"

PUBLICATION_SCHEMA = pa.schema(
    [
        ("breakdown", pa.string()),
        ("period", pa.string()),
        ("dim1_name", pa.string()),
        ("dim1_value", pa.string()),
        ("dim2_name", pa.string()),
        ("dim2_value", pa.string()),
        ("measure", pa.string()),
        ("value", pa.float64()),
        ("contributors", pa.int64()),
        ("status", pa.string()),
    ]
)
_TOLERANCE = 1e-6
_ROUNDS = 6  # push-down/push-up rounds before exact LPs per variable


@dataclass(frozen=True)
class DisclosureRules:
    """The anonymity promises' numbers: ``k`` from the report, the rest from the policy."""

    k: int
    dominance_share: float
    protection_pct: float


@dataclass(frozen=True)
class Layout:
    """What suppression must know beyond the cells themselves.

    ``partition`` maps a breakdown to the dimension along which roll-ups are exact;
    ``linked_totals`` pairs a quarterly breakdown with the monthly one whose grand totals add up
    to its own (same order lines, same measure).
    """

    partition: Mapping[str, str] = field(default_factory=dict)
    linked_totals: Sequence[tuple[str, str]] = ()


@dataclass
class Disclosed:
    """The publication table (``PUBLICATION_SCHEMA``) and how many cells each step touched."""

    table: pa.Table
    counts: dict[str, int]


@dataclass(eq=False)
class _Cell:
    breakdown: str
    period: str
    measure: str
    names: tuple[str, str | None]
    dims: tuple[str, str | None]
    value: float
    contributors: int
    top: float
    status: str = PUBLISHED
    reason: str = ""  # why a suppressed or rolled-up cell was sensitive: below_k, dominance, secondary
    group: _Cell | None = None  # for a rolled-up cell: the group or total that carries it

    @property
    def hidden(self) -> bool:
        return self.status != PUBLISHED

    @property
    def margin(self) -> bool:
        return ALL in self.dims or ROLLED_UP in self.dims

    def table_key(self) -> tuple[str, str, str]:
        return self.breakdown, self.period, self.measure


Equation = list[tuple[int, float]]  # sum of coefficient * cell value == 0


def protect(cells: pa.Table, rules: DisclosureRules, layout: Layout) -> Disclosed:
    """Apply primary suppression, roll-ups and secondary suppression to ``cells``.

    ``cells`` has the columns of ``PUBLICATION_SCHEMA`` except ``status``, plus ``top`` (the
    largest single contributor's part of the value).
    """
    items = [
        _Cell(
            r["breakdown"],
            r["period"],
            r["measure"],
            (r["dim1_name"], r["dim2_name"]),
            (r["dim1_value"], r["dim2_value"]),
            r["value"],
            r["contributors"],
            r["top"],
        )
        for r in cells.to_pylist()
    ]
    for cell in items:
        _primary(cell, rules)
    items += _roll_up(items, rules, layout.partition)
    _secondary(items, _equations(items, layout.linked_totals), rules.protection_pct / 100)
    items = _settle_groups(items)
    return Disclosed(_publication(items), _counts(items))


def _dominated(value: float, top: float, rules: DisclosureRules) -> bool:
    return value > 0 and top > rules.dominance_share * value


def _primary(cell: _Cell, rules: DisclosureRules) -> None:
    if cell.contributors < rules.k:
        cell.status, cell.reason = SUPPRESSED, "below_k"
    elif cell.measure.startswith("revenue") and _dominated(cell.value, cell.top, rules):
        cell.status, cell.reason = SUPPRESSED, "dominance"


def _roll_up(items: list[_Cell], rules: DisclosureRules, partition: Mapping[str, str]) -> list[_Cell]:
    """Merge sensitive cells along partition dimensions; return the new group cells."""
    lines: dict[tuple, list[_Cell]] = defaultdict(list)
    for cell in items:
        if cell.breakdown in partition and partition[cell.breakdown] in cell.names:
            j = cell.names.index(partition[cell.breakdown])
            lines[(*cell.table_key(), j, cell.dims[1 - j])].append(cell)
    groups = []
    for (*_, j, _other), line in lines.items():
        total = next((c for c in line if c.dims[j] == ALL), None)
        base = [c for c in line if c.dims[j] != ALL]
        small = [c for c in base if c.status == SUPPRESSED]
        if len(small) < 2:
            continue
        if len(small) == len(base):
            carrier = total if total is not None and not total.hidden else None
        else:
            carrier = _group(small, j)
            _primary(carrier, rules)
            carrier = None if carrier.hidden else carrier
        if carrier is None:
            continue
        if carrier is not total:
            groups.append(carrier)
        for cell in small:
            cell.status, cell.group = ROLLED, carrier
    return groups


def _group(members: list[_Cell], j: int) -> _Cell:
    first = members[0]
    dims = list(first.dims)
    dims[j] = ROLLED_UP
    return _Cell(
        first.breakdown,
        first.period,
        first.measure,
        first.names,
        (dims[0], dims[1]),
        sum(c.value for c in members),
        sum(c.contributors for c in members),
        max(c.top for c in members),
    )


def _equations(items: list[_Cell], linked: Sequence[tuple[str, str]]) -> list[Equation]:
    """Every additive relation an attacker knows, over indices into ``items``."""
    index = {id(c): i for i, c in enumerate(items)}
    tables: dict[tuple[str, str, str], list[_Cell]] = defaultdict(list)
    for cell in items:
        tables[cell.table_key()].append(cell)
    equations: list[Equation] = []
    for cells in tables.values():
        width = 2 if cells[0].names[1] is not None else 1
        for j in range(width):
            lines: dict[str | None, list[_Cell]] = defaultdict(list)
            for c in cells:
                if ROLLED_UP not in c.dims:
                    lines[c.dims[1 - j] if width == 2 else None].append(c)
            for line in lines.values():
                total = next((c for c in line if c.dims[j] == ALL), None)
                if total is not None:
                    members = [index[id(c)] for c in line if c is not total and c.dims[j] != ALL]
                    equations.append([(index[id(total)], 1.0)] + [(m, -1.0) for m in members])
    carried: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(items):
        if c.group is not None and ROLLED_UP in c.group.dims:
            carried[index[id(c.group)]].append(i)
    equations += [[(g, 1.0)] + [(m, -1.0) for m in members] for g, members in carried.items()]
    return equations + _linked_equations(items, index, linked)


def _quarter(month: str) -> str:
    year, mm = month.split("-")
    return f"{year}-Q{(int(mm) - 1) // 3 + 1}"


def _linked_equations(
    items: list[_Cell], index: Mapping[int, int], linked: Sequence[tuple[str, str]]
) -> list[Equation]:
    grand = {
        (c.breakdown, c.period, c.measure): index[id(c)]
        for c in items
        if all(d in (ALL, None) for d in c.dims)
    }
    equations = []
    for coarse, fine in linked:
        months: dict[tuple[str, str], list[int]] = defaultdict(list)
        for (breakdown, period, measure), i in grand.items():
            if breakdown == fine:
                months[(_quarter(period), measure)].append(i)
        for (breakdown, period, measure), i in grand.items():
            if breakdown == coarse and months.get((period, measure)):
                equations.append([(i, 1.0)] + [(m, -1.0) for m in months[(period, measure)]])
    return equations


def _secondary(items: list[_Cell], equations: list[Equation], p: float) -> None:
    """Hide complements until every hidden cell is protected (see the module docstring)."""
    by_cell: dict[int, list[int]] = defaultdict(list)
    for e, eq in enumerate(equations):
        for i, _ in eq:
            by_cell[i].append(e)
    checked: dict[frozenset[int], list[int]] = {}
    while True:
        _single_hidden(items, equations, p)
        failing = _unprotected(items, equations, by_cell, p, checked)
        if not failing:
            return
        added = False
        for i in failing:
            if not items[i].hidden:  # already chosen as a complement in this round
                continue
            candidates = {j for e in by_cell[i] for j, _ in equations[e] if not items[j].hidden}
            if not candidates:
                component = _component(i, items, equations, by_cell)
                candidates = {
                    j for k in component for e in by_cell[k] for j, _ in equations[e] if not items[j].hidden
                }
            if candidates:  # none left: this round's complements already changed its system
                _hide(items, _complement(items, candidates, p * items[i].value))
                added = True
        if not added:
            raise RuntimeError("secondary suppression found no cell left to hide")


def _single_hidden(items: list[_Cell], equations: list[Equation], p: float) -> None:
    changed = True
    while changed:
        changed = False
        for eq in equations:
            hidden = [i for i, _ in eq if items[i].hidden]
            if len(hidden) == 1:
                published = {i for i, _ in eq if not items[i].hidden}
                _hide(items, _complement(items, published, p * items[hidden[0]].value))
                changed = True


def _complement(items: list[_Cell], candidates: Iterable[int], need: float) -> int:
    """Inner cells before totals; the smallest cell worth ``need``, else the largest."""

    def cost(i: int) -> tuple[bool, bool, float]:
        value = items[i].value
        return items[i].margin, value < need, value if value >= need else -value

    return min(sorted(candidates), key=cost)


def _hide(items: list[_Cell], i: int) -> None:
    items[i].status, items[i].reason = SUPPRESSED, "secondary"


def _component(i: int, items: list[_Cell], equations: list[Equation], by_cell: Mapping) -> set[int]:
    """Hidden cells linked to hidden cell ``i`` through equations."""
    seen, todo = {i}, [i]
    while todo:
        for e in by_cell[todo.pop()]:
            for j, _ in equations[e]:
                if items[j].hidden and j not in seen:
                    seen.add(j)
                    todo.append(j)
    return seen


def _unprotected(
    items: list[_Cell],
    equations: list[Equation],
    by_cell: Mapping[int, list[int]],
    p: float,
    checked: dict[frozenset[int], list[int]],
) -> list[int]:
    """Hidden cells whose attainable interval is a point or misses ±p of the true value.

    A component's result depends only on which cells it hides, so ``checked`` remembers it
    across rounds: a round re-solves only the components its complements changed.
    """
    failing, done = [], set()
    for i, cell in enumerate(items):
        if not cell.hidden or i in done:
            continue
        component = frozenset(_component(i, items, equations, by_cell))
        done.update(component)
        if component not in checked:
            checked[component] = _failing(items, equations, by_cell, sorted(component), p)
        failing += checked[component]
    return failing


def _failing(
    items: list[_Cell],
    equations: list[Equation],
    by_cell: Mapping[int, list[int]],
    component: list[int],
    p: float,
) -> list[int]:
    rows = sorted({e for k in component for e in by_cell[k]})
    if not rows:
        return []  # in no equation: nothing published bounds it
    a, b = _system(items, [equations[e] for e in rows], component)
    truth = np.array([items[k].value for k in component])
    slack = _TOLERANCE * np.maximum(1.0, np.abs(truth))

    def protected(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return (low <= truth * (1 - p) + slack) & (high >= truth * (1 + p) - slack) & (high - low > slack)

    low, high = _witnesses(a, b, truth, protected)
    return [k for k, ok in zip(component, protected(low, high), strict=True) if not ok]


def _system(
    items: list[_Cell], equations: list[Equation], variables: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The equations as ``a @ x == b`` over the hidden ``variables``; published cells move to ``b``."""
    column = {v: n for n, v in enumerate(variables)}
    a = np.zeros((len(equations), len(variables)))
    b = np.zeros(len(equations))
    for r, eq in enumerate(equations):
        for i, coef in eq:
            if i in column:
                a[r, column[i]] += coef
            else:
                b[r] -= coef * items[i].value
    return a, b


def _witnesses(
    a: np.ndarray, b: np.ndarray, truth: np.ndarray, protected: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value of each variable over feasible points found so far.

    Any feasible point is a witness: it shows that the attacker's interval reaches at least that
    far. The true values are one; LPs that push all still-unproven variables down, then up, prove
    most of them a few at a time. Only the rest get their own exact LPs (max, then min if still
    needed).
    """
    low, high = truth.copy(), truth.copy()
    if not b.any():  # nothing published bounds it: 0 and every multiple of the truth are feasible
        low, high = np.zeros_like(truth), np.where(truth > 0, np.inf, truth)
    cap = 10 * (np.abs(b).sum() + truth.sum() + 1)  # keeps "push up" bounded; points stay feasible
    scale = np.maximum(truth, 1.0)
    unproven = ~protected(low, high)
    for _ in range(_ROUNDS):
        if not unproven.any():
            return low, high
        for sign in (1.0, -1.0):
            point = _solve(sign * ~protected(low, high) / scale, a, b, cap)
            low, high = np.minimum(low, point), np.maximum(high, point)
        still = ~protected(low, high)
        if still.sum() == unproven.sum():
            break
        unproven = still
    for n in np.flatnonzero(~protected(low, high)):
        target = np.zeros(len(truth))
        target[n] = 1.0
        top = _solve(-target, a, b, np.inf)  # the upper side first: it is the one totals press on
        high[n] = np.inf if top is None else top[n]
        if not protected(low, high)[n]:
            low[n] = _solve(target, a, b, np.inf)[n]
    return low, high


def _solve(objective: np.ndarray, a: np.ndarray, b: np.ndarray, cap: float) -> np.ndarray | None:
    """An optimal point of ``min objective @ x`` with ``a @ x == b``, ``0 <= x <= cap``; None if unbounded."""
    result = linprog(objective, A_eq=a, b_eq=b, bounds=(0, None if np.isinf(cap) else cap), method="highs")
    if result.status == 3:
        return None
    if result.status != 0:
        raise RuntimeError(f"disclosure LP failed: {result.message}")
    return result.x


def _settle_groups(items: list[_Cell]) -> list[_Cell]:
    """A group or total hidden by secondary suppression carries nothing: drop the group row,
    and its members become plainly suppressed (dropping a derived row only removes knowledge)."""
    dropped = {id(c.group) for c in items if c.group is not None and c.group.hidden}
    for cell in items:
        if cell.group is not None and id(cell.group) in dropped:
            cell.status, cell.group = SUPPRESSED, None
    return [c for c in items if id(c) not in dropped or ROLLED_UP not in c.dims]


def _publication(items: list[_Cell]) -> pa.Table:
    rows = sorted(items, key=lambda c: (c.breakdown, c.period, c.measure, c.dims[0], c.dims[1] or ""))
    return pa.table(
        {
            "breakdown": [c.breakdown for c in rows],
            "period": [c.period for c in rows],
            "dim1_name": [c.names[0] for c in rows],
            "dim1_value": [c.dims[0] for c in rows],
            "dim2_name": [c.names[1] for c in rows],
            "dim2_value": [c.dims[1] for c in rows],
            "measure": [c.measure for c in rows],
            "value": [None if c.hidden else c.value for c in rows],
            "contributors": [None if c.hidden else c.contributors for c in rows],
            "status": [c.status for c in rows],
        },
        schema=PUBLICATION_SCHEMA,
    )


def _counts(items: list[_Cell]) -> dict[str, int]:
    """Cells by status, and suppressed cells by why (below k, dominance, secondary)."""
    counts = {status: sum(c.status == status for c in items) for status in (PUBLISHED, SUPPRESSED, ROLLED)}
    for reason in ("below_k", "dominance", "secondary"):
        counts[f"suppressed_{reason}"] = sum(c.status == SUPPRESSED and c.reason == reason for c in items)
    counts["rollup_groups"] = sum(ROLLED_UP in c.dims and not c.hidden for c in items)
    return counts
