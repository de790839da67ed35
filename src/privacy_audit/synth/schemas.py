"""What the generator writes per table: the contract's columns plus the extra ones.

Extra columns are either declared by the policy's data inventory (near misses for
MIN-UNDECLARED-COLUMN) or undeclared (plants of that rule). Both live here, beside the Arrow
schemas, so that the background, the plants and the truth cannot disagree about them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from privacy_audit.contract import TABLES
from privacy_audit.synth import columns as col
from privacy_audit.writer import arrow_schema

UNDECLARED: dict[str, dict[str, pa.DataType]] = {
    "accounts": {"credit_score": pa.int64()},
    "contacts": {"linkedin_url": pa.string(), "signup_ip": pa.string()},
    "orders": {"gift_message": pa.string()},
    "payments": {"card_cvv": pa.string()},
    "support_tickets": {"agent_notes": pa.string()},
}
"""Columns nobody declared: each is one MIN-UNDECLARED-COLUMN plant (``table.column``)."""

INVENTORY: dict[str, dict[str, pa.DataType]] = {
    "accounts": {"industry_segment": pa.string()},
    "products": {"material": pa.string(), "price_band": pa.string()},
}
"""Columns the default policy's data_inventory declares: near misses."""


def schema(table: str) -> pa.Schema:
    """The Arrow schema the generator writes for ``table`` (contract columns first)."""
    extra = {**INVENTORY.get(table, {}), **UNDECLARED.get(table, {})}
    base = arrow_schema(table)
    return pa.schema(list(base) + [pa.field(name, kind) for name, kind in extra.items()])


ID_FORMATS: dict[str, tuple[str, int]] = {
    "accounts": ("ACC-", 7),
    "contacts": ("CON-", 8),
    "addresses": ("ADR-", 8),
    "legal_holds": ("HLD-", 6),
    "products": ("PRD-", 6),
    "orders": ("ORD-", 9),
    "payments": ("PAY-", 9),
    "support_tickets": ("TCK-", 8),
    "sessions": ("SES-", 9),
    "web_events": ("EVT-", 10),
    "cookie_consents": ("CNS-", 9),
    "email_sends": ("EML-", 9),
    "privacy_requests": ("REQ-", 7),
    "retention_exceptions": ("REX-", 7),
    "data_shares": ("SHR-", 6),
    "transfers": ("XFR-", 6),
    "staff": ("STF-", 5),
    "staff_access_log": ("ACL-", 8),
}
"""Identifier prefix and width per table (sessions too): shared by background and plants."""


KEYS: dict[str, str] = {t: TABLES[t].key for t in ID_FORMATS if t in TABLES and t != "products"}
"""Tables whose rows get a generated identifier, and its column."""


def ids(table: str, start: int, n: int) -> pa.Array:
    """``n`` identifiers of ``table`` from running number ``start``."""
    prefix, width = ID_FORMATS[table]
    return col.ids(prefix, start, n, width)


def labels(table: str, numbers: np.ndarray) -> pa.Array:
    """The identifiers of ``table`` for the given running numbers."""
    prefix, width = ID_FORMATS[table]
    return col.labels(prefix, numbers, width)


def label(table: str, number: int) -> str:
    """One identifier of ``table``."""
    prefix, width = ID_FORMATS[table]
    return f"{prefix}{number:0{width}d}"
