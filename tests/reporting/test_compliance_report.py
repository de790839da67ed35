"""`privacy-audit report compliance` end to end: papermill, the HTML, a real browser, failures.

One hostile export (markup in every text field, identifier and a CSV header) is audited twice,
a month apart, the second run against the first's summary; every assertion reads those two
published reports.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest
from chromium import LAYOUT, open_page
from compliance_exports import FREE_TEXT, IMG, SCRIPT, ensure_kernel, hostile_export
from PIL import Image
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.outputs.folder import MARKER
from privacy_audit.reporting.common.html_export import check_self_contained
from privacy_audit.reporting.compliance.policy_text import load_policy_text
from privacy_audit.reporting.compliance.sections import anchor

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
cli = CliRunner()


def _report(*args: str) -> object:
    return cli.invoke(app, ["report", "compliance", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ensure_kernel()
    root = tmp_path_factory.mktemp("compliance")
    export = hostile_export(root / "export")
    first = _report("--export", str(export), "--as-of", "2026-10-01", "--out", str(root / "october"))
    assert first.exit_code == 0, first.output
    waivers = {"version": 1, "waivers": [{
        "id": "W-1", "rule": "RET-TICKET-OVERDUE", "scope": "rule", "justification": f"{SCRIPT} litigation",
        "approved_by": f"DPO {IMG}", "expires": "2026-11-15", "ticket": "PRIV-1",
    }]}  # fmt: skip
    (root / "waivers.yaml").write_text(json.dumps(waivers), encoding="utf-8")
    second = _report(
        "--export", str(export), "--as-of", "2026-11-01", "--out", str(root / "november"),
        "--previous", str(root / "october"), "--waivers", str(root / "waivers.yaml"), "--fail-on", "low",
    )  # fmt: skip
    assert second.exit_code == 1, second.output  # open findings remain
    return root / "november"


@pytest.fixture(scope="module")
def page(report: Path) -> str:
    return (report / "compliance.html").read_text(encoding="utf-8")


def test_publishes_html_notebook_findings_and_summary(report: Path) -> None:
    assert {p.name for p in report.iterdir()} == {
        "compliance.html",
        "compliance.ipynb",
        "findings.parquet",
        "resolved.parquet",
        "summary.json",
        MARKER,
        "attestation.json",  # scanned for personal values with every other artifact
        "evidence",  # a CSV per failing rule, scanned too
    }
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_every_cell_ran_and_shows_only_html_and_images(report: Path) -> None:
    nb = nbformat.read(report / "compliance.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None and c.metadata.papermill.status == "completed" for c in code)
    kinds = {k for c in code for o in c.outputs for k in o.get("data", {"stream": 1})}
    assert kinds <= {"text/html", "image/png", "text/plain"}


def test_html_holds_the_verdict_each_failing_rule_with_its_clause_and_the_manifest(
    report: Path, page: str
) -> None:
    summary = json.loads((report / "summary.json").read_text())
    totals = summary["totals"]
    failing = [r for r in summary["rules"] if r["open"]]  # RET-TICKET-OVERDUE's findings are waived
    assert 0 < len(failing) < totals["fail"]
    assert f"{len(failing)} of {totals['rules']} rules failed · {totals['open']} open findings" in page
    text = load_policy_text()
    for rule in failing:
        assert f'<h3 id="{anchor(rule["rule_id"])}">{rule["rule_id"]} ' in page
        for number in rule["clause"].split(", "):
            clause = text.get(number)
            assert f'§{number} <span class="pa-quoted">{html.escape(clause.title)}</span>' in page
            assert html.escape(clause.paragraphs[0]) in page
    assert "Run manifest" in page and summary["policy_digest"] in page
    assert all(digest in page for digest in summary["input_digests"].values())


def test_html_compares_with_the_previous_run(page: str) -> None:
    assert "What changed since the previous run (as_of 2026-10-01)" in page
    assert "No file of the export changed. The policy is the same. The waivers changed." in page
    assert "Stacked bars of findings by severity for 2 runs" in page
    assert "Findings per rule: open, waived, new, resolved" in page


def test_html_shows_the_waivers_escaped(report: Path, page: str) -> None:
    assert html.escape(f"{SCRIPT} litigation") in page and html.escape(f"DPO {IMG}") in page
    assert '<tr class="pa-expiring"><td>W-1</td>' in page
    waived = [r for r in pq.read_table(report / "findings.parquet").to_pylist() if r["status"] == "waived"]
    assert waived and {r["waiver_id"] for r in waived} == {"W-1"}


def test_nothing_from_the_export_is_markup_and_free_text_stays_out(report: Path, page: str) -> None:
    notebook = (report / "compliance.ipynb").read_text(encoding="utf-8")
    for artifact in (page, notebook):
        assert SCRIPT not in artifact and IMG not in artifact
        assert FREE_TEXT not in artifact
    assert html.escape(f"accounts.notes{IMG}") in page  # the hostile CSV header, as text
    assert html.escape(f"{IMG}2") in page  # hostile identifiers, as text
    assert FREE_TEXT not in (report / "summary.json").read_text(encoding="utf-8")


def test_html_is_self_contained(page: str) -> None:
    assert check_self_contained(page) == []
    assert "<script" not in page and "cdnjs" not in page and "unpkg" not in page


def test_broken_export_fails_before_any_kernel_and_writes_nothing(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"orders": [{"order_id": "O1"}]}, "csv")
    lines = (export / "orders.csv").read_text().splitlines()
    (export / "orders.csv").write_text(lines[0] + "\n" + lines[1].replace("2020-01-01", "01/01/2020") + "\n")
    result = _report("--export", str(export), "--as-of", "2026-11-01", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "orders.csv, column order_date, row 1: expected a date" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_a_failing_cell_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    ensure_kernel()
    export = make_export(tmp_path / "export", {})
    broken = tmp_path / "previous"  # a readable summary, but findings that are not Parquet
    broken.mkdir()
    summary = {
        "as_of": "2026-10-01",
        "policy_digest": "0" * 64,
        "input_digests": {},
        "totals": {},
        "rules": [],
    }
    (broken / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (broken / "findings.parquet").write_text("not parquet", encoding="utf-8")
    result = _report(
        "--export", str(export), "--as-of", "2026-11-01", "--out", str(tmp_path / "out"),
        "--previous", str(broken),
    )  # fmt: skip
    message = " ".join(result.output.split())
    assert result.exit_code == 2, message
    assert (
        "compliance_report.ipynb: cell 1 (id prepare) `from privacy_audit.reporting.compliance import"
        in message
    )
    assert "InputError" in message and "findings.parquet" in message
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _chromium(page: Path, shot: Path, profile: Path) -> list[str]:
    """Open ``page`` offline in headless Chromium, screenshot it; return its console messages."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-first-run",
        f"--user-data-dir={profile}",
        # No network: every host unresolvable and a dead proxy, so any fetch would fail loudly.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
        "--window-size=1280,16000", "--hide-scrollbars", f"--screenshot={shot}",
        "--enable-logging=stderr", "--v=0",
        page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)


@pytest.mark.browser
@needs_chromium
def test_chromium_console_check_is_not_vacuous(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<script>console.error('boom')</script><img src='https://example.com/x.png'>")
    console = _chromium(page, tmp_path / "bad.png", tmp_path / "profile")
    assert any("boom" in line for line in console)


@pytest.mark.browser
@needs_chromium
def test_chromium_renders_the_report_offline_without_console_errors(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    console = _chromium(report / "compliance.html", shot, tmp_path / "profile")
    assert console == []  # no script error, no blocked fetch, no CSP violation
    colours = Image.open(shot).convert("RGB").getcolors(1 << 24) or []
    assert len(colours) > 500  # text, badges and charts, not a blank page
    answered_blue = (0x5C, 0x8F, 0xC7)  # only the charts paint this colour
    assert any(sum(abs(a - b) for a, b in zip(c, answered_blue, strict=True)) < 12 for _, c in colours)


@pytest.mark.browser
@needs_chromium
def test_readable_at_400_px_no_sideways_page_and_no_table_cut_off(report: Path) -> None:
    for width in (400, 1280):
        with open_page(report / "compliance.html", width) as tab:
            layout = tab.evaluate(LAYOUT)
        assert layout["width"] == width and layout["scrollWidth"] <= width
        assert len(layout["tables"]) > 10
        assert set(layout["tables"]) <= {"visible", "scrolls in its box"}, layout["tables"]


@pytest.mark.browser
@needs_chromium
def test_the_400_px_measure_is_not_vacuous(tmp_path: Path) -> None:
    wide = "<tr>" + "<td>averyveryverylongwordindeed</td>" * 8 + "</tr>"
    page = tmp_path / "wide.html"
    page.write_text(
        f"<div style='overflow:hidden'><table>{wide}</table></div>"  # clipped: cut off
        f"<div style='overflow-x:auto'><table>{wide}</table><p>more</p></div>"  # a box, not its own
        f"<div style='overflow-x:auto'><table>{wide}</table></div>"  # its own scrolling box
        "<div style='width:900px'>a page-wide line</div>"
    )
    with open_page(page, 400) as tab:
        layout = tab.evaluate(LAYOUT)
    assert layout["scrollWidth"] > 400
    assert [t.split(":")[0] for t in layout["tables"]] == ["cut off", "cut off", "scrolls in its box"]
