"""The plant book: rows of planted violations and near misses, and the truth they make.

A plant lives on its own small partner (``PlantBook.partner``) that is clean in every other
respect: a recent login (so never inactive), policy notices for every major version (so no
NOTICE-NOT-SENT), bcrypt passwords, no consent or retention debt. Each plant then breaks exactly
the promise it is about and records the rule and record id it expects the audit to report, or,
for a near miss, why the audit must stay silent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

import numpy as np
import pyarrow as pa
from dateutil.relativedelta import relativedelta

from privacy_audit.policy import Policy
from privacy_audit.synth import schemas
from privacy_audit.synth.background import Anchors
from privacy_audit.synth.policies import PolicyVersion, in_force
from privacy_audit.synth.pools import COUNTRIES, Pools
from privacy_audit.synth.timeline import Timeline

EPOCH = datetime(1970, 1, 1)
Row = dict[str, object]


def instant(t: int) -> datetime:
    """Epoch seconds as a naive UTC datetime."""
    return EPOCH + timedelta(seconds=int(t))


def midnight(d: date | datetime) -> datetime:
    return datetime(d.year, d.month, d.day)


@dataclass
class Partner:
    """A planted partner: its account row, billing and shipping address ids, and country."""

    account: Row
    billing: str
    shipping: str

    @property
    def id(self) -> str:
        return str(self.account["account_id"])

    @property
    def country(self) -> str:
        return str(self.account["country"])


class PlantBook:
    """Collects planted rows per table, the truth (rule, record) and the near misses."""

    def __init__(
        self,
        timeline: Timeline,
        versions: list[PolicyVersion],
        pools: Pools,
        next_ids: dict[str, int],
        rng: np.random.Generator,
        anchors: Anchors,
    ) -> None:
        self.timeline = timeline
        self.policy: Policy = timeline.policy
        self.now = instant(timeline.now)
        self.versions = versions
        self.current = in_force(versions, timeline.now)
        self.pools = pools
        self.rng = rng
        self.anchors = anchors  # background records some plants attach to
        self.rows: dict[str, list[Row]] = defaultdict(list)
        self.truth: set[tuple[str, str]] = set()
        self.near: list[tuple[str, str, str]] = []
        self._next = dict(next_ids)

    # -- bookkeeping ---------------------------------------------------------------------------
    def new_id(self, table: str) -> str:
        number = self._next.get(table, 1)
        self._next[table] = number + 1
        return schemas.label(table, number)

    def add(self, table: str, **row: object) -> Row:
        key = schemas.KEYS.get(table)
        if key and key not in row:
            row[key] = self.new_id(table)
        self.rows[table].append(row)
        return row

    def violation(self, rule: str, record_id: str) -> None:
        self.truth.add((rule, record_id))

    def near_miss(self, rule: str, record_id: str, why: str) -> None:
        self.near.append((rule, record_id, why))

    def days_ago(self, days: float, hour: int = 10) -> datetime:
        return midnight(self.now - timedelta(days=days)) + timedelta(hours=hour)

    def years_ago(self, years: int, days: int = 0) -> datetime:
        return self.now - relativedelta(years=years) - timedelta(days=days)

    def _pool(self, country: str, name: str) -> str | None:
        index = [c.code for c in COUNTRIES].index(country) * self.pools.size + int(
            self.rng.integers(self.pools.size)
        )
        return getattr(self.pools, name)[index].as_py()

    def password(self) -> str:
        alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "$2b$12$" + "".join(alphabet[i] for i in self.rng.integers(0, 64, 53))

    # -- a clean partner and its people ----------------------------------------------------------
    def partner(
        self,
        country: str = "GB",
        *,
        created: datetime | None = None,
        status: str = "active",
        **account: object,
    ) -> Partner:
        """A new partner with a headquarters, a billing and a shipping address."""
        created = created or self.years_ago(4, 40)
        row = self.add(
            "accounts",
            company_name=self._pool(country, "company"),
            country=country,
            tax_id=f"{country}{int(self.rng.integers(10**8, 10**9))}",
            status=status,
            created_at=created,
            industry_segment="boutique",
            **account,
        )
        addresses = [
            self.add(
                "addresses",
                account_id=row["account_id"],
                kind=kind,
                line1=self._pool(country, "line1"),
                city=self._pool(country, "city"),
                postal_code=self._pool(country, "postcode"),
                country=country,
            )
            for kind in ("headquarters", "billing", "shipping")
        ]
        return Partner(row, str(addresses[1]["address_id"]), str(addresses[2]["address_id"]))

    def person(
        self,
        partner: Partner,
        *,
        created: datetime | None = None,
        last_login: datetime | None = None,
        erased_at: datetime | None = None,
        notices: bool = True,
        skip_notices: tuple[str, ...] = (),
        **fields: object,
    ) -> Row:
        """A contact of ``partner``: named, logged in days ago, notified of every major version.

        ``erased_at`` erases it (personal columns NULL, deleted_at set) unless ``fields`` say
        otherwise; notices go out only while the person exists.
        """
        joined = cast(datetime, partner.account["created_at"])
        created = created or midnight(joined) + timedelta(days=2, hours=9)
        country = partner.country
        row: Row = {
            "account_id": partner.id,
            "created_at": created,
            "last_login_at": last_login or self.days_ago(3, 8),
        }
        if erased_at is None:
            name = self._pool(country, "email_local")
            row |= {
                "full_name": self._pool(country, "full_name"),
                "email": f"{name}@{self._pool(country, 'domain')}",
                "phone": self._pool(country, "phone"),
                "role": "buyer",
                "password_hash": self.password(),
            }
        else:
            row["deleted_at"] = erased_at
        row |= fields
        contact = self.add("contacts", **row)
        if notices:
            self.notify(contact, erased_at, skip_notices)
        return contact

    def notify(self, contact: Row, erased_at: datetime | None, skip: tuple[str, ...] = ()) -> None:
        """Send the contact every major version's notice it is owed, a day after publication."""
        created = cast(datetime, contact["created_at"])
        for v in self.versions:
            published, effective = instant(v.published_at), instant(v.effective_at)
            if not v.major or v.version in skip or not created < published < self.now:
                continue
            if erased_at is not None and erased_at <= published:
                continue
            sent = min(published + timedelta(days=1), published + (effective - published) / 2)
            self.send(contact, "policy_notice", sent, policy_version=v.version)

    def send(self, contact: Row, kind: str, at: datetime, **fields: object) -> Row:
        row: Row = {"contact_id": contact["contact_id"], "sent_at": at, "kind": kind}
        row["has_unsubscribe_link"] = kind in ("marketing", "survey")
        return self.add("email_sends", **(row | fields))

    # -- commerce and support --------------------------------------------------------------------
    def retention_end(self, country: str, order_date: date) -> datetime:
        """order_date + order_retention_years of the partner's country (midnight)."""
        years = self.policy.order_retention_years.years_for(country)
        return midnight(order_date) + relativedelta(years=years)

    def order(
        self,
        partner: Partner,
        contact: Row | None,
        order_date: date,
        *,
        erased_at: datetime | None = None,
        tombstone: bool = False,
        **fields: object,
    ) -> Row:
        """An order with one line and its payment; erased (all personal NULL) at ``erased_at``."""
        unit = Decimal(int(self.rng.integers(20, 400))) + Decimal("0.95")
        quantity = int(self.rng.choice([2, 3, 6, 12]))
        currency = next(c.currency for c in COUNTRIES if c.code == partner.country)
        row: Row = {
            "account_id": partner.id,
            "order_date": order_date,
            "status": "delivered",
            "total_amount": unit * quantity,
            "currency": currency,
            "ship_country": partner.country,
        }
        if erased_at is None:
            row |= {
                "contact_id": contact["contact_id"] if contact else None,
                "billing_address_id": partner.billing,
                "shipping_address_id": partner.shipping,
            }
        else:
            row["deleted_at" if tombstone else "anonymized_at"] = erased_at
        order = self.add("orders", **(row | fields))
        self.add(
            "order_items",
            order_id=order["order_id"],
            line_no=1,
            product_id="PRD-000001",
            quantity=quantity,
            unit_price=unit,
        )
        self.add(
            "payments",
            order_id=order["order_id"],
            method="bank_transfer",
            processor="HSBC",
            processed_at=midnight(order_date) + timedelta(hours=15),
        )
        return order

    def ticket(
        self,
        partner: Partner,
        contact: Row | None,
        opened: datetime,
        *,
        closed: datetime | None = None,
        erased_at: datetime | None = None,
        **fields: object,
    ) -> Row:
        """A support ticket written by ``contact``; erased at ``erased_at`` if given."""
        text = int(self.rng.integers(len(self.pools.subjects)))
        row: Row = {"account_id": partner.id, "opened_at": opened, "closed_at": closed, "channel": "email"}
        if erased_at is None:
            row |= {
                "contact_id": contact["contact_id"] if contact else None,
                "subject": self.pools.subjects[text].as_py(),
                "body": self.pools.bodies[text].as_py(),
            }
        else:
            row["anonymized_at"] = erased_at
        return self.add("support_tickets", **(row | fields))

    def hold(self, partner: Partner, placed: datetime, released: datetime | None = None) -> Row:
        return self.add(
            "legal_holds",
            account_id=partner.id,
            reason="litigation: counterfeit claim",
            placed_at=placed,
            released_at=released,
        )

    def event(self, session: str, at: datetime, category: str, **fields: object) -> Row:
        """A web event; ``necessary`` ones need no consent."""
        kind = {
            "necessary": "add_to_cart",
            "analytics": "product_view",
            "marketing": "campaign_landing",
            "personalization": "recommendation_click",
        }[category]
        row: Row = {
            "session_id": session,
            "occurred_at": at,
            "event_type": kind,
            "page": "/cart",
            "device_type": "desktop",
            "tracking_category": category,
        }
        return self.add("web_events", **(row | fields))

    def consent(
        self, session: str, at: datetime, *, grant: bool = True, dnt: bool = False, **flags: bool
    ) -> Row:
        values = {"analytics": grant, "marketing": grant, "personalization": grant} | flags
        return self.add("cookie_consents", session_id=session, recorded_at=at, do_not_track=dnt, **values)

    def request(self, contact: Row, kind: str, received: datetime, **fields: object) -> Row:
        """A privacy request, verified an hour after receipt unless ``fields`` say otherwise."""
        row: Row = {
            "contact_id": contact["contact_id"],
            "kind": kind,
            "received_at": received,
            "verified_at": received + timedelta(hours=1),
            "status": "completed",
        }
        return self.add("privacy_requests", **(row | fields))

    # -- output ----------------------------------------------------------------------------------
    def tables(self) -> dict[str, pa.Table]:
        """The planted rows of every table, in the generator's schemas (absent keys are NULL)."""
        out = {}
        for table, rows in self.rows.items():
            target = schemas.schema(table)
            out[table] = pa.table(
                {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in target}, schema=target
            )
        return out
