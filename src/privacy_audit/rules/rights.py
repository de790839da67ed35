"""Rights requests (§7.1–§7.3, §7.5, §6.2): answered in time, to the right person, and carried out."""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day, hold_active_at

rule(
    id="RIGHTS-LATE",
    severity=Severity.high,
    clauses=("7.1",),
    key="request_id",
    tables=("privacy_requests",),
    params=("as_of", "request_response_days", "request_extended_days"),
    what="""
        A rights request answered too late, whatever its kind and whether it was completed or
        rejected (a rejection is an answer, given at `completed_at`). With A = `received_at`,
        B = `completed_at`, or as_of (00:00 UTC) while `completed_at` is NULL, and exact
        24-hour days, the request is late when

        `B > A + request_response_days × 1 day` ({request_response_days} days), unless the
        extension was notified in time (`extension_notified_at <= A + request_response_days ×
        1 day`), in which case it is late only when `B > A + request_extended_days × 1 day`
        ({request_extended_days} days).

        The limit is inclusive: an answer at exactly A + {request_response_days} days is on
        time, one second later is not. An extension notified one second after day
        {request_response_days} does not extend anything.
        """,
    why="""
        §7.1 promises to answer every legitimate request within 30 days and, when more time is
        needed, to say so promptly. The GDPR allows the extension to 90 days only when the
        person is told within the first month.
        """,
    example="""
        Received 2025-01-01 10:00: completed 2025-01-31 10:00 is on time, 2025-01-31 10:00:01
        is late. With an extension notified 2025-01-31 10:00 (day 30 exactly), completion on
        2025-04-01 10:00 (day 90) is on time and 2025-04-02 10:00 (day 91) late; with the
        extension notified at 10:00:01, the 30-day limit stands. Still open with as_of
        2025-02-01, the same request is late (30 days 14 hours).
        """,
    sql=f"""
        WITH measured AS (
            SELECT request_id, contact_id, kind, received_at, completed_at, extension_notified_at,
                   coalesce(completed_at, $as_of) AS answered_at,
                   coalesce(extension_notified_at <= received_at + $request_response_days * INTERVAL 1 DAY,
                            false) AS extended
            FROM privacy_requests
        ),
        limited AS (
            SELECT *, CASE WHEN extended THEN greatest($request_response_days, $request_extended_days)
                           ELSE $request_response_days END AS limit_days
            FROM measured
        )
        SELECT request_id AS record_id, contact_id AS subject_id,
               printf('%s request received on %s %s after %s; the limit was %d days%s',
                      kind, {day("received_at")},
                      CASE WHEN completed_at IS NULL THEN 'was still open on ' || {day("$as_of")}
                           ELSE 'was answered on ' || {day("completed_at")} END,
                      CAST(answered_at - received_at AS VARCHAR), limit_days,
                      CASE WHEN extended THEN ' (extension notified on ' || {day("extension_notified_at")} || ')'
                           WHEN extension_notified_at IS NOT NULL
                           THEN ' (the extension notified on ' || {day("extension_notified_at")}
                                || ' came after the first ' || $request_response_days || ' days)'
                           ELSE '' END) AS detail
        FROM limited
        WHERE answered_at > received_at + limit_days * INTERVAL 1 DAY
        """,
)

rule(
    id="RIGHTS-UNVERIFIED",
    severity=Severity.high,
    clauses=("7.1",),
    key="request_id",
    tables=("privacy_requests",),
    what="""
        A request with status `completed` whose `verified_at` is NULL or later than its
        `completed_at` (verification at the very instant of completion is fine). Rejected and
        open requests are not checked: refusing an unverified requester is the right answer.
        """,
    why="""
        §7.1 promises to verify identity before granting access to or changing anyone's data.
        Completing an unverified request can hand one person's data to another.
        """,
    example="""
        An access request completed 2025-03-10 12:00 and verified 2025-03-10 11:00 passes;
        verified 2025-03-10 12:00:01, or never, it is a finding.
        """,
    sql=f"""
        SELECT request_id AS record_id, contact_id AS subject_id,
               CASE WHEN verified_at IS NULL
                    THEN printf('%s request completed on %s without identity verification',
                                kind, coalesce({day("completed_at")}, 'an unrecorded date'))
                    ELSE printf('%s request completed on %s before the identity was verified on %s',
                                kind, {day("completed_at")}, {day("verified_at")}) END AS detail
        FROM privacy_requests
        WHERE status = 'completed' AND (verified_at IS NULL OR verified_at > completed_at)
        """,
    checked="SELECT count(*) AS n FROM privacy_requests WHERE status = 'completed'",
)

rule(
    id="RIGHTS-ERASURE-INCOMPLETE",
    severity=Severity.critical,
    clauses=("6.2", "7.3"),
    key="request_id",
    tables=(
        "privacy_requests",
        "contacts",
        "orders",
        "support_tickets",
        "web_events",
        "retention_exceptions",
    ),
    what="""
        A deletion request with status `completed` for contact C, after which something of C
        remains: the contacts row of C is not erased (a personal column still set), or an
        order, support ticket or web event still has `contact_id = C`. A remaining record is
        excused only by a `retention_exceptions` row of that same request whose `table_name`
        names its table and whose `record_id` is its key (`contact_id`, `order_id`,
        `ticket_id` or `event_id`), compared exactly; another request's exception excuses
        nothing. One finding per request, counting what remains per table. Open and rejected
        deletion requests are not checked; the exception's `retain_until` is not judged here.
        """,
    why="""
        §7.3 and §6.2 promise deletion on request, and that anything kept is kept for a stated
        reason the person is told about. Marking a request done while the person's orders,
        tickets or browsing history still point at them is a false statement to that person.
        """,
    example="""
        Request R1 deleted C1 on 2025-02-01; order O1 still has contact_id C1 and R1 has a tax
        exception for `orders`/O1, ticket T1 still names C1 with no exception: a finding for R1
        counting support_tickets 1. An exception for T1 filed under another request R0 does
        not excuse it.
        """,
    sql=f"""
        WITH done AS (
            SELECT request_id, contact_id, completed_at FROM privacy_requests
            WHERE kind = 'deletion' AND status = 'completed'
        ),
        remaining AS (
            SELECT d.request_id, 'contacts' AS table_name, c.contact_id AS record_id
            FROM done d JOIN contacts c ON c.contact_id = d.contact_id WHERE NOT c._erased
            UNION ALL
            SELECT d.request_id, 'orders', o.order_id FROM done d JOIN orders o ON o.contact_id = d.contact_id
            UNION ALL
            SELECT d.request_id, 'support_tickets', t.ticket_id
            FROM done d JOIN support_tickets t ON t.contact_id = d.contact_id
            UNION ALL
            SELECT d.request_id, 'web_events', w.event_id FROM done d JOIN web_events w ON w.contact_id = d.contact_id
        ),
        unexcused AS (
            SELECT r.request_id, r.table_name, count(*) AS n
            FROM remaining r
            WHERE NOT EXISTS (SELECT 1 FROM retention_exceptions x
                              WHERE x.request_id = r.request_id AND x.table_name = r.table_name
                                AND x.record_id = r.record_id)
            GROUP BY r.request_id, r.table_name
        )
        SELECT d.request_id AS record_id, d.contact_id AS subject_id,
               printf('deletion completed on %s left %d record(s) of the contact without a retention exception of this request: %s',
                      coalesce({day("d.completed_at")}, 'an unrecorded date'), CAST(sum(u.n) AS BIGINT),
                      string_agg(u.table_name || ' ' || u.n, ', ' ORDER BY u.table_name)) AS detail
        FROM done d JOIN unexcused u ON u.request_id = d.request_id
        GROUP BY d.request_id, d.contact_id, d.completed_at
        """,
    checked="""
        SELECT count(*) AS n FROM privacy_requests WHERE kind = 'deletion' AND status = 'completed'
        """,
)

rule(
    id="RIGHTS-RETENTION-UNNOTIFIED",
    severity=Severity.medium,
    clauses=("7.3",),
    key="exception_id",
    tables=("retention_exceptions", "privacy_requests"),
    what="""
        A retention exception (a record kept after a deletion request) whose `notified_at` is
        NULL: the person was never told what was kept and why. The subject is the contact of
        the exception's request, when that request is in the export.
        """,
    why="""
        §7.3 and §6.2 promise to inform the person of any information retained after their
        deletion request, with the reason and a timeline for deletion.
        """,
    example="""
        Exception E1 keeps order O1 for `tax` until 2031-12-31 after request R1: with
        `notified_at` NULL it is a finding; with any `notified_at` it is not.
        """,
    sql=f"""
        SELECT x.exception_id AS record_id, r.contact_id AS subject_id,
               printf('%s record %s kept after request %s for reason %s until %s was never notified to the person',
                      x.table_name, x.record_id, x.request_id, x.reason, {day("x.retain_until")}) AS detail
        FROM retention_exceptions x
        LEFT JOIN privacy_requests r ON r.request_id = x.request_id
        WHERE x.notified_at IS NULL
        """,
)

# The records a retention exception can name (rules.md, conventions), each with its account, kept
# only while it still holds personal data: an erased or deleted record is no longer "kept".
_KEPT_RECORDS = """
    SELECT 'orders' AS table_name, order_id AS record_id, account_id FROM orders
    WHERE deleted_at IS NULL AND NOT _erased
    UNION ALL
    SELECT 'support_tickets', ticket_id, account_id FROM support_tickets WHERE NOT _erased
    UNION ALL
    SELECT 'contacts', contact_id, account_id FROM contacts WHERE NOT _erased
    UNION ALL
    SELECT 'web_events', w.event_id, c.account_id
    FROM web_events w LEFT JOIN contacts c ON c.contact_id = w.contact_id WHERE NOT w._erased
"""

rule(
    id="RET-EXCEPTION-EXPIRED",
    severity=Severity.high,
    clauses=("6.2", "7.3"),
    key="exception_id",
    tables=(
        "retention_exceptions",
        "privacy_requests",
        "orders",
        "support_tickets",
        "web_events",
        "contacts",
        "legal_holds",
    ),
    params=("as_of", "deletion_grace_days"),
    what="""
        A retention exception whose `retain_until` (a date, taken at 00:00 UTC) plus
        {deletion_grace_days} days of grace is before as_of, while the record it names
        (`table_name` `orders`, `support_tickets`, `web_events` or `contacts`, `record_id` its
        key, compared exactly) still exists and is not erased; an order that is deleted counts
        as gone. A legal hold active at as_of on the record's account (a web event's is its
        contact's) suspends the deadline. An exception naming a record that is not in the export,
        or a table outside those four, names nothing still kept. The subject is the contact of
        the exception's request.
        """,
    why="""
        §7.3 and §6.2 promise that what is kept after a deletion request is kept for a stated
        reason with "an estimated timeline for deletion". A timeline that passes without the
        deletion makes the exception an excuse that never ends.
        """,
    example="""
        Exception X1 keeps order O1 until 2025-04-01: audited on 2025-05-01 (2025-04-01 + 30
        days is the deadline itself) it is not a finding; audited on 2025-05-02 it is, unless
        O1 is erased or deleted by then, or a hold on O1's account is active on 2025-05-02.
        """,
    sql=f"""
        WITH kept AS ({_KEPT_RECORDS})
        SELECT x.exception_id AS record_id, r.contact_id AS subject_id,
               printf('%s record %s kept after request %s for reason %s until %s still holds personal data %d days after that date',
                      x.table_name, x.record_id, x.request_id, x.reason, {day("x.retain_until")},
                      CAST(date_diff('day', CAST(x.retain_until AS TIMESTAMP), $as_of) AS BIGINT)) AS detail
        FROM retention_exceptions x
        JOIN kept k ON k.table_name = x.table_name AND k.record_id = x.record_id
        LEFT JOIN privacy_requests r ON r.request_id = x.request_id
        WHERE CAST(x.retain_until AS TIMESTAMP) + $deletion_grace_days * INTERVAL 1 DAY < $as_of
          AND NOT {hold_active_at("k.account_id", "$as_of")}
        """,
)

# Completed requests after which no marketing or survey send may follow (RIGHTS-OBJECTION-IGNORED).
STOPPING = "('objection', 'consent_withdrawal', 'restriction')"
_PROMOTIONAL = "('marketing', 'survey')"

rule(
    id="RIGHTS-OBJECTION-IGNORED",
    severity=Severity.high,
    clauses=("7.2", "7.5"),
    key="send_id",
    tables=("email_sends", "privacy_requests", "communication_preferences"),
    what="""
        A `marketing` or `survey` email to contact C sent after (strictly: `sent_at >
        completed_at`) a completed `objection`, `consent_withdrawal` or `restriction` request
        of C, unless C opted in again to the send's topic in between: a
        `communication_preferences` row of C for that topic with `opted_in = true` recorded
        after the request's `completed_at` and at or before `sent_at` (a re-opt-in at the
        send's instant counts; rows of one instant that disagree grant nothing). A survey send
        without a topic is taken as topic `surveys`; a marketing send without a topic can be
        excused by no opt-in. One finding per send, naming the latest request it ignores.
        """,
    why="""
        §7.2 and §7.5 promise that objecting to marketing, withdrawing consent or restricting
        processing stops the emails. A request marked completed while the campaigns keep
        coming was never carried out.
        """,
    example="""
        C1's objection was completed 2025-03-01 10:00: a promotions send at 10:00 exactly is
        not a finding, one at 10:00:01 is; after a `promotions` opt-in of 2025-04-01 12:00, a
        send at 12:00 exactly is fine again, while a `market_trends` send is still a finding.
        """,
    sql=f"""
        WITH stops AS (
            SELECT request_id, contact_id, kind, completed_at FROM privacy_requests
            WHERE status = 'completed' AND kind IN {STOPPING} AND completed_at IS NOT NULL
        ),
        sends AS (
            SELECT send_id, contact_id, sent_at, kind,
                   coalesce(topic, CASE WHEN kind = 'survey' THEN 'surveys' END) AS topic
            FROM email_sends WHERE kind IN {_PROMOTIONAL}
        ),
        opt_ins AS (
            SELECT contact_id, topic, updated_at FROM communication_preferences
            GROUP BY contact_id, topic, updated_at HAVING bool_and(opted_in)
        ),
        ignored AS (
            SELECT s.send_id, s.contact_id, s.kind, s.topic, s.sent_at,
                   q.request_id, q.kind AS request_kind, q.completed_at,
                   row_number() OVER (PARTITION BY s.send_id ORDER BY q.completed_at DESC, q.request_id) AS latest
            FROM sends s
            JOIN stops q ON q.contact_id = s.contact_id AND s.sent_at > q.completed_at
            WHERE NOT EXISTS (SELECT 1 FROM opt_ins p
                              WHERE p.contact_id = s.contact_id AND p.topic = s.topic
                                AND p.updated_at > q.completed_at AND p.updated_at <= s.sent_at)
        )
        SELECT send_id AS record_id, contact_id AS subject_id,
               printf('%s send of %s on topic %s went out after %s request %s was completed on %s, with no opt-in to that topic since',
                      kind, {day("sent_at")}, coalesce(topic, '(none)'), request_kind, request_id,
                      {day("completed_at")}) AS detail
        FROM ignored WHERE latest = 1
        """,
    checked=f"SELECT count(*) AS n FROM email_sends WHERE kind IN {_PROMOTIONAL}",
)
