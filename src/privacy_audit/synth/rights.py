"""Privacy requests answered the way §7 promises, and what a deletion leaves behind, with reasons.

Requests are verified before they are answered and answered within 30 days, or within 90 when
the extension was notified in the first 30. A completed deletion erases the contact, its
tickets and its web events; orders still under tax retention are either kept under a notified
retention exception or unlinked from the person (contact_id cleared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.partners import Partners
from privacy_audit.synth.timeline import DAY, HOUR, NEVER, Timeline

_OTHER_KINDS = ("access", "rectification", "portability", "restriction", "objection", "consent_withdrawal")
_OTHER_SHARE = (0.42, 0.2, 0.1, 0.06, 0.09, 0.13)


@dataclass
class Requests:
    """One chunk's privacy requests (contact indices and instants)."""

    contact: np.ndarray
    kind: np.ndarray
    received: np.ndarray
    verified: np.ndarray
    extension: np.ndarray
    completed: np.ndarray
    status: np.ndarray
    keep_orders: np.ndarray  # deletion answered by retention exceptions rather than unlinking

    def done(self, kind: str) -> np.ndarray:
        """Indices of completed requests of ``kind``."""
        return np.flatnonzero((self.kind == kind) & (self.status == "completed"))


def _answer(received: np.ndarray, now: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(received)
    extended = rng.random(n) < 0.08
    took = np.where(extended, rng.integers(31 * DAY, 85 * DAY, n), rng.integers(2 * HOUR, 28 * DAY, n))
    completed = received + took
    still_open = completed >= now
    extension = received + rng.integers(3 * DAY, 25 * DAY, n)
    extension = np.where(extended & (extension < now), extension, NEVER)
    verified = received + (rng.uniform(0.05, 0.5, n) * np.minimum(took, 3 * DAY)).astype(np.int64)
    verified = np.where(verified < now, verified, NEVER)
    status = np.where(still_open, "open", np.where(rng.random(n) < 0.07, "rejected", "completed"))
    return {
        "verified": verified,
        "extension": extension,
        "completed": np.where(still_open, NEVER, completed),
        "status": status,
    }


def plan_requests(partners: Partners, timeline: Timeline, rng: np.random.Generator) -> Requests:
    """Deletion requests from people who stopped using the platform, and every other kind."""
    now, n = timeline.now, partners.contacts
    last = partners.last_login
    never_held = partners.hold_placed[partners.owner] == NEVER
    leaving = np.flatnonzero(never_held & (last != NEVER) & (last < now - 60 * DAY) & (rng.random(n) < 0.06))
    received_del = last[leaving] + rng.integers(DAY, 500 * DAY, len(leaving))
    received_del = np.maximum(np.minimum(received_del, now - 35 * DAY), last[leaving] + HOUR)
    recent = rng.random(len(leaving)) < 0.06
    received_del = np.where(recent, now - rng.integers(DAY, 25 * DAY, len(leaving)), received_del)
    asking = np.flatnonzero((last != NEVER) & (rng.random(n) < 0.03))
    window_end = np.minimum(partners.active_until[asking] + 200 * DAY, now - HOUR)
    received_other = timeline.uniform(partners.start[asking] + DAY, window_end, rng)
    kinds = np.array(_OTHER_KINDS)[col.choice(list(_OTHER_KINDS), len(asking), rng, list(_OTHER_SHARE))]
    contact = np.concatenate([leaving, asking])
    received = np.concatenate([received_del, received_other])
    answer = _answer(received, now, rng)
    return Requests(
        contact=contact,
        kind=np.concatenate([np.full(len(leaving), "deletion"), kinds]),
        received=received,
        keep_orders=rng.random(len(contact)) < 0.5,
        **answer,
    )


def requests_table(requests: Requests, partners: Partners, first_request: int) -> pa.Table:
    """privacy_requests rows."""
    return pa.table(
        {
            "request_id": schemas.ids("privacy_requests", first_request, len(requests.contact)),
            "contact_id": partners.contact_ids.take(pa.array(requests.contact, pa.int64())),
            "kind": pa.array(requests.kind, pa.string()),
            "received_at": col.timestamps(requests.received),
            "verified_at": col.timestamps(requests.verified),
            "extension_notified_at": col.timestamps(requests.extension),
            "completed_at": col.timestamps(requests.completed),
            "status": pa.array(requests.status, pa.string()),
        }
    )


@dataclass
class Kept:
    """Orders a deletion left in place: exception rows, and orders to unlink from the person."""

    exceptions: pa.Table
    unlink: np.ndarray  # bool per order


def settle_orders(
    requests: Requests,
    first_request: int,
    first_exception: int,
    orders: dict[str, np.ndarray],
    order_ids: pa.Array,
    now: int,
    rng: np.random.Generator,
) -> Kept:
    """What completed deletions do to orders still holding the person at completion.

    ``orders`` has per-order ``contact`` (index), ``erased`` (instant or NEVER), ``deadline``
    (retention end, epoch seconds), ``day`` (order date) and ``status``.
    """
    deleting = requests.done("deletion")
    by_contact = np.full(int(orders["contact"].max(initial=-1)) + 2, -1)
    by_contact[requests.contact[deleting]] = deleting
    request = by_contact[orders["contact"]]
    completed = np.where(request >= 0, requests.completed[np.maximum(request, 0)], NEVER)
    still_there = (request >= 0) & (orders["erased"] > completed)
    keep = still_there & requests.keep_orders[np.maximum(request, 0)]
    rows = np.flatnonzero(keep)
    status, day = orders["status"][rows], orders["day"][rows]
    pending = day * DAY > completed[rows] - 30 * DAY
    reason = np.where(
        pending & np.isin(status, ("placed", "shipped")),
        "pending_order",
        np.where(status == "returned", "dispute", "tax"),
    )
    exceptions = pa.table(
        {
            "exception_id": schemas.ids("retention_exceptions", first_exception, len(rows)),
            "request_id": schemas.labels("privacy_requests", first_request + request[rows]),
            "table_name": pa.array(["orders"] * len(rows), pa.string()),
            "record_id": order_ids.take(pa.array(rows, pa.int64())),
            "reason": pa.array(reason, pa.string()),
            "retain_until": col.dates(orders["deadline"][rows] // DAY),
            "notified_at": col.timestamps(
                np.minimum(completed[rows] + rng.integers(60, 2 * DAY, len(rows)), now - 1)
            ),
        }
    )
    return Kept(exceptions, still_there & ~keep)
