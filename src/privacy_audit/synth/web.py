"""Web sessions: funnels from a landing page through product views to the cart and an order.

Each session shows a cookie banner first; what the visitor grants decides which tracking
categories fire. Candidate events are generated for every step of the funnel, then those the
consent in force does not allow are dropped, with the same in-force semantics the rule checks.
Usage data is erased a few days before its retention ends, and with its person's deletion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.catalog import COLLECTIONS, Catalog
from privacy_audit.synth.inforce import CATEGORIES, in_force, tracking_allowed
from privacy_audit.synth.partners import Partners
from privacy_audit.synth.pools import Pools
from privacy_audit.synth.rights import Requests
from privacy_audit.synth.timeline import DAY, NEVER, Timeline

SESSIONS_PER_CONTACT = 11.5
_ANONYMOUS_SHARE = 0.4
# Funnel steps in session order: (event_type, tracking_category, page).
_STEPS = (
    ("page_view", "analytics", "landing"),
    ("campaign_landing", "marketing", "landing"),
    ("product_view", "analytics", "product"),
    ("recommendation_click", "personalization", "product"),
    ("add_to_cart", "necessary", "/cart"),
    ("begin_checkout", "necessary", "/checkout"),
    ("order_confirmation", "necessary", "/checkout/confirmation"),
)
_STEP_CATEGORY = np.array([CATEGORIES.index(c) for _, c, _ in _STEPS])
_LANDINGS = ("/", *(f"/collections/{c.lower().replace(' ', '-')}" for c in COLLECTIONS))
_FIXED_PAGES = tuple(p for *_, p in _STEPS if p not in ("landing", "product"))
# Each step's page as a code into (landing pages, fixed pages, product pages); -1: chosen per event.
_STEP_PAGE = np.array(
    [len(_LANDINGS) + _FIXED_PAGES.index(p) if p in _FIXED_PAGES else -1 for *_, p in _STEPS]
)
_LANDING_STEP = np.array([p == "landing" for *_, p in _STEPS])
_DEVICES = ("desktop", "mobile", "tablet")
_REFERRERS = (
    "https://www.google.com/",
    "https://www.instagram.com/",
    "https://www.pinterest.com/",
    "https://www.bing.com/",
    "https://www.facebook.com/",
)
_CAMPAIGN = "https://newsletter.example-jewels.com/?utm_source=newsletter&utm_medium=email"


@dataclass
class Usage:
    """One chunk's web events and cookie consents."""

    events: pa.Table
    consents: pa.Table
    sessions: int


def usage(
    partners: Partners,
    requests: Requests,
    catalog: Catalog,
    pools: Pools,
    first: dict[str, int],
    timeline: Timeline,
    rng: np.random.Generator,
) -> Usage:
    """Logged-in sessions within each contact's active years, plus anonymous visitors."""
    now = timeline.now
    active = partners.last_login != NEVER
    span = (partners.active_until - partners.start) / (365.25 * DAY) + 0.1
    expected = (
        span
        * active
        * SESSIONS_PER_CONTACT
        * (1 - _ANONYMOUS_SHARE)
        * partners.contacts
        / (span * active).sum()
    )
    who = np.repeat(np.arange(partners.contacts), rng.poisson(expected))
    logged = timeline.sample(partners.start[who], partners.active_until[who] - 600, rng)
    anonymous = int(SESSIONS_PER_CONTACT * _ANONYMOUS_SHARE * partners.contacts)
    visits = timeline.sample(np.full(anonymous, timeline.start), np.full(anonymous, now - 3600), rng)
    start = np.concatenate([logged, visits])
    order = np.argsort(start, kind="stable")
    start = start[order]
    contact = np.concatenate([who, np.full(anonymous, -1)])[order]
    s = len(start)

    # The funnel of each session: how far the visitor gets.
    views = rng.geometric(0.45, s)
    campaign = rng.random(s) < 0.15
    recommended = rng.random(s) < 0.3
    cart = rng.random(s) < 0.3
    checkout = cart & (rng.random(s) < 0.55)
    ordered = checkout & (rng.random(s) < 0.7)
    counts = 1 + views + recommended + cart + checkout + ordered
    session = np.repeat(np.arange(s), counts)
    pos = np.arange(len(session)) - np.repeat(np.cumsum(counts) - counts, counts)
    bounds = np.cumsum(np.stack([np.ones(s, int), views, recommended, cart, checkout, ordered]), axis=0)[
        :, session
    ]
    step = np.select(
        [pos == 0, pos < bounds[1], pos < bounds[2], pos < bounds[3], pos < bounds[4]],
        [np.where(campaign[session], 1, 0), 2, 3, 4, 5],
        6,
    )
    first_event = np.cumsum(counts) - counts
    elapsed = np.cumsum(rng.integers(5, 150, len(session)))
    occurred = start[session] + elapsed - elapsed[first_event][session]

    # The cookie banner: most answer it before the first event; some change their mind later.
    consents = _consents(s, counts, occurred, first_event, start, rng)
    found, grant = in_force(
        consents["session"],
        consents["recorded"],
        {
            "analytics": consents["analytics"],
            "marketing": consents["marketing"],
            "personalization": consents["personalization"],
            "tracked": ~consents["dnt"],
        },
        session,
        occurred,
        timeline.start - DAY,
    )
    allowed = tracking_allowed(_STEP_CATEGORY[step], found, grant)
    keep = np.flatnonzero(allowed & (occurred < now))
    session, step, occurred = session[keep], step[keep], occurred[keep]
    n = len(keep)

    device = col.choice(list(_DEVICES), s, rng, [0.55, 0.35, 0.1])
    agents = pa.chunked_array([pools.user_agents[d] for d in _DEVICES]).combine_chunks()
    sizes = np.array([len(pools.user_agents[d]) for d in _DEVICES])
    agent = np.r_[0, np.cumsum(sizes)[:-1]][device] + rng.integers(0, 1 << 30, s) % sizes[device]
    v6 = rng.random(s) < 0.15
    ips = pa.chunked_array([col.ipv4(s, rng, ~v6), col.ipv6(s, rng, v6)]).combine_chunks()
    ip = np.where(v6, s - v6.sum() + np.cumsum(v6) - 1, np.cumsum(~v6) - 1)  # session → row of ips
    referrer = np.where(campaign, len(_REFERRERS), rng.integers(0, len(_REFERRERS), s))
    no_referrer = ~campaign & (rng.random(s) < 0.45)

    product = rng.choice(catalog.size, n, p=catalog.popularity)
    product_ids = catalog.table.column("product_id").combine_chunks()
    has_product = np.isin(step, (2, 3, 4))
    landing = np.where(rng.random(n) < 0.4, 0, rng.integers(1, len(_LANDINGS), n))
    pages = pa.chunked_array(
        [col.strings(list(_LANDINGS + _FIXED_PAGES)), col.join("/products/", product_ids)]
    ).combine_chunks()
    fixed = _STEP_PAGE[step]
    page = np.where(
        fixed >= 0, fixed, np.where(_LANDING_STEP[step], landing, len(_LANDINGS + _FIXED_PAGES) + product)
    )

    deleting = requests.done("deletion")
    forgotten = np.zeros(partners.contacts + 1, bool)
    forgotten[requests.contact[deleting]] = True
    owner = contact[session]
    erased = (occurred < timeline.usage_cutoff + 10 * DAY) | forgotten[owner]
    identified = (owner >= 0) & ~erased
    events = pa.table(
        {
            "event_id": schemas.ids("web_events", first["web_events"], n),
            "session_id": schemas.labels("sessions", first["sessions"] + session),
            "contact_id": col.pick(partners.contact_ids, np.maximum(owner, 0), ~identified),
            "occurred_at": col.timestamps(occurred),
            "event_type": col.coded(col.strings([t for t, *_ in _STEPS]), step),
            "page": col.coded(pages, page),
            "product_id": col.coded(product_ids, product, ~has_product),
            "ip_address": col.pick(ips, ip[session], erased),
            "user_agent": col.coded(agents, agent[session], erased),
            "device_type": col.coded(col.strings(list(_DEVICES)), device[session]),
            "referrer": col.coded(
                col.strings([*_REFERRERS, _CAMPAIGN]), referrer[session], no_referrer[session]
            ),
            "tracking_category": col.coded(col.strings(list(CATEGORIES)), _STEP_CATEGORY[step]),
        }
    )
    m = len(consents["session"])
    table = pa.table(
        {
            "consent_id": schemas.ids("cookie_consents", first["cookie_consents"], m),
            "session_id": schemas.labels("sessions", first["sessions"] + consents["session"]),
            "recorded_at": col.timestamps(consents["recorded"]),
            "analytics": pa.array(consents["analytics"]),
            "marketing": pa.array(consents["marketing"]),
            "personalization": pa.array(consents["personalization"]),
            "do_not_track": pa.array(consents["dnt"]),
        }
    )
    return Usage(events, table, s)


def _consents(
    s: int,
    counts: np.ndarray,
    occurred: np.ndarray,
    first_event: np.ndarray,
    start: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Banner answers a few seconds before each session's first event; some changed mid-session."""
    answered = np.flatnonzero(rng.random(s) < 0.88)
    rows = {
        "session": answered,
        "recorded": start[answered] - rng.integers(2, 40, len(answered)),
        "analytics": rng.random(len(answered)) < 0.7,
        "marketing": rng.random(len(answered)) < 0.4,
        "personalization": rng.random(len(answered)) < 0.5,
        "dnt": rng.random(len(answered)) < 0.08,
    }
    changed = answered[(counts[answered] >= 2) & (rng.random(len(answered)) < 0.08)]
    k = 1 + (rng.random(len(changed)) * (counts[changed] - 1)).astype(np.int64)
    before, after = occurred[first_event[changed] + k - 1], occurred[first_event[changed] + k]
    grant = rng.random(len(changed)) < 0.5
    later = {
        "session": changed,
        "recorded": before + 1 + (rng.random(len(changed)) * (after - before - 1)).astype(np.int64),
        "analytics": grant,
        "marketing": grant,
        "personalization": grant,
        "dnt": np.zeros(len(changed), bool),
    }
    return {k: np.concatenate([rows[k], later[k]]) for k in rows}
