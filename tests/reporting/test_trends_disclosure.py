"""Disclosure control and the independent verifier, on crafted and random tables."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trend_cells import cell_table, cells_of, naive, published

from privacy_audit.reporting.trends.aggregates import LINKED_TOTALS
from privacy_audit.reporting.trends.disclosure import ROLLED_UP, DisclosureRules, Layout, protect
from privacy_audit.reporting.trends.verifier import VerificationError, verify

P = "partners_new_returning"
RULES = DisclosureRules(k=10, dominance_share=0.8, protection_pct=10)


def _rows(table: pa.Table) -> dict[tuple, dict]:
    return {(r["measure"], r["dim1_value"], r["dim2_value"]): r for r in table.to_pylist()}


def _partners(new: int, returning: int) -> list[dict]:
    people = [("new", f"N{i}") for i in range(new)] + [("returning", f"R{i}") for i in range(returning)]
    return cells_of(
        P, ("partner_type", None), [("2024-01", kind, None, who, "partners", 1) for kind, who in people]
    )


def test_primary_only_suppression_leaks_through_the_total_and_the_verifier_says_where() -> None:
    rows = _partners(new=7, returning=12)
    with pytest.raises(VerificationError) as caught:
        verify(naive(rows, k=10), k=10, protection_pct=10)
    message = str(caught.value)
    assert "partners_new_returning 2024-01 partners (partner_type=new): recoverable" in message
    assert "7" not in message  # names the cell, never its value or contributor count


def test_secondary_suppression_hides_a_complement_instead() -> None:
    disclosed = protect(cell_table(_partners(new=7, returning=12)), RULES, Layout())
    rows = _rows(disclosed.table)
    assert rows[("partners", "new", None)]["status"] == "suppressed"
    assert rows[("partners", "returning", None)]["status"] == "suppressed"
    assert rows[("partners", "ALL", None)]["value"] == 19
    assert disclosed.counts["suppressed_below_k"] == 1
    assert disclosed.counts["suppressed_secondary"] == 1
    verify(disclosed.table, k=10, protection_pct=10)


def _line(values: dict[str, tuple[float, int]], measure: str = "units") -> list[dict]:
    contributions = [
        ("2024-01", name, None, f"{name}-{i}", measure, value / count)
        for name, (value, count) in values.items()
        for i in range(count)
    ]
    return cells_of("top_collections", ("collection", None), contributions)


def test_no_complement_small_enough_to_protect_means_the_total_goes() -> None:
    # a (too few partners) can only hide behind b and c, which together move it by 7 < 10% of
    # 100: the LP check finds the interval too narrow, and the total is suppressed as well.
    rows = _line({"a": (100, 2), "b": (2, 20), "c": (5, 20)})
    disclosed = protect(cell_table(rows), RULES, Layout())
    assert {r["status"] for r in disclosed.table.to_pylist()} == {"suppressed"}
    verify(disclosed.table, k=10, protection_pct=10)


def test_a_large_enough_complement_keeps_the_total_published() -> None:
    rows = _line({"a": (100, 2), "b": (2, 20), "c": (50, 20)})
    status = {k[1]: r["status"] for k, r in _rows(protect(cell_table(rows), RULES, Layout()).table).items()}
    assert status == {"a": "suppressed", "b": "published", "c": "suppressed", "ALL": "published"}


def test_verifier_finds_cells_narrowed_but_not_recoverable() -> None:
    # a + b = 100, d + f = 52, a + d = 147, b + f = 5: b is anywhere in [0, 5], so a is in
    # [95, 100] and d in [47, 52] — narrowed far below ±10% — while b and f stay wide.
    rows = []
    for (r, c), v in {("r1", "c1"): 97, ("r1", "c2"): 3, ("r2", "c1"): 50, ("r2", "c2"): 2}.items():
        rows += [("2024-01", r, c, f"{r}{c}-{i}", "units", v / 20) for i in range(20)]
    hidden = dict.fromkeys([("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")], "suppressed")
    table = published(cells_of("sales_by_category_region", ("category", "region"), rows), hidden)
    with pytest.raises(VerificationError) as caught:
        verify(table, k=10, protection_pct=10)
    assert sorted(caught.value.problems) == [
        "sales_by_category_region 2024-01 units (category=r1, region=c1): narrowed to less than ±10% by published cells",
        "sales_by_category_region 2024-01 units (category=r2, region=c1): narrowed to less than ±10% by published cells",
    ]


def test_dominance_suppresses_revenue_but_not_units() -> None:
    contributions = [("2024-01", "rings", None, f"A{i}", "units", 1) for i in range(12)]
    contributions += [("2024-01", "rings", None, "A0", "revenue", 900)]
    contributions += [("2024-01", "rings", None, f"A{i}", "revenue", 10) for i in range(1, 12)]
    contributions += [
        ("2024-01", "pearls", None, f"B{i}", m, 10) for i in range(12) for m in ("units", "revenue")
    ]
    contributions += [
        ("2024-01", "gold", None, f"C{i}", m, 10) for i in range(12) for m in ("units", "revenue")
    ]
    disclosed = protect(
        cell_table(cells_of("top_collections", ("collection", None), contributions)), RULES, Layout()
    )
    rows = _rows(disclosed.table)
    assert rows[("revenue", "rings", None)]["status"] == "suppressed"
    assert rows[("units", "rings", None)]["status"] == "published"
    assert disclosed.counts["suppressed_dominance"] == 1
    verify(disclosed.table, k=10, protection_pct=10)


def test_small_regions_of_a_row_roll_up_into_one_published_group() -> None:
    sizes = {("rings", "North"): 3, ("rings", "South"): 4, ("rings", "East"): 20, ("rings", "West"): 25}
    sizes |= {
        ("pearls", "North"): 30,
        ("pearls", "South"): 30,
        ("pearls", "East"): 30,
        ("pearls", "West"): 30,
    }
    contributions = [
        ("2024-01", cat, region, f"{region}-{cat}-{i}", "units", 2)
        for (cat, region), n in sizes.items()
        for i in range(n)
    ]
    rules = DisclosureRules(k=5, dominance_share=0.8, protection_pct=10)
    cells = cells_of("sales_by_category_region", ("category", "region"), contributions)
    disclosed = protect(cell_table(cells), rules, Layout({"sales_by_category_region": "region"}))
    rows = _rows(disclosed.table)
    group = rows[("units", "rings", ROLLED_UP)]
    assert (group["status"], group["value"], group["contributors"]) == ("published", 14, 7)
    assert rows[("units", "rings", "North")]["status"] == "rolled_up"
    assert rows[("units", "rings", "South")]["status"] == "rolled_up"
    assert disclosed.counts["rolled_up"] == 2 and disclosed.counts["rollup_groups"] == 1
    verify(disclosed.table, k=5, protection_pct=10)


def test_a_quarter_total_links_the_months_it_sums() -> None:
    contributions = []
    for month, top in (("2024-01", 10), ("2024-02", 500), ("2024-03", 10)):
        contributions += [(month, "rings", "North", f"A{i}", "revenue", 10) for i in range(11)]
        contributions += [(month, "rings", "North", "A0", "revenue", top)]  # February is dominated
    sales = cells_of("sales_by_category_region", ("category", "region"), contributions)
    collections = cells_of(
        "top_collections",
        ("collection", None),
        [("2024-Q1", f"c{i % 2}", None, w, m, v) for i, (_, _, _, w, m, v) in enumerate(contributions)],
    )
    rows = sales + collections
    leaky = naive(rows, k=10).to_pylist()
    for r in leaky:  # primary suppression by dominance, nothing else
        if r["period"] == "2024-02":
            r.update(value=None, contributors=None, status="suppressed")
    with pytest.raises(
        VerificationError,
        match=r"sales_by_category_region 2024-02 revenue \(category=ALL, region=ALL\): recoverable",
    ):
        verify(pa.Table.from_pylist(leaky, schema=naive(rows, 10).schema), k=10, protection_pct=10)
    disclosed = protect(cell_table(rows), RULES, Layout(linked_totals=LINKED_TOTALS))
    assert disclosed.counts["suppressed_dominance"] == 4
    verify(disclosed.table, k=10, protection_pct=10)


def test_verifier_rejects_small_or_half_hidden_cells() -> None:
    rows = _partners(new=12, returning=15)
    table = published(rows, {}).to_pylist()
    table[0]["contributors"] = 3  # published below k
    table[1].update(status="suppressed")  # hidden, yet its value still shows
    with pytest.raises(VerificationError) as caught:
        verify(pa.Table.from_pylist(table, schema=published(rows, {}).schema), k=10, protection_pct=10)
    assert any("published with fewer than k contributors" in p for p in caught.value.problems)
    assert any("suppressed but its value or contributor count is shown" in p for p in caught.value.problems)


def test_verifier_rejects_totals_that_do_not_add_up() -> None:
    table = published(_partners(new=12, returning=15), {}).to_pylist()
    table[0]["value"] += 1  # the ALL row
    with pytest.raises(VerificationError, match="does not equal the sum"):
        verify(pa.Table.from_pylist(table, schema=published([], {}).schema), k=10, protection_pct=10)


# Random small tables: whatever the data, what protect() publishes passes the verifier.

contribution = st.tuples(
    st.integers(0, 11),  # contributor
    st.sampled_from(["rings", "pearls", "gold"]),  # dim1
    st.integers(1, 60),  # value
    st.sampled_from(["units", "revenue"]),
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[dict], DisclosureRules, Layout]:
    entries = draw(st.lists(contribution, min_size=1, max_size=40))
    regions = draw(st.lists(st.sampled_from(["N", "S", "E"]), min_size=12, max_size=12))
    shape = draw(st.sampled_from(["1d", "2d", "funnel"]))
    rules = DisclosureRules(
        k=draw(st.integers(2, 5)),
        dominance_share=draw(st.sampled_from([0.6, 0.8, 0.95])),
        protection_pct=draw(st.sampled_from([0, 5, 10, 25])),
    )
    if shape == "1d":
        rows = cells_of(
            "top_collections",
            ("collection", None),
            [("2024-Q1", d, None, f"A{w}", m, v) for w, d, v, m in entries],
        )
        return rows, rules, Layout()
    contributions = [("2024-01", d, regions[w], f"A{w}", m, v) for w, d, v, m in entries]
    if shape == "2d":
        rows = cells_of("sales_by_category_region", ("category", "region"), contributions)
        return rows, rules, Layout({"sales_by_category_region": "region"})
    swapped = [
        (p, r, d, w, "sessions", v) for p, d, r, w, _, v in contributions
    ]  # partition first, no step total
    rows = cells_of("web_funnel", ("device_type", "step"), swapped, totals=(0,))
    return rows, rules, Layout({"web_funnel": "device_type"})


@settings(max_examples=40, deadline=None)
@given(tables())
def test_whatever_protect_publishes_passes_the_verifier(
    case: tuple[list[dict], DisclosureRules, Layout],
) -> None:
    rows, rules, layout = case
    disclosed = protect(cell_table(rows), rules, layout)
    verify(disclosed.table, k=rules.k, protection_pct=rules.protection_pct)
    truth = {(r["measure"], r["dim1_value"], r["dim2_value"]): r for r in rows}
    for key, row in _rows(disclosed.table).items():
        if row["status"] == "published" and ROLLED_UP not in key:
            assert row["contributors"] >= rules.k
            assert row["value"] == truth[key]["value"]
    assert (
        sum(disclosed.counts[s] for s in ("published", "suppressed", "rolled_up")) == disclosed.table.num_rows
    )
