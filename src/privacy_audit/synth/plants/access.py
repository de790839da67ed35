"""Plants of staff access (§5.1, §5.3): wrong tables, access after leaving, unexplained exports, lapsed training."""

from __future__ import annotations

from datetime import datetime, timedelta

from privacy_audit.synth.plants.book import PlantBook, Row, instant
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)


def _staff(
    book: PlantBook,
    role: str,
    *,
    since_days: int = 900,
    until: datetime | None = None,
    trained: datetime | str | None = "recent",
) -> Row:
    training = book.days_ago(40) if trained == "recent" else trained
    return book.add(
        "staff",
        role=role,
        department="Operations",
        active_from=book.days_ago(since_days),
        active_to=until,
        last_training_at=training,
    )


def _access(
    book: PlantBook, staff: Row, table: str, at: datetime, action: str = "read", why: str | None = None
) -> str:
    row = book.add(
        "staff_access_log",
        staff_id=staff["staff_id"],
        accessed_at=at,
        table_name=table,
        record_id=None if action == "export" else "ORD-000000001",
        action=action,
        justification=why,
    )
    return str(row["access_id"])


@plants("ACCESS-ROLE")
def roles(book: PlantBook) -> None:
    rule = "ACCESS-ROLE"
    for i, (role, table, action) in enumerate(
        (
            ("marketing", "payments", "read"),
            ("engineering", "contacts", "read"),
            ("fulfillment", "accounts", "export"),
            ("customer_support", "payments", "update"),
            ("finance", "web_events", "read"),
            ("contractor", "orders", "read"),
        )
    ):
        member = _staff(book, role)
        book.violation(rule, _access(book, member, table, book.days_ago(20 + i), action, "Quarterly review"))
    office = _staff(book, "privacy_office")
    book.near_miss(
        rule,
        _access(book, office, "web_events", book.days_ago(15), "delete", "Erasure request"),
        "the privacy office may touch every table",
    )
    support = _staff(book, "customer_support")
    book.near_miss(
        rule, _access(book, support, "support_tickets", book.days_ago(16)), "a table of the role's own list"
    )


@plants("ACCESS-AFTER-OFFBOARDING")
def offboarding(book: PlantBook) -> None:
    rule = "ACCESS-AFTER-OFFBOARDING"
    left = book.days_ago(120)
    leaver = _staff(book, "customer_support", until=left, trained=book.days_ago(300))
    book.violation(rule, _access(book, leaver, "orders", left + SECOND))
    book.violation(rule, _access(book, leaver, "contacts", left + timedelta(days=100)))
    book.violation(
        rule, _access(book, leaver, "accounts", left + timedelta(days=10), "export", "Copy for my records")
    )
    book.near_miss(
        rule, _access(book, leaver, "orders", left), "accessed at the very instant employment ended"
    )
    starter = _staff(book, "fulfillment", since_days=60)
    start = book.days_ago(60)
    book.violation(rule, _access(book, starter, "orders", start - timedelta(days=1)))
    book.violation(rule, _access(book, starter, "addresses", start - SECOND))
    book.near_miss(
        rule, _access(book, starter, "products", start), "accessed at the very instant employment began"
    )


@plants("ACCESS-EXPORT-UNJUSTIFIED")
def exports(book: PlantBook) -> None:
    rule = "ACCESS-EXPORT-UNJUSTIFIED"
    finance = _staff(book, "finance")
    for i, why in enumerate((None, "", "   ", "\t", " \t ")):
        book.violation(rule, _access(book, finance, "payments", book.days_ago(10 + i), "export", why))
    book.near_miss(
        rule,
        _access(book, finance, "orders", book.days_ago(9), "export", "VAT return Q3"),
        "export with a reason",
    )
    book.near_miss(
        rule, _access(book, finance, "orders", book.days_ago(8), "read", None), "reads need no reason"
    )


@plants("ACCESS-UNTRAINED")
def training(book: PlantBook) -> None:
    rule = "ACCESS-UNTRAINED"
    limit = instant(book.timeline.training_cutoff)
    cases = (
        (_staff(book, "customer_support", trained=None), book.days_ago(10), "orders"),
        (_staff(book, "finance", trained=limit - SECOND), book.days_ago(11), "payments"),
        (
            _staff(book, "fulfillment", since_days=2000, trained=book.years_ago(3)),
            book.days_ago(364),
            "orders",
        ),
        (_staff(book, "privacy_office", trained=book.days_ago(400)), book.days_ago(12), "contacts"),
        (_staff(book, "marketing", trained=None), book.days_ago(13), "email_sends"),
    )
    for member, at, table in cases:
        _access(book, member, table, at, "export" if table == "email_sends" else "read", "Campaign audience")
        book.violation(rule, str(member["staff_id"]))
    edge = _staff(book, "finance", trained=limit)
    _access(book, edge, "orders", book.days_ago(5))
    book.near_miss(rule, str(edge["staff_id"]), "trained exactly 12 months before as_of")
    gone = _staff(book, "customer_support", since_days=1500, until=book.days_ago(100), trained=None)
    _access(book, gone, "orders", book.days_ago(200))
    book.near_miss(rule, str(gone["staff_id"]), "untrained but no longer employed at as_of")
    idle = _staff(book, "engineering", since_days=2000, trained=None)
    _access(book, idle, "web_events", book.days_ago(400))
    book.near_miss(rule, str(idle["staff_id"]), "untrained but no access in the last 365 days")
