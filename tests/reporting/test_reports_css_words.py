"""Both reports publish on an export whose company names are the words of their own template.

The template's CSS and markup (``parent``, ``action``, ``google-material-color``…) are not what a
report says; an export of companies called exactly those words must publish, identifiers short
(``C1``) and plain numbers as they are on real platforms.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from compliance_exports import ensure_kernel
from trends_data import random_export
from typer.testing import CliRunner

from privacy_audit.cli import app
from privacy_audit.reporting.common.html_export import to_html
from privacy_audit.reporting.common.leaks import _html_said

cli = CliRunner()


def template_words() -> list[str]:
    """Every word of an empty report page that the page does not say: its CSS and markup."""
    page = to_html(nbformat.v4.new_notebook(), title="report")
    said = {w for s in _html_said(page) for w in re.split(r"[^a-z0-9]+", s.text.lower())}
    every = set(re.split(r"[^a-z0-9]+", page.lower()))
    return sorted(w for w in every - said if len(w) >= 6 and not w.isdigit())


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = random_export(tmp_path_factory.mktemp("css-words") / "export")
    words = template_words()
    accounts = pq.read_table(directory / "accounts.parquet")
    names = [words[i % len(words)].capitalize() for i in range(accounts.num_rows)]
    ids = [f"C{i}" for i in range(accounts.num_rows)]
    accounts = accounts.set_column(
        accounts.schema.get_field_index("company_name"), "company_name", pa.array(names)
    )
    old = accounts.column("account_id").to_pylist()
    accounts = accounts.set_column(accounts.schema.get_field_index("account_id"), "account_id", pa.array(ids))
    pq.write_table(accounts, directory / "accounts.parquet")
    renamed = dict(zip(old, ids, strict=True))
    orders = pq.read_table(directory / "orders.parquet")
    column = orders.schema.get_field_index("account_id")
    orders = orders.set_column(
        column, "account_id", pa.array([renamed[a] for a in orders.column(column).to_pylist()])
    )
    pq.write_table(orders, directory / "orders.parquet")
    return directory


def test_the_template_has_the_words_of_the_issue() -> None:
    assert {"parent", "action", "google", "material"} <= set(template_words())


def test_both_reports_publish(export: Path, tmp_path: Path) -> None:
    ensure_kernel()
    trends = cli.invoke(
        app,
        ["report", "trends", "--export", str(export), "--period-start", "2024-01-01",
         "--period-end", "2024-12-31", "--k", "5", "--out", str(tmp_path / "trends")],
    )  # fmt: skip
    assert trends.exit_code == 0, trends.output
    compliance = cli.invoke(
        app,
        ["report", "compliance", "--export", str(export), "--as-of", "2025-06-01", "--out",
         str(tmp_path / "compliance")],
    )  # fmt: skip
    assert compliance.exit_code == 0, compliance.output
