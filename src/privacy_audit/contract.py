"""The export contract (``shared/spec/export-contract.md``) as data.

Declared once, it drives CSV typing, validation, the undeclared-column rule, the meaning of
"erased" and the personal-value scans. Nothing else in the package lists tables or columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT = "VARCHAR"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"
BOOLEAN = "BOOLEAN"
INTEGER = "BIGINT"
DECIMAL = "DECIMAL(18,2)"


@dataclass(frozen=True)
class Column:
    """One contract column: its logical type, whether NULL is allowed, and its enum if any."""

    name: str
    type: str
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Table:
    """One contract table. ``personal`` lists the columns whose all-NULL state means erased."""

    name: str
    key: str
    columns: tuple[Column, ...]
    personal: tuple[str, ...] = ()
    optional: bool = False
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))


COUNTRY = r"^[A-Z]{2}$"  # ISO 3166-1 alpha-2
CURRENCY = r"^[A-Z]{3}$"  # ISO 4217


def _c(
    name: str, type_: str = TEXT, *, null: bool = False, enum: str | None = None, pattern: str | None = None
) -> Column:
    return Column(name, type_, null, tuple(enum.split()) if enum else None, pattern)


def _t(
    name: str,
    key: str,
    *columns: Column,
    personal: str = "",
    optional: bool = False,
) -> Table:
    return Table(name, key, columns, tuple(personal.split()), optional)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "accounts",
            "account_id",
            _c("account_id"),
            _c("company_name", null=True),
            _c("country", pattern=COUNTRY),
            _c("tax_id", null=True),
            _c("resale_certificate", null=True),
            _c("status", enum="active suspended closed"),
            _c("created_at", TIMESTAMP),
            _c("closed_at", TIMESTAMP, null=True),
            _c("anonymized_at", TIMESTAMP, null=True),
            personal="company_name tax_id resale_certificate",
        ),
        _t(
            "contacts",
            "contact_id",
            _c("contact_id"),
            _c("account_id"),
            _c("full_name", null=True),
            _c("email", null=True),
            _c("phone", null=True),
            _c("role", null=True),
            _c("birth_date", DATE, null=True),
            _c("password_hash", null=True),
            _c("created_at", TIMESTAMP),
            _c("last_login_at", TIMESTAMP, null=True),
            _c("deleted_at", TIMESTAMP, null=True),
            _c("anonymized_at", TIMESTAMP, null=True),
            personal="full_name email phone role birth_date password_hash",
        ),
        _t(
            "addresses",
            "address_id",
            _c("address_id"),
            _c("account_id"),
            _c("kind", enum="billing shipping headquarters"),
            _c("line1", null=True),
            _c("city", null=True),
            _c("postal_code", null=True),
            _c("country", pattern=COUNTRY),
            _c("anonymized_at", TIMESTAMP, null=True),
            personal="line1 city postal_code",
        ),
        _t(
            "legal_holds",
            "hold_id",
            _c("hold_id"),
            _c("account_id"),
            _c("reason"),
            _c("placed_at", TIMESTAMP),
            _c("released_at", TIMESTAMP, null=True),
        ),
        _t(
            "products",
            "product_id",
            _c("product_id"),
            _c("sku"),
            _c("name"),
            _c("category"),
            _c("collection"),
        ),
        _t(
            "orders",
            "order_id",
            _c("order_id"),
            _c("account_id"),
            _c("contact_id", null=True),
            _c("order_date", DATE),
            _c("status", enum="placed shipped delivered returned cancelled"),
            _c("total_amount", DECIMAL),
            _c("currency", pattern=CURRENCY),
            _c("ship_country", pattern=COUNTRY),
            _c("billing_address_id", null=True),
            _c("shipping_address_id", null=True),
            _c("anonymized_at", TIMESTAMP, null=True),
            _c("deleted_at", TIMESTAMP, null=True),
            personal="contact_id billing_address_id shipping_address_id",
        ),
        _t(
            "order_items",
            "order_id",
            _c("order_id"),
            _c("line_no", INTEGER),
            _c("product_id"),
            _c("quantity", INTEGER),
            _c("unit_price", DECIMAL),
        ),
        _t(
            "payments",
            "payment_id",
            _c("payment_id"),
            _c("order_id"),
            _c("method", enum="card bank_transfer paypal net_terms"),
            _c("card_last4", null=True),
            _c("card_number", null=True),
            _c("processor"),
            _c("processed_at", TIMESTAMP),
        ),
        _t(
            "support_tickets",
            "ticket_id",
            _c("ticket_id"),
            _c("account_id"),
            _c("contact_id", null=True),
            _c("opened_at", TIMESTAMP),
            _c("closed_at", TIMESTAMP, null=True),
            _c("channel", enum="email phone portal chat"),
            _c("subject", null=True),
            _c("body", null=True),
            _c("anonymized_at", TIMESTAMP, null=True),
            personal="contact_id subject body",
        ),
        _t(
            "web_events",
            "event_id",
            _c("event_id"),
            _c("session_id"),
            _c("contact_id", null=True),
            _c("occurred_at", TIMESTAMP),
            _c("event_type"),
            _c("page"),
            _c("product_id", null=True),
            _c("ip_address", null=True),
            _c("user_agent", null=True),
            _c("device_type", null=True),
            _c("referrer", null=True),
            _c("tracking_category", enum="necessary analytics marketing personalization"),
            personal="contact_id ip_address user_agent",
        ),
        _t(
            "cookie_consents",
            "consent_id",
            _c("consent_id"),
            _c("session_id"),
            _c("recorded_at", TIMESTAMP),
            _c("analytics", BOOLEAN),
            _c("marketing", BOOLEAN),
            _c("personalization", BOOLEAN),
            _c("do_not_track", BOOLEAN),
        ),
        _t(
            "communication_preferences",
            "contact_id",
            _c("contact_id"),
            _c("topic", enum="new_collections promotions market_trends surveys"),
            _c("opted_in", BOOLEAN),
            _c("updated_at", TIMESTAMP),
        ),
        _t(
            "email_sends",
            "send_id",
            _c("send_id"),
            _c("contact_id"),
            _c("sent_at", TIMESTAMP),
            _c("kind", enum="transactional marketing survey policy_notice"),
            _c("topic", null=True),
            _c("policy_version", null=True),
            _c("has_unsubscribe_link", BOOLEAN),
        ),
        _t(
            "policy_versions",
            "version",
            _c("version"),
            _c("published_at", TIMESTAMP),
            _c("effective_at", TIMESTAMP),
            _c("major", BOOLEAN),
        ),
        _t(
            "privacy_requests",
            "request_id",
            _c("request_id"),
            _c("contact_id"),
            _c(
                "kind",
                enum="access deletion rectification portability restriction objection consent_withdrawal",
            ),
            _c("received_at", TIMESTAMP),
            _c("verified_at", TIMESTAMP, null=True),
            _c("extension_notified_at", TIMESTAMP, null=True),
            _c("completed_at", TIMESTAMP, null=True),
            _c("status", enum="open completed rejected"),
        ),
        _t(
            "retention_exceptions",
            "exception_id",
            _c("exception_id"),
            _c("request_id"),
            _c("table_name"),
            _c("record_id"),
            _c("reason", enum="tax legal_hold fraud_prevention pending_order dispute"),
            _c("retain_until", DATE),
            _c("notified_at", TIMESTAMP, null=True),
        ),
        _t(
            "processors",
            "recipient",
            _c("recipient"),
            _c("category", enum="payment_processor shipping it_hosting support_tool analytics"),
            _c("allowed_purposes"),
            _c("dpa_signed_at", TIMESTAMP, null=True),
            optional=True,
        ),
        _t(
            "data_shares",
            "share_id",
            _c("share_id"),
            _c("recipient"),
            _c("recipient_category"),
            _c("purpose"),
            _c("data_categories"),
            _c("shared_at", TIMESTAMP),
            _c("record_count", INTEGER),
            _c("anonymized", BOOLEAN),
            optional=True,
        ),
        _t(
            "transfers",
            "transfer_id",
            _c("transfer_id"),
            _c("recipient"),
            _c("destination_country", pattern=COUNTRY),
            _c("subject_region", enum="EEA UK CH OTHER"),
            _c("mechanism", enum="adequacy scc bcr none"),
            _c("data_categories"),
            _c("transferred_at", TIMESTAMP),
            _c("encrypted", BOOLEAN),
            optional=True,
        ),
        _t(
            "staff",
            "staff_id",
            _c("staff_id"),
            _c("role"),
            _c("department"),
            _c("active_from", TIMESTAMP),
            _c("active_to", TIMESTAMP, null=True),
            _c("last_training_at", TIMESTAMP, null=True),
            optional=True,
        ),
        _t(
            "staff_access_log",
            "access_id",
            _c("access_id"),
            _c("staff_id"),
            _c("accessed_at", TIMESTAMP),
            _c("table_name"),
            _c("record_id", null=True),
            _c("action", enum="read export update delete"),
            _c("justification", null=True),
            optional=True,
        ),
    )
}

ERASED_COLUMN = "_erased"
"""Derived boolean column every personal table's view carries: all personal columns NULL."""


def erased_expression(table: Table) -> str:
    """SQL that is true when every personal column of ``table`` is NULL (the contract's "erased")."""
    return "(" + " AND ".join(f"{c} IS NULL" for c in table.personal) + ")"


# What the contract says in words, beside the declaration above: rendered by ``contract_doc``
# into ``privacy-audit contract`` and docs/export-contract.md.

VERSION = 2
"""The contract's version (``shared/spec/export-contract.md``)."""


@dataclass(frozen=True)
class Section:
    """A group of tables in the contract's text, in the order the contract lists them."""

    title: str
    tables: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section("Partners and people", ("accounts", "contacts", "addresses", "legal_holds")),
    Section("Commerce", ("products", "orders", "order_items", "payments")),
    Section("Support and usage", ("support_tickets", "web_events", "cookie_consents")),
    Section("Communication", ("communication_preferences", "email_sends", "policy_versions")),
    Section("Rights requests", ("privacy_requests", "retention_exceptions")),
    Section(
        "Sharing, transfers, staff", ("processors", "data_shares", "transfers", "staff", "staff_access_log")
    ),
)

DESCRIPTIONS: dict[str, str] = {
    "accounts": "One wholesale partner business.",
    "contacts": "A person who acts for an account (a login).",
    "addresses": "An account's billing, shipping or headquarters address.",
    "legal_holds": "A hold that suspends deletion of everything of one account.",
    "products": "One product of the catalogue.",
    "orders": "One order of an account.",
    "order_items": "One line of an order.",
    "payments": "One payment of an order.",
    "support_tickets": "One support ticket of an account.",
    "web_events": "One event of a web session.",
    "cookie_consents": "One cookie-consent choice of a web session.",
    "communication_preferences": "A contact's opt-in or opt-out for one topic, as a history.",
    "email_sends": "One email sent to a contact.",
    "policy_versions": "One published version of the privacy policy.",
    "privacy_requests": "One rights request of a contact.",
    "retention_exceptions": "What the platform kept after a deletion request, and why.",
    "processors": "The register of approved service providers.",
    "data_shares": "One sharing of data with a recipient.",
    "transfers": "One transfer of data to another country.",
    "staff": "One member of staff.",
    "staff_access_log": "One access of a member of staff to a record.",
}

NOTES: dict[str, str] = {
    "legal_holds": "A hold is active at time T when placed_at <= T and (released_at is NULL or"
    " released_at > T).",
    "orders": "An order with deleted_at set is a tombstone: the platform destroyed it on that date.",
    "payments": "card_number may only ever hold a masked form (at most the last four digits visible).",
    "cookie_consents": "The consent in force for an event is the session's latest row with"
    " recorded_at <= occurred_at.",
    "communication_preferences": "The preference in force at time T is the latest row with updated_at <= T.",
    "email_sends": "A `survey` send has topic `surveys`; a `policy_notice` send names policy_version.",
}
"""Rules of meaning a table's columns alone do not say."""

COLUMN_NOTES: dict[tuple[str, str], str] = {
    ("accounts", "country"): "the partner's jurisdiction",
    ("products", "category"): "e.g. necklaces, earrings, bracelets, rings, parures",
    ("processors", "allowed_purposes"): "`;`-separated",
    ("data_shares", "data_categories"): "`;`-separated",
    ("transfers", "data_categories"): "`;`-separated",
}
"""What a column holds where its name, type, enum and pattern do not say it."""

PATTERN_NAMES: dict[str, str] = {COUNTRY: "ISO 3166-1 alpha-2", CURRENCY: "ISO 4217"}
"""The standard each declared pattern stands for."""
