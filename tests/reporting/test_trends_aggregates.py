"""The trend aggregates' SQL on hand-made exports where every number is known."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handmade import make_export
from privacy_audit.engine import make_engine
from privacy_audit.export import open_export
from privacy_audit.reporting.trends.aggregates import aggregate

REGIONS = {"FR": "Western Europe", "US": "North America"}
Q1 = (date(2024, 1, 1), date(2024, 3, 31))


def _cells(export: Path, regions: dict[str, str] = REGIONS) -> dict[tuple, tuple[float, int, float]]:
    engine = make_engine()
    open_export(export, engine)
    table = aggregate(engine, *Q1, regions)
    return {
        (r["breakdown"], r["period"], r["measure"], r["dim1_value"], r["dim2_value"]): (
            r["value"],
            r["contributors"],
            r["top"],
        )
        for r in table.to_pylist()
    }


def _item(order: str, line: int, product: str, quantity: int, price: str) -> dict:
    return {
        "order_id": order,
        "line_no": line,
        "product_id": product,
        "quantity": quantity,
        "unit_price": Decimal(price),
    }


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> dict:
    export = make_export(
        tmp_path_factory.mktemp("sales") / "export",
        {
            "accounts": [
                {"account_id": "ACC-FR1", "country": "FR"},
                {"account_id": "ACC-FR2", "country": "FR"},
                {"account_id": "ACC-US1", "country": "US"},
                {"account_id": "ACC-ZZ1", "country": "ZZ"},  # unlisted: "Other"
            ],
            "products": [
                {"product_id": "P-RING", "category": "rings", "collection": "Aurora"},
                {"product_id": "P-NECK", "category": "necklaces", "collection": "Aurora"},
                {"product_id": "P-EAR", "category": "earrings", "collection": "Lumen"},
            ],
            "orders": [
                {"order_id": "O1", "account_id": "ACC-FR1", "order_date": "2024-01-10", "currency": "EUR"},
                {"order_id": "O2", "account_id": "ACC-FR2", "order_date": "2024-01-20", "currency": "EUR"},
                {"order_id": "O3", "account_id": "ACC-US1", "order_date": "2024-02-05", "currency": "EUR"},
                {
                    "order_id": "O4",
                    "account_id": "ACC-FR1",
                    "order_date": "2024-02-07",
                    "currency": "EUR",
                    "status": "cancelled",
                },
                {
                    "order_id": "O5",
                    "account_id": "ACC-ZZ1",
                    "order_date": "2024-03-01",
                    "currency": "EUR",
                    "deleted_at": "2024-03-02",
                },
                {
                    "order_id": "O6",
                    "account_id": "ACC-ZZ1",
                    "order_date": "2024-03-15",
                    "currency": "EUR",
                    "status": "returned",
                },
                {"order_id": "O7", "account_id": "ACC-US1", "order_date": "2023-12-31", "currency": "EUR"},
                {"order_id": "O8", "account_id": "ACC-FR2", "order_date": "2024-04-01", "currency": "EUR"},
            ],
            "order_items": [
                _item("O1", 1, "P-RING", 2, "10"),
                _item("O1", 2, "P-NECK", 1, "30"),  # necklaces hold the larger part: O1 counts there
                _item("O2", 1, "P-RING", 1, "50"),
                _item("O2", 2, "P-EAR", 0, "10"),  # no quantity: not a line that counts
                _item("O3", 1, "P-EAR", 3, "5"),
                _item("O4", 1, "P-RING", 9, "9"),
                _item("O5", 1, "P-RING", 9, "9"),
                _item("O6", 1, "P-RING", 1, "100"),
                _item("O6", 2, "P-EAR", 1, "100"),  # a tie: the first category by name wins
                _item("O7", 1, "P-EAR", 1, "1"),
                _item("O8", 1, "P-EAR", 1, "1"),
            ],
        },
    )
    return _cells(export)


S = "sales_by_category_region"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ((S, "2024-01", "orders", "necklaces", "Western Europe"), (1, 1, 1)),
        ((S, "2024-01", "orders", "rings", "Western Europe"), (1, 1, 1)),
        ((S, "2024-01", "units", "rings", "Western Europe"), (3, 2, 2)),
        ((S, "2024-01", "revenue", "rings", "Western Europe"), (70, 2, 50)),
        ((S, "2024-01", "revenue", "necklaces", "ALL"), (30, 1, 30)),
        ((S, "2024-01", "revenue", "ALL", "Western Europe"), (100, 2, 50)),
        ((S, "2024-01", "orders", "ALL", "ALL"), (2, 2, 1)),
        ((S, "2024-02", "units", "earrings", "North America"), (3, 1, 3)),
        ((S, "2024-02", "revenue", "ALL", "ALL"), (15, 1, 15)),
        ((S, "2024-03", "orders", "earrings", "Other"), (1, 1, 1)),
        ((S, "2024-03", "revenue", "rings", "Other"), (100, 1, 100)),
        ((S, "2024-03", "units", "ALL", "ALL"), (2, 1, 2)),
        (("partners_new_returning", "2024-01", "partners", "new", None), (2, 2, 1)),
        (("partners_new_returning", "2024-02", "partners", "returning", None), (1, 1, 1)),
        (("partners_new_returning", "2024-03", "partners", "new", None), (1, 1, 1)),
        (("partners_new_returning", "2024-03", "partners", "ALL", None), (1, 1, 1)),
        (("top_collections", "2024-Q1", "units", "Aurora", None), (5, 3, 3)),
        (("top_collections", "2024-Q1", "revenue", "Aurora", None), (200, 3, 100)),
        (("top_collections", "2024-Q1", "revenue", "Lumen", None), (115, 2, 100)),
        (("top_collections", "2024-Q1", "revenue", "ALL", None), (315, 4, 200)),
    ],
)
def test_sales_partners_and_collections(sales: dict, key: tuple, expected: tuple) -> None:
    assert sales[key] == pytest.approx(expected)


def test_what_does_not_count_is_absent(sales: dict) -> None:
    periods = {k[1] for k in sales}
    assert periods == {"2024-01", "2024-02", "2024-03", "2024-Q1"}  # O7 and O8 are outside the period
    assert (S, "2024-02", "orders", "rings", "Western Europe") not in sales  # O4 is cancelled
    assert (S, "2024-01", "units", "earrings", "Western Europe") not in sales  # a line of quantity 0
    assert ("partners_new_returning", "2024-02", "partners", "new", None) not in sales
    assert sales[(S, "2024-03", "orders", "ALL", "ALL")][0] == 1  # O5 is a tombstone


def test_every_total_is_the_sum_of_its_cells(sales: dict) -> None:
    for (breakdown, period, measure, d1, d2), (value, _, _) in sales.items():
        if breakdown == S and d1 == "ALL" and d2 != "ALL":
            parts = [
                v
                for (b, p, m, x, y), (v, _, _) in sales.items()
                if (b, p, m, y) == (S, period, measure, d2) and x != "ALL"
            ]
            assert value == pytest.approx(sum(parts))


def test_several_currencies_give_one_revenue_measure_each(tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export",
        {
            "accounts": [{"account_id": "ACC-1", "country": "FR"}, {"account_id": "ACC-2", "country": "US"}],
            "products": [{"product_id": "P", "category": "rings", "collection": "Aurora"}],
            "orders": [
                {"order_id": "O1", "account_id": "ACC-1", "order_date": "2024-01-10", "currency": "EUR"},
                {"order_id": "O2", "account_id": "ACC-2", "order_date": "2024-01-11", "currency": "USD"},
            ],
            "order_items": [_item("O1", 1, "P", 1, "10"), _item("O2", 1, "P", 1, "12")],
        },
    )
    cells = _cells(export)
    assert cells[(S, "2024-01", "revenue_eur", "ALL", "ALL")][:2] == (10, 1)
    assert cells[(S, "2024-01", "revenue_usd", "ALL", "ALL")][:2] == (12, 1)
    assert not any(k[2] == "revenue" for k in cells)


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> dict:
    def event(session: str, at: str, kind: str, device: str | None = None) -> dict:
        return {"session_id": session, "occurred_at": at, "event_type": kind, "device_type": device}

    def consent(session: str, at: str, analytics: bool, dnt: bool = False) -> dict:
        return {"session_id": session, "recorded_at": at, "analytics": analytics, "do_not_track": dnt}

    export = make_export(
        tmp_path_factory.mktemp("funnel") / "export",
        {
            "web_events": [
                event("S1", "2024-01-02 10:00:00", "product_view", "Desktop "),
                event("S1", "2024-01-02 10:05:00", "Add to Cart", "desktop"),
                event("S1", "2024-01-02 10:10:00", "checkout", "desktop"),
                event("S2", "2024-01-02 10:00:00", "product_view", "desktop"),  # tied consents: refused
                event("S3", "2024-01-02 10:00:00", "product_view", "desktop"),  # no consent at all
                event("S4", "2024-01-03 10:00:00", "product_view", "mobile"),  # before its consent
                event("S4", "2024-01-03 11:00:00", "add_to_cart", "mobile"),
                event("S5", "2024-01-04 09:30:00", "product_view"),
                event("S5", "2024-01-04 10:30:00", "order"),  # after consent was withdrawn
                event("S6", "2024-02-01 10:00:00", "view_item", "tablet"),  # DNT never blocks analytics
                event("S7", "2024-04-02 10:00:00", "product_view", "desktop"),  # after the period
                event("S8", "2024-01-05 10:00:00", "page_view", "desktop"),  # not a funnel step
                event("S9", "2024-01-06 10:00:00", "begin_checkout", "tablet"),  # not an order yet...
                event("S9", "2024-01-06 10:05:00", "Order Confirmation", "tablet"),  # ...this is
                event("S10", "2024-01-06 10:00:00", "begin_checkout", "tablet"),
            ],
            "cookie_consents": [
                consent("S1", "2024-01-02 09:00:00", True),
                consent("S2", "2024-01-02 09:00:00", True),
                consent("S2", "2024-01-02 09:00:00", False),
                consent("S4", "2024-01-03 10:30:00", True),
                consent("S5", "2024-01-04 09:00:00", True),
                consent("S5", "2024-01-04 10:00:00", False),
                consent("S6", "2024-02-01 09:00:00", True, dnt=True),
                consent("S7", "2024-04-01 09:00:00", True),
                consent("S8", "2024-01-05 09:00:00", True),
                consent("S9", "2024-01-06 09:00:00", True),
                consent("S10", "2024-01-06 09:00:00", True),
            ],
        },
    )
    return {k[1:]: v[:2] for k, v in _cells(export).items() if k[0] == "web_funnel"}


def test_funnel_counts_only_consented_sessions(funnel: dict) -> None:
    assert funnel == {
        ("2024-01", "sessions", "desktop", "product_view"): (1, 1),
        ("2024-01", "sessions", "desktop", "add_to_cart"): (1, 1),
        ("2024-01", "sessions", "desktop", "order"): (1, 1),
        ("2024-01", "sessions", "mobile", "add_to_cart"): (1, 1),
        ("2024-01", "sessions", "(unknown)", "product_view"): (1, 1),
        ("2024-01", "sessions", "ALL", "product_view"): (2, 2),
        ("2024-01", "sessions", "ALL", "add_to_cart"): (2, 2),
        ("2024-01", "sessions", "tablet", "order"): (1, 1),
        ("2024-01", "sessions", "ALL", "order"): (2, 2),
        ("2024-02", "sessions", "tablet", "product_view"): (1, 1),
        ("2024-02", "sessions", "ALL", "product_view"): (1, 1),
    }
