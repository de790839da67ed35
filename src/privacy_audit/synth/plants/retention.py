"""Plants of retention and deletion (§6.1, §6.2): kept too long, erased too early or badly, erased under hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from privacy_audit.synth.plants.book import PlantBook, instant
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)


def _order_cutoff(book: PlantBook, country: str) -> date:
    """The first order date whose retention plus grace has not passed at as_of."""
    return book.policy.order_cutoff(book.now, country).date()


def _leap_day(book: PlantBook, years: int) -> date:
    """The latest 29 February whose retention of ``years`` ended at least a month before as_of."""
    year = book.now.year - years
    while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) or datetime(
        year + years, 2, 28
    ) > book.now - timedelta(days=30):
        year -= 1
    return date(year, 2, 29)


@plants("RET-ORDER-OVERDUE")
def order_overdue(book: PlantBook) -> None:
    rule = "RET-ORDER-OVERDUE"
    gb = book.partner("GB", created=book.years_ago(8))
    buyer = book.person(gb)
    book.violation(rule, book.order(gb, buyer, _order_cutoff(book, "GB") - timedelta(days=1))["order_id"])
    book.violation(rule, book.order(gb, buyer, book.years_ago(7).date(), ship_country="DE")["order_id"])
    edge = book.order(gb, buyer, _order_cutoff(book, "GB"))
    book.near_miss(
        rule, edge["order_id"], "GB order whose 6 years plus 30 days of grace end exactly at as_of"
    )

    us = book.partner("US", created=book.years_ago(9))
    book.violation(
        rule,
        book.order(us, book.person(us), _order_cutoff(book, "US") - timedelta(days=30), contact_id=None)[
            "order_id"
        ],
    )

    au = book.partner("AU", created=book.years_ago(8))
    book.hold(au, book.years_ago(2), book.days_ago(100))
    book.violation(
        rule, book.order(au, book.person(au), _order_cutoff(book, "AU") - timedelta(days=200))["order_id"]
    )

    fr = book.partner("FR", created=book.years_ago(8))
    book.hold(fr, book.years_ago(1), book.now)
    book.violation(
        rule, book.order(fr, book.person(fr), _order_cutoff(book, "FR") - timedelta(days=10))["order_id"]
    )

    it = book.partner("IT", created=book.years_ago(10), status="closed", closed_at=book.days_ago(20))
    it_buyer = book.person(it, last_login=book.days_ago(25))
    book.violation(
        rule,
        book.order(it, it_buyer, _order_cutoff(book, "IT") - timedelta(days=400), status="cancelled")[
            "order_id"
        ],
    )

    de = book.partner("DE", created=book.years_ago(11))
    de_buyer = book.person(de)
    old = book.order(de, de_buyer, book.years_ago(9).date())
    book.near_miss(rule, old["order_id"], "DE order nine years old: Germany keeps orders ten years")
    shipped = book.order(de, de_buyer, book.years_ago(8).date(), ship_country="GB")
    book.near_miss(
        rule, shipped["order_id"], "DE partner's order shipped to GB: retention follows the account's country"
    )

    held = book.partner("US", created=book.years_ago(9))
    book.hold(held, book.years_ago(1))
    kept = book.order(held, book.person(held), _order_cutoff(book, "US") - timedelta(days=300))
    book.near_miss(rule, kept["order_id"], "overdue order of an account under a legal hold active at as_of")
    es = book.partner("ES", created=book.years_ago(9))
    book.hold(es, book.now)
    kept = book.order(es, book.person(es), _order_cutoff(book, "ES") - timedelta(days=50))
    book.near_miss(rule, kept["order_id"], "legal hold placed exactly at as_of is active at as_of")


@plants("RET-ORDER-PREMATURE")
def order_premature(book: PlantBook) -> None:
    rule = "RET-ORDER-PREMATURE"
    fr = book.partner("FR", created=book.years_ago(6))
    buyer = book.person(fr)
    book.violation(
        rule, book.order(fr, buyer, book.years_ago(4).date(), erased_at=book.days_ago(30))["order_id"]
    )

    de = book.partner("DE", created=book.years_ago(12))
    de_buyer = book.person(de)
    day = (book.now - timedelta(days=365 * 10 + 100)).date()
    book.violation(
        rule,
        book.order(de, de_buyer, day, erased_at=book.retention_end("DE", day) - SECOND, tombstone=True)[
            "order_id"
        ],
    )
    day = (book.years_ago(7) - timedelta(days=10)).date()
    book.violation(
        rule, book.order(de, de_buyer, day, erased_at=book.days_ago(10), ship_country="FR")["order_id"]
    )

    gb = book.partner("GB", created=book.years_ago(9))
    gb_buyer = book.person(gb)
    leap = _leap_day(book, 6)
    end = book.retention_end("GB", leap)
    book.violation(rule, book.order(gb, gb_buyer, leap, erased_at=end - SECOND)["order_id"])
    edge = book.order(gb, gb_buyer, leap, erased_at=end)
    book.near_miss(
        rule,
        edge["order_id"],
        "order of 29 February erased on 28 February six years later, when its retention ends",
    )

    us = book.partner("US", created=book.years_ago(9))
    day = (book.years_ago(7) - timedelta(days=200)).date()
    end = book.retention_end("US", day)
    both = book.order(
        us, book.person(us), day, erased_at=end + timedelta(days=5), deleted_at=end - timedelta(days=3)
    )
    book.violation(rule, both["order_id"])

    au = book.partner("AU", created=book.years_ago(7))
    au_buyer = book.person(au)
    book.violation(
        rule, book.order(au, au_buyer, book.years_ago(2).date(), erased_at=book.days_ago(100))["order_id"]
    )
    day = (book.years_ago(5) - timedelta(days=60)).date()
    edge = book.order(au, au_buyer, day, erased_at=book.retention_end("AU", day))
    book.near_miss(rule, edge["order_id"], "AU order anonymized exactly when its five years end")

    fr2 = book.partner("FR", created=book.years_ago(8))
    day = (book.years_ago(6) - timedelta(days=20)).date()
    fine = book.order(
        fr2,
        book.person(fr2),
        day,
        erased_at=book.retention_end("FR", day) + timedelta(hours=1),
        ship_country="DE",
    )
    book.near_miss(
        rule,
        fine["order_id"],
        "FR partner's order shipped to DE erased after six years: the account's country decides",
    )


@plants("RET-TICKET-OVERDUE")
def ticket_overdue(book: PlantBook) -> None:
    rule = "RET-TICKET-OVERDUE"
    limit = instant(book.timeline.ticket_cutoff)
    gb = book.partner("GB", created=book.years_ago(7))
    writer = book.person(gb)
    book.violation(
        rule, book.ticket(gb, writer, limit - timedelta(days=2), closed=limit - SECOND)["ticket_id"]
    )
    edge = book.ticket(gb, writer, limit - timedelta(days=2), closed=limit)
    book.near_miss(rule, edge["ticket_id"], "ticket closed exactly 3 years and 30 days before as_of")
    partial = book.ticket(
        gb, writer, book.years_ago(5, 3), closed=book.years_ago(5), contact_id=None, subject=None
    )
    book.violation(rule, partial["ticket_id"])
    phone = book.ticket(gb, None, book.years_ago(6, 1), closed=book.years_ago(6), channel="phone")
    book.violation(rule, phone["ticket_id"])

    nl = book.partner("NL", created=book.years_ago(7))
    book.hold(nl, book.years_ago(2), book.days_ago(10))
    book.violation(
        rule, book.ticket(nl, book.person(nl), book.years_ago(4, 2), closed=book.years_ago(4))["ticket_id"]
    )

    jp = book.partner("JP", created=book.years_ago(7))
    jp_writer = book.person(jp)
    closed = limit - timedelta(days=1, hours=5)
    book.violation(
        rule,
        book.ticket(jp, jp_writer, closed - timedelta(hours=3), closed=closed, channel="chat")["ticket_id"],
    )
    stale = book.ticket(jp, jp_writer, book.years_ago(5))
    book.near_miss(
        rule,
        stale["ticket_id"],
        "ticket opened five years ago and never closed: open tickets are not overdue",
    )
    gone = book.ticket(
        jp,
        jp_writer,
        book.years_ago(6, 2),
        closed=book.years_ago(6),
        erased_at=book.years_ago(3) + timedelta(days=10),
    )
    book.near_miss(rule, gone["ticket_id"], "old ticket erased in time")

    held = book.partner("CA", created=book.years_ago(7))
    book.hold(held, book.years_ago(1))
    kept = book.ticket(held, book.person(held), book.years_ago(4, 2), closed=book.years_ago(4))
    book.near_miss(rule, kept["ticket_id"], "old ticket of an account under an active legal hold")


@plants("RET-INACTIVE-ACCOUNT")
def inactive_account(book: PlantBook) -> None:
    rule = "RET-INACTIVE-ACCOUNT"
    limit = instant(book.timeline.inactive_cutoff)
    dormant = book.partner("GB", created=book.years_ago(9))
    book.person(dormant, last_login=limit - SECOND)
    book.violation(rule, dormant.id)
    edge = book.partner("GB", created=book.years_ago(9))
    book.person(edge, last_login=limit)
    book.near_miss(rule, edge.id, "last login exactly 3 + 1 years and 30 days before as_of")

    it = book.partner("IT", created=book.years_ago(10))
    book.person(it, last_login=book.years_ago(8), erased_at=book.years_ago(3))
    book.person(it, last_login=book.years_ago(8), erased_at=book.years_ago(2))
    survivor = book.person(it, last_login=book.years_ago(7))
    book.order(it, survivor, (limit - timedelta(days=60)).date())
    book.violation(rule, it.id)

    released = book.partner("FR", created=book.years_ago(10))
    book.hold(released, book.years_ago(3), book.days_ago(200))
    book.person(released, last_login=book.years_ago(6))
    book.violation(rule, released.id)

    closed = book.partner("ES", created=book.years_ago(11), status="closed", closed_at=book.years_ago(5))
    book.person(closed, last_login=book.years_ago(5, 10))
    book.violation(rule, closed.id)

    never = book.partner("CN", created=limit - timedelta(days=30))
    book.person(never, last_login_at=None)
    book.violation(rule, never.id)

    broken = book.partner("BR", created=book.years_ago(9))
    person = book.person(broken, last_login=book.years_ago(7), anonymized_at=book.years_ago(2))
    book.violation(rule, broken.id)
    book.violation("ANON-INCOMPLETE", person["contact_id"])

    erased = book.partner("DE", created=book.years_ago(10))
    book.person(erased, last_login=book.years_ago(8), erased_at=book.years_ago(3))
    book.near_miss(rule, erased.id, "dormant account whose contacts are all erased")
    held = book.partner("US", created=book.years_ago(10))
    book.hold(held, book.years_ago(2))
    book.person(held, last_login=book.years_ago(7))
    book.near_miss(rule, held.id, "dormant account under an active legal hold")
    ordering = book.partner("AU", created=book.years_ago(10))
    old_login = book.person(ordering, last_login=book.years_ago(6))
    book.order(ordering, old_login, book.years_ago(1).date())
    book.near_miss(rule, ordering.id, "no login for six years but an order last year")


@plants("RET-USAGE-OVERDUE")
def usage_overdue(book: PlantBook) -> None:
    rule = "RET-USAGE-OVERDUE"
    limit = instant(book.timeline.usage_cutoff)
    cases = (
        (
            limit - SECOND,
            {"ip_address": "81.2.69.160", "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
        ),
        (book.years_ago(3), {"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"}),
        (book.years_ago(1) - timedelta(days=70), {"ip_address": "2a02:c7f:9e2b:4400:1d3c:5a8f:2b1e:9c07"}),
        (
            book.years_ago(5),
            {"ip_address": "212.58.244.22", "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)"},
        ),
    )
    for at, personal in cases:
        book.violation(rule, book.event(book.new_id("sessions"), at, "necessary", **personal)["event_id"])
    gb = book.partner("GB", created=book.years_ago(4))
    visitor = book.person(gb)
    book.violation(
        rule,
        book.event(book.new_id("sessions"), book.years_ago(2), "necessary", contact_id=visitor["contact_id"])[
            "event_id"
        ],
    )
    session = book.new_id("sessions")
    book.consent(session, book.years_ago(4) - timedelta(seconds=20))
    book.violation(
        rule, book.event(session, book.years_ago(4), "analytics", ip_address="31.13.64.35")["event_id"]
    )
    edge = book.event(book.new_id("sessions"), limit, "necessary", ip_address="94.23.11.8")
    book.near_miss(rule, edge["event_id"], "web event exactly 13 months and 30 days before as_of")
    gone = book.event(book.new_id("sessions"), book.years_ago(4), "necessary")
    book.near_miss(rule, gone["event_id"], "old web event already erased")


@plants("ANON-INCOMPLETE")
def anon_incomplete(book: PlantBook) -> None:
    rule = "ANON-INCOMPLETE"
    closed = book.partner("GB", created=book.years_ago(9), status="closed", closed_at=book.years_ago(2))
    closed.account.update(company_name=None, anonymized_at=book.years_ago(1))
    book.person(closed, last_login=book.years_ago(3), erased_at=book.years_ago(1))
    book.violation(rule, closed.id)

    fr = book.partner("FR", created=book.years_ago(5))
    book.person(fr)
    leaver = book.person(
        fr, deleted_at=book.days_ago(10), full_name=None, phone=None, role=None, password_hash=None
    )
    book.violation(rule, leaver["contact_id"])
    clean = book.person(fr, erased_at=book.days_ago(12))
    book.near_miss(rule, clean["contact_id"], "deleted contact with every personal column NULL")

    address = book.add(
        "addresses",
        account_id=fr.id,
        kind="shipping",
        line1=None,
        city="Lyon",
        postal_code="69002",
        country="FR",
        anonymized_at=book.days_ago(40),
    )
    book.violation(rule, address["address_id"])

    us = book.partner("US", created=book.years_ago(10))
    us_buyer = book.person(us)
    day = book.years_ago(8).date()
    tomb = book.order(
        us,
        us_buyer,
        day,
        erased_at=book.retention_end("US", day) + timedelta(days=5),
        tombstone=True,
        shipping_address_id=us.shipping,
    )
    book.violation(rule, tomb["order_id"])
    ticket = book.ticket(
        us,
        us_buyer,
        book.years_ago(1, 3),
        closed=book.years_ago(1),
        erased_at=book.days_ago(100),
        body="Please call me back about the missing hoop earrings.",
    )
    book.violation(rule, ticket["ticket_id"])

    gb = book.partner("GB", created=book.years_ago(8))
    day = (book.years_ago(6) - timedelta(days=10)).date()
    graced = book.order(
        gb, book.person(gb), day, anonymized_at=book.retention_end("GB", day) + timedelta(hours=1)
    )
    book.violation(rule, graced["order_id"])
    quiet = book.partner("NL", created=book.years_ago(6), status="closed", closed_at=book.years_ago(1))
    quiet.account.update(company_name=None, tax_id=None)
    book.person(quiet, last_login=book.years_ago(1), erased_at=book.days_ago(200))
    book.near_miss(rule, quiet.id, "account erased without an anonymized_at: not a broken erasure")


@plants("LEGAL-HOLD-BREACH")
def legal_hold_breach(book: PlantBook) -> None:
    rule = "LEGAL-HOLD-BREACH"
    us = book.partner("US", created=book.years_ago(12))
    book.hold(us, book.years_ago(3), book.years_ago(2))
    us_buyer = book.person(us)
    day = book.years_ago(10).date()
    book.violation(
        rule, book.order(us, us_buyer, day, erased_at=book.years_ago(2) - timedelta(days=180))["order_id"]
    )

    gb = book.partner("GB", created=book.years_ago(8))
    book.hold(gb, book.years_ago(1))
    writer = book.person(gb)
    held_ticket = book.ticket(
        gb, writer, book.years_ago(4, 2), closed=book.years_ago(4), erased_at=book.days_ago(180)
    )
    book.violation(rule, held_ticket["ticket_id"])

    fr = book.partner("FR", created=book.years_ago(6))
    book.hold(fr, book.years_ago(2), book.years_ago(1))
    book.person(fr)
    gone = book.person(fr, last_login=book.years_ago(2), erased_at=book.years_ago(1) - timedelta(days=180))
    book.violation(rule, gone["contact_id"])

    nl = book.partner("NL", created=book.years_ago(5))
    book.person(nl)
    book.hold(nl, book.days_ago(200))
    address = book.add(
        "addresses", account_id=nl.id, kind="shipping", country="NL", anonymized_at=book.days_ago(100)
    )
    book.violation(rule, address["address_id"])

    de = book.partner("DE", created=book.years_ago(13))
    placed = book.days_ago(300)
    book.hold(de, placed)
    de_buyer = book.person(de)
    day = book.years_ago(11).date()
    book.violation(rule, book.order(de, de_buyer, day, erased_at=placed, tombstone=True)["order_id"])

    au = book.partner("AU", created=book.years_ago(11))
    au_placed, au_released = book.years_ago(4), book.years_ago(3)
    book.hold(au, au_placed, au_released)
    au_buyer = book.person(au)
    day = book.years_ago(10).date()
    book.violation(rule, book.order(au, au_buyer, day, erased_at=au_released - SECOND)["order_id"])
    edge = book.order(au, au_buyer, day, erased_at=au_released)
    book.near_miss(rule, edge["order_id"], "order erased exactly at the hold's release")
    before = book.order(au, au_buyer, day, erased_at=au_placed - SECOND)
    book.near_miss(rule, before["order_id"], "order erased one second before the hold was placed")
