"""SQL fragments several rules share, written once so that their meaning cannot drift apart."""

from __future__ import annotations

from privacy_audit.contract import TABLES


def hold_active_at(account: str, instant: str) -> str:
    """True when a legal hold on ``account`` is active at ``instant`` (contract: legal_holds)."""
    return (
        "EXISTS (SELECT 1 FROM legal_holds h "
        f"WHERE h.account_id = {account} AND h.placed_at <= {instant} "
        f"AND (h.released_at IS NULL OR h.released_at > {instant}))"
    )


def personal_still_set(table: str, alias: str = "") -> str:
    """Comma-separated names (never values) of ``table``'s personal columns that are not NULL."""
    prefix = f"{alias}." if alias else ""
    cases = ", ".join(f"CASE WHEN {prefix}{c} IS NOT NULL THEN '{c}' END" for c in TABLES[table].personal)
    return f"concat_ws(', ', {cases})"


def day(column: str) -> str:
    """A timestamp or date as YYYY-MM-DD, for finding details."""
    return f"strftime(CAST({column} AS DATE), '%Y-%m-%d')"
