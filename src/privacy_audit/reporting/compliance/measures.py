"""What the compliance charts count, queried from the export's views: counts only, never values.

Each query groups records into age buckets and a category (erased, within its limit, past it),
so a chart shows how much is kept against the policy's limit without reading a single personal
value. "Past its limit" is the plain comparison age > limit, without the deletion grace: the
findings, not the chart, are the verdict.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from privacy_audit.engine import Engine
from privacy_audit.policy import Policy, midnight
from privacy_audit.rules.params import bind, used_names
from privacy_audit.rules.sql import hold_active_at, order_retention, order_years

ERASED, WITHIN, HELD, PAST = (
    "erased or deleted",
    "within its limit",
    "past its limit, legal hold",
    "past its limit",
)
OPEN, ANSWERED, EXTENDED = "still open (days so far)", "answered", "answered, extension notified"


def _category(erased: str, deadline: str, held: str = "false") -> str:
    return (
        f"CASE WHEN {erased} THEN '{ERASED}' WHEN {deadline} >= $as_of THEN '{WITHIN}' "
        f"WHEN {held} THEN '{HELD}' ELSE '{PAST}' END"
    )


def _quarters(since: str) -> str:
    """Age in whole quarters since ``since``, as years (0.25 steps); future dates count as 0."""
    return f"greatest(0, date_sub('month', {since}, $as_of) // 3) * 0.25::DOUBLE"


def _frame(engine: Engine, sql: str, policy: Policy, as_of: date) -> pd.DataFrame:
    """Run ``sql`` with the policy values it names bound as the audit binds them."""
    bound = bind(used_names(sql), policy, as_of)
    for name, table in bound.tables.items():
        engine.register(name, table)
    return engine.query(sql, bound.values).to_pandas()


def order_ages(engine: Engine, policy: Policy, as_of: date) -> pd.DataFrame:
    """Orders by age (years, quarterly buckets) and category; each order's limit is its country's."""
    years = f"CAST({order_years()} AS INTEGER)"
    sql = f"""
        SELECT {_quarters("o.order_date")} AS x,
               {_category("o.deleted_at IS NOT NULL OR o._erased", f"o.order_date + to_years({years})", hold_active_at("o.account_id", "$as_of"))} AS category,
               count(*) AS n
        FROM orders o
        LEFT JOIN accounts a ON a.account_id = o.account_id
        {order_retention("a.country")}
        GROUP BY ALL ORDER BY x
    """
    return _frame(engine, sql, policy, as_of)


def ticket_ages(engine: Engine, policy: Policy, as_of: date) -> tuple[pd.DataFrame, int]:
    """Closed tickets by age since closing (years, quarterly), and how many are still open."""
    sql = f"""
        SELECT {_quarters("closed_at")} AS x,
               {_category("_erased", "closed_at + to_years($ticket_retention_years)", hold_active_at("account_id", "$as_of"))} AS category,
               count(*) AS n
        FROM support_tickets WHERE closed_at IS NOT NULL
        GROUP BY ALL ORDER BY x
    """
    still_open = engine.query("SELECT count(*) AS n FROM support_tickets WHERE closed_at IS NULL")
    return _frame(engine, sql, policy, as_of), int(still_open.column(0)[0].as_py())


def event_ages(engine: Engine, policy: Policy, as_of: date) -> pd.DataFrame:
    """Web events by age in whole months and category (no legal hold applies to usage data)."""
    sql = f"""
        SELECT greatest(0, date_sub('month', occurred_at, $as_of)) AS x,
               {_category("_erased", "occurred_at + to_months($usage_retention_months)")} AS category,
               count(*) AS n
        FROM web_events
        GROUP BY ALL ORDER BY x
    """
    return _frame(engine, sql, policy, as_of)


def response_days(engine: Engine, as_of: date, bucket_days: int = 5) -> pd.DataFrame:
    """Rights requests by days from receipt to answer (to as_of while open), in 5-day buckets."""
    sql = f"""
        SELECT floor(date_diff('second', received_at, coalesce(completed_at, $as_of)) / 86400.0 / $w) * $w AS x,
               CASE WHEN completed_at IS NULL THEN '{OPEN}'
                    WHEN extension_notified_at IS NOT NULL THEN '{EXTENDED}'
                    ELSE '{ANSWERED}' END AS category,
               count(*) AS n
        FROM privacy_requests
        GROUP BY ALL ORDER BY x
    """
    return engine.query(sql, {"as_of": midnight(as_of), "w": bucket_days}).to_pandas()
