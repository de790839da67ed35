"""The identifier scan: the export's own values found in tables and text, never repeated."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from handmade import make_export
from privacy_audit.reporting.common.leaks import PERSONAL_KINDS, LeakScanner

COMPANY = "Maison Lumière Joaillerie SARL"
EMAIL = "claire.dubois@lumiere-joaillerie.fr"
ACCOUNT = "ACC-000042"
STREET = "12 rue de la Paix"
PHONE = "06 12 34 56 78"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory: pytest.TempPathFactory) -> LeakScanner:
    export = make_export(
        tmp_path_factory.mktemp("leaks") / "export",
        {
            "accounts": [
                {"account_id": ACCOUNT, "company_name": COMPANY, "tax_id": "FR40303265045", "country": "FR"},
                {"account_id": "ACC-000043", "company_name": "Aurora", "country": "FR"},  # also a collection
                {"account_id": "ACC-000044", "company_name": "Bijou", "country": "FR"},  # too short to tell
                {"account_id": "ACC-000045", "company_name": "Smith & Sons Gems", "country": "GB"},
            ],
            "contacts": [
                {
                    "contact_id": "CON-000007",
                    "account_id": ACCOUNT,
                    "full_name": "Claire Dubois",
                    "email": EMAIL,
                    "phone": PHONE,
                }
            ],
            "addresses": [{"address_id": "ADR-1", "account_id": ACCOUNT, "line1": STREET, "country": "FR"}],
            "products": [{"product_id": "P1", "category": "rings", "collection": "Aurora"}],
            "orders": [{"order_id": "ORD-000900", "account_id": ACCOUNT, "order_date": "2024-01-01"}],
            "web_events": [{"event_id": "E1", "session_id": "S1", "ip_address": "203.0.113.77"}],
        },
    )
    return LeakScanner.from_export(export)


def _clean() -> pa.Table:
    return pa.table(
        {
            "breakdown": ["top_collections", "sales_by_category_region"],
            "dim1_value": ["Aurora", "rings"],
            "dim2_value": [None, "Western Europe"],
            "value": [1234567.0, 42.0],
            "contributors": [12, 40],
        }
    )


def test_a_clean_publication_passes(scanner: LeakScanner) -> None:
    assert scanner.scan_table(_clean()) == []


def test_an_injected_email_column_is_caught_by_name_value_and_pattern(scanner: LeakScanner) -> None:
    found = scanner.scan_table(_clean().append_column("email", pa.array([EMAIL, "x@y.example"])))
    assert "column email is named like a personal or identifier column" in found
    assert "column email holds email values of contacts.email in 1 distinct values" in found
    assert "column email holds an email address in 2 distinct values" in found
    assert not any("claire" in f.lower() or "@" in f for f in found)


def test_an_injected_account_id_and_company_name_are_caught(scanner: LeakScanner) -> None:
    table = _clean().append_column("partner", pa.array([ACCOUNT, "nobody"]))
    table = table.set_column(1, "dim1_value", pa.array([f"{COMPANY.upper()} (Paris)", "rings"]))
    found = scanner.scan_table(table)
    assert found == [
        "column dim1_value holds company name values of accounts.company_name in 1 distinct values",
        "column partner holds account id values of accounts.account_id in 1 distinct values",
    ]


def test_text_leaks_are_named_by_kind_and_line_only(scanner: LeakScanner) -> None:
    text = f"<p>Summary</p>\n<td>{STREET}</td>\ncall {PHONE} or +33 6 12 34 56 78\n<td>ord-000900</td>"
    found = scanner.scan_text(text)
    assert found == [
        "text holds an international phone number at line 3",
        "text holds order id values of orders.order_id at line 4",
        "text holds phone values of contacts.phone at line 3",
        "text holds street line values of addresses.line1 at line 2",
    ]
    assert not any("rue" in f or "12 34" in f for f in found)


def test_html_entities_and_json_escapes_do_not_hide_a_value(scanner: LeakScanner) -> None:
    found = "text holds company name values of accounts.company_name at line 1"
    assert scanner.scan_text("<td>Smith &amp; Sons Gems</td>") == [found]
    assert scanner.scan_text('{"text": ["Smith & Sons\\nGems"]}') == [found]


def test_common_numbers_times_and_versions_are_not_leaks(scanner: LeakScanner) -> None:
    text = "python 3.11.4, pandas 2.1.0.1rc, 12:30:45, 1,234,567.89 EUR, 45.5%, width: 100.0px; Aurora Bijou"
    assert scanner.scan_text(text) == []


def test_personal_kinds_only_lets_identifiers_pass(scanner: LeakScanner, tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export", {"accounts": [{"account_id": ACCOUNT, "company_name": COMPANY}]}
    )
    personal = LeakScanner.from_export(export, kinds=PERSONAL_KINDS)
    assert personal.scan_text(f"evidence: {ACCOUNT}") == []
    assert personal.scan_text(f"evidence: {COMPANY}") == [
        "text holds company name values of accounts.company_name at line 1"
    ]


def test_values_are_held_as_hashes(scanner: LeakScanner) -> None:
    # The scanner's own state; the engine it keeps to hash phrases only has views over the files.
    state = pickle.dumps({name: value for name, value in vars(scanner).items() if name != "_engine"})
    normalized = (
        "claire dubois lumiere joaillerie fr",
        "maison lumi re joaillerie sarl",
        "12 rue de la paix",
    )
    for value in (EMAIL, COMPANY, STREET, PHONE, ACCOUNT, "Claire Dubois", "FR40303265045", *normalized):
        assert value.encode() not in state and value.lower().encode() not in state
    # One 8-byte hash per distinct value kept: "Aurora" is also a collection, "Bijou" too short.
    held = {kind: (h.dtype, len(h)) for kind, h in scanner._hashes.items()}
    assert held["email"] == (np.uint64, 1) and held["company name"] == (np.uint64, 2)


def test_a_saved_scanner_finds_what_the_one_that_saved_it_finds(scanner: LeakScanner, tmp_path: Path) -> None:
    # The trend report's kernel scans with the values the CLI collected (saved, then loaded).
    from privacy_audit.engine import make_engine

    loaded = LeakScanner.load(scanner.save(tmp_path / "values.npz"), make_engine("duckdb"))
    table = _clean().append_column("partner", pa.array([ACCOUNT, "CON-000007"]))
    table = table.set_column(1, "dim1_value", pa.array([f"{COMPANY} (Paris)", "Claire Dubois"]))
    text = f"<td>{STREET}</td>\n<td>ord-000900</td>\n{COMPANY.lower()}"
    assert loaded.scan_table(table) == scanner.scan_table(table) != []
    assert loaded.scan_text(text) == scanner.scan_text(text) != []
    assert loaded.scan_table(_clean()) == []


def test_a_scanner_saved_by_an_engine_hashing_otherwise_is_refused(
    scanner: LeakScanner, tmp_path: Path
) -> None:
    from privacy_audit.engine import make_engine

    path = scanner.save(tmp_path / "values.npz")
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    np.savez(path, **{**arrays, "probe": arrays["probe"] + np.uint64(1)})
    with pytest.raises(ValueError, match="hash differs"):
        LeakScanner.load(path, make_engine("duckdb"))
