"""Support tickets: partners write in about orders, invoices and logins.

A closed ticket is erased within the grace period after its retention ends, or when its
person's deletion request is completed. Texts come from pools checked to hold nothing that
looks like a card number, so only planted tickets can meet MIN-CARD-IN-TEXT.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.partners import Partners, due
from privacy_audit.synth.pools import Pools
from privacy_audit.synth.rights import Requests
from privacy_audit.synth.timeline import DAY, NEVER, Timeline, add_years

TICKETS_PER_CONTACT = 0.8
_CHANNELS = ("email", "portal", "phone", "chat")


def tickets_table(
    partners: Partners,
    requests: Requests,
    pools: Pools,
    first: int,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pa.Table:
    """support_tickets for active contacts; open ones only from the last days before as_of."""
    now = timeline.now
    span = (partners.active_until - partners.start) / (365.25 * DAY) + 0.2
    expected = span * TICKETS_PER_CONTACT * partners.contacts / span.sum()
    contact = np.repeat(np.arange(partners.contacts), rng.poisson(expected) * (partners.last_login != NEVER))
    opened = timeline.sample(partners.start[contact], partners.active_until[contact] + 1, rng)
    order = np.argsort(opened, kind="stable")
    contact, opened = contact[order], opened[order]
    n = len(contact)
    closed = opened + rng.integers(20 * 60, 12 * DAY, n)
    closed = np.where(closed < now - 60, closed, NEVER)
    account = partners.owner[contact]
    deadline = np.where(
        closed == NEVER,
        NEVER,
        add_years(np.where(closed == NEVER, 0, closed), timeline.policy.ticket_retention_years),
    )
    erased = partners.hold_free(due(deadline, timeline, rng), account, rng)
    deleting = requests.done("deletion")
    completion = np.full(partners.contacts, NEVER)
    completion[requests.contact[deleting]] = requests.completed[deleting]
    erased = np.minimum(erased, completion[contact])
    gone = erased != NEVER
    channel = col.choice(list(_CHANNELS), n, rng, [0.4, 0.25, 0.2, 0.15])
    text = rng.integers(0, len(pools.subjects), n)
    return pa.table(
        {
            "ticket_id": schemas.ids("support_tickets", first, n),
            "account_id": partners.account_ids.take(pa.array(account)),
            "contact_id": col.nulls_where(partners.contact_ids.take(pa.array(contact)), gone),
            "opened_at": col.timestamps(opened),
            "closed_at": col.timestamps(closed),
            "channel": pa.array(np.array(_CHANNELS)[channel], pa.string()),
            "subject": col.pick(pools.subjects, text, gone | ((channel == 2) & (rng.random(n) < 0.5))),
            "body": col.pick(pools.bodies, text, gone),
            "anonymized_at": col.timestamps(erased),
            "agent_notes": col.pick(
                pools.agent_notes, rng.integers(0, len(pools.agent_notes), n), rng.random(n) > 0.1
            ),
        }
    )
