"""What the trend report's sections show of a verified publication: per-period values only, the
whole month × category × region breakdown, revenue per month, partial and hidden periods marked."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from trends_data import random_export

from privacy_audit.reporting.trends import sections as trends_report
from privacy_audit.reporting.trends.aggregates import ALL
from privacy_audit.reporting.trends.disclosure import Disclosed
from privacy_audit.reporting.trends.periods import periods
from privacy_audit.reporting.trends.publish import TrendPublication, parameters, publish_trends


class _Tables(HTMLParser):
    """Every table of a fragment as lists of cell texts, header row first."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.in_cell = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        self.in_cell = self.in_cell and tag not in ("td", "th")

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.tables[-1][-1][-1] += data


def _tables(html: str) -> list[list[list[str]]]:
    return _Tables(html).tables


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> TrendPublication:
    """A publication whose period cuts its first month and its first and last quarters."""
    export = random_export(tmp_path_factory.mktemp("cut") / "export")
    out = tmp_path_factory.mktemp("cut-out") / "out"
    return publish_trends(
        parameters(export_dir=export, period_start="2024-02-15", period_end="2024-11-30", k=5, out_dir=out)
    )


def _published(pub: TrendPublication, breakdown: str) -> list[dict]:
    return [r for r in pub.table.to_pylist() if r["breakdown"] == breakdown]


def test_periods_know_which_are_cut() -> None:
    quarters = periods("quarter", date(2025, 11, 1), date(2026, 10, 31))
    assert [(q.name, q.partial) for q in quarters] == [
        ("2025-Q4", True), ("2026-Q1", False), ("2026-Q2", False), ("2026-Q3", False), ("2026-Q4", True),
    ]  # fmt: skip
    assert (quarters[0].covered_from, quarters[0].covered_to) == (date(2025, 11, 1), date(2025, 12, 31))
    months = periods("month", date(2024, 2, 15), date(2024, 3, 31))
    assert [m.label for m in months] == ["2024-02*", "2024-03"]


def test_partial_periods_are_starred_and_explained(cut: TrendPublication) -> None:
    revenue = trends_report.revenue(cut).html
    assert _tables(revenue)[0][0][1:] == ["2024-Q1*", "2024-Q2", "2024-Q3", "2024-Q4*"]
    assert "2024-Q1 covers 2024-02-15 to 2024-03-31" in revenue
    assert "2024-Q4 covers 2024-10-01 to 2024-11-30" in revenue
    monthly = _tables(trends_report.sales(cut).html)[0]
    assert [row[0] for row in monthly[1:]][:2] == ["2024-02*", "2024-03"]


def test_the_monthly_table_has_revenue(cut: TrendPublication) -> None:
    monthly = _tables(trends_report.sales(cut).html)[0]
    assert monthly[0] == ["month", "orders", "units", "revenue"]
    march = next(
        r for r in _published(cut, "sales_by_category_region")
        if r["period"] == "2024-03" and r["measure"] == "revenue" and r["dim1_value"] == r["dim2_value"] == ALL
    )  # fmt: skip
    assert march["status"] == "published"
    assert monthly[2][3] == f"{march['value']:,.2f}"


def test_the_device_table_shows_each_month_as_published_never_a_sum(cut: TrendPublication) -> None:
    rows = _tables(trends_report.funnel(cut).html)[1]
    assert rows[0] == ["device type", "month", "product_view", "add_to_cart", "order"]
    shown = {(device, month.rstrip("*")): values for device, month, *values in rows[1:]}
    cells = [r for r in _published(cut, "web_funnel") if r["dim1_value"] != ALL]
    assert len(shown) == len({(r["dim1_value"], r["period"]) for r in cells})
    steps = rows[0][2:]
    for r in cells:
        value = shown[(r["dim1_value"], r["period"])][steps.index(r["dim2_value"])]
        assert value == (f"{r['value']:,.0f}" if r["status"] == "published" else "—")


def test_every_category_region_cell_of_every_month_is_shown(cut: TrendPublication) -> None:
    section = trends_report.breakdown(cut).html
    months = re.findall(r"<h3>([^<]+)</h3>", section)
    assert months == ["2024-02*", *(f"2024-{m:02d}" for m in range(3, 12))]
    grids = dict(zip((m.rstrip("*") for m in months), _tables(section), strict=True))
    cells = [r for r in _published(cut, "sales_by_category_region") if r["measure"] in ("orders", "units")]
    assert cells
    for r in cells:
        grid = grids[r["period"]]
        row = next(row for row in grid[1:] if row[0] == r["dim2_value"])
        orders, units = row[grid[0].index(r["dim1_value"])].split(" · ")
        value = orders if r["measure"] == "orders" else units
        assert value == (f"{r['value']:,.0f}" if r["status"] == "published" else "—")


def _hide(pub: TrendPublication, breakdown: str, period: str) -> TrendPublication:
    """The publication with every cell of one breakdown's period suppressed."""
    table = pub.table
    hit = pc.and_(pc.equal(table["breakdown"], breakdown), pc.equal(table["period"], period))
    status = pc.if_else(hit, "suppressed", table["status"])
    value = pc.if_else(hit, pa.scalar(None, pa.float64()), table["value"])
    table = table.set_column(table.schema.get_field_index("status"), "status", status)
    table = table.set_column(table.schema.get_field_index("value"), "value", value)
    return dataclasses.replace(pub, disclosed=Disclosed(table, pub.counts))


@pytest.mark.parametrize(
    ("section", "breakdown"),
    [("sales", "sales_by_category_region"), ("partners", "partners_new_returning"), ("funnel", "web_funnel")],
)
def test_a_period_whose_cells_are_all_hidden_is_marked_not_dropped(
    cut: TrendPublication, section: str, breakdown: str
) -> None:
    shown = getattr(trends_report, section)(_hide(cut, breakdown, "2024-06"))
    (chart,) = shown.charts
    assert chart.alt.endswith("; hidden (hatched): 2024-06")
    june = next(row for row in _tables(shown.html)[0] if row[0] == "2024-06")
    assert set(june[1:]) == {"—"}
    assert "hidden" not in getattr(trends_report, section)(cut).charts[0].alt


def test_the_notebook_calls_every_section(tmp_path: Path) -> None:
    import nbformat

    path = Path(__file__).resolve().parents[2] / "notebooks" / "trends_report.ipynb"
    calls = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert "trends_report.breakdown(pub)" in calls


def test_with_several_currencies_the_monthly_table_has_a_revenue_column_per_published_currency(
    cut: TrendPublication,
) -> None:
    rows = cut.table.to_pylist()
    eur = [{**r, "measure": "revenue_eur"} for r in rows if r["measure"] == "revenue"]
    usd = [{**r, "measure": "revenue_usd", "status": "suppressed", "value": None} for r in eur]
    other = [r for r in rows if r["measure"] != "revenue"]
    table = pa.Table.from_pylist(other + eur + usd, schema=cut.table.schema)
    section = trends_report.sales(dataclasses.replace(cut, disclosed=Disclosed(table, cut.counts))).html
    assert _tables(section)[0][0] == ["month", "orders", "units", "revenue EUR"]
    assert "revenue is published in USD: too few partners" in section
