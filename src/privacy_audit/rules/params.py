"""Every named value a rule's SQL may bind, each declared once with how the policy derives it.

A rule names what it uses (``params=("as_of", "ticket_cutoff", …)``); the audit binds only
those. A *parameter* is a scalar the SQL reads as ``$name``; a *lookup* is a small table the
SQL joins by name (``policy_order_retention``…). Each derivation is one call into the policy
model, which answers every derived number (years for a country, cut-offs) once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from privacy_audit.contract import TABLES
from privacy_audit.policy import Policy, midnight

Derive = Callable[[Policy, date], object]


def _field(name: str) -> Derive:
    """A policy key bound as it stands."""
    return lambda policy, _as_of: getattr(policy, name)


PARAMETERS: dict[str, Derive] = {
    "as_of": lambda _policy, as_of: midnight(as_of),
    "deletion_grace_days": _field("deletion_grace_days"),
    "order_retention_default_years": lambda policy, _as_of: policy.order_retention_years.years_for(None),
    "order_cutoff_default": lambda policy, as_of: policy.order_cutoff(as_of, None),
    "order_cutoff_latest": lambda policy, as_of: policy.order_cutoff_latest(as_of),
    "ticket_retention_years": _field("ticket_retention_years"),
    "ticket_cutoff": lambda policy, as_of: policy.ticket_cutoff(as_of),
    "inactive_after_years": _field("inactive_after_years"),
    "reactivation_grace_years": _field("reactivation_grace_years"),
    "inactive_cutoff": lambda policy, as_of: policy.inactive_cutoff(as_of),
    "usage_retention_months": _field("usage_retention_months"),
    "usage_cutoff": lambda policy, as_of: policy.usage_cutoff(as_of),
    "request_response_days": _field("request_response_days"),
    "request_extended_days": _field("request_extended_days"),
    "minimum_age": _field("minimum_age"),
    "require_marketing_opt_in": _field("require_marketing_opt_in"),
    "honor_do_not_track": _field("honor_do_not_track"),
    "training_valid_months": _field("training_valid_months"),
    "training_cutoff": lambda policy, as_of: policy.training_cutoff(as_of),
    "access_lookback_days": _field("access_lookback_days"),
    "access_since": lambda policy, as_of: policy.access_since(as_of),
    "notice_days": _field("notice_days"),
}


def _strings(**columns: list[str]) -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _order_retention(policy: Policy, as_of: date) -> pa.Table:
    """Per listed country: its years and its cut-off (other countries take the default's)."""
    countries = list(policy.order_retention_years.by_country)
    return pa.table(
        {
            "country": pa.array(countries, pa.string()),
            "years": pa.array([policy.order_retention_years.years_for(c) for c in countries], pa.int64()),
            "cutoff": pa.array([policy.order_cutoff(as_of, c) for c in countries], pa.timestamp("us")),
        }
    )


def _role_tables(policy: Policy, _as_of: date) -> pa.Table:
    pairs = [(r, t) for r, tables in policy.role_permissions.items() for t in tables]
    return _strings(role=[r for r, _ in pairs], table_name=[t for _, t in pairs])


def _data_inventory(policy: Policy, _as_of: date) -> pa.Table:
    pairs = [(t, c) for t, cols in policy.data_inventory.items() for c in cols]
    return _strings(table_name=[t for t, _ in pairs], column_name=[c for _, c in pairs])


def _contract_columns(_policy: Policy, _as_of: date) -> pa.Table:
    pairs = [(t.name, c) for t in TABLES.values() for c in t.column_names]
    return _strings(table_name=[t for t, _ in pairs], column_name=[c for _, c in pairs])


LOOKUPS: dict[str, Callable[[Policy, date], pa.Table]] = {
    "policy_order_retention": _order_retention,
    "policy_password_prefixes": lambda policy, _as_of: _strings(
        prefix=[p for scheme in policy.password_schemes.values() for p in scheme]
    ),
    "policy_forbidden_purposes": lambda policy, _as_of: _strings(
        purpose=list(policy.forbidden_share_purposes)
    ),
    "policy_eea_countries": lambda policy, _as_of: _strings(country=list(policy.eea_countries)),
    "policy_adequate_countries": lambda policy, _as_of: _strings(country=list(policy.adequate_countries)),
    "policy_role_tables": _role_tables,
    "policy_data_inventory": _data_inventory,
    "contract_columns": _contract_columns,
}


@dataclass(frozen=True)
class Bound:
    """What one query binds: ``$name`` values, and the lookup tables it joins."""

    values: dict[str, object]
    tables: dict[str, pa.Table]


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def used_names(sql: str) -> set[str]:
    """The ``$parameters`` and lookup tables ``sql`` uses (whether or not they are declared)."""
    return set(_PARAM.findall(sql)) | {n for n in LOOKUPS if re.search(rf"\b{n}\b", sql)}


def bind(names: Iterable[str], policy: Policy, as_of: date) -> Bound:
    """Derive the named parameters and lookups from the policy in force and the audit date."""
    names = list(names)
    return Bound(
        values={n: PARAMETERS[n](policy, as_of) for n in names if n in PARAMETERS},
        tables={n: LOOKUPS[n](policy, as_of) for n in names if n in LOOKUPS},
    )
