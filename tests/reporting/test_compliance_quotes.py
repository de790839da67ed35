"""The compliance report publishes when a company is named like the words it quotes, and only then.

"Transaction" is a word of the §6.1 bullet RET-ORDER-OVERDUE quotes, "Action" of the description
of ACCESS-EXPORT-UNJUSTIFIED (the 100k demo's company "Action" stopped the report): both are
the policy's and the catalogue's words there. The same name in a table cell (a waiver's
justification) is a company's name published, and stops the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compliance_exports import ensure_kernel
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app

cli = CliRunner()
AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ensure_kernel()
    return make_export(
        tmp_path_factory.mktemp("quotes") / "export",
        {
            "accounts": [
                {"account_id": "A-GB", "company_name": "Transaction", "country": "GB"},
                {"account_id": "A-FR", "company_name": "Action", "country": "FR"},
            ],
            "orders": [
                {"order_id": "O-old", "account_id": "A-GB", "order_date": "2015-01-01", "contact_id": "C1"}
            ],
            "staff_access_log": [{"access_id": "L-1", "action": "export", "accessed_at": "2026-10-01"}],
        },
    )


def _report(export: Path, out: Path, *args: str) -> object:
    command = ["report", "compliance", "--export", str(export), "--as-of", AS_OF, "--out", str(out), *args]
    return cli.invoke(app, command, catch_exceptions=False)


def test_company_names_that_are_words_of_the_quoted_texts_publish(export: Path, tmp_path: Path) -> None:
    result = _report(export, tmp_path / "out")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "compliance.html").read_text(encoding="utf-8")
    assert "Order and Transaction Records" in page  # the promise RET-ORDER-OVERDUE checks
    assert "An access with action" in page  # what ACCESS-EXPORT-UNJUSTIFIED checks
    assert {p.name for p in (tmp_path / "out" / "evidence").iterdir()} >= {
        "RET-ORDER-OVERDUE.csv",
        "ACCESS-EXPORT-UNJUSTIFIED.csv",
    }


def test_the_same_name_in_a_table_cell_stops_publication(export: Path, tmp_path: Path) -> None:
    waivers = {"version": 1, "waivers": [{
        "id": "W-1", "rule": "RET-ORDER-OVERDUE", "records": ["O-old"], "justification": "Transaction",
        "approved_by": "DPO", "expires": "2027-01-01",
    }]}  # fmt: skip
    (tmp_path / "waivers.yaml").write_text(json.dumps(waivers), encoding="utf-8")
    result = _report(export, tmp_path / "out", "--waivers", str(tmp_path / "waivers.yaml"))
    message = " ".join(result.output.split())
    assert result.exit_code == 3, message
    assert "compliance.html: text holds company name values of accounts.company_name" in message
    assert not (tmp_path / "out").exists()
