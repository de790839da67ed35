"""Plants of minimization and security (§5.1, §5.2, §10.1): data that should never have been kept."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from privacy_audit.synth import schemas
from privacy_audit.synth.plants.book import PlantBook, midnight
from privacy_audit.synth.plants.registry import plants


def luhn(partial: str) -> str:
    """``partial`` completed with its Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return partial + str((10 - total % 10) % 10)


@plants("MIN-UNDECLARED-COLUMN")
def undeclared_columns(book: PlantBook) -> None:
    for table, extra in schemas.UNDECLARED.items():
        for column in extra:
            book.violation("MIN-UNDECLARED-COLUMN", f"{table}.{column}")
    for table, extra in schemas.INVENTORY.items():
        for column in extra:
            book.near_miss(
                "MIN-UNDECLARED-COLUMN", f"{table}.{column}", "declared by the policy's data inventory"
            )


@plants("MIN-CARD-NUMBER")
def card_numbers(book: PlantBook) -> None:
    rule = "MIN-CARD-NUMBER"
    stored = (
        "4111111111111111",
        "4242 4242 4242 4242",
        "411111******1111",
        "*****12345",
        "5555-5555-5555-4444",
        "3782 822463 10005",
    )
    masked = ("**** **** **** 4242", "XXXX-XXXX-XXXX-1881", "************0005", "4444")
    for i, number in enumerate(stored + masked):
        row = book.add(
            "payments",
            order_id=book.anchors.order_ids[i],
            method="card",
            card_last4=number[-4:],
            card_number=number,
            processor="Stripe",
            processed_at=book.days_ago(40 + i),
        )
        if number in stored:
            book.violation(rule, row["payment_id"])
        else:
            book.near_miss(rule, row["payment_id"], "masked card number: at most the last four digits")


@plants("MIN-CARD-IN-TEXT")
def cards_in_text(book: PlantBook) -> None:
    rule = "MIN-CARD-IN-TEXT"
    gb = book.partner("GB", created=book.years_ago(3))
    writer = book.person(gb)
    leaked = (
        ({"body": "Hello, please charge 4111 1111 1111 1111 for order ORD-000123456. Thanks, Anna"}),
        ({"subject": "Card 5555-5555-5555-4444 declined at checkout"}),
        ({"body": f"Our AMEX is {luhn('37828224631000')}, expiry 09/27. Regards, Tom"}),
        ({"body": f"Use the old card {luhn('422222222222')} for the deposit please."}),
        ({"body": f"Corporate card {luhn('401288888888188812')} - charge the invoice INV-2026-00412."}),
        ({"body": "Reorder: 4012 8888 8888 1881 2 pcs of the tennis bracelet"}),
        ({"body": "Ref 12 4012-8888-8888-1881 is the card to use."}),
        ({"body": "Diners club 3056 930902 5904, valid until 03/28."}),
    )
    for i, text in enumerate(leaked):
        at = book.days_ago(30 + i)
        # Some land on background partners, written by nobody on file (contact_id NULL).
        contact = writer if i < 4 and i % 2 == 0 else None
        row = book.ticket(gb, contact, at, closed=at + timedelta(days=1), **text)
        if i >= 4:
            row["account_id"] = book.anchors.account_ids[i]
        book.violation(rule, row["ticket_id"])
    safe = (
        ("Card 4111 1111 1111 1112 was declined, can you retry?", "16 digits that fail the Luhn checksum"),
        ("Call me on +44 20 7946 0958 about the order.", "a 12-digit phone number"),
        (
            "The card 4111  1111  1111  1111 was refused.",
            "groups separated by double spaces are not one run of digits",
        ),
        ("Tracking 4111.1111.1111.1111 means nothing to us.", "dots are not digit separators"),
        (
            "Rappelez-moi au 33 6 35 94 29 14 2024-04-11 avant midi.",
            "a phone number in pairs run into a date (its first 15 digits pass Luhn) is no card shape",
        ),
        ("Card 5555-5555 5555-4444 on file.", "spaces and dashes mixed are not one number"),
        ("Parcel 41111111111111111115 arrived broken.", "a 20-digit run (Luhn-valid) is no card number"),
        ("Voucher 1234 5678 9012 3452 applied.", "Luhn-valid, but no card industry starts with 1"),
        ("Box 17 4111 1111 1111 1112 was short.", "a Luhn-invalid card; the group before it never joins it"),
    )
    for i, (body, why) in enumerate(safe):
        at = book.days_ago(50 + i)
        book.near_miss(
            rule, book.ticket(gb, writer, at, closed=at + timedelta(hours=5), body=body)["ticket_id"], why
        )


@plants("SEC-PASSWORD-STORAGE")
def passwords(book: PlantBook) -> None:
    rule = "SEC-PASSWORD-STORAGE"
    de = book.partner("DE", created=book.years_ago(6))
    bad = (
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "7c4a8d09ca3762af61e59520943dc26494f8941b",
        "Sommer2024!",
        "$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$argon2d$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "pbkdf2_sha1$10000$s1Y9ZcS4l3AW$8bP1v5b3xN1c2mQ3xYp4o7kqK6I=",
        "$2B$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "{SSHA}K3x7bG9QdW5rLm9yZ1NhbHQ=",
    )
    for hashed in bad:
        book.violation(rule, book.person(de, password_hash=hashed)["contact_id"])
    good = (
        ("$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt $2y$"),
        ("$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", "scrypt $7$"),
        ("$pbkdf2-sha512$25000$LyWE0HrP2RsjZCxlDGFMKQ$1vC5Ukg7J4W9H1d3", "passlib pbkdf2-sha512"),
        ("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$d9u5A0Qk9e8Gw", "argon2i"),
    )
    for hashed, why in good:
        book.near_miss(rule, book.person(de, password_hash=hashed)["contact_id"], f"accepted scheme: {why}")
    sso = book.person(de, password_hash=None)
    book.near_miss(rule, sso["contact_id"], "no password at all (single sign-on)")


@plants("CHILD-MINOR")
def minors(book: PlantBook) -> None:
    rule = "CHILD-MINOR"
    age = book.policy.minimum_age
    fr = book.partner("FR", created=book.years_ago(age // 2 + 4))

    def joined(born: date, created: date, hour: int = 10) -> dict[str, object]:
        return {"birth_date": born, "created": midnight(created) + timedelta(hours=hour)}

    signup = (book.now - timedelta(days=200)).date()
    cases = [
        (joined(signup - relativedelta(years=age) + timedelta(days=1), signup), True),
        (joined(signup - relativedelta(years=16), signup), True),
        (joined(signup - relativedelta(years=age) + timedelta(days=1), signup, hour=23), True),
        (joined(signup - relativedelta(years=14, days=40), signup - timedelta(days=40)), True),
        (joined(signup - relativedelta(years=age), signup), False),
    ]
    leap = next(
        y for y in range(book.now.year - age - 1, 1900, -1) if y % 4 == 0 and date(y + age, 2, 28) < signup
    )
    cases += [
        (joined(date(leap, 2, 29), date(leap + age, 2, 27)), True),
        (joined(date(leap, 2, 29), date(leap + age, 2, 28)), False),
    ]
    for plan, minor in cases:
        contact = book.person(fr, created=plan["created"], birth_date=plan["birth_date"])
        if minor:
            book.violation(rule, contact["contact_id"])
        else:
            book.near_miss(rule, contact["contact_id"], f"exactly {age} on the day the login was created")
