"""The trend report's aggregates, computed in DuckDB SQL over an opened export.

Every breakdown is first written as *contributions*: one row per (period, dimensions,
contributor, measure) with that contributor's part of the value. One generic query then turns
contributions into cells and their ``ALL`` totals (GROUPING SETS), each with its number of
distinct contributors and its largest single contribution — the inputs disclosure control
needs. Cells are produced so that every published total is the sum of the cells it totals
(the additive structure secondary suppression and the verifier reason about):

- an order counts when it is neither cancelled nor a tombstone (``deleted_at`` set), and only
  its lines with a positive quantity and a non-negative price count (no cell is negative, which
  the protection interval assumes); revenue is the sum of quantity × unit_price;
- an order counts in the category that holds the largest part of its line value (ties: the
  first category by name), so orders, like units and revenue, add up over categories;
- a web session counts once per funnel step it reached, under the device type and month of its
  first consented event (consented: the session's cookie consent in force at the event, in the
  sense of the consent rules, grants analytics), so sessions add up over device types (never over steps: a session may
  reach several steps, and the funnel has no total over steps).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

import pyarrow as pa

from privacy_audit.engine.base import Engine
from privacy_audit.reporting.trends.disclosure import PUBLICATION_SCHEMA
from privacy_audit.rules.sql import history_spans, in_force_at

ALL = "ALL"
UNKNOWN = "(unknown)"

# The funnel's steps, in order, and the normalized event_type values (lower case, runs of
# other characters as "_") that count as each: the contract leaves event_type free text. The
# last step is an order placed, so "begin_checkout" is none of them while a bare "checkout"
# (the final step of exports that have no confirmation event) is.
FUNNEL_STEPS: dict[str, tuple[str, ...]] = {
    "product_view": (
        "product_view",
        "view_product",
        "product_viewed",
        "view_item",
        "product_page_view",
        "product_detail_view",
    ),
    "add_to_cart": ("add_to_cart", "added_to_cart", "cart_add", "add_to_basket", "add_item_to_cart"),
    "order": (
        "order",
        "order_confirmation",
        "order_confirmed",
        "order_placed",
        "order_completed",
        "place_order",
        "purchase",
        "purchase_completed",
        "checkout",
        "checkout_complete",
        "checkout_completed",
    ),
}

# An order that counts: not cancelled, and not a tombstone the platform destroyed.
_COUNTED = "o.status <> 'cancelled' AND o.deleted_at IS NULL"


@dataclass(frozen=True)
class Breakdown:
    """One published breakdown: its dimensions, which of them get ``ALL`` totals, and how.

    ``partition`` names the dimension whose values split the contributors into disjoint sets
    (an account has one region, a session one device type): only along it can small cells be
    rolled up into a group whose contributors are the sum of its members'.
    """

    name: str
    dims: tuple[str, ...]
    totals: tuple[str, ...]
    partition: str | None


SALES = Breakdown("sales_by_category_region", ("category", "region"), ("category", "region"), "region")
COLLECTIONS = Breakdown("top_collections", ("collection",), ("collection",), None)
PARTNERS = Breakdown("partners_new_returning", ("partner_type",), ("partner_type",), None)
FUNNEL = Breakdown("web_funnel", ("device_type", "step"), ("device_type",), "device_type")
BREAKDOWNS = (SALES, COLLECTIONS, PARTNERS, FUNNEL)

# The quarterly breakdown covers the same order lines as the monthly one, so its grand total is
# the sum of the monthly grand totals of the same measure: disclosure control must know it.
LINKED_TOTALS = ((COLLECTIONS.name, SALES.name),)

CELL_SCHEMA = pa.schema(
    [*PUBLICATION_SCHEMA.remove(PUBLICATION_SCHEMA.get_field_index("status")), pa.field("top", pa.float64())]
)
"""A cell before disclosure control: the publication's columns, ``top`` instead of ``status``."""


def _label(expr: str) -> str:
    """A dimension value as published: blanks are unknown, and no data value may read ``ALL``."""
    return (
        f"CASE WHEN nullif(trim(CAST({expr} AS VARCHAR)), '') IS NULL THEN '{UNKNOWN}' "
        f"WHEN upper(trim(CAST({expr} AS VARCHAR))) = '{ALL}' THEN '{ALL.lower()} (value)' "
        f"ELSE trim(CAST({expr} AS VARCHAR)) END"
    )


def _period(column: str, period: str) -> str:
    if period == "quarter":
        return f"strftime({column}, '%Y') || '-Q' || quarter({column})"
    return f"strftime({column}, '%Y-%m')"


def _revenue_measure(currencies: int) -> str:
    """``revenue``, or ``revenue_<currency>`` when orders of the period use several currencies
    (amounts in different currencies are never added up; the contract validates the codes)."""
    return "'revenue'" if currencies <= 1 else "'revenue_' || lower(o.currency)"


def _lines_sql(period: str, revenue: str) -> str:
    """Counted order lines of the period with their account, region, category and collection."""
    return f"""
        SELECT o.order_id, o.account_id, {_period("o.order_date", period)} AS period,
               {revenue} AS revenue_measure,
               coalesce(r.region, 'Other') AS region,
               {_label("p.category")} AS category, {_label("p.collection")} AS collection,
               i.quantity, CAST(i.quantity * i.unit_price AS DECIMAL(38, 2)) AS amount
        FROM orders o
        JOIN order_items i ON i.order_id = o.order_id
        LEFT JOIN (SELECT product_id, min(category) AS category, min(collection) AS collection
                   FROM products GROUP BY product_id) p ON p.product_id = i.product_id
        LEFT JOIN (SELECT account_id, min(country) AS country FROM accounts GROUP BY account_id) a
               ON a.account_id = o.account_id
        LEFT JOIN trend_regions r ON r.country = a.country
        WHERE {_COUNTED} AND o.order_date BETWEEN $start AND $end AND i.quantity > 0 AND i.unit_price >= 0
    """


def _sales_sql(revenue: str) -> str:
    return f"""
        WITH lines AS ({_lines_sql("month", revenue)}),
        main AS (
            SELECT order_id, account_id, period, region, category FROM (
                SELECT order_id, account_id, period, region, category,
                       row_number() OVER (PARTITION BY order_id ORDER BY sum(amount) DESC, category) AS rank
                FROM lines GROUP BY order_id, account_id, period, region, category)
            WHERE rank = 1
        )
        SELECT period, category AS d1, region AS d2, account_id AS contributor, 'orders' AS measure,
               CAST(count(*) AS DECIMAL(38, 2)) AS value
        FROM main GROUP BY ALL
        UNION ALL
        SELECT period, category, region, account_id, 'units', CAST(sum(quantity) AS DECIMAL(38, 2))
        FROM lines GROUP BY ALL
        UNION ALL
        SELECT period, category, region, account_id, revenue_measure, sum(amount)
        FROM lines GROUP BY ALL
    """


def _collections_sql(revenue: str) -> str:
    return f"""
        WITH lines AS ({_lines_sql("quarter", revenue)})
        SELECT period, collection AS d1, NULL AS d2, account_id AS contributor, 'units' AS measure,
               CAST(sum(quantity) AS DECIMAL(38, 2)) AS value
        FROM lines GROUP BY ALL
        UNION ALL
        SELECT period, collection, NULL, account_id, revenue_measure, sum(amount)
        FROM lines GROUP BY ALL
    """


_PARTNERS_SQL = f"""
    WITH counted AS (SELECT o.account_id, o.order_date FROM orders o WHERE {_COUNTED}),
    first AS (SELECT account_id, min(order_date) AS first_order FROM counted GROUP BY account_id)
    SELECT DISTINCT {_period("c.order_date", "month")} AS period,
           CASE WHEN {_period("f.first_order", "month")} = {_period("c.order_date", "month")}
                THEN 'new' ELSE 'returning' END AS d1,
           NULL AS d2, c.account_id AS contributor, 'partners' AS measure,
           CAST(1 AS DECIMAL(38, 2)) AS value
    FROM counted c JOIN first f USING (account_id)
    WHERE c.order_date BETWEEN $start AND $end
"""


def _step_case() -> str:
    norm = "regexp_replace(lower(trim(e.event_type)), '[^a-z0-9]+', '_', 'g')"
    whens = " ".join(
        f"WHEN {norm} IN ({', '.join(repr(a) for a in aliases)}) THEN '{step}'"
        for step, aliases in FUNNEL_STEPS.items()
    )
    return f"CASE {whens} END"


_FUNNEL_SQL = f"""
    WITH consent AS (
        {history_spans("cookie_consents", ("session_id",), "recorded_at", {"analytics": "bool_and(analytics)"})}
    ),
    events AS (
        SELECT e.session_id, e.occurred_at, lower(trim(e.device_type)) AS device_type, {_step_case()} AS step
        FROM web_events e
        JOIN consent c ON c.session_id = e.session_id AND {in_force_at("c", "recorded_at", "e.occurred_at")}
        WHERE c.analytics AND e.occurred_at >= $start AND e.occurred_at < $end_exclusive
    ),
    sessions AS (
        SELECT session_id, {_period("min(occurred_at)", "month")} AS period,
               arg_min(device_type, occurred_at) FILTER (WHERE nullif(device_type, '') IS NOT NULL) AS device
        FROM events GROUP BY session_id
    )
    SELECT s.period, {_label("s.device")} AS d1, e.step AS d2, s.session_id AS contributor,
           'sessions' AS measure, CAST(1 AS DECIMAL(38, 2)) AS value
    FROM sessions s JOIN (SELECT DISTINCT session_id, step FROM events WHERE step IS NOT NULL) e
         USING (session_id)
"""


def _cells_sql(breakdown: Breakdown, contributions: str) -> str:
    """Cells and their ALL totals, with distinct contributors and the largest contribution."""
    two = len(breakdown.dims) == 2
    keys = dict(zip(breakdown.dims, ("d1", "d2"), strict=False))
    totalled = [keys[d] for d in breakdown.totals]
    sets = [  # one grouping set per combination of totalled dimensions set to ALL
        [k for k in keys.values() if k not in dropped]
        for n in range(len(totalled) + 1)
        for dropped in combinations(totalled, n)
    ]
    grouping = ", ".join("(" + ", ".join(["period", "measure", *s, "contributor"]) + ")" for s in sets)
    d2_name = f"'{breakdown.dims[1]}'" if two else "NULL"
    d2_value = f"CASE WHEN all2 = 1 THEN '{ALL}' ELSE d2 END" if two else "NULL"
    return f"""
        WITH contributions AS ({contributions}),
        per_contributor AS (
            SELECT period, measure, d1, {"d2" if two else "NULL AS d2"},
                   grouping(d1) AS all1, {"grouping(d2)" if two else "0"} AS all2,
                   contributor, sum(value) AS v
            FROM contributions
            GROUP BY GROUPING SETS ({grouping})
        )
        SELECT '{breakdown.name}' AS breakdown, period,
               '{breakdown.dims[0]}' AS dim1_name, CASE WHEN all1 = 1 THEN '{ALL}' ELSE d1 END AS dim1_value,
               {d2_name} AS dim2_name, {d2_value} AS dim2_value, measure,
               CAST(sum(v) AS DOUBLE) AS value, count(*) AS contributors, CAST(max(v) AS DOUBLE) AS top
        FROM per_contributor
        GROUP BY period, measure, all1, all2, d1, d2
    """


def aggregate(engine: Engine, period_start: date, period_end: date, region_of: Mapping[str, str]) -> pa.Table:
    """All breakdowns' cells and totals over an opened export, for [period_start, period_end].

    ``region_of`` maps country codes to regions (the policy's ``regions``); other countries
    fall into "Other". Rows follow ``CELL_SCHEMA``; ``top`` is the largest single
    contributor's part of the value, which only disclosure control reads.
    """
    engine.register(
        "trend_regions",
        pa.table(
            {"country": list(region_of), "region": list(region_of.values())},
            schema=pa.schema([("country", pa.string()), ("region", pa.string())]),
        ),
    )
    params = {"start": period_start, "end": period_end, "end_exclusive": period_end + timedelta(days=1)}
    currencies = (
        engine.query(
            f"SELECT count(DISTINCT o.currency) AS n FROM orders o "
            f"WHERE {_COUNTED} AND o.order_date BETWEEN $start AND $end",
            params,
        )
        .column("n")[0]
        .as_py()
    )
    revenue = _revenue_measure(currencies)
    contributions = {
        SALES: _sales_sql(revenue),
        COLLECTIONS: _collections_sql(revenue),
        PARTNERS: _PARTNERS_SQL,
        FUNNEL: _FUNNEL_SQL,
    }
    tables = [engine.query(_cells_sql(b, sql), params).cast(CELL_SCHEMA) for b, sql in contributions.items()]
    return pa.concat_tables(tables).sort_by(
        [(c, "ascending") for c in ("breakdown", "period", "measure", "dim1_value", "dim2_value")]
    )
