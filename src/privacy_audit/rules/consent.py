"""Consent (§7.2, §7.4, §2.4): email opt-outs and cookie choices in force when they were needed.

"In force at time T" is the latest row recorded at or before T (a row recorded at exactly T
counts); rows of one key that share a timestamp are collapsed first into the most restrictive
of them (ties never grant). ``sql.history_spans`` and ``sql.in_force_at`` say it once, for these
rules and the trend report's consented funnel alike.
"""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import history_spans, in_force_at, moment

_PROMOTIONAL = "('marketing', 'survey')"
_TRACKED = "('analytics', 'marketing', 'personalization')"
# Tied consents of a session: a category granted only if every tied row grants it, DNT if any sets it.
COOKIE_CHOICES = {
    "analytics": "bool_and(analytics)",
    "marketing": "bool_and(marketing)",
    "personalization": "bool_and(personalization)",
    "do_not_track": "bool_or(do_not_track)",
}

rule(
    id="CONSENT-OPTOUT-IGNORED",
    severity=Severity.high,
    clauses=("7.2",),
    key="send_id",
    tables=("email_sends", "communication_preferences"),
    params=("require_marketing_opt_in",),
    what="""
        A `marketing` or `survey` email sent while the contact's preference for its topic was
        "opted out". The preference in force at `sent_at` is the contact's latest
        `communication_preferences` row for that topic with `updated_at <= sent_at`; when two
        rows share that timestamp, opted out wins. A survey send without a topic is taken as
        topic `surveys`. With no row in force (or a marketing send without a topic), the
        policy's `require_marketing_opt_in` decides, here {require_marketing_opt_in}: false (an
        opt-out regime) allows the send, true makes it a finding.
        """,
    why="""
        §7.2 promises that the preference center and the unsubscribe link work: someone who
        opted out of promotions or surveys receives none. Sending anyway is the complaint
        regulators hear most.
        """,
    example="""
        C1 opted out of `promotions` at 2025-03-01 09:00: a promotions send at 09:00 exactly is a
        finding, one at 08:59:59 is not (C1 had opted in before), and one on `new_collections`
        is not. C2 has no preference row: its sends pass unless the policy sets
        `require_marketing_opt_in: true`.
        """,
    sql=f"""
        WITH prefs AS (
            {history_spans("communication_preferences", ("contact_id", "topic"), "updated_at", {"opted_in": "bool_and(opted_in)"})}
        ),
        sends AS (
            SELECT send_id, contact_id, sent_at, kind,
                   coalesce(topic, CASE WHEN kind = 'survey' THEN 'surveys' END) AS topic
            FROM email_sends
            WHERE kind IN {_PROMOTIONAL}
        )
        SELECT s.send_id AS record_id, s.contact_id AS subject_id,
               CASE WHEN p.updated_at IS NULL
                    THEN printf('%s send of %s on topic %s went out with no opt-in on record, which the policy requires',
                                s.kind, {moment("s.sent_at")}, coalesce(s.topic, '(none)'))
                    ELSE printf('%s send of %s on topic %s went out while the contact was opted out of it since %s',
                                s.kind, {moment("s.sent_at")}, s.topic, {moment("p.updated_at")}) END AS detail
        FROM sends s
        LEFT JOIN prefs p
            ON p.contact_id = s.contact_id AND p.topic = s.topic
           AND {in_force_at("p", "updated_at", "s.sent_at")}
        WHERE NOT coalesce(p.opted_in, NOT $require_marketing_opt_in)
        """,
    checked=f"SELECT count(*) AS n FROM email_sends WHERE kind IN {_PROMOTIONAL}",
)

rule(
    id="CONSENT-NO-UNSUBSCRIBE",
    severity=Severity.medium,
    clauses=("7.2",),
    key="send_id",
    tables=("email_sends",),
    what="""
        A `marketing` or `survey` email sent without an unsubscribe link
        (`has_unsubscribe_link = false`). Transactional mail and policy notices need none.
        """,
    why="""
        §7.2: "Every marketing email we send includes an unsubscribe link", and surveys can be
        opted out of too. Without the link, the opt-out promise cannot be kept.
        """,
    example="""
        A survey send with `has_unsubscribe_link = false` is a finding; a transactional order
        confirmation without one is not.
        """,
    sql=f"""
        SELECT send_id AS record_id, contact_id AS subject_id,
               printf('%s send of %s has no unsubscribe link', kind, {moment("sent_at")}) AS detail
        FROM email_sends
        WHERE kind IN {_PROMOTIONAL} AND NOT has_unsubscribe_link
        """,
    checked=f"SELECT count(*) AS n FROM email_sends WHERE kind IN {_PROMOTIONAL}",
)

rule(
    id="CONSENT-TRACKING",
    severity=Severity.high,
    clauses=("2.4", "7.4"),
    key="event_id",
    tables=("web_events", "cookie_consents"),
    params=("honor_do_not_track",),
    what="""
        An `analytics`, `marketing` or `personalization` web event (never a `necessary` one)
        without consent: no `cookie_consents` row of its session in force at `occurred_at`
        (the latest with `recorded_at <= occurred_at`), or one that does not grant the event's
        category, or — when the policy's `honor_do_not_track` is true (here
        {honor_do_not_track}) — one with `do_not_track` set while the event is `marketing` or
        `personalization`. Do-Not-Track
        never blocks `analytics`. Rows of a session with the same `recorded_at` collapse into
        the most restrictive: a category granted only if every tied row grants it, DNT set if
        any sets it.
        """,
    why="""
        §2.4 and §7.4 promise that the cookie banner decides which non-essential cookies run,
        and that Do-Not-Track signals are honoured where possible. Tracking before or against
        that choice is unlawful under the ePrivacy rules.
        """,
    example="""
        Session S1 consented to analytics only at 10:00: an analytics event at 10:00 passes, one
        at 09:59:59 is a finding (no consent yet), a marketing event at 10:05 is a finding. A
        session whose consent grants marketing with DNT set: its marketing events are findings,
        its analytics events are not.
        """,
    sql=f"""
        WITH consents AS (
            {history_spans("cookie_consents", ("session_id",), "recorded_at", COOKIE_CHOICES)}
        ),
        judged AS (
            -- Necessary events are granted rather than filtered out before the join: with the
            -- filter, DuckDB guesses the events are fewer than the consents and hashes them
            -- instead (twice the time at 1M contacts).
            SELECT e.event_id, e.contact_id, e.session_id, e.occurred_at, e.tracking_category,
                   c.recorded_at,
                   CASE e.tracking_category WHEN 'necessary' THEN true
                        ELSE coalesce(CASE e.tracking_category WHEN 'analytics' THEN c.analytics
                                           WHEN 'marketing' THEN c.marketing
                                           WHEN 'personalization' THEN c.personalization END, false)
                   END AS granted,
                   coalesce($honor_do_not_track AND c.do_not_track
                            AND e.tracking_category IN ('marketing', 'personalization'), false) AS blocked
            FROM web_events e
            LEFT JOIN consents c
                ON c.session_id = e.session_id
               AND {in_force_at("c", "recorded_at", "e.occurred_at")}
        )
        SELECT event_id AS record_id, contact_id AS subject_id,
               printf('%s event of %s in session %s %s', tracking_category, {moment("occurred_at")}, session_id,
                      CASE WHEN recorded_at IS NULL THEN 'had no cookie consent in force'
                           WHEN NOT granted
                           THEN 'ran although the consent in force, recorded ' || {moment("recorded_at")}
                                || ', does not grant ' || tracking_category
                           ELSE 'ran although the consent in force, recorded ' || {moment("recorded_at")}
                                || ', carries Do-Not-Track' END) AS detail
        FROM judged
        WHERE NOT granted OR blocked
        """,
    checked=f"SELECT count(*) AS n FROM web_events WHERE tracking_category IN {_TRACKED}",
)
