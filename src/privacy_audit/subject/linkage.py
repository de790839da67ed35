"""Which records of an export are about one person (spec ``subject.md``, "What is held").

Each step reads only the rows linked to the subject: the ids found so far become the next
query's literal list, so a subject of a million-contact export costs one pruned pass over the
linking column of each table, never a full audit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from privacy_audit.contract import TABLES
from privacy_audit.engine import Engine
from privacy_audit.errors import InputError
from privacy_audit.export import Export
from privacy_audit.writer import arrow_schema

SHARED_TABLES = ("accounts", "addresses", "legal_holds")
"""Account data: held about every contact of the account, not about one person alone."""

DATA_CATEGORIES: dict[str, str] = {
    "accounts": "contact",
    "contacts": "contact",
    "communication_preferences": "contact",
    "email_sends": "contact",
    "privacy_requests": "contact",
    "addresses": "address",
    "orders": "order",
    "order_items": "order",
    "payments": "payment",
    "support_tickets": "ticket",
    "web_events": "usage",
    "cookie_consents": "usage",
}
"""Table → the ``data_categories`` word of data_shares/transfers that covers its data.

The contract names the words (contact, address, order, payment, ticket, usage) but not
which tables they cover; this is that mapping, until the contract declares it.
"""

_RECORDS_TABLE = "subject_records"
_CONTACT_REFERENCES = (
    "orders",
    "support_tickets",
    "web_events",
    "communication_preferences",
    "email_sends",
    "privacy_requests",
)
_ACCOUNT_REFERENCES = ("contacts", "addresses", "legal_holds", "orders", "support_tickets")
_RECIPIENTS = {
    "data_shares": (("recipient", "recipient_category", "purpose"), "shared_at"),
    "transfers": (("recipient", "destination_country", "mechanism"), "transferred_at"),
}


@dataclass(frozen=True)
class Subject:
    """Who the package is about: a contact (of ``account_id``) or a whole account."""

    kind: str  # "contact" or "account"
    id: str
    account_id: str | None  # None for a contact whose row and account are both gone
    contact_ids: tuple[str, ...]


@dataclass
class Holding:
    """Every record held about a subject, per table, with the contract's columns and types."""

    subject: Subject
    tables: dict[str, pa.Table]
    absent: list[str]
    last_activity: datetime | None
    other_contacts: int
    countries: dict[str, str]
    recipients: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def held(self) -> dict[str, pa.Table]:
        """The tables that hold at least one record of the subject."""
        return {name: rows for name, rows in self.tables.items() if rows.num_rows}


def record_ids(table: str, rows: pa.Table) -> list[str]:
    """Each row's identifier: its contract key, plus what makes it unique where the key is not."""
    if table == "order_items":
        return [
            f"{o}/{n}" for o, n in zip(rows["order_id"].to_pylist(), rows["line_no"].to_pylist(), strict=True)
        ]
    if table == "communication_preferences":
        return [
            f"{c}/{t}/{u.isoformat()}"
            for c, t, u in zip(
                rows["contact_id"].to_pylist(),
                rows["topic"].to_pylist(),
                rows["updated_at"].to_pylist(),
                strict=True,
            )
        ]
    return [str(v) for v in rows[TABLES[table].key].to_pylist()]


def resolve(engine: Engine, subject_id: str) -> Subject:
    """The contact or account called ``subject_id``; neither or both is unusable input.

    An id whose own row is gone but which other records still carry is that subject, erased:
    what is still held about it is the evidence.
    """
    contact = engine.query(
        "SELECT DISTINCT contact_id, account_id FROM contacts WHERE contact_id = $id", {"id": subject_id}
    ).to_pylist()
    account = engine.query(
        "SELECT DISTINCT account_id FROM accounts WHERE account_id = $id", {"id": subject_id}
    ).to_pylist()
    if not contact and not account:
        contact, account = _references(engine, subject_id)
    if contact and account:
        raise InputError("ID", expected="an id that is a contact_id or an account_id, not both (it is both)")
    if not contact and not account:
        raise InputError("ID", expected="a contact_id or an account_id of the export (it is neither)")
    if len({c["account_id"] for c in contact}) > 1:
        raise InputError("contacts", column="contact_id", expected="one account per contact (ID has several)")
    if contact:
        return Subject("contact", subject_id, contact[0]["account_id"], (subject_id,))
    members = engine.query(
        "SELECT DISTINCT contact_id FROM contacts WHERE account_id = $id ORDER BY contact_id",
        {"id": subject_id},
    )
    return Subject("account", subject_id, subject_id, tuple(members["contact_id"].to_pylist()))


def _references(engine: Engine, subject_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Like the contacts and accounts lookups, from the records that carry ``subject_id``."""
    as_contact = " UNION ".join(
        f"SELECT {'account_id' if 'account_id' in TABLES[t].column_names else 'CAST(NULL AS VARCHAR)'} "
        f"AS account_id FROM {t} WHERE contact_id = $id"
        for t in _CONTACT_REFERENCES
    )
    carriers = engine.query(f"SELECT DISTINCT account_id FROM ({as_contact})", {"id": subject_id}).to_pylist()
    known = [c for c in carriers if c["account_id"] is not None]
    contact = known or carriers
    as_account = " UNION ALL ".join(
        f"SELECT 1 AS n FROM {t} WHERE account_id = $id" for t in _ACCOUNT_REFERENCES
    )
    account = engine.query(f"SELECT count(*) AS n FROM ({as_account})", {"id": subject_id}).to_pylist()
    return contact, [{"account_id": subject_id}] if account[0]["n"] else []


def collect(engine: Engine, export: Export, subject: Subject) -> Holding:
    """Read every record linked to ``subject``, table by table, in the spec's order."""
    tables: dict[str, pa.Table] = {}

    def rows(table: str, *where: str, params: dict[str, object] | None = None) -> pa.Table:
        """The rows of ``table`` matching any of ``where``: one filtered scan each, then UNION.

        (One ``a OR b`` filter would defeat DuckDB's pushdown and read every row.)
        """
        columns = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
        union = " UNION ".join(f"SELECT {columns} FROM {table} WHERE {w}" for w in where)
        found = engine.query(union, params)
        typed = found.cast(arrow_schema(table))
        tables[table] = typed.sort_by([(c, "ascending") for c in _sort_columns(table)])
        return tables[table]

    account = {"account": subject.account_id}
    contacts = _listed(list(subject.contact_ids))
    rows("contacts", f"contact_id IN {contacts}")
    for table in SHARED_TABLES:
        rows(table, "account_id = $account", params=account)
    of_account = ("account_id = $account",) if subject.kind == "account" else ()
    orders = rows("orders", f"contact_id IN {contacts}", *of_account, params=account)
    order_ids = _listed(orders["order_id"].to_pylist())
    rows("order_items", f"order_id IN {order_ids}")
    rows("payments", f"order_id IN {order_ids}")
    rows("support_tickets", f"contact_id IN {contacts}", *of_account, params=account)
    events = rows("web_events", f"contact_id IN {contacts}")
    for table in ("communication_preferences", "email_sends"):
        rows(table, f"contact_id IN {contacts}")
    requests = rows("privacy_requests", f"contact_id IN {contacts}")
    rows("retention_exceptions", f"request_id IN {_listed(requests['request_id'].to_pylist())}")
    rows("cookie_consents", f"session_id IN {_listed(events['session_id'].to_pylist())}")
    absent = [t for t in ("staff_access_log", "data_shares", "transfers") if not export.has(t)]
    if export.has("staff_access_log"):
        _register_records(engine, tables)  # pairs: a small table to join, not a list
        rows(
            "staff_access_log",
            f"EXISTS (SELECT 1 FROM {_RECORDS_TABLE} r "
            "WHERE r.table_name = staff_access_log.table_name AND r.record_id = staff_access_log.record_id)",
        )
    countries = engine.query(
        f"SELECT account_id, country FROM accounts WHERE account_id IN {_listed(orders['account_id'].to_pylist())}"
    ).to_pylist()
    holding = Holding(
        subject,
        tables,
        absent,
        _last_activity(engine, subject.account_id),
        _other_contacts(engine, subject),
        {row["account_id"]: row["country"] for row in countries},
    )
    categories = {DATA_CATEGORIES[t] for t in holding.held() if t in DATA_CATEGORIES}
    for table in ("data_shares", "transfers"):
        if export.has(table):
            holding.recipients[table] = _recipients(engine, table, categories)
    return holding


def _listed(values: list[Any] | tuple[Any, ...]) -> str:
    """``values`` as a literal SQL list (quotes doubled): DuckDB prunes Parquet row groups by
    each constant, where a subquery over a registered table is a hash join over every row
    (order_items of a 164-order account: 0.34 s against 10 s at 1M contacts)."""
    distinct = sorted({str(v) for v in values if v is not None})
    return "(" + (", ".join("'" + v.replace("'", "''") + "'" for v in distinct) or "NULL") + ")"


def _sort_columns(table: str) -> tuple[str, ...]:
    return {
        "order_items": ("order_id", "line_no"),
        "communication_preferences": ("contact_id", "topic", "updated_at"),
    }.get(table, (TABLES[table].key,))


def _register_records(engine: Engine, tables: dict[str, pa.Table]) -> None:
    """(table_name, key value) of every record found so far: what a staff access log row names."""
    names: list[str] = []
    ids: list[str] = []
    for table, rows in tables.items():
        values = sorted({str(v) for v in rows[TABLES[table].key].to_pylist()})
        names += [table] * len(values)
        ids += values
    engine.register(
        _RECORDS_TABLE,
        pa.table({"table_name": pa.array(names, pa.string()), "record_id": pa.array(ids, pa.string())}),
    )


def _last_activity(engine: Engine, account_id: str | None) -> datetime | None:
    """The account's latest created_at, contact login or order date (RET-INACTIVE-ACCOUNT's clock)."""
    found = engine.query(
        "SELECT max(active_at) AS last_activity FROM ("
        " SELECT created_at AS active_at FROM accounts WHERE account_id = $account"
        " UNION ALL SELECT last_login_at FROM contacts WHERE account_id = $account"
        " UNION ALL SELECT CAST(order_date AS TIMESTAMP) FROM orders WHERE account_id = $account)",
        {"account": account_id},
    )
    return found["last_activity"][0].as_py()


def _other_contacts(engine: Engine, subject: Subject) -> int:
    """Contacts of the account outside the subject whose personal data is still held."""
    found = engine.query(
        f"SELECT count(*) AS n FROM contacts WHERE account_id = $account AND NOT _erased "
        f"AND contact_id NOT IN {_listed(subject.contact_ids)}",
        {"account": subject.account_id},
    )
    return int(found["n"][0].as_py())


def _recipients(engine: Engine, table: str, categories: set[str]) -> list[dict[str, object]]:
    """The recipients of ``table`` whose data_categories include one of ``categories``.

    These tables are batches, not per-record rows: the package names who received data of
    the kinds held about the subject, how often and when.
    """
    described, at = _RECIPIENTS[table]
    rows = engine.query(
        f"SELECT {', '.join(described)}, data_categories, {at} AS at FROM {table}"
    ).to_pylist()
    batches: dict[tuple[str, ...], list[tuple[set[str], datetime]]] = defaultdict(list)
    for row in rows:
        matched = {c.strip() for c in row["data_categories"].split(";")} & categories
        if matched:
            batches[tuple(row[c].strip() for c in described)].append((matched, row["at"]))
    return [
        {
            **dict(zip(described, key, strict=True)),
            "data_categories": sorted(set().union(*(m for m, _ in sent))),
            "batches": len(sent),
            "first": min(t for _, t in sent).date().isoformat(),
            "last": max(t for _, t in sent).date().isoformat(),
        }
        for key, sent in sorted(batches.items())
    ]
