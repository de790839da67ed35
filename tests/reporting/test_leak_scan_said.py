"""The leak scan reads what a report says, by whole token: true leaks caught, template words not."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handmade import make_export
from privacy_audit.reporting.common import leaks
from privacy_audit.reporting.common.charts import Panel, stacked_panels
from privacy_audit.reporting.common.html import QUOTE_CLASS
from privacy_audit.reporting.common.leaks import PERSONAL_KINDS, KnownTexts, LeakScanner

COMPANY = "Maison Lumiere Joaillerie SARL"
CSS_WORD = "Parent"  # a company name, and a word of the template's CSS
HIT = "text holds company name values of accounts.company_name"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory: pytest.TempPathFactory) -> LeakScanner:
    export = make_export(
        tmp_path_factory.mktemp("said") / "export",
        {
            "accounts": [
                {"account_id": "10234", "company_name": COMPANY, "country": "FR"},  # a plain-number id
                {"account_id": "A7", "company_name": CSS_WORD, "country": "FR"},  # a short id
            ],
            "contacts": [{"contact_id": "C10", "account_id": "A7"}],
        },
    )
    return LeakScanner.from_export(export)


def _chart(title: str) -> bytes:
    counts = pd.DataFrame({"x": [0.0], "category": ["within"], "n": [3]})
    return stacked_panels([Panel(title, "age", counts, 1.0, [("within", "#888")])], "ages").png


def _page(body: str) -> str:
    style = ".jp-OutputArea-child .parent[data-action] { color: var(--google-material-color); }"
    return f"<html><head><style>\n{style}\n</style></head>\n<body class='parent'>\n{body}\n</body></html>"


def test_template_css_and_markup_words_are_not_leaks(scanner: LeakScanner) -> None:
    assert scanner.scan_html(_page("<div class='parent' data-action='parent'><p>Ages</p></div>")) == []


@pytest.mark.parametrize(
    "body",
    [
        f"<p>Revenue of {COMPANY}</p>",
        f"<table><tr><td>{COMPANY}</td></tr></table>",
        f"<img alt='{COMPANY} orders' src='x.png'>",
        f"<a title='{CSS_WORD}' href='#x'>x</a>",  # a one-word name, where a reader sees it
    ],
    ids=["text", "table cell", "alt text", "title attribute"],
)
def test_a_company_name_said_by_the_page_is_a_leak(scanner: LeakScanner, body: str) -> None:
    assert scanner.scan_html(_page(body)) == [f"{HIT} at line 5"]


def test_a_company_name_in_a_chart_title_is_a_leak(scanner: LeakScanner) -> None:
    clean = base64.b64encode(_chart("Orders by age")).decode()
    planted = base64.b64encode(_chart(f"Orders of {COMPANY}")).decode()
    assert scanner.scan_html(_page(f"<img alt='ages' src='data:image/png;base64,{clean}'>")) == []
    assert scanner.scan_html(_page(f"<img alt='ages' src='data:image/png;base64,{planted}'>")) == [
        f"{HIT} at line 5"
    ]


def _notebook(outputs: list[dict], source: str = "") -> dict:
    return {"cells": [{"cell_type": "code", "source": source, "outputs": outputs}]}


def test_a_notebook_is_scanned_by_its_outputs(scanner: LeakScanner) -> None:
    stream = {"output_type": "stream", "name": "stdout", "text": [f"top partner: {COMPANY}\n"]}
    image = {"output_type": "display_data", "data": {"image/png": base64.b64encode(_chart(COMPANY)).decode()}}
    html = {"output_type": "display_data", "data": {"text/html": f"<td>{COMPANY}</td>"}}
    for output in (stream, image, html):
        assert scanner.scan_notebook(_notebook([output])) == [f"{HIT} at cell 0"]
    # The source is the project's own: a word of it is no leak, and CSS in an output says nothing.
    style = {"output_type": "display_data", "data": {"text/html": "<style>.parent{}</style>"}}
    assert scanner.scan_notebook(_notebook([style], source=f"# {CSS_WORD}")) == []


def test_short_and_plain_number_ids_count_only_in_cells(scanner: LeakScanner) -> None:
    assert scanner.scan_html(_page("<p>10234 orders in C10 and A7 at line 24</p>")) == []
    found = scanner.scan_html(_page("<table><tr><td>C10</td><td>A7</td></tr></table>"))
    assert found == [
        "text holds account id values of accounts.account_id at line 5",
        "text holds contact id values of contacts.contact_id at line 5",
    ]
    # A plain number shorter than MIN_DIGITS is a count wherever it stands.
    assert scanner.scan_html(_page("<table><tr><td>10234</td></tr></table>")) == []


def test_files_are_scanned_by_format(scanner: LeakScanner, tmp_path: Path) -> None:
    csv = tmp_path / "evidence.csv"
    csv.write_text(f"record_id,detail\nC10,ordered\nA9,{COMPANY}\n")
    assert scanner.scan_file(csv) == [
        "text holds company name values of accounts.company_name at row 2",
        "text holds contact id values of contacts.contact_id at row 1",
    ]
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"rules": {"X": {"reason": "ok", "records": ["A7"]}}}, indent=1))
    assert scanner.scan_file(summary) == ["text holds account id values of accounts.account_id at line 6"]
    table = tmp_path / "findings.parquet"
    pq.write_table(pa.table({"detail": ["fine", f"{COMPANY}"], "n": [1, 2]}), table)
    assert scanner.scan_file(table) == [f"{HIT} at row 2"]
    png = tmp_path / "chart.png"
    png.write_bytes(_chart(COMPANY))
    assert scanner.scan_file(png) == [f"{HIT} at line 0"]


def test_personal_kinds_let_evidence_ids_pass(tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export", {"contacts": [{"contact_id": "C10", "full_name": "Ada Lovelace"}]}
    )
    personal = LeakScanner.from_export(export, kinds=PERSONAL_KINDS)
    assert personal.scan_html("<td>C10</td><td>Ada Lovelace</td>") == [
        "text holds full name values of contacts.full_name at line 1"
    ]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> LeakScanner:
    """A compliance report's scanner over an export where a tax id is all digits."""
    export = make_export(
        tmp_path_factory.mktemp("keys") / "export",
        {
            "accounts": [{"account_id": "A1", "company_name": COMPANY, "tax_id": "000181702"}],
            "contacts": [{"contact_id": "C1", "account_id": "A1", "email": "ada@perle.example"}],
        },
    )
    return LeakScanner.from_export(export, kinds=PERSONAL_KINDS)


def test_key_cells_are_matched_whole(evidence: LeakScanner, tmp_path: Path) -> None:
    # EML-000181702's digits equal the tax id (a collision among millions of findings): not a
    # leak in a key column. The same digits in a detail, and a key that is a personal value
    # whole (a platform keyed by company name), are.
    rows = {
        "record_id": ["EML-000181702", COMPANY, "EML-1"],
        "subject_id": ["C1", "C1", "C1"],
        "detail": ["sent", "sent", "tax id 000181702 on file"],
    }
    tax = "text holds tax id values of accounts.tax_id"
    table = tmp_path / "findings.parquet"
    pq.write_table(pa.table(rows), table)
    assert evidence.scan_file(table) == [f"{HIT} at row 2", f"{tax} at row 3"]
    csv = tmp_path / "evidence.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    assert evidence.scan_file(csv) == [f"{HIT} at row 2", f"{tax} at row 3"]


def test_tables_stream_and_name_their_rows_exactly(
    evidence: LeakScanner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read three rows at a time: a leak's row numbers run on across batches, and a description
    # names the first rows of many (here two, so that the rows held are trimmed), then "…".
    monkeypatch.setattr(leaks, "_CHUNK", 3)
    monkeypatch.setattr(leaks, "_SHOWN", 2)
    details = ["fine"] * 40
    for row in (5, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 40):
        details[row - 1] = f"shipped to {COMPANY}"
    details[29] = "ada@perle.example"
    table = tmp_path / "findings.parquet"
    pq.write_table(pa.table({"detail": details}), table, row_group_size=7)
    assert evidence.scan_file(table) == [
        "text holds an email address at row 30",
        f"{HIT} at row 5, 7, …",
        "text holds email values of contacts.email at row 30",
    ]
    csv = tmp_path / "evidence.csv"
    csv.write_text("detail\n" + "".join(f'"{d}"\n' for d in details), encoding="utf-8")
    assert evidence.scan_file(csv) == evidence.scan_file(table)
    ragged = tmp_path / "ragged.csv"  # not a table pyarrow reads: scanned as text, still caught
    ragged.write_text(f"a,b\n1\n{COMPANY},2,3\n", encoding="utf-8")
    assert evidence.scan_file(ragged) == [f"{HIT} at line 3"]


POLICY = "10.1 Children\nWe ask that a parent or guardian consent for any partner under the age of 18."


@pytest.fixture(scope="module")
def quoting(tmp_path_factory: pytest.TempPathFactory) -> LeakScanner:
    export = make_export(
        tmp_path_factory.mktemp("quotes") / "export",
        {
            "accounts": [
                {"account_id": "A1", "company_name": CSS_WORD},
                {"account_id": "A2", "company_name": COMPANY},
            ]
        },
    )
    return LeakScanner.from_export(export, kinds=PERSONAL_KINDS, known=[POLICY, "Our Joaillerie SARL range"])


def _quote(words: str, element: str = "span") -> str:
    return f'<{element} class="{QUOTE_CLASS}">{words}</{element}>'


def test_a_verified_quote_of_a_known_text_is_not_data(quoting: LeakScanner) -> None:
    bullet = "We ask that a parent or guardian consent for any partner under the age of 18."
    assert quoting.scan_html(_page(f"<blockquote>§10.1: {_quote(bullet, 'p')}</blockquote>")) == []
    assert quoting.scan_html(_page(f"<td>§10.1 {_quote('a parent or guardian')}</td>")) == []
    notebook = _notebook([{"output_type": "display_data", "data": {"text/html": _quote(bullet)}}])
    assert quoting.scan_notebook(notebook) == []


@pytest.mark.parametrize(
    "body",
    [
        f"<table><tr><td>{CSS_WORD}</td></tr></table>",  # the name as a cell, not as a quote
        _quote(f"a {CSS_WORD} company"),  # marked, but no run of the known text: the mark exempts nothing
        f"<p>Maison Lumiere {_quote('Joaillerie SARL')}</p>",  # a name reaching into a verified quote
        f"<p>{_quote('a parent or')}<span> guardian</span> {CSS_WORD}</p>",  # after a quote
        f"<p class='{QUOTE_CLASS}'>a parent <img alt='{CSS_WORD}' src='x.png'> or guardian</p>",  # alt text
    ],
    ids=["table cell", "unverified mark", "reaching in", "after the quote", "alt inside"],
)
def test_a_company_name_outside_a_verified_quote_is_a_leak(quoting: LeakScanner, body: str) -> None:
    assert quoting.scan_html(_page(body)) == [f"{HIT} at line 5"]


def test_a_quote_is_the_known_texts_own_words() -> None:
    known = KnownTexts([POLICY])
    assert known.quotes("a parent or guardian") and known.quotes(" a  parent\nor guardian ")
    assert known.quotes("10.1 Children")
    assert not known.quotes("arent or guardian")  # from mid-word
    assert not known.quotes("a Parent or guardian")  # character for character
    assert not known.quotes("") and not KnownTexts([]).quotes("a parent")


def test_a_scanner_without_known_texts_reads_a_marked_quote_as_data(quoting: LeakScanner) -> None:
    plain = LeakScanner.from_engine(quoting._engine, kinds=PERSONAL_KINDS)
    assert plain.scan_html(_page(_quote("a parent or guardian"))) == [f"{HIT} at line 5"]
