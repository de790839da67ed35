"""`report trends --policy-text` (issue 19): validated before any kernel, recorded in the manifest."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.reporting.trends import sections as trends_report

sys.path.insert(0, str(Path(__file__).parent / "reporting"))
from trends_data import random_export

runner = CliRunner()
TEXT = "Acme privacy notice\n1. Analytics\n1.1 Trends\nWe publish anonymized trends only.\n"


def test_an_unusable_policy_text_stops_the_trend_report_before_a_kernel(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {})
    flat = tmp_path / "flat.txt"
    flat.write_bytes(b"\xff not UTF-8\n")
    args = ["report", "trends", "--export", str(export), "--period-start", "2026-01-01"]
    args += ["--period-end", "2026-06-30", "--out", str(tmp_path / "out"), "--policy-text", str(flat)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "flat.txt, line 1: expected a UTF-8 policy text" in result.output
    assert not (tmp_path / "out").exists()


def test_the_manifest_records_the_policy_text_and_its_digest(tmp_path: Path) -> None:
    text = tmp_path / "acme.txt"
    text.write_text(TEXT, encoding="utf-8")
    export = random_export(tmp_path / "export", accounts=30, orders=120, sessions=60)
    pub = trends_report.prepare(
        str(export), "2024-01-01", "2024-12-31", 5, str(tmp_path / "out"), "", str(text)
    )
    html = trends_report.manifest(pub).html
    assert "acme.txt" in html and hashlib.sha256(TEXT.encode()).hexdigest() in html
    assert pub.policy_effective_digest in html
