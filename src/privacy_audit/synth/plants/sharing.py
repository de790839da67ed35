"""Plants of sharing and transfers (§4.1, §4.4, §8.2): sold data, unapproved recipients, unsafe transfers."""

from __future__ import annotations

from datetime import timedelta

from privacy_audit.synth.governance import PROCESSORS, dpa_signed
from privacy_audit.synth.plants.book import PlantBook, instant
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)


def _registered(name: str) -> tuple[str, str]:
    p = next(p for p in PROCESSORS if p.recipient == name)
    return p.recipient, p.category


def _share(
    book: PlantBook,
    recipient: str,
    category: str,
    purpose: str,
    days: int,
    anonymized: bool = False,
    data: str = "contact;order",
) -> str:
    row = book.add(
        "data_shares",
        recipient=recipient,
        recipient_category=category,
        purpose=purpose,
        data_categories=data,
        shared_at=book.days_ago(days),
        record_count=250,
        anonymized=anonymized,
    )
    return str(row["share_id"])


@plants("SHARE-SALE")
def share_sale(book: PlantBook) -> None:
    sale = "SHARE-SALE"
    book.violation(sale, _share(book, *_registered("Adyen N.V."), "sale", 40))
    book.near_miss(
        sale,
        _share(book, *_registered("Adyen N.V."), "sales_reconciliation", 39),
        "an allowed purpose, not a sale",
    )
    book.violation(sale, _share(book, *_registered("DHL Express"), " advertising ", 41))
    book.violation(sale, _share(book, *_registered("Amazon Web Services EMEA SARL"), "data_brokerage", 42))
    book.violation(sale, _share(book, *_registered("Zendesk Inc."), "third_party_marketing", 43))
    broker = _share(book, "Global Leads Ltd", "data_broker", "sale", 44)
    book.violation(sale, broker)
    book.violation("SHARE-UNAPPROVED", broker)


@plants("SHARE-UNAPPROVED")
def share_unapproved(book: PlantBook) -> None:
    unapproved = "SHARE-UNAPPROVED"
    book.violation(
        unapproved,
        _share(book, "Acme Retail Insights Ltd", "analytics", "market_research", 50, anonymized=True),
    )
    book.violation(unapproved, _share(book, *_registered("Sendcloud B.V."), "delivery", 51))
    mailjet = next(p for p in PROCESSORS if p.recipient == "Mailjet SAS")
    signed = instant(dpa_signed(mailjet, book.timeline))
    early = book.add(
        "data_shares",
        recipient=mailjet.recipient,
        recipient_category=mailjet.category,
        purpose="email_delivery",
        data_categories="contact",
        shared_at=signed - SECOND,
        record_count=90,
        anonymized=False,
    )
    book.violation(unapproved, early["share_id"])
    same = book.add(
        "data_shares",
        recipient=mailjet.recipient,
        recipient_category=mailjet.category,
        purpose="email_delivery",
        data_categories="contact",
        shared_at=signed,
        record_count=90,
        anonymized=False,
    )
    book.near_miss(unapproved, same["share_id"], "shared at the very instant the DPA was signed")
    book.violation(unapproved, _share(book, "DHL Express GmbH", "shipping", "delivery", 52))
    book.violation(
        unapproved, _share(book, "Matomo analytics", "analytics", "site_analytics", 53, anonymized=True)
    )
    book.near_miss(
        unapproved,
        _share(book, " DHL Express ", "shipping", "delivery", 54),
        "registered name with surrounding spaces",
    )


@plants("SHARE-PURPOSE")
def share_purpose(book: PlantBook) -> None:
    purpose = "SHARE-PURPOSE"
    book.violation(purpose, _share(book, *_registered("Adyen N.V."), "marketing_analytics", 60))
    book.violation(purpose, _share(book, *_registered("DHL Express"), "customer_support", 61))
    book.violation(purpose, _share(book, *_registered("Zendesk Inc."), "profiling", 62))
    book.violation(purpose, _share(book, *_registered("Amazon Web Services EMEA SARL"), "delivery", 63))
    book.violation(purpose, _share(book, *_registered("UPS Europe SRL"), "returns", 64))
    book.near_miss(
        purpose,
        _share(book, *_registered("Stripe Payments Europe Ltd"), "refunds", 65),
        "allowed as ' refunds' in a spaced list",
    )
    book.near_miss(
        purpose,
        _share(book, *_registered("DHL Express"), " delivery ", 66),
        "allowed purpose with surrounding spaces",
    )


@plants("SHARE-ANALYTICS-IDENTIFIABLE")
def share_analytics_identifiable(book: PlantBook) -> None:
    identifiable = "SHARE-ANALYTICS-IDENTIFIABLE"
    matomo = _registered("Matomo Analytics")
    for i, (use, data) in enumerate(
        (
            ("site_analytics", "usage"),
            ("conversion_reporting", "usage;order"),
            ("site_analytics", "usage;contact"),
            ("conversion_reporting", "order"),
            ("site_analytics", "usage"),
        )
    ):
        book.violation(identifiable, _share(book, *matomo, use, 70 + i, data=data))
    book.near_miss(
        identifiable,
        _share(book, *matomo, "site_analytics", 80, anonymized=True),
        "analytics share that is anonymized",
    )
    book.near_miss(
        identifiable,
        _share(book, *_registered("Amazon Web Services EMEA SARL"), "hosting", 81),
        "identifiable, but to a host, not analytics",
    )


def _transfer(
    book: PlantBook, destination: str, region: str, mechanism: str, days: int, encrypted: bool = True
) -> str:
    row = book.add(
        "transfers",
        recipient="Partner logistics hub",
        destination_country=destination,
        subject_region=region,
        mechanism=mechanism,
        data_categories="contact;address",
        transferred_at=book.days_ago(days),
        encrypted=encrypted,
    )
    return str(row["transfer_id"])


@plants("XFER-NO-SAFEGUARD")
def transfer_no_safeguard(book: PlantBook) -> None:
    unsafe = "XFER-NO-SAFEGUARD"
    for destination, region, mechanism, days in (
        ("CN", "EEA", "none", 30),
        ("IN", "UK", "adequacy", 31),
        ("BR", "CH", "none", 32),
        ("AE", "EEA", "adequacy", 33),
        ("SG", "EEA", "none", 34),
    ):
        record = _transfer(book, destination, region, mechanism, days)
        book.violation(unsafe, record)
    book.near_miss("XFER-UNENCRYPTED", record, "unlawful destination, but the transfer was encrypted")
    both = _transfer(book, "CN", "UK", "adequacy", 35, encrypted=False)
    book.violation(unsafe, both)
    book.violation("XFER-UNENCRYPTED", both)
    for destination, region, mechanism, why in (
        ("US", "EEA", "adequacy", "the US is on the adequacy list"),
        ("CN", "OTHER", "none", "subjects outside the EEA, UK and CH"),
        ("IN", "EEA", "scc", "standard contractual clauses"),
        ("JP", "UK", "none", "Japan is adequate"),
        ("NO", "EEA", "none", "Norway is in the EEA"),
    ):
        book.near_miss(unsafe, _transfer(book, destination, region, mechanism, 40), why)


@plants("XFER-UNENCRYPTED")
def transfer_unencrypted(book: PlantBook) -> None:
    plain = "XFER-UNENCRYPTED"
    for destination, region, mechanism, days in (
        ("US", "EEA", "adequacy", 50),
        ("IN", "UK", "scc", 51),
        ("AE", "EEA", "bcr", 52),
        ("CN", "OTHER", "none", 53),
        ("DE", "UK", "adequacy", 54),
    ):
        book.violation(plain, _transfer(book, destination, region, mechanism, days, encrypted=False))
