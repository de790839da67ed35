"""Communication preferences and e-mail: newsletters that honour opt-outs, and policy notices.

Preferences form a history per contact and topic (opt-ins at sign-up, later opt-outs, and an
opt-out of every topic when an objection, consent withdrawal or restriction is completed, which
RIGHTS-OBJECTION-IGNORED holds the platform to). Marketing and survey mails are drawn first and then filtered by the preference in
force at their send time, ties counting as opted out, the semantics the rule checks. Every
contact that exists when a major policy version is published gets its notice before it takes
effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.inforce import in_force
from privacy_audit.synth.partners import Partners
from privacy_audit.synth.policies import PolicyVersion
from privacy_audit.synth.rights import Requests
from privacy_audit.synth.timeline import DAY, Timeline

TOPICS = ("new_collections", "promotions", "market_trends", "surveys")
_YEAR = 365.25 * DAY
# Mails per contact-year of each kind: (kind, rate, topics it may carry).
_MAILS = (("marketing", 2.2, (0, 1, 2)), ("survey", 0.35, (3,)), ("transactional", 1.2, ()))
_KINDS = (*(kind for kind, *_ in _MAILS), "policy_notice")
MARKETING, SURVEY, TRANSACTIONAL, NOTICE = range(len(_KINDS))


@dataclass
class Mail:
    """One chunk's communication_preferences and email_sends."""

    preferences: pa.Table
    sends: pa.Table


def mail(
    partners: Partners,
    requests: Requests,
    versions: list[PolicyVersion],
    first_send: int,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Mail:
    """Preference histories, then every send they allow, then the policy notices."""
    now, n = timeline.now, partners.contacts
    end = np.minimum(np.minimum(partners.active_until + 180 * DAY, partners.contact_erased), now - 60)
    reachable = end > partners.start + DAY

    # Preference rows: (contact, topic, opted_in, updated_at).
    c = np.repeat(np.arange(n), len(TOPICS))
    topic = np.tile(np.arange(len(TOPICS)), n)
    initial = reachable[c] & (rng.random(len(c)) < 0.35)
    t1 = partners.start[c] + rng.integers(60, 3 * DAY, len(c))
    v1 = rng.random(len(c)) < 0.85
    changed = reachable[c] & (rng.random(len(c)) < 0.12)
    t2 = timeline.uniform(t1 + DAY, end[c], rng)
    v2 = initial & ~v1
    withdrawn = np.concatenate([requests.done(k) for k in ("consent_withdrawal", "objection", "restriction")])
    w_contact = np.repeat(requests.contact[withdrawn], len(TOPICS))
    pref = {
        "contact": np.concatenate([c[initial], c[changed], w_contact]),
        "topic": np.concatenate(
            [topic[initial], topic[changed], np.tile(np.arange(len(TOPICS)), len(withdrawn))]
        ),
        "opted_in": np.concatenate([v1[initial], v2[changed], np.zeros(len(w_contact), bool)]),
        "at": np.concatenate(
            [t1[initial], t2[changed], np.repeat(requests.completed[withdrawn], len(TOPICS))]
        ),
    }
    live = pref["at"] < now
    pref = {k: v[live] for k, v in pref.items()}

    years = np.where(reachable, (end - partners.start) / _YEAR, 0)
    parts = []
    for code, (_, rate, topics) in enumerate(_MAILS):
        who = np.repeat(np.arange(n), rng.poisson(years * rate))
        at = timeline.sample(partners.start[who], end[who], rng)
        chosen = np.array(topics)[rng.integers(0, len(topics), len(who))] if topics else np.full(len(who), -1)
        parts.append((who, at, np.full(len(who), code), chosen, np.full(len(who), -1)))
    majors = [v for v in versions if v.major]
    for number, version in enumerate(majors):
        who = np.flatnonzero(
            (partners.start < version.published_at) & (partners.contact_erased > version.published_at)
        )
        at = version.published_at + (
            rng.random(len(who)) * (version.effective_at - version.published_at)
        ).astype(np.int64)
        sent = (at < now) & (at < partners.contact_erased[who])
        who, at = who[sent], at[sent]
        parts.append((who, at, np.full(len(who), NOTICE), np.full(len(who), -1), np.full(len(who), number)))
    who, at, kind, chosen, policy = (np.concatenate(x) for x in zip(*parts, strict=True))

    optional = (kind == MARKETING) | (kind == SURVEY)
    found, grant = in_force(
        pref["contact"] * len(TOPICS) + pref["topic"],
        pref["at"],
        {"opted_in": pref["opted_in"]},
        who * len(TOPICS) + np.maximum(chosen, 0),
        at,
        timeline.start - DAY,
    )
    keep = ~optional | ~found | grant["opted_in"]
    order = np.flatnonzero(keep)[np.argsort(at[keep], kind="stable")]
    who, at, kind, chosen, policy = who[order], at[order], kind[order], chosen[order], policy[order]
    unsubscribe = (
        (kind == MARKETING) | (kind == SURVEY) | ((kind == TRANSACTIONAL) & (rng.random(len(kind)) < 0.1))
    )
    sends = pa.table(
        {
            "send_id": schemas.ids("email_sends", first_send, len(who)),
            "contact_id": partners.contact_ids.take(pa.array(who, pa.int64())),
            "sent_at": col.timestamps(at),
            "kind": col.coded(col.strings(list(_KINDS)), kind),
            "topic": col.coded(col.strings(list(TOPICS)), np.maximum(chosen, 0), chosen < 0),
            "policy_version": col.coded(
                col.strings([v.version for v in majors]), np.maximum(policy, 0), policy < 0
            ),
            "has_unsubscribe_link": pa.array(unsubscribe),
        }
    )
    order = np.lexsort((pref["at"], pref["contact"]))
    preferences = pa.table(
        {
            "contact_id": partners.contact_ids.take(pa.array(pref["contact"][order], pa.int64())),
            "topic": col.pick(col.strings(list(TOPICS)), pref["topic"][order]),
            "opted_in": pa.array(pref["opted_in"][order]),
            "updated_at": col.timestamps(pref["at"][order]),
        }
    )
    return Mail(preferences, sends)
