"""Faker pools: names, companies, addresses, phones and texts per partner country.

Faker is called a few hundred times per country, never once per row: rows sample pool entries
by index (``columns.pick``), which keeps a million contacts as fast as a thousand while values
still have the shape of real data (locale names and street lines, national phone formats).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
from faker import Faker


@dataclass(frozen=True)
class Country:
    """A partner jurisdiction: its Faker locale, share of partners, currency and tax-id shape."""

    code: str
    locale: str
    weight: float
    currency: str
    per_euro: float
    tax_id: str


COUNTRIES: tuple[Country, ...] = (
    Country("GB", "en_GB", 12, "GBP", 0.86, "GB#########"),
    Country("FR", "fr_FR", 10, "EUR", 1.0, "FR## #########"),
    Country("DE", "de_DE", 10, "EUR", 1.0, "DE#########"),
    Country("IT", "it_IT", 8, "EUR", 1.0, "IT###########"),
    Country("ES", "es_ES", 6, "EUR", 1.0, "ES?########"),
    Country("NL", "nl_NL", 5, "EUR", 1.0, "NL#########B##"),
    Country("BE", "nl_BE", 2, "EUR", 1.0, "BE0#########"),
    Country("AT", "de_AT", 1.5, "EUR", 1.0, "ATU########"),
    Country("CH", "de_CH", 2, "CHF", 0.95, "CHE-###.###.### MWST"),
    Country("IE", "en_IE", 1, "EUR", 1.0, "IE#######?"),
    Country("PT", "pt_PT", 1, "EUR", 1.0, "PT#########"),
    Country("SE", "sv_SE", 1.5, "SEK", 11.5, "SE##########01"),
    Country("DK", "da_DK", 1, "DKK", 7.46, "DK########"),
    Country("PL", "pl_PL", 1, "PLN", 4.3, "PL##########"),
    Country("NO", "no_NO", 0.5, "NOK", 11.6, "NO#########MVA"),
    Country("US", "en_US", 14, "USD", 1.08, "##-#######"),
    Country("CA", "en_CA", 4, "CAD", 1.47, "#########RT0001"),
    Country("AU", "en_AU", 4, "AUD", 1.65, "## ### ### ###"),
    Country("JP", "ja_JP", 5, "JPY", 160.0, "T#############"),
    Country("KR", "ko_KR", 1, "KRW", 1450.0, "###-##-#####"),
    Country("IL", "he_IL", 0.5, "ILS", 4.0, "#########"),
    Country("CN", "zh_CN", 3, "CNY", 7.8, "91##########??????"),
    Country("IN", "en_IN", 3, "INR", 90.0, "##?????####?#Z#"),
    Country("BR", "pt_BR", 2, "BRL", 5.9, "##.###.###/0001-##"),
    Country("MX", "es_MX", 1, "MXN", 19.0, "???######???"),
    Country("AE", "ar_AA", 2, "AED", 3.97, "100#########0003"),
)
CODES = np.array([c.code for c in COUNTRIES])

# Faker has no Emirati street data: partners in the UAE get real districts and no postcode
# (the UAE has none), which also puts NULL postcodes in front of the audit.
_AE_STREETS = (
    "Sheikh Zayed Road",
    "Al Maktoum Road",
    "Gold Souk, Deira",
    "Al Wasl Road",
    "Khalid Bin Al Waleed Road",
    "Corniche Road",
    "Al Falah Street",
    "Hamdan Street",
)
_AE_CITIES = ("Dubai", "Abu Dhabi", "Sharjah", "Ajman")
_ROLES = (
    "owner",
    "buyer",
    "purchasing manager",
    "store manager",
    "accounts payable",
    "merchandiser",
    "operations",
    "e-commerce manager",
)

_SUBJECTS = (
    "Missing items in {order}",
    "Damaged clasp on delivery",
    "Price list request",
    "Return request for {order}",
    "Customs delay for {order}",
    "Invoice {invoice} correction",
    "Account locked after reset",
    "Material certificate needed",
    "Change of shipping address",
    "Display stands for {collection}",
    "Cancel back-ordered lines",
    "Reservation for the Valentine's window",
    "Hallmark certificates for {order}",
    "Payment terms for {invoice}",
    "Question about {collection} restock",
)
_CORES = (
    "We received order {order} today but {n} of the {product} were missing from the parcel. Could you check with the warehouse?",
    "The clasp on {n} {product} arrived bent. We would like a replacement or a credit note.",
    "Could you send us the updated wholesale price list for the {collection} collection before {day}?",
    "Our shop is closed from {day} for stocktaking; please hold the shipment of order {order} until then.",
    "Can we move invoice {invoice} to net terms? Our accountant also needs the VAT breakdown.",
    "Tracking for order {order} has not changed for five days. Is the parcel held in customs?",
    "We would like to return {n} pieces of the {product}; the plating is discolouring.",
    "Please update our shipping address for future orders; the new warehouse opens on {day}.",
    "Do you offer display stands for the {collection} collection? We are redesigning our windows.",
    "Invoice {invoice} shows the wrong quantity for the {product}. We ordered {n}.",
    "A customer asks whether the {product} is nickel free. Do you have a material certificate?",
    "We need the hallmark certificates for order {order} for our insurer.",
    "Could you reserve {n} sets of the {product} for our Valentine's window?",
    "Our login stopped working after the password reset. Can you unlock the account?",
    "Please cancel the back-ordered lines of order {order}; we no longer need them.",
    "When will the {collection} collection be back in stock? We sold out of the {product} in a week.",
)
_GREETINGS = (
    "Hello,",
    "Hi team,",
    "Dear support,",
    "Good morning,",
    "Bonjour,",
    "Hallo,",
    "Buongiorno,",
    "Hola,",
)
_SIGNOFFS = (
    "Best regards, {name}",
    "Thanks, {first}",
    "Kind regards, {name} ({company})",
    "Cordialement, {name}",
    "Mit freundlichen Grüßen, {name}",
    "Un saluto, {first}",
    "Saludos, {name}",
)
_AGENT_NOTES = (
    "Partner called twice about this; VIP account, handle first.",
    "Escalated to the warehouse lead.",
    "Caller gave a mobile number for the courier.",
    "Refund approved by finance.",
    "Partner is unhappy with the carrier; offered free shipping next order.",
    "Checked ID before changing address.",
)
_GIFT_MESSAGES = (
    "Happy anniversary, with love from {first}",
    "For Mum's birthday",
    "Congratulations on the new shop!",
    "Merry Christmas from all of us",
    "Thank you for ten years, {first}",
    "For the bride, with love",
)
_JEWELRY_WORDS = (
    "pearl drop necklace",
    "hoop earrings",
    "tennis bracelet",
    "signet ring",
    "charm bracelet",
    "pendant",
    "stud earrings",
    "bangle",
    "cocktail ring",
    "bridal parure",
)
_COLLECTION_WORDS = (
    "Aurora",
    "Riviera",
    "Sakura",
    "Byzantine",
    "Art Deco",
    "Coral Reef",
    "Nordic Frost",
    "Bohème",
)
_PER_COUNTRY = (
    "full_name",
    "first_name",
    "email_local",
    "phone",
    "company",
    "domain",
    "line1",
    "city",
    "postcode",
)
# Thirteen digits in a row (spaces or dashes allowed): the card-number prefilter of MIN-CARD-IN-TEXT.
THIRTEEN_DIGITS = re.compile(r"\d(?:[ -]?\d){12}")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", ascii_text.lower())


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed ^ zlib.crc32(locale.encode()))
    return fake


@dataclass
class Pools:
    """Per-country pools concatenated into single Arrow arrays; ``offset``/``size`` per country.

    Sampling for rows of mixed countries is one ``take``: index = offset[country] + k with
    k < size, so every row gets a value of its own country's locale.
    """

    size: int
    offset: np.ndarray
    full_name: pa.Array
    first_name: pa.Array
    email_local: pa.Array
    phone: pa.Array
    company: pa.Array
    domain: pa.Array
    line1: pa.Array
    city: pa.Array
    postcode: pa.Array
    subjects: pa.Array
    bodies: pa.Array
    user_agents: dict[str, pa.Array]
    roles: pa.Array
    agent_notes: pa.Array
    gift_messages: pa.Array

    def index(self, country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One pool index per row, within the row's country (``country`` indexes COUNTRIES)."""
        return self.offset[country] + rng.integers(0, self.size, len(country))


def build_pools(seed: int, size: int, as_of: date) -> Pools:
    """Fill every pool with ``size`` entries per country (deterministic for a seed)."""
    columns: dict[str, list[str | None]] = {k: [] for k in _PER_COUNTRY}
    for country in COUNTRIES:
        fake = _faker(country.locale, seed)
        phones = _faker("ar_AE", seed) if country.code == "AE" else fake
        # Some locales (it_IT) build their city list from a set, whose order follows Python's
        # hash seed: choose from a sorted copy so that every process draws the same cities.
        cities = sorted(getattr(fake.provider("faker.providers.address"), "cities", ()) or ())
        for _ in range(size):
            first, last = fake.first_name(), fake.last_name()
            name = f"{last} {first}" if country.code in ("JP", "CN", "KR") else f"{first} {last}"
            local = f"{_slug(first)}.{_slug(last)}" if _slug(first) and _slug(last) else fake.user_name()
            columns["full_name"].append(name)
            columns["first_name"].append(first)
            columns["email_local"].append(local)
            columns["phone"].append(phones.phone_number())
            columns["company"].append(fake.company())
            columns["domain"].append(fake.domain_name())
            if country.code == "AE":
                n = fake.random_int(1, 40)
                columns["line1"].append(
                    f"Office {n}{fake.random_int(1, 9)}, {fake.random_element(_AE_STREETS)}"
                )
                columns["city"].append(fake.random_element(_AE_CITIES))
                columns["postcode"].append(None)
            else:
                columns["line1"].append(fake.street_address().replace("\n", ", "))
                columns["city"].append(fake.random_element(cities) if cities else fake.city())
                columns["postcode"].append(fake.postcode())
    texts = _faker("en_US", seed)
    subjects, bodies = [], []
    names = columns["full_name"]
    for i in range(size * 4):
        slots = {
            "order": f"ORD-{texts.random_int(1, 99_999_999):09d}",
            "invoice": f"INV-{texts.random_int(2014, 2026)}-{texts.random_int(1, 99_999):05d}",
            "n": texts.random_int(2, 24),
            "product": texts.random_element(_JEWELRY_WORDS),
            "collection": texts.random_element(_COLLECTION_WORDS),
            "day": texts.date_between(
                as_of - timedelta(days=3 * 365), as_of
            ).isoformat(),  # never the wall clock
            "name": names[i % len(names)],
            "first": columns["first_name"][i % len(names)],
            "company": columns["company"][i % len(names)],
        }
        subjects.append(texts.random_element(_SUBJECTS).format(**slots))
        bodies.append(
            " ".join(
                (
                    texts.random_element(_GREETINGS),
                    texts.random_element(_CORES).format(**slots),
                    texts.random_element(_SIGNOFFS).format(**slots),
                )
            )
        )
    for text in subjects + bodies:
        # The background must be clean: no ticket text may even look like a card number.
        assert not THIRTEEN_DIGITS.search(text), text
    agents: dict[str, list[str]] = {"desktop": [], "mobile": [], "tablet": []}
    while min(len(v) for v in agents.values()) < 60:
        ua = texts.user_agent()
        kind = (
            "tablet" if "iPad" in ua else "mobile" if re.search(r"iPhone|Android|Mobile", ua) else "desktop"
        )
        agents[kind].append(ua)
    first_names = columns["first_name"]
    return Pools(
        size=size,
        offset=np.arange(len(COUNTRIES)) * size,
        **{k: pa.array(v, pa.string()) for k, v in columns.items()},
        subjects=pa.array(subjects, pa.string()),
        bodies=pa.array(bodies, pa.string()),
        user_agents={k: pa.array(v, pa.string()) for k, v in agents.items()},
        roles=pa.array(_ROLES, pa.string()),
        agent_notes=pa.array(_AGENT_NOTES, pa.string()),
        gift_messages=pa.array(
            [texts.random_element(_GIFT_MESSAGES).format(first=first_names[i]) for i in range(size)],
            pa.string(),
        ),
    )
