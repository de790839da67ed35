"""Turn the policy and the audit date into what rule SQL binds: parameters and lookup tables.

Age rules compare a column against a cut-off computed here once (``column < $cutoff``), which
lets the engine skip whole row groups. The cut-off is the smallest instant x for which
``x + steps >= as_of`` under calendar arithmetic; naive subtraction from as_of is off by a day
around month ends (see ``cutoff``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pyarrow as pa
from dateutil.relativedelta import relativedelta

from privacy_audit.contract import TABLES
from privacy_audit.policy import Policy

Step = tuple[str, int]


def add_steps(moment: datetime, steps: list[Step]) -> datetime:
    """``moment + step1 + step2 …`` left to right, as DuckDB adds ``INTERVAL``s (months clamp)."""
    for unit, n in steps:
        moment = moment + (timedelta(days=n) if unit == "days" else relativedelta(**{unit: n}))
    return moment


def cutoff(as_of: datetime, steps: list[Step]) -> datetime:
    """The smallest instant x with ``add_steps(x, steps) >= as_of`` (as_of is a midnight).

    Calendar addition is monotone and keeps the time of day, so the answer is a midnight; a
    binary search over days finds it exactly, whatever clamping happens at month ends.
    """
    low = as_of - timedelta(days=sum(_max_days(u, n) for u, n in steps) + 2)
    high = as_of
    while (high - low).days > 1:
        mid = low + timedelta(days=(high - low).days // 2)
        if add_steps(mid, steps) >= as_of:
            high = mid
        else:
            low = mid
    return low if add_steps(low, steps) >= as_of else high


def _max_days(unit: str, n: int) -> int:
    return {"years": 366, "months": 31, "days": 1}[unit] * n


def parameters(policy: Policy, as_of: date) -> dict[str, object]:
    """Every ``$name`` a rule may use."""
    start = datetime(as_of.year, as_of.month, as_of.day)
    grace = ("days", policy.deletion_grace_days)
    orders = policy.order_retention_years
    return {
        "as_of": start,
        "deletion_grace_days": policy.deletion_grace_days,
        "order_retention_default_years": orders.default,
        "order_cutoff_default": cutoff(start, [("years", orders.default), grace]),
        "order_cutoff_latest": cutoff(
            start, [("years", min(orders.default, *orders.by_country.values())), grace]
        ),
        "ticket_retention_years": policy.ticket_retention_years,
        "inactive_after_years": policy.inactive_after_years,
        "reactivation_grace_years": policy.reactivation_grace_years,
        "usage_retention_months": policy.usage_retention_months,
        "ticket_cutoff": cutoff(start, [("years", policy.ticket_retention_years), grace]),
        "inactive_cutoff": cutoff(
            start,
            [("years", policy.inactive_after_years), ("years", policy.reactivation_grace_years), grace],
        ),
        "usage_cutoff": cutoff(start, [("months", policy.usage_retention_months), grace]),
        "request_response_days": policy.request_response_days,
        "request_extended_days": policy.request_extended_days,
        "minimum_age": policy.minimum_age,
        "require_marketing_opt_in": policy.require_marketing_opt_in,
        "honor_do_not_track": policy.honor_do_not_track,
        "training_cutoff": cutoff(start, [("months", policy.training_valid_months)]),
        "training_valid_months": policy.training_valid_months,
        "access_since": start - timedelta(days=policy.access_lookback_days),
        "access_lookback_days": policy.access_lookback_days,
        "notice_days": policy.notice_days,
    }


def _strings(**columns: list[str]) -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def lookups(policy: Policy, as_of: date) -> dict[str, pa.Table]:
    """Small tables the rules join: per-country retention, country lists, role permissions…"""
    start = datetime(as_of.year, as_of.month, as_of.day)
    grace = ("days", policy.deletion_grace_days)
    by_country = policy.order_retention_years.by_country
    inventory = [(t, c) for t, cols in policy.data_inventory.items() for c in cols]
    contract = [(t.name, c) for t in TABLES.values() for c in t.column_names]
    roles = [(r, t) for r, tables in policy.role_permissions.items() for t in tables]
    prefixes = [p for scheme in policy.password_schemes.values() for p in scheme]
    return {
        "policy_order_retention": pa.table(
            {
                "country": pa.array(list(by_country), pa.string()),
                "years": pa.array(list(by_country.values()), pa.int64()),
                "cutoff": pa.array(
                    [cutoff(start, [("years", y), grace]) for y in by_country.values()], pa.timestamp("us")
                ),
            }
        ),
        "policy_password_prefixes": _strings(prefix=prefixes),
        "policy_forbidden_purposes": _strings(purpose=list(policy.forbidden_share_purposes)),
        "policy_eea_countries": _strings(country=list(policy.eea_countries)),
        "policy_adequate_countries": _strings(country=list(policy.adequate_countries)),
        "policy_role_tables": _strings(role=[r for r, _ in roles], table_name=[t for _, t in roles]),
        "policy_data_inventory": _strings(
            table_name=[t for t, _ in inventory], column_name=[c for _, c in inventory]
        ),
        "contract_columns": _strings(
            table_name=[t for t, _ in contract], column_name=[c for _, c in contract]
        ),
    }
