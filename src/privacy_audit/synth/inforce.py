"""Which history row is in force at an instant: ``rules.sql.in_force_at``, in numpy.

A preference or cookie consent recorded at exactly the time of a send or event is in force for
it, and rows of one key that share a timestamp combine restrictively (ties never grant). The
background decides what it may send or track with exactly these semantics, vectorized over
millions of rows before any engine exists, so that it is clean by construction rather than by
luck; a test holds this mirror to the SQL the consent rules and the trend funnel run.
"""

from __future__ import annotations

import numpy as np

CATEGORIES = ("necessary", "analytics", "marketing", "personalization")
"""The tracking categories of web events, in the order of their codes."""
_SPAN = np.int64(1) << np.int64(36)  # more seconds than any history spans


def in_force(
    row_key: np.ndarray,
    row_time: np.ndarray,
    grants: dict[str, np.ndarray],
    query_key: np.ndarray,
    query_time: np.ndarray,
    origin: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For each query (key, time): whether a row is in force, and its combined ``grants``.

    Rows with equal key and time are merged: a grant holds only if every tied row grants it
    (a restriction such as do-not-track should be passed negated, as a grant). Keys are
    non-negative integers; ``origin`` is an instant no earlier than any time given.
    """
    if len(row_key) == 0:
        return np.zeros(len(query_key), bool), {k: np.zeros(len(query_key), bool) for k in grants}
    composite = row_key.astype(np.int64) * _SPAN + (row_time - origin)
    order = np.argsort(composite, kind="stable")
    composite = composite[order]
    starts = np.flatnonzero(np.r_[True, composite[1:] != composite[:-1]])
    merged = {
        k: np.minimum.reduceat(v[order].astype(np.int8), starts).astype(bool) for k, v in grants.items()
    }
    wanted = query_key.astype(np.int64) * _SPAN + (query_time - origin)
    group = np.searchsorted(composite[starts], wanted, side="right") - 1
    safe = np.maximum(group, 0)
    found = (group >= 0) & (composite[starts][safe] // _SPAN == query_key)
    return found, {k: v[safe] & found for k, v in merged.items()}


def tracking_allowed(category: np.ndarray, found: np.ndarray, grant: dict[str, np.ndarray]) -> np.ndarray:
    """CONSENT-TRACKING's verdict per event (``category``: codes into CATEGORIES): ``necessary``
    always; analytics by its grant; marketing and personalization by theirs and no do-not-track
    (``grant["tracked"]`` is DNT negated)."""
    necessary, analytics, marketing, _ = range(len(CATEGORIES))
    return (category == necessary) | (
        found
        & np.select(
            [category == analytics, category == marketing],
            [grant["analytics"], grant["marketing"] & grant["tracked"]],
            grant["personalization"] & grant["tracked"],
        )
    )
