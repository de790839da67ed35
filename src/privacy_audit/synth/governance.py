"""Processors, data shares, international transfers, staff and their access log (the optional tables).

The background shares only with registered processors after their DPA, for an allowed purpose
and anonymized for analytics; transfers leaving the EEA, UK or Switzerland rely on adequacy,
SCCs or BCRs and are encrypted; staff touch only what their role permits, while employed, with
a reason for every export, and are trained every year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.contract import TABLES
from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.timeline import DAY, HOUR, NEVER, Timeline, add_months


@dataclass(frozen=True)
class Processor:
    """A registered service provider and what it may receive."""

    recipient: str
    category: str
    purposes: str
    years_ago: float | None  # DPA signed this long before as_of; None: no DPA (and never used)
    data: str


PROCESSORS: tuple[Processor, ...] = (
    Processor(
        "Adyen N.V.",
        "payment_processor",
        "payment;fraud_prevention;sales_reconciliation",
        11.5,
        "contact;payment",
    ),
    Processor("Stripe Payments Europe Ltd", "payment_processor", "payment; refunds", 9.0, "contact;payment"),
    Processor("DHL Express", "shipping", "delivery;customs_clearance", 12.0, "contact;address;order"),
    Processor("UPS Europe SRL", "shipping", "delivery", 7.0, "contact;address;order"),
    Processor("Amazon Web Services EMEA SARL", "it_hosting", "hosting;backup", 12.0, "contact;order;usage"),
    Processor("Zendesk Inc.", "support_tool", "customer_support", 8.0, "contact;ticket"),
    Processor("Matomo Analytics", "analytics", "site_analytics;conversion_reporting", 6.0, "usage"),
    Processor("Mailjet SAS", "it_hosting", "email_delivery", 5.0, "contact"),
    Processor("Sendcloud B.V.", "shipping", "delivery;returns", None, "contact;address"),
)


@dataclass(frozen=True)
class Route:
    """A recurring transfer: who receives whose data where, under which safeguard."""

    recipient: str
    destination: str
    region: str
    mechanism: str
    data: str


ROUTES: tuple[Route, ...] = (
    Route("Amazon Web Services Inc.", "US", "EEA", "adequacy", "contact;order;usage"),
    Route("Amazon Web Services Inc.", "US", "UK", "adequacy", "contact;order;usage"),
    Route("Zendesk Inc.", "US", "EEA", "scc", "contact;ticket"),
    Route("Infosys BPM (Bengaluru support centre)", "IN", "EEA", "scc", "contact;ticket"),
    Route("Infosys BPM (Bengaluru support centre)", "IN", "UK", "scc", "contact;ticket"),
    Route("Jewels Group FZE (Dubai)", "AE", "EEA", "bcr", "contact;order"),
    Route("Shenzhen Lumière Manufacturing Co.", "CN", "EEA", "scc", "contact;address"),
    Route("Shenzhen Lumière Manufacturing Co.", "CN", "OTHER", "none", "contact;address"),
    Route("Jewels Group Brasil Ltda", "BR", "CH", "scc", "contact;order"),
    Route("Shopify Inc.", "CA", "EEA", "adequacy", "contact;order"),
    Route("Rakuten Logistics", "JP", "UK", "adequacy", "contact;address;order"),
)

_STAFF_ROLES = ("customer_support", "fulfillment", "finance", "marketing", "engineering", "privacy_office")
_ROLE_SHARE = (0.32, 0.2, 0.14, 0.14, 0.14, 0.06)
_DEPARTMENTS = {
    "customer_support": "Partner Care",
    "fulfillment": "Warehouse & Logistics",
    "finance": "Finance",
    "marketing": "Marketing",
    "engineering": "Platform Engineering",
    "privacy_office": "Legal & Privacy",
}
_ACTION_SHARES = {"read": 0.84, "update": 0.09, "export": 0.04, "delete": 0.03}
_JUSTIFICATIONS = (
    "Quarterly VAT reconciliation",
    "Partner asked for a copy of its invoices",
    "Carrier claim for a lost parcel",
    "Data subject access request",
    "Chargeback evidence",
    "Year-end audit sample",
)


def dpa_signed(processor: Processor, timeline: Timeline) -> int:
    """When the processor's DPA was signed (NEVER: it has none)."""
    if processor.years_ago is None:
        return NEVER
    return timeline.now - int(processor.years_ago * 365.25) * DAY + 10 * HOUR


def processors_table(timeline: Timeline) -> pa.Table:
    """processors: the register of approved service providers."""
    signed = [dpa_signed(p, timeline) for p in PROCESSORS]
    return pa.table(
        {
            "recipient": pa.array([p.recipient for p in PROCESSORS], pa.string()),
            "category": pa.array([p.category for p in PROCESSORS], pa.string()),
            "allowed_purposes": pa.array([p.purposes for p in PROCESSORS], pa.string()),
            "dpa_signed_at": col.timestamps(np.array(signed, np.int64)),
        }
    )


def shares_table(scale: float, timeline: Timeline, first: int, rng: np.random.Generator) -> pa.Table:
    """data_shares: a monthly batch to each processor since its DPA, for its allowed purposes."""
    rows: dict[str, list] = {
        k: [] for k in ("recipient", "category", "purpose", "data", "at", "count", "anon")
    }
    for p in PROCESSORS:
        if p.years_ago is None:
            continue
        since = dpa_signed(p, timeline)
        months = np.arange(1, int(p.years_ago * 12))
        at = add_months(np.full(len(months), since), months) + rng.integers(HOUR, 20 * DAY, len(months))
        at = at[at < timeline.now - HOUR]
        purposes = [x.strip() for x in p.purposes.split(";")]
        rows["recipient"] += [p.recipient] * len(at)
        rows["category"] += [p.category] * len(at)
        rows["purpose"] += [purposes[i] for i in rng.integers(0, len(purposes), len(at))]
        rows["data"] += [p.data] * len(at)
        rows["at"].append(at)
        rows["count"].append(np.maximum(1, (rng.lognormal(0, 0.4, len(at)) * 400 * scale)).astype(np.int64))
        rows["anon"] += [p.category == "analytics"] * len(at)
    at = np.concatenate(rows["at"])
    order = np.argsort(at, kind="stable")
    pick = lambda key: [rows[key][i] for i in order]  # noqa: E731 - a local shorthand
    return pa.table(
        {
            "share_id": schemas.ids("data_shares", first, len(at)),
            "recipient": pa.array(pick("recipient"), pa.string()),
            "recipient_category": pa.array(pick("category"), pa.string()),
            "purpose": pa.array(pick("purpose"), pa.string()),
            "data_categories": pa.array(pick("data"), pa.string()),
            "shared_at": col.timestamps(at[order]),
            "record_count": pa.array(np.concatenate(rows["count"])[order], pa.int64()),
            "anonymized": pa.array(pick("anon"), pa.bool_()),
        }
    )


def transfers_table(timeline: Timeline, first: int, rng: np.random.Generator) -> pa.Table:
    """transfers: each route about every two weeks over the last five years, all encrypted."""
    per_route = 130
    route = np.repeat(np.arange(len(ROUTES)), per_route)
    at = np.sort(
        timeline.uniform(
            np.full(len(route), timeline.now - 5 * 365 * DAY), np.full(len(route), timeline.now - HOUR), rng
        )
    )
    route = route[rng.permutation(len(route))]
    field = lambda name: pa.array([getattr(ROUTES[r], name) for r in route], pa.string())  # noqa: E731
    return pa.table(
        {
            "transfer_id": schemas.ids("transfers", first, len(route)),
            "recipient": field("recipient"),
            "destination_country": field("destination"),
            "subject_region": field("region"),
            "mechanism": field("mechanism"),
            "data_categories": field("data"),
            "transferred_at": col.timestamps(at),
            "encrypted": pa.array(np.ones(len(route), bool)),
        }
    )


@dataclass
class Staff:
    """The staff table and each member's role, for the access log."""

    table: pa.Table
    role: np.ndarray
    active_from: np.ndarray
    active_to: np.ndarray


def staff_table(n: int, timeline: Timeline, first: int, rng: np.random.Generator) -> Staff:
    """staff: hired over the platform's life; a fifth have left; everyone active trained yearly."""
    now = timeline.now
    role = np.array(_STAFF_ROLES)[col.choice(list(_STAFF_ROLES), n, rng, list(_ROLE_SHARE))]
    active_from = timeline.uniform(np.full(n, timeline.start), np.full(n, now - 60 * DAY), rng)
    left = rng.random(n) < 0.2
    active_to = np.where(left, timeline.uniform(active_from + 180 * DAY, np.full(n, now - DAY), rng), NEVER)
    left &= active_to < now
    active_to = np.where(left, active_to, NEVER)
    trained = np.where(
        left, active_to - rng.integers(DAY, 300 * DAY, n), now - rng.integers(DAY, 320 * DAY, n)
    )
    trained = np.maximum(trained, active_from + DAY)
    table = pa.table(
        {
            "staff_id": schemas.ids("staff", first, n),
            "role": pa.array(role, pa.string()),
            "department": pa.array([_DEPARTMENTS[r] for r in role], pa.string()),
            "active_from": col.timestamps(active_from),
            "active_to": col.timestamps(active_to),
            "last_training_at": col.timestamps(trained),
        }
    )
    return Staff(table, role, active_from, active_to)


def access_log_table(
    staff: Staff,
    permissions: dict[str, list[str]],
    n: int,
    first: int,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pa.Table:
    """staff_access_log: permitted tables only, within employment, every export justified."""
    now = timeline.now
    member = rng.integers(0, len(staff.role), n)
    until = np.where(staff.active_to == NEVER, now - 60, staff.active_to - 60)[member]
    since = np.maximum(staff.active_from[member] + 60, now - 5 * 365 * DAY)
    ok = until > since
    member, until, since = member[ok], until[ok], since[ok]
    at = timeline.uniform(since, until, rng)
    order = np.argsort(at, kind="stable")
    member, at = member[order], at[order]
    m = len(member)
    names = list(
        dict.fromkeys([*TABLES, *(t for allowed in permissions.values() for t in allowed if t != "*")])
    )
    position = {name: i for i, name in enumerate(names)}
    table = np.zeros(m, np.int32)  # codes into names: a few dozen values over millions of rows
    for role in _STAFF_ROLES:
        here = staff.role[member] == role
        allowed = list(TABLES) if "*" in permissions[role] else permissions[role]
        codes = np.array([position[t] for t in allowed], np.int32)
        table[here] = codes[rng.integers(0, len(allowed), int(here.sum()))]
    actions = next(c.enum for c in TABLES["staff_access_log"].columns if c.name == "action")
    assert actions is not None and set(actions) == set(_ACTION_SHARES)
    drawn = col.choice(list(_ACTION_SHARES), m, rng, list(_ACTION_SHARES.values()))
    action = np.array([actions.index(a) for a in _ACTION_SHARES], np.int32)[drawn]
    read, export, delete = (actions.index(a) for a in ("read", "export", "delete"))
    action = np.where((action == delete) & (staff.role[member] != "privacy_office"), read, action)
    explained = (action == export) | (rng.random(m) < 0.15)
    why = col.pick(col.strings(list(_JUSTIFICATIONS)), rng.integers(0, len(_JUSTIFICATIONS), m), ~explained)
    options = col.strings(names)
    record = col.join(col.pick(options, table), col.random_text(m, 6, col.DIGITS, rng), sep=":")
    return pa.table(
        {
            "access_id": schemas.ids("staff_access_log", first, m),
            "staff_id": staff.table.column("staff_id").combine_chunks().take(pa.array(member)),
            "accessed_at": col.timestamps(at),
            "table_name": col.coded(options, table),
            "record_id": col.nulls_where(record, (action == export) & (rng.random(m) < 0.5)),
            "action": col.coded(col.strings(list(actions)), action),
            "justification": why,
        }
    )
