"""Orders, order items and payments: twelve seasonal years of wholesale trade.

Each contact orders while active, more in the weeks before Valentine's Day and the Q4 holidays.
An order is erased within the grace period after its retention (by the partner's country, never
the ship-to country) ends: anonymized, or destroyed and left as a tombstone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.catalog import Catalog
from privacy_audit.synth.partners import Addresses, Partners, due
from privacy_audit.synth.pools import CODES, COUNTRIES, Pools
from privacy_audit.synth.rights import Kept, Requests, settle_orders
from privacy_audit.synth.timeline import DAY, HOUR, NEVER, Timeline, add_years

ORDERS_PER_CONTACT = 10.0
_QUANTITIES = np.array([1, 2, 3, 4, 6, 10, 12, 24])
_QUANTITY_SHARE = np.array([0.18, 0.2, 0.12, 0.1, 0.16, 0.08, 0.12, 0.04])
_METHODS = ("card", "bank_transfer", "paypal", "net_terms")
_PROCESSORS = {
    "card": ("Stripe", "Adyen", "Worldpay"),
    "bank_transfer": ("HSBC", "BNP Paribas", "Deutsche Bank", "Barclays"),
    "paypal": ("PayPal",),
    "net_terms": ("Allianz Trade",),
}
_PAYMENT_DELAY = {
    "card": (60, DAY),
    "bank_transfer": (DAY, 10 * DAY),
    "paypal": (60, HOUR),
    "net_terms": (25 * DAY, 65 * DAY),
}
_WHOLE_UNITS = {"JPY", "KRW"}
_STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
PLACED, SHIPPED, DELIVERED, RETURNED, CANCELLED = range(len(_STATUSES))
_CURRENCIES = tuple(sorted({c.currency for c in COUNTRIES}))
_CURRENCY = np.array([_CURRENCIES.index(c.currency) for c in COUNTRIES])  # per country


@dataclass
class Trade:
    """One chunk's commerce tables and the retention exceptions its deletions produced."""

    orders: pa.Table
    items: pa.Table
    payments: pa.Table
    exceptions: pa.Table


def trade(
    partners: Partners,
    addresses: Addresses,
    requests: Requests,
    catalog: Catalog,
    pools: Pools,
    first: dict[str, int],
    timeline: Timeline,
    rng: np.random.Generator,
) -> Trade:
    """Orders for every active contact, with items, payments and their lawful erasure."""
    now = timeline.now
    span = (partners.active_until - partners.start) / (365.25 * DAY)
    appetite = rng.lognormal(0, 0.8, partners.accounts)[partners.owner] * (span + 0.15)
    appetite *= ORDERS_PER_CONTACT * partners.contacts / max(appetite.sum(), 1e-9)
    count = rng.poisson(appetite) * (partners.last_login != NEVER)
    contact = np.repeat(np.arange(partners.contacts), count)
    placed = timeline.sample(partners.start[contact], partners.active_until[contact] + 1, rng)
    order = np.argsort(placed, kind="stable")
    contact, placed = contact[order], placed[order]
    n = len(contact)
    account = partners.owner[contact]
    country = partners.country[account]
    day = placed // DAY
    age = now - placed
    roll = rng.random(n)
    status = np.where(
        age < 3 * DAY,
        PLACED,
        np.where(
            age < 14 * DAY,
            np.where(roll < 0.7, SHIPPED, PLACED),
            np.where(roll < 0.9, DELIVERED, np.where(roll < 0.93, RETURNED, CANCELLED)),
        ),
    )
    deadline = add_years(day * DAY, timeline.retention_years(CODES[country]))
    erased = partners.hold_free(due(deadline, timeline, rng), account, rng)
    order_ids = schemas.ids("orders", first["orders"], n)
    kept: Kept = settle_orders(
        requests,
        first["privacy_requests"],
        first["retention_exceptions"],
        {
            "contact": contact,
            "erased": erased,
            "deadline": deadline,
            "day": day,
            "status": np.array(_STATUSES)[status],
        },
        order_ids,
        now,
        rng,
    )
    is_erased = erased != NEVER
    tombstone = is_erased & (rng.random(n) < 0.15)

    lines = 1 + np.minimum(rng.poisson(1.5, n), 7)
    line_order = np.repeat(np.arange(n), lines)
    line_no = np.arange(len(line_order)) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    product = rng.choice(catalog.size, len(line_order), p=catalog.popularity)
    quantity = _QUANTITIES[rng.choice(len(_QUANTITIES), len(line_order), p=_QUANTITY_SHARE)]
    per_euro = np.array([c.per_euro for c in COUNTRIES])[country[line_order]]
    whole = np.isin(np.array([c.currency for c in COUNTRIES])[country[line_order]], list(_WHOLE_UNITS))
    price = catalog.price_cents[product] * per_euro * rng.uniform(0.85, 1.0, len(line_order))
    unit = np.where(whole, np.round(price / 100) * 100, np.round(price)).astype(np.int64)
    total = np.add.reduceat(unit * quantity, np.cumsum(lines) - lines)

    shipping = (
        addresses.shipping_first[account] + rng.integers(0, 1 << 30, n) % addresses.shipping_count[account]
    )
    ship_country = np.where(rng.random(n) < 0.93, country, rng.integers(0, len(COUNTRIES), n))
    address_ids = addresses.table.column("address_id").combine_chunks()
    orders = pa.table(
        {
            "order_id": order_ids,
            "account_id": partners.account_ids.take(pa.array(account)),
            "contact_id": col.nulls_where(
                partners.contact_ids.take(pa.array(contact)), is_erased | kept.unlink
            ),
            "order_date": col.dates(day),
            "status": col.coded(col.strings(list(_STATUSES)), status),
            "total_amount": col.money(total),
            "currency": col.coded(col.strings(list(_CURRENCIES)), _CURRENCY[country]),
            "ship_country": col.coded(col.strings(list(CODES)), ship_country),
            "billing_address_id": col.pick(address_ids, addresses.billing[account], is_erased),
            "shipping_address_id": col.pick(address_ids, shipping, is_erased),
            "anonymized_at": col.timestamps(erased, tombstone),
            "deleted_at": col.timestamps(erased, ~tombstone),
            "gift_message": col.coded(
                pools.gift_messages, rng.integers(0, pools.size, n), rng.random(n) > 0.02
            ),
        }
    )
    items = pa.table(
        {
            "order_id": order_ids.take(pa.array(line_order)),
            "line_no": pa.array(line_no, pa.int64()),
            "product_id": col.coded(catalog.table.column("product_id").combine_chunks(), product),
            "quantity": pa.array(quantity, pa.int64()),
            "unit_price": col.money(unit),
        }
    )
    return Trade(
        orders, items, _payments(placed, status, order_ids, first["payments"], now, rng), kept.exceptions
    )


def _payments(
    placed: np.ndarray,
    status: np.ndarray,
    order_ids: pa.Array,
    first: int,
    now: int,
    rng: np.random.Generator,
) -> pa.Table:
    """One payment per order (half of the cancelled ones were never paid); cards only masked."""
    paid = np.flatnonzero((status != CANCELLED) | (rng.random(len(status)) < 0.5))
    n = len(paid)
    method = rng.choice(len(_METHODS), n, p=[0.38, 0.32, 0.1, 0.2])
    processors = [p for name in _METHODS for p in _PROCESSORS[name]]
    processor = np.empty(n, np.int64)
    delay = np.empty(n, np.int64)
    for m, name in enumerate(_METHODS):
        here = method == m
        options = _PROCESSORS[name]
        first_option = processors.index(options[0])
        processor[here] = first_option + rng.integers(0, len(options), int(here.sum()))
        low, high = _PAYMENT_DELAY[name]
        delay[here] = rng.integers(low, high, int(here.sum()))
    card = method == 0
    last4 = col.random_text(n, 4, col.DIGITS, rng)
    style = rng.random(n)
    masked = pa.chunked_array(
        [
            col.join("**** **** **** ", last4),
            col.join("XXXX-XXXX-XXXX-", last4),
            col.join("************", last4),
        ]
    ).combine_chunks()
    form = np.where(style < 0.6, 0, np.where(style < 0.75, 1, 2))
    return pa.table(
        {
            "payment_id": schemas.ids("payments", first, n),
            "order_id": order_ids.take(pa.array(paid, pa.int64())),
            "method": col.coded(col.strings(list(_METHODS)), method),
            "card_last4": col.nulls_where(last4, ~card),
            "card_number": col.pick(masked, np.arange(n) + form * n, ~card | (style > 0.9)),
            "processor": col.coded(col.strings(processors), processor),
            "processed_at": col.timestamps(np.minimum(placed[paid] + delay, now - 60)),
            "card_cvv": col.nulls_where(
                col.random_text(n, 3, col.DIGITS, rng), ~card | (rng.random(n) > 0.005)
            ),
        }
    )
