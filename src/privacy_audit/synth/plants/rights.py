"""Plants of rights requests (§7.1-§7.3, §7.5): late or unverified answers, deletions that left data
behind, exceptions kept past their date, emails sent after an objection.

Completed objections, consent withdrawals and restrictions are planted only on plant partners: a
background contact would keep receiving the background's newsletters after them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from privacy_audit.synth.plants.book import Partner, PlantBook, Row
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _tax_exception(
    book: PlantBook,
    request_id: str,
    country: str,
    order: Row,
    notified_at: datetime,
    table_name: str = "orders",
) -> None:
    """A retention exception keeping ``order`` for tax until its country's retention ends."""
    book.add(
        "retention_exceptions",
        request_id=request_id,
        table_name=table_name,
        record_id=order["order_id"],
        reason="tax",
        retain_until=book.retention_end(country, order["order_date"]).date(),
        notified_at=notified_at,
    )


@plants("RIGHTS-LATE")
def late(book: PlantBook) -> None:
    rule = "RIGHTS-LATE"
    limit = timedelta(days=book.policy.request_response_days)
    extended = timedelta(days=book.policy.request_extended_days)
    people = iter(book.anchors.contact_ids)

    def ask(kind: str, received: datetime, **fields: object) -> str:
        contact = {"contact_id": next(people)}
        return str(book.request(contact, kind, received, **fields)["request_id"])

    r = book.days_ago(200)
    book.violation(rule, ask("access", r, completed_at=r + limit + SECOND))
    book.near_miss(rule, ask("access", r, completed_at=r + limit), "answered exactly 30 days after receipt")
    r = book.now - limit - DAY
    book.violation(rule, ask("rectification", r, status="open"))
    r = book.now - limit
    book.near_miss(rule, ask("rectification", r, status="open"), "open exactly 30 days at as_of")
    r = book.days_ago(300)
    book.violation(
        rule, ask("portability", r, extension_notified_at=r + limit + SECOND, completed_at=r + 2 * limit)
    )
    book.violation(
        rule,
        ask(
            "portability",
            r,
            extension_notified_at=r + 10 * DAY,
            completed_at=r + extended + timedelta(hours=1),
        ),
    )
    book.near_miss(
        rule,
        ask("access", r, extension_notified_at=r + limit, completed_at=r + extended),
        "extension notified on day 30 and answered on day 90 exactly",
    )
    book.violation(rule, ask("access", r, status="rejected", completed_at=r + 45 * DAY))
    r = book.now - extended - DAY
    book.violation(rule, ask("restriction", r, status="open", extension_notified_at=r + 20 * DAY))
    r = book.now - 80 * DAY
    book.near_miss(
        rule,
        ask("restriction", r, status="open", extension_notified_at=r + 20 * DAY),
        "open for 80 days with a timely extension",
    )
    r = book.days_ago(500)
    book.violation(rule, ask("portability", r, completed_at=r + 120 * DAY))


@plants("RIGHTS-UNVERIFIED")
def unverified(book: PlantBook) -> None:
    rule = "RIGHTS-UNVERIFIED"
    people = iter(book.anchors.contact_ids[40:])
    r = book.days_ago(150)

    def ask(kind: str, **fields: object) -> str:
        return str(book.request({"contact_id": next(people)}, kind, r, **fields)["request_id"])

    book.violation(rule, ask("access", verified_at=None, completed_at=r + 5 * DAY))
    book.violation(rule, ask("rectification", verified_at=r + 3 * DAY + SECOND, completed_at=r + 3 * DAY))
    book.violation(rule, ask("portability", verified_at=r + 9 * DAY, completed_at=r + 8 * DAY))
    book.violation(rule, ask("access", verified_at=None, completed_at=r + DAY))
    book.near_miss(
        rule,
        ask("access", verified_at=r + 2 * DAY, completed_at=r + 2 * DAY),
        "verified at the very instant of completion",
    )
    book.near_miss(
        rule,
        ask("access", verified_at=None, status="rejected", completed_at=r + 4 * DAY),
        "rejected (identity not confirmed), not completed",
    )
    recent = book.days_ago(5)
    open_request = book.request(
        {"contact_id": next(people)}, "objection", recent, verified_at=None, status="open"
    )
    book.near_miss(rule, open_request["request_id"], "open request not yet verified")
    es = book.partner("ES", created=book.years_ago(5))
    book.person(es)
    done = r + 6 * DAY
    leaver = book.person(es, last_login=book.days_ago(400), erased_at=done)
    book.violation(
        rule, book.request(leaver, "deletion", r, verified_at=None, completed_at=done)["request_id"]
    )


def _deletion(book: PlantBook, country: str) -> tuple[Partner, Row, Row, datetime]:
    """A partner whose contact asked to be deleted 60 days ago; the answer came 20 days later."""
    partner = book.partner(country, created=book.years_ago(5))
    book.person(partner)
    received = book.days_ago(60)
    completed = received + timedelta(days=20)
    person = book.person(partner, last_login=book.days_ago(75), erased_at=completed)
    request = book.request(person, "deletion", received, completed_at=completed)
    return partner, person, request, completed


@plants("RIGHTS-ERASURE-INCOMPLETE")
def erasure_incomplete(book: PlantBook) -> None:
    rule = "RIGHTS-ERASURE-INCOMPLETE"
    partner = book.partner("GB", created=book.years_ago(5))
    book.person(partner)
    received = book.days_ago(60)
    person = book.person(partner, last_login=book.days_ago(75))
    book.violation(
        rule, book.request(person, "deletion", received, completed_at=received + 20 * DAY)["request_id"]
    )

    p, person, request, done = _deletion(book, "FR")
    book.order(p, person, book.years_ago(2).date())
    book.violation(rule, request["request_id"])
    p, person, request, done = _deletion(book, "DE")
    book.ticket(p, person, book.years_ago(1, 2), closed=book.years_ago(1))
    book.violation(rule, request["request_id"])
    p, person, request, done = _deletion(book, "IT")
    book.event(
        book.new_id("sessions"),
        book.days_ago(80),
        "necessary",
        contact_id=person["contact_id"],
        ip_address="151.38.21.9",
    )
    book.violation(rule, request["request_id"])

    p, person, request, done = _deletion(book, "NL")
    kept = book.order(p, person, book.years_ago(2).date())
    book.order(p, person, book.years_ago(1).date())
    _tax_exception(book, request["request_id"], "NL", kept, done)
    book.violation(rule, request["request_id"])

    p, person, request, done = _deletion(book, "BE")
    kept = book.order(p, person, book.years_ago(3).date())
    _tax_exception(book, request["request_id"], "BE", kept, done, table_name="order")
    book.violation(rule, request["request_id"])

    p, person, request, done = _deletion(book, "AT")
    earlier = book.request(person, "access", book.days_ago(200), completed_at=book.days_ago(190))
    kept = book.order(p, person, book.years_ago(1).date())
    _tax_exception(book, earlier["request_id"], "AT", kept, done)
    book.violation(rule, request["request_id"])

    p, person, request, done = _deletion(book, "IE")
    kept = book.order(p, person, book.years_ago(2).date())
    _tax_exception(book, request["request_id"], "IE", kept, done)
    book.near_miss(rule, request["request_id"], "order kept under a notified tax exception of that request")

    pending = book.partner("SE", created=book.years_ago(5))
    book.person(pending)
    someone = book.person(pending, last_login=book.days_ago(20))
    book.order(pending, someone, book.years_ago(1).date())
    asked = book.request(someone, "deletion", book.days_ago(10), status="open")
    book.near_miss(rule, asked["request_id"], "deletion request still open (10 days old)")
    refused = book.request(
        someone, "deletion", book.days_ago(100), status="rejected", completed_at=book.days_ago(90)
    )
    book.near_miss(rule, refused["request_id"], "rejected deletion request")


@plants("RIGHTS-RETENTION-UNNOTIFIED")
def retention_unnotified(book: PlantBook) -> None:
    rule = "RIGHTS-RETENTION-UNNOTIFIED"
    for country, reason in (
        ("GB", "tax"),
        ("US", "fraud_prevention"),
        ("FR", "pending_order"),
        ("DE", "dispute"),
    ):
        p, person, request, done = _deletion(book, country)
        kept = book.order(
            p, person, book.days_ago(70).date(), status="returned" if reason == "dispute" else "delivered"
        )
        row = book.add(
            "retention_exceptions",
            request_id=request["request_id"],
            table_name="orders",
            record_id=kept["order_id"],
            reason=reason,
            retain_until=book.now.date() + timedelta(days=365),
        )
        book.violation(rule, row["exception_id"])
    p, person, request, done = _deletion(book, "CA")
    ticket = book.ticket(p, person, book.days_ago(90), closed=book.days_ago(88))
    row = book.add(
        "retention_exceptions",
        request_id=request["request_id"],
        table_name="support_tickets",
        record_id=ticket["ticket_id"],
        reason="tax",
        retain_until=book.now.date() + timedelta(days=700),
    )
    book.violation(rule, row["exception_id"])
    kept = book.order(p, person, book.days_ago(300).date())
    row = book.add(
        "retention_exceptions",
        request_id=request["request_id"],
        table_name="orders",
        record_id=kept["order_id"],
        reason="tax",
        retain_until=book.now.date() + timedelta(days=2000),
        notified_at=done,
    )
    book.near_miss(rule, row["exception_id"], "notified at the instant the request was completed")


@plants("RET-EXCEPTION-EXPIRED")
def exception_expired(book: PlantBook) -> None:
    rule = "RET-EXCEPTION-EXPIRED"
    # An exception retained until this day has its deadline (retain_until + grace) on as_of itself.
    deadline = (book.now - timedelta(days=book.policy.deletion_grace_days)).date()

    def keep(request: Row, table: str, record_id: object, reason: str, until: date, done: datetime) -> str:
        row = book.add(
            "retention_exceptions",
            request_id=request["request_id"],
            table_name=table,
            record_id=record_id,
            reason=reason,
            retain_until=until,
            notified_at=done,
        )
        return str(row["exception_id"])

    p, person, request, done = _deletion(book, "FR")
    order = book.order(p, person, book.years_ago(2).date(), status="returned")
    book.violation(rule, keep(request, "orders", order["order_id"], "dispute", deadline - DAY, done))
    p, person, request, done = _deletion(book, "DE")
    ticket = book.ticket(p, person, book.years_ago(1, 20), closed=book.years_ago(1))
    book.violation(
        rule, keep(request, "support_tickets", ticket["ticket_id"], "dispute", deadline - 200 * DAY, done)
    )
    p, person, request, done = _deletion(book, "IT")
    event = book.event(
        book.new_id("sessions"),
        book.days_ago(80),
        "necessary",
        contact_id=person["contact_id"],
        ip_address="151.38.40.2",
    )
    book.violation(
        rule, keep(request, "web_events", event["event_id"], "fraud_prevention", deadline - 90 * DAY, done)
    )
    kept = book.partner("NL", created=book.years_ago(5))
    book.person(kept)
    received = book.days_ago(60)
    done = received + 20 * DAY
    person = book.person(kept, last_login=book.days_ago(75))
    request = book.request(person, "deletion", received, completed_at=done)
    book.violation(
        rule, keep(request, "contacts", person["contact_id"], "dispute", deadline - 10 * DAY, done)
    )
    p, person, request, done = _deletion(book, "ES")
    order = book.order(p, person, book.years_ago(1).date(), status="returned")
    book.hold(p, book.days_ago(30), released=book.days_ago(5))
    book.violation(rule, keep(request, "orders", order["order_id"], "legal_hold", deadline - 40 * DAY, done))

    p, person, request, done = _deletion(book, "GB")
    order = book.order(p, person, book.years_ago(2).date(), status="returned")
    book.near_miss(
        rule,
        keep(request, "orders", order["order_id"], "dispute", deadline, done),
        "retain_until + grace falls on as_of itself",
    )
    p, person, request, done = _deletion(book, "AT")
    order = book.order(p, person, book.years_ago(1).date(), status="returned")
    book.hold(p, book.now)
    book.near_miss(
        rule,
        keep(request, "orders", order["order_id"], "legal_hold", deadline - 40 * DAY, done),
        "expired, but a hold on the account was placed at as_of",
    )
    p, person, request, done = _deletion(book, "BE")
    ticket = book.ticket(
        p, person, book.years_ago(1, 20), closed=book.years_ago(1), erased_at=book.days_ago(3)
    )
    book.near_miss(
        rule,
        keep(request, "support_tickets", ticket["ticket_id"], "dispute", deadline - 200 * DAY, done),
        "expired, and the ticket it names is erased",
    )


@plants("RIGHTS-OBJECTION-IGNORED")
def objection_ignored(book: PlantBook) -> None:
    rule = "RIGHTS-OBJECTION-IGNORED"

    def stopped(country: str, kind: str, **fields: object) -> tuple[Row, datetime]:
        """A contact of a new partner whose request of ``kind`` was answered 120 days ago."""
        partner = book.partner(country, created=book.years_ago(4))
        person = book.person(partner)
        done = book.days_ago(120)
        book.request(person, kind, done - 6 * DAY, completed_at=done, **fields)
        return person, done

    def send(person: Row, kind: str, at: datetime, topic: str) -> str:
        return str(book.send(person, kind, at, topic=topic)["send_id"])

    person, done = stopped("GB", "objection")
    book.near_miss(
        rule, send(person, "marketing", done, "promotions"), "sent at the instant the objection was completed"
    )
    book.violation(rule, send(person, "marketing", done + SECOND, "promotions"))
    person, done = stopped("FR", "consent_withdrawal")
    book.violation(rule, send(person, "survey", done + 30 * DAY, "surveys"))
    person, done = stopped("DE", "restriction")
    book.violation(rule, send(person, "marketing", done + 10 * DAY, "new_collections"))
    person, done = stopped("NL", "objection")
    again = done + 20 * DAY
    book.add(
        "communication_preferences",
        contact_id=person["contact_id"],
        topic="promotions",
        opted_in=True,
        updated_at=again,
    )
    book.violation(rule, send(person, "marketing", again - SECOND, "promotions"))
    book.near_miss(
        rule,
        send(person, "marketing", again, "promotions"),
        "sent at the instant of a re-opt-in to its topic",
    )
    book.violation(rule, send(person, "marketing", again + DAY, "market_trends"))
    person, done = stopped("IT", "objection", status="rejected")
    book.near_miss(rule, send(person, "marketing", done + DAY, "promotions"), "the objection was rejected")
