"""Plants of consent (§7.2, §7.4): mail despite an opt-out or without a way out, tracking without consent."""

from __future__ import annotations

from datetime import datetime, timedelta

from privacy_audit.synth.plants.book import PlantBook, Row
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)


def _prefer(book: PlantBook, contact: Row, topic: str, opted_in: bool, at: datetime) -> None:
    book.add(
        "communication_preferences",
        contact_id=contact["contact_id"],
        topic=topic,
        opted_in=opted_in,
        updated_at=at,
    )


@plants("CONSENT-OPTOUT-IGNORED", "CONSENT-NO-UNSUBSCRIBE")
def mail(book: PlantBook) -> None:
    """Both email rules at once: the same contacts' sends break one, the other or both."""
    ignored, unsubscribe = "CONSENT-OPTOUT-IGNORED", "CONSENT-NO-UNSUBSCRIBE"
    de = book.partner("DE", created=book.years_ago(5))
    people = [book.person(de) for _ in range(7)]
    out = book.days_ago(200)

    def mailing(
        who: Row, at: datetime, kind: str = "marketing", topic: str | None = "promotions", link: bool = True
    ) -> str:
        return str(book.send(who, kind, at, topic=topic, has_unsubscribe_link=link)["send_id"])

    first = people[0]
    _prefer(book, first, "promotions", False, out)
    book.violation(ignored, mailing(first, out + timedelta(days=10)))
    book.near_miss(ignored, mailing(first, out - SECOND), "sent one second before the opt-out")
    book.near_miss(
        ignored,
        mailing(first, out + timedelta(days=12), topic="new_collections"),
        "opted out of another topic",
    )
    book.near_miss(
        ignored,
        mailing(first, out + timedelta(days=14), kind="transactional", topic=None, link=False),
        "transactional mail after a marketing opt-out",
    )
    double = mailing(first, out + timedelta(days=20), link=False)
    book.violation(ignored, double)
    book.violation(unsubscribe, double)

    _prefer(book, people[1], "surveys", False, book.days_ago(300))
    book.violation(ignored, mailing(people[1], book.days_ago(100), kind="survey", topic="surveys"))

    tie = book.days_ago(150)
    _prefer(book, people[2], "new_collections", True, tie)
    _prefer(book, people[2], "new_collections", False, tie)
    book.violation(ignored, mailing(people[2], tie + timedelta(days=1), topic="new_collections"))

    _prefer(book, people[3], "market_trends", False, book.days_ago(90))
    book.violation(ignored, mailing(people[3], book.days_ago(90), topic="market_trends"))

    fifth = people[4]
    _prefer(book, fifth, "promotions", False, book.days_ago(400))
    _prefer(book, fifth, "promotions", True, book.days_ago(300))
    book.near_miss(ignored, mailing(fifth, book.days_ago(250)), "sent after the contact opted back in")
    _prefer(book, fifth, "promotions", False, book.days_ago(200))
    book.violation(ignored, mailing(fifth, book.days_ago(150)))

    fr = book.partner("FR", created=book.years_ago(5))
    french = book.person(fr)
    _prefer(book, french, "new_collections", False, book.days_ago(60))
    book.violation(ignored, mailing(french, book.days_ago(20), topic="new_collections"))

    silent = people[6]
    book.near_miss(
        ignored, mailing(silent, book.days_ago(30)), "no preference on file: opt-out regime allows it"
    )
    for i, (kind, topic) in enumerate(
        (
            ("marketing", "promotions"),
            ("marketing", "new_collections"),
            ("marketing", "market_trends"),
            ("survey", "surveys"),
        )
    ):
        book.violation(
            unsubscribe, mailing(people[5], book.days_ago(40 + 7 * i), kind=kind, topic=topic, link=False)
        )
    book.violation(unsubscribe, mailing(silent, book.days_ago(33), link=False))
    book.near_miss(
        unsubscribe,
        mailing(silent, book.days_ago(31), kind="transactional", topic=None, link=False),
        "transactional mail needs no unsubscribe link",
    )
    notice = book.send(
        silent,
        "policy_notice",
        book.days_ago(29),
        policy_version=book.current.version,
        has_unsubscribe_link=False,
    )
    book.near_miss(unsubscribe, notice["send_id"], "policy notices need no unsubscribe link")


@plants("CONSENT-TRACKING")
def tracking(book: PlantBook) -> None:
    rule = "CONSENT-TRACKING"
    start = book.days_ago(25, hour=14)
    ip = "86.12.140.7"

    def session(offset_days: int) -> tuple[str, datetime]:
        return book.new_id("sessions"), start - timedelta(days=offset_days)

    s, t = session(0)
    book.violation(rule, book.event(s, t, "analytics", ip_address=ip)["event_id"])
    book.near_miss(
        rule,
        book.event(s, t + timedelta(seconds=30), "necessary", ip_address=ip)["event_id"],
        "necessary events need no consent",
    )

    s, t = session(1)
    book.consent(s, t - timedelta(seconds=9), marketing=False)
    book.violation(rule, book.event(s, t, "marketing", ip_address=ip)["event_id"])

    s, t = session(2)
    book.consent(s, t - timedelta(seconds=9), dnt=True)
    book.violation(rule, book.event(s, t, "personalization", ip_address=ip)["event_id"])
    book.near_miss(
        rule,
        book.event(s, t + timedelta(seconds=20), "analytics", ip_address=ip)["event_id"],
        "do-not-track does not block analytics",
    )

    s, t = session(3)
    book.consent(s, t)
    book.violation(rule, book.event(s, t - SECOND, "analytics", ip_address=ip)["event_id"])
    book.near_miss(
        rule,
        book.event(s, t, "analytics", ip_address=ip)["event_id"],
        "event at the very instant consent was recorded",
    )

    s, t = session(4)
    book.consent(s, t - timedelta(seconds=5), analytics=True)
    book.consent(s, t - timedelta(seconds=5), analytics=False)
    book.violation(rule, book.event(s, t, "analytics", ip_address=ip)["event_id"])

    s, t = session(5)
    book.consent(book.new_id("sessions"), t - timedelta(seconds=5))
    book.violation(rule, book.event(s, t, "analytics", ip_address=ip)["event_id"])

    s, t = session(6)
    book.consent(s, t - timedelta(seconds=5))
    book.consent(s, t + timedelta(seconds=60), marketing=False)
    book.violation(rule, book.event(s, t + timedelta(seconds=90), "marketing", ip_address=ip)["event_id"])
    book.consent(s, t + timedelta(seconds=120), marketing=True)
    book.near_miss(
        rule,
        book.event(s, t + timedelta(seconds=150), "marketing", ip_address=ip)["event_id"],
        "marketing consent granted again before the event",
    )

    s, t = book.new_id("sessions"), book.years_ago(3)
    book.violation(rule, book.event(s, t, "analytics")["event_id"])
