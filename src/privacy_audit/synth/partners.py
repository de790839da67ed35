"""Partner accounts, their contacts, addresses and legal holds: the lives everything else follows.

An account is created, trades, and may go dormant; contacts join, log in, leave. From those
lives follow when the platform must erase what (contacts of inactive accounts, people who left)
and when a legal hold stops it. The erasure instants computed here are what a well-run platform
would have recorded by as_of: never before a deadline, always within the grace period, never
while a hold is active.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.pools import CODES, COUNTRIES, Pools
from privacy_audit.synth.timeline import DAY, HOUR, NEVER, Timeline

_SEGMENTS = (
    "independent jeweler",
    "department store",
    "boutique",
    "online retailer",
    "museum shop",
    "bridal salon",
    "duty-free retailer",
    "concept store",
)
_HOLD_REASONS = (
    "VAT audit by the tax authority",
    "litigation: counterfeit claim",
    "customs investigation",
    "insurance claim",
    "chargeback dispute",
)
_RESALE = {"US": "??-SR-########", "CA": "PST-####-####"}
_PASSWORDS = (
    ("$2b$12$", 53, 0.55),
    ("$2y$10$", 53, 0.1),
    ("$argon2id$v=19$m=65536,t=3,p=4$", 60, 0.22),
    ("pbkdf2_sha256$600000$", 66, 0.1),
    ("$scrypt$ln=16,r=8,p=1$", 60, 0.03),
)


@dataclass
class Partners:
    """One chunk's accounts and contacts, with the instants their lives and erasures need."""

    account_ids: pa.Array
    country: np.ndarray  # index into COUNTRIES
    firm: np.ndarray  # pool index of the company name and e-mail domain
    created: np.ndarray
    active_end: np.ndarray
    hold_placed: np.ndarray  # NEVER: no hold
    hold_released: np.ndarray  # NEVER: still active (or no hold)
    account_erased: np.ndarray
    contact_ids: pa.Array
    owner: np.ndarray  # account index of each contact
    start: np.ndarray
    last_login: np.ndarray  # NEVER: never logged in
    contact_erased: np.ndarray
    erased_by_deletion: np.ndarray  # bool: deleted_at rather than anonymized_at

    @property
    def accounts(self) -> int:
        return len(self.created)

    @property
    def contacts(self) -> int:
        return len(self.owner)

    @property
    def active_until(self) -> np.ndarray:
        """The end of each contact's activity window (its last login, or its creation)."""
        return np.where(self.last_login == NEVER, self.start, self.last_login)

    def hold_free(self, t: np.ndarray, account: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Erasure instants ``t`` moved out of legal holds on ``account``.

        An erasure that falls under a hold still active at as_of does not happen (the records
        stay, exempt); one under a released hold happens a few days after the release.
        """
        placed, released = self.hold_placed[account], self.hold_released[account]
        under = (t != NEVER) & (placed != NEVER) & (t >= placed) & (t < released)
        later = released + rng.integers(HOUR, 5 * DAY, len(t))
        return np.where(under, np.where(released == NEVER, NEVER, later), t)


def due(deadline: np.ndarray, timeline: Timeline, rng: np.random.Generator) -> np.ndarray:
    """When the monthly job erased a record whose deadline is ``deadline``; NEVER if not yet.

    It runs after the deadline and within 20 days of it (inside the 30 days of grace); a
    record whose deadline is within a day of as_of is left for the next run, which is lawful.
    """
    now = timeline.now
    ready = (deadline != NEVER) & (deadline < now - DAY)
    room = np.minimum(20 * DAY, np.maximum(now - deadline - HOUR, HOUR))
    return np.where(
        ready, deadline + HOUR + (rng.random(len(deadline)) * (room - HOUR)).astype(np.int64), NEVER
    )


def plan_partners(
    n_contacts: int,
    first_account: int,
    first_contact: int,
    pools: Pools,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Partners:
    """Accounts until exactly ``n_contacts`` contacts, with lives, holds and routine erasures."""
    now = timeline.now
    per_account = 1 + np.minimum(rng.geometric(0.55, n_contacts) - 1, 7)
    n_accounts = int(np.searchsorted(np.cumsum(per_account), n_contacts) + 1)
    per_account = per_account[:n_accounts]
    per_account[-1] -= int(per_account.sum() - n_contacts)
    weights = np.array([c.weight for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), n_accounts, p=weights / weights.sum())
    created = timeline.sample(np.full(n_accounts, timeline.start), np.full(n_accounts, now - 30 * DAY), rng)
    churn = created + (rng.exponential(9 * 365, n_accounts) * DAY).astype(np.int64)
    churned = churn < now - 200 * DAY
    active_end = np.where(churned, np.maximum(churn, created + 60 * DAY), now)

    # Legal holds: a few active at as_of, a few released well before it.
    kind = rng.random(n_accounts)
    active_hold = kind < 0.01
    past_hold = (kind >= 0.01) & (kind < 0.025) & (created < now - 3 * 365 * DAY)
    placed = np.full(n_accounts, NEVER)
    released = np.full(n_accounts, NEVER)
    recent = np.maximum(created + DAY, now - 720 * DAY)
    placed[active_hold] = timeline.uniform(recent, np.full(n_accounts, now - 30 * DAY), rng)[active_hold]
    start_past = timeline.uniform(created + DAY, np.full(n_accounts, now - 720 * DAY), rng)
    placed[past_hold] = start_past[past_hold]
    released[past_hold] = np.minimum(start_past + rng.integers(60, 540, n_accounts) * DAY, now - 60 * DAY)[
        past_hold
    ]

    owner = np.repeat(np.arange(n_accounts), per_account)
    rank = np.arange(n_contacts) - np.repeat(np.cumsum(per_account) - per_account, per_account)
    a_created, a_end = created[owner], active_end[owner]
    start = np.where(
        rank == 0,
        a_created,
        a_created + (rng.random(n_contacts) * 0.8 * (a_end - a_created)).astype(np.int64),
    )
    start = np.minimum(start, now - 2 * DAY)
    roll = rng.random(n_contacts)
    left = (rank > 0) & (roll < 0.3)
    never = (rank > 0) & (roll > 0.97)
    ongoing = a_end == now
    recent_login = np.maximum(now - rng.integers(HOUR, 75 * DAY, n_contacts), start + HOUR)
    dormant_login = start + (rng.uniform(0.5, 1.0, n_contacts) * (a_end - start)).astype(np.int64)
    last_login = np.where(ongoing, recent_login, np.where(rank == 0, a_end, dormant_login))
    last_login = np.where(
        left, start + (rng.random(n_contacts) * (a_end - start)).astype(np.int64), last_login
    )
    last_login = np.where(never, NEVER, np.minimum(np.maximum(last_login, start + HOUR), now - HOUR))

    partners = Partners(
        account_ids=schemas.ids("accounts", first_account, n_accounts),
        country=country,
        firm=pools.index(country, rng),
        created=created,
        active_end=active_end,
        hold_placed=placed,
        hold_released=released,
        account_erased=np.full(n_accounts, NEVER),
        contact_ids=schemas.ids("contacts", first_contact, n_contacts),
        owner=owner,
        start=start,
        last_login=last_login,
        contact_erased=np.full(n_contacts, NEVER),
        erased_by_deletion=np.zeros(n_contacts, bool),
    )
    # People who left a partner are deleted some months later.
    gone = np.where(left | never, partners.active_until + rng.integers(30, 300, n_contacts) * DAY, NEVER)
    gone = partners.hold_free(np.where(gone < now - HOUR, gone, NEVER), owner, rng)
    # Inactive accounts: every contact erased, the account and its addresses anonymized.
    last_activity = np.maximum.reduceat(
        np.where(last_login == NEVER, a_created, np.maximum(last_login, a_created)),
        np.cumsum(per_account) - per_account,
    )
    inactive = partners.hold_free(
        due(timeline.inactivity_deadline(last_activity), timeline, rng), np.arange(n_accounts), rng
    )
    partners.account_erased = inactive
    partners.contact_erased = np.minimum(gone, inactive[owner])
    partners.erased_by_deletion = (gone < inactive[owner]) & (rng.random(n_contacts) < 0.7)
    return partners


def erase_contacts(partners: Partners, contacts: np.ndarray, at: np.ndarray) -> None:
    """Completed deletion requests: the contact is deleted at completion unless already erased."""
    earlier = at < partners.contact_erased[contacts]
    partners.contact_erased[contacts[earlier]] = at[earlier]
    partners.erased_by_deletion[contacts[earlier]] = True


def accounts_table(
    partners: Partners, pools: Pools, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """accounts: company, country, tax id, status; anonymized when the account went inactive."""
    n, now = partners.accounts, timeline.now
    codes = CODES[partners.country]
    churned = partners.active_end < now
    roll = rng.random(n)
    status = np.where(
        churned,
        np.where(roll < 0.65, "closed", np.where(roll < 0.75, "suspended", "active")),
        np.where(roll < 0.03, "suspended", "active"),
    )
    closed = np.where(
        status == "closed", np.minimum(partners.active_end + rng.integers(1, 150, n) * DAY, now - DAY), NEVER
    )
    erased = partners.account_erased != NEVER
    tax = pa.chunked_array([col.pattern(c.tax_id, n, rng) for c in COUNTRIES]).combine_chunks()
    tax_index = np.arange(n) + partners.country * n
    resale = np.full(n, None, object)
    for code, template in _RESALE.items():
        here = (codes == code) & (rng.random(n) < 0.8)
        resale[here] = np.array(col.pattern(template, int(here.sum()), rng).to_pylist(), object)
    return pa.table(
        {
            "account_id": partners.account_ids,
            "company_name": col.pick(pools.company, partners.firm, erased),
            "country": pa.array(codes, pa.string()),
            "tax_id": col.pick(tax, tax_index, erased),
            "resale_certificate": col.nulls_where(pa.array(resale, pa.string()), erased),
            "status": pa.array(status, pa.string()),
            "created_at": col.timestamps(partners.created),
            "closed_at": col.timestamps(closed),
            "anonymized_at": col.timestamps(partners.account_erased),
            "industry_segment": col.pick(col.strings(list(_SEGMENTS)), rng.integers(0, len(_SEGMENTS), n)),
            "credit_score": pa.array(rng.integers(420, 850, n), pa.int64(), mask=rng.random(n) < 0.3),
        }
    )


def contacts_table(
    partners: Partners, pools: Pools, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """contacts: the people, their logins and hashed passwords; erased ones keep only instants."""
    n = partners.contacts
    country = partners.country[partners.owner]
    who = pools.index(country, rng)
    erased = partners.contact_erased != NEVER
    email = col.join(
        col.pick(pools.email_local, who), "@", col.pick(pools.domain, partners.firm[partners.owner])
    )
    born = (partners.start // DAY - rng.uniform(21, 68, n) * 365.25).astype(np.int64)
    scheme = rng.choice(len(_PASSWORDS), n, p=[p for *_, p in _PASSWORDS])
    hashes = pa.chunked_array(
        [
            col.join(prefix, col.random_text(n, length - len(prefix), col.BASE64, rng))
            for prefix, length, _ in _PASSWORDS
        ]
    ).combine_chunks()
    no_password = erased | (rng.random(n) < 0.04)
    has_profile = rng.random(n) < 0.3
    profile = col.join(
        "https://www.linkedin.com/in/",
        col.pick(pools.email_local, who),
        "-",
        col.random_text(n, 4, col.HEXDIGITS, rng),
    )
    signup_ip = partners.start > timeline.now - 3 * 365 * DAY
    return pa.table(
        {
            "contact_id": partners.contact_ids,
            "account_id": partners.account_ids.take(pa.array(partners.owner)),
            "full_name": col.pick(pools.full_name, who, erased),
            "email": col.nulls_where(email, erased),
            "phone": col.pick(pools.phone, who, erased | (rng.random(n) < 0.1)),
            "role": col.pick(pools.roles, rng.integers(0, len(pools.roles), n), erased),
            "birth_date": col.dates(born, erased | (rng.random(n) > 0.35)),
            "password_hash": col.pick(hashes, np.arange(n) + scheme * n, no_password),
            "created_at": col.timestamps(partners.start),
            "last_login_at": col.timestamps(partners.last_login),
            "deleted_at": col.timestamps(partners.contact_erased, ~(erased & partners.erased_by_deletion)),
            "anonymized_at": col.timestamps(
                partners.contact_erased, ~(erased & ~partners.erased_by_deletion)
            ),
            "linkedin_url": col.nulls_where(profile, ~has_profile),
            "signup_ip": col.nulls_where(col.ipv4(n, rng), ~signup_ip),
        }
    )


@dataclass
class Addresses:
    """Each account's billing address and shipping addresses, for orders to point at."""

    table: pa.Table
    billing: np.ndarray  # row index per account
    shipping_first: np.ndarray
    shipping_count: np.ndarray


def addresses_table(
    partners: Partners, pools: Pools, first_address: int, rng: np.random.Generator
) -> Addresses:
    """A headquarters and a billing address per account, and one to three shipping addresses."""
    n = partners.accounts
    shipping = rng.integers(1, 4, n)
    per = 2 + shipping
    account = np.repeat(np.arange(n), per)
    pos = np.arange(len(account)) - np.repeat(np.cumsum(per) - per, per)
    kind = np.where(pos == 0, "headquarters", np.where(pos == 1, "billing", "shipping"))
    country = partners.country[account]
    abroad = (pos >= 3) & (rng.random(len(account)) < 0.15)
    country = np.where(abroad, rng.integers(0, len(COUNTRIES), len(account)), country)
    where = pools.index(country, rng)
    erased = partners.account_erased[account] != NEVER
    table = pa.table(
        {
            "address_id": schemas.ids("addresses", first_address, len(account)),
            "account_id": partners.account_ids.take(pa.array(account)),
            "kind": pa.array(kind, pa.string()),
            "line1": col.pick(pools.line1, where, erased),
            "city": col.pick(pools.city, where, erased),
            "postal_code": col.pick(pools.postcode, where, erased),
            "country": pa.array(CODES[country], pa.string()),
            "anonymized_at": col.timestamps(partners.account_erased[account]),
        }
    )
    first = np.cumsum(per) - per
    return Addresses(table, first + 1, first + 2, shipping)


def holds_table(partners: Partners, first_hold: int, rng: np.random.Generator) -> pa.Table:
    """legal_holds: one row per held account."""
    held = np.flatnonzero(partners.hold_placed != NEVER)
    reasons = col.strings(list(_HOLD_REASONS))
    return pa.table(
        {
            "hold_id": schemas.ids("legal_holds", first_hold, len(held)),
            "account_id": partners.account_ids.take(pa.array(held, pa.int64())),
            "reason": col.pick(reasons, rng.integers(0, len(_HOLD_REASONS), len(held))),
            "placed_at": col.timestamps(partners.hold_placed[held]),
            "released_at": col.timestamps(partners.hold_released[held]),
        }
    )
