"""The policy model's derived numbers: cut-offs agree with DuckDB's calendar arithmetic at every
day, month ends included, and "retention years for a country" has one answer everywhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_audit.policy import OrderRetention, cutoff, load_policy
from privacy_audit.synth.timeline import Timeline


def test_month_end_example_from_rules_md() -> None:
    assert cutoff(datetime(2026, 6, 30), [("months", 13), ("days", 30)]) == datetime(2025, 5, 1)


def test_leap_day_years() -> None:
    # 2020-02-29 + 6 years = 2026-02-28: an order of 29 Feb is due with those of 28 Feb.
    assert cutoff(datetime(2026, 2, 28), [("years", 6)]) == datetime(2020, 2, 28)
    assert cutoff(datetime(2026, 3, 1), [("years", 6)]) == datetime(2020, 3, 1)


@settings(max_examples=40, deadline=None)
@given(
    as_of=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    years=st.integers(0, 4),
    months=st.integers(0, 14),
    days=st.integers(0, 40),
)
def test_cutoff_is_the_first_instant_not_yet_due(as_of: date, years: int, months: int, days: int) -> None:
    """Against DuckDB itself: x < C  ⇔  x + years + months + days < as_of, on every day near C."""
    start = datetime(as_of.year, as_of.month, as_of.day)
    c = cutoff(start, [("years", years), ("months", months), ("days", days)])
    con = duckdb.connect()
    probes = [c + timedelta(days=d, seconds=s) for d in range(-40, 40) for s in (0, -1)]
    due = con.execute(
        "SELECT list_transform($xs, lambda x: x + to_years($y) + to_months($m) + to_days($d) < $as_of)",
        {"xs": probes, "y": years, "m": months, "d": days, "as_of": start},
    ).fetchone()[0]
    assert due == [p < c for p in probes]


def test_steps_are_applied_in_order() -> None:
    # 2020-02-29 + 3y = 2023-02-28, + 1y = 2024-02-28, + 30d = 2024-03-29: due before 2024-03-30,
    # whereas + 4y would give 2024-02-29 + 30d = 2024-03-30, not yet due.
    assert cutoff(datetime(2024, 3, 30), [("years", 3), ("years", 1), ("days", 30)]) == datetime(2020, 3, 1)
    assert cutoff(datetime(2024, 3, 30), [("years", 4), ("days", 30)]) == datetime(2020, 2, 29)


def test_years_for_a_country_falls_back_to_the_default() -> None:
    retention = OrderRetention(default=7, by_country={"GB": 6, "DE": 10})
    assert [retention.years_for(c) for c in ("GB", "DE", "IT", None)] == [6, 10, 7, 7]
    assert retention.shortest == 6
    assert OrderRetention(default=7, by_country={}).shortest == 7


def test_order_cutoff_is_the_countrys_years_plus_grace() -> None:
    policy, _ = load_policy()
    # Default policy: GB keeps orders 6 years, then 30 days of grace; Italy takes the default 7.
    assert policy.order_cutoff(date(2026, 6, 1), "GB") == datetime(2020, 5, 2)
    assert policy.order_cutoff(date(2026, 6, 1), "IT") == datetime(2019, 5, 2)
    assert policy.order_cutoff_latest(date(2026, 6, 1)) == policy.order_cutoff(date(2026, 6, 1), "AU")


def test_the_generator_asks_the_policy_for_retention_years() -> None:
    policy, _ = load_policy()
    countries = np.array(["DE", "IT", "GB", "DE", "AU"])
    years = Timeline(date(2026, 11, 1), policy).retention_years(countries)
    assert (
        years.tolist() == [policy.order_retention_years.years_for(c) for c in countries] == [10, 7, 6, 10, 5]
    )
