"""The clean bulk of an export, one chunk of partners at a time.

A chunk is a few thousand accounts with everything that hangs off them; its tables are written
as row groups and dropped, so memory stays flat whatever the number of contacts. Identifiers
run on across chunks (``Counters``), and each chunk draws from its own seeded generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy_audit.synth.catalog import Catalog
from privacy_audit.synth.commerce import trade
from privacy_audit.synth.messaging import mail
from privacy_audit.synth.partners import (
    accounts_table,
    addresses_table,
    contacts_table,
    erase_contacts,
    holds_table,
    plan_partners,
)
from privacy_audit.synth.policies import PolicyVersion
from privacy_audit.synth.pools import Pools
from privacy_audit.synth.rights import plan_requests, requests_table
from privacy_audit.synth.support import tickets_table
from privacy_audit.synth.timeline import Timeline
from privacy_audit.synth.web import usage

CHUNK_CONTACTS = 25_000
"""Contacts per chunk: about a quarter of a million orders and three quarters of a million events."""


@dataclass
class Counters:
    """The next running number of every identifier, carried from chunk to chunk."""

    next: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "accounts",
                "contacts",
                "addresses",
                "legal_holds",
                "orders",
                "payments",
                "support_tickets",
                "sessions",
                "web_events",
                "cookie_consents",
                "email_sends",
                "privacy_requests",
                "retention_exceptions",
                "data_shares",
                "transfers",
                "staff",
                "staff_access_log",
            ),
            1,
        )
    )

    def advance(self, tables: dict[str, pa.Table], sessions: int) -> None:
        for name, table in tables.items():
            if name in self.next:
                self.next[name] += table.num_rows
        self.next["sessions"] += sessions


@dataclass
class Anchors:
    """Background records plants may attach to without changing any rule's outcome."""

    order_ids: list[str]
    account_ids: list[str]
    contact_ids: list[str]


def chunk_tables(
    n_contacts: int,
    counters: Counters,
    catalog: Catalog,
    pools: Pools,
    versions: list[PolicyVersion],
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[dict[str, pa.Table], int]:
    """Every per-partner table for ``n_contacts`` contacts; also the number of sessions used."""
    first = counters.next
    partners = plan_partners(n_contacts, first["accounts"], first["contacts"], pools, timeline, rng)
    requests = plan_requests(partners, timeline, rng)
    done = requests.done("deletion")
    erase_contacts(partners, requests.contact[done], requests.completed[done])
    addresses = addresses_table(partners, pools, first["addresses"], rng)
    commerce = trade(partners, addresses, requests, catalog, pools, first, timeline, rng)
    web = usage(partners, requests, catalog, pools, first, timeline, rng)
    messages = mail(partners, requests, versions, first["email_sends"], timeline, rng)
    tables = {
        "accounts": accounts_table(partners, pools, timeline, rng),
        "contacts": contacts_table(partners, pools, timeline, rng),
        "addresses": addresses.table,
        "legal_holds": holds_table(partners, first["legal_holds"], rng),
        "orders": commerce.orders,
        "order_items": commerce.items,
        "payments": commerce.payments,
        "support_tickets": tickets_table(partners, requests, pools, first["support_tickets"], timeline, rng),
        "web_events": web.events,
        "cookie_consents": web.consents,
        "communication_preferences": messages.preferences,
        "email_sends": messages.sends,
        "privacy_requests": requests_table(requests, partners, first["privacy_requests"]),
        "retention_exceptions": commerce.exceptions,
    }
    return tables, web.sessions


def chunks(total: int) -> Iterator[int]:
    """Chunk sizes that add up to ``total`` contacts."""
    for start in range(0, total, CHUNK_CONTACTS):
        yield min(CHUNK_CONTACTS, total - start)


def anchors(tables: dict[str, pa.Table]) -> Anchors:
    """Live background records of the first chunk (an active account, a named contact, an order)."""
    accounts = tables["accounts"].filter(pc.is_null(tables["accounts"].column("anonymized_at")))
    contacts = tables["contacts"].filter(pc.is_valid(tables["contacts"].column("email")))
    return Anchors(
        order_ids=tables["orders"].column("order_id").to_pylist()[:200],
        account_ids=accounts.column("account_id").to_pylist()[:200],
        contact_ids=contacts.column("contact_id").to_pylist()[:200],
    )
