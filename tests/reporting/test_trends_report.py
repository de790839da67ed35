"""The trend publication end to end: checks before writing, nothing written on failure, the report."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from compliance_exports import ensure_kernel
from trends_data import random_export
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.errors import InputError
from privacy_audit.outputs.folder import MARKER
from privacy_audit.reporting.trends import publish as trends_publish
from privacy_audit.reporting.trends import sections as trends_report
from privacy_audit.reporting.trends.disclosure import Disclosed
from privacy_audit.reporting.trends.publish import (
    PublicationError,
    TrendPublication,
    parameters,
    publish_trends,
)

COLUMNS = [
    "breakdown", "period", "dim1_name", "dim1_value", "dim2_name", "dim2_value",
    "measure", "value", "contributors", "status",
]  # fmt: skip
cli = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_export(tmp_path_factory.mktemp("trends") / "export")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough for a publication to fail on: the abort tests need no realistic volume."""
    return random_export(tmp_path_factory.mktemp("small") / "export", accounts=30, orders=120, sessions=60)


@pytest.fixture(scope="module")
def publication(export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrendPublication, Path]:
    out = tmp_path_factory.mktemp("publication") / "out"
    return publish_trends(_params(export, out)), out


def _params(export: Path, out: Path, **changes: object) -> trends_publish.TrendParameters:
    values = {
        "export_dir": export,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "k": 5,
        "out_dir": out,
    }
    return parameters(**{**values, **changes})


def test_publication_has_the_promised_layout_and_no_small_cell(publication: tuple) -> None:
    publication, out = publication
    table = pq.read_table(out / "trends.parquet")
    assert table.column_names == COLUMNS
    assert table.equals(publication.table)
    rows = table.to_pylist()
    assert {r["breakdown"] for r in rows} == {
        "sales_by_category_region", "top_collections", "partners_new_returning", "web_funnel",
    }  # fmt: skip
    assert all(r["contributors"] >= 5 for r in rows if r["status"] == "published")
    assert all(r["value"] is None and r["contributors"] is None for r in rows if r["status"] != "published")
    counts = publication.counts
    assert counts["suppressed"] > 0 and counts["rolled_up"] > 0
    assert counts["published"] + counts["suppressed"] + counts["rolled_up"] == table.num_rows


def test_sections_render_without_a_kernel(publication: tuple) -> None:
    publication, _ = publication
    names = ("disclosure", "sales", "revenue", "collections", "partners", "funnel", "manifest")
    sections = [getattr(trends_report, name)(publication) for name in names]
    assert f"<strong>{publication.counts['suppressed']}</strong>cells suppressed" in sections[0].html
    assert [len(s.charts) for s in sections] == [0, 1, 0, 0, 1, 1, 0]
    assert all(chart.png.startswith(b"\x89PNG") for s in sections for chart in s.charts)


def _abort(tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch, tamper: object) -> str:
    original = trends_publish.protect
    monkeypatch.setattr(
        trends_publish, "protect", lambda cells, rules, layout: tamper(original(cells, rules, layout))
    )
    with pytest.raises(PublicationError) as caught:
        publish_trends(_params(export, tmp_path / "out", period_end="2024-03-31"))
    assert not (tmp_path / "out").exists()
    return str(caught.value)


def _primary_only(disclosed: Disclosed) -> Disclosed:
    """Secondary suppression undone: every suppressed cell published (with a stand-in value)."""
    rows = disclosed.table.to_pylist()
    for r in rows:
        if r["status"] == "suppressed":
            r.update(status="published", value=1.0, contributors=99)
    return Disclosed(pa.Table.from_pylist(rows, schema=disclosed.table.schema), disclosed.counts)


def test_a_failed_verification_writes_nothing(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _abort(tmp_path, export, monkeypatch, _primary_only)
    assert message.startswith("trend publication fails verification")


def test_an_injected_account_id_column_writes_nothing(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def inject(disclosed: Disclosed) -> Disclosed:
        ids = pa.array(["ACC-00003"] * disclosed.table.num_rows)
        return Disclosed(disclosed.table.append_column("partner", ids), disclosed.counts)

    message = _abort(tmp_path, small, monkeypatch, inject)
    assert "column partner holds account id values of accounts.account_id" in message
    assert "ACC-00003" not in message


def _leaky_export(directory: Path, email: str) -> Path:
    return make_export(
        directory,
        {
            "contacts": [{"contact_id": "CON-000001", "account_id": "ACC-1", "email": email}],
            "web_events": [
                {
                    "session_id": "S1",
                    "occurred_at": "2024-01-02 10:00:00",
                    "event_type": "product_view",
                    "device_type": email,
                }
            ],
            "cookie_consents": [
                {"session_id": "S1", "recorded_at": "2024-01-02 09:00:00", "analytics": True}
            ],
        },
    )


def test_an_email_in_a_device_type_writes_nothing(tmp_path: Path) -> None:
    email = "owner@maison-lumiere.example"
    export = _leaky_export(tmp_path / "export", email)
    with pytest.raises(
        PublicationError, match=r"column dim1_value holds email values of contacts\.email"
    ) as caught:
        publish_trends(_params(export, tmp_path / "out", k=2))
    assert email not in str(caught.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_end": "2023-12-31"}, "period_end is before period_start"),
        ({"period_start": "2024-02-30"}, "parameter period_start"),
        ({"k": 1}, "parameter k"),
        ({"perod_end": "2024-12-31"}, "parameter perod_end: expected no such parameter"),
        ({"policy": "/no/such/policy.yaml"}, "parameter policy"),
    ],
)
def test_parameters_are_checked(export: Path, tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _params(export, tmp_path / "out", **changes)


def test_an_output_inside_the_export_is_refused(export: Path) -> None:
    with pytest.raises(InputError, match="must not contain one another"):
        _params(export, export / "trends")


def test_cli_rejects_bad_parameters_before_any_kernel(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import privacy_audit.reporting.common.runner as runner

    monkeypatch.setattr(runner, "render_report", lambda *a, **k: pytest.fail("a kernel was started"))
    args = ["report", "trends", "--export", str(export), "--out", str(tmp_path / "out")]
    result = cli.invoke(app, [*args, "--period-start", "2024-01-01", "--period-end", "2024-13-01"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: parameter period_end: expected a valid value (expected a date YYYY-MM-DD)"
    ]
    result = cli.invoke(
        app, [*args, "--period-start", "2024-01-01", "--period-end", "2024-12-31", "--k", "0"]
    )
    assert result.exit_code == 2


def _run(export: Path, out: Path, k: int) -> object:
    period = ["--period-start", "2024-01-01", "--period-end", "2024-12-31"]
    return cli.invoke(
        app, ["report", "trends", "--export", str(export), *period, "--k", str(k), "--out", str(out)]
    )


@pytest.fixture(scope="module")
def report(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ensure_kernel()
    out = tmp_path_factory.mktemp("report") / "trends"
    result = _run(export, out, k=5)
    assert result.exit_code == 0, result.output
    return out


def test_cli_publishes_parquet_html_and_notebook(report: Path) -> None:
    assert {p.name for p in report.iterdir()} == {"trends.parquet", "trends.html", "trends.ipynb", MARKER}
    page = (report / "trends.html").read_text(encoding="utf-8")
    assert "cells suppressed" in page and "Top 5 collections per quarter" in page
    assert page.count("<img") == 3
    table = pq.read_table(report / "trends.parquet")
    assert all(r["contributors"] >= 5 for r in table.to_pylist() if r["status"] == "published")


def test_a_failing_notebook_exits_3_and_names_the_cell(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import privacy_audit.reporting.common.runner as runner

    def failed(*args: object, **kwargs: object) -> None:
        raise runner.ReportError(
            "trends_report.ipynb: cell 1 `from …` failed: PublicationError: …", ename="PublicationError"
        )

    monkeypatch.setattr(runner, "render_report", failed)
    result = _run(export, tmp_path / "out", k=5)
    assert result.exit_code == 3  # the run is incomplete
    assert "cell 1" in result.output and "PublicationError" in result.output


def test_the_notebook_is_presentation_only() -> None:
    import nbformat
    import papermill

    path = Path(__file__).resolve().parents[2] / "notebooks" / "trends_report.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert list(papermill.inspect_notebook(str(path))) == [
        "export_dir", "period_start", "period_end", "k", "out_dir", "policy", "policy_text", "leak_values",
        "memory_limit",
    ]  # fmt: skip
    calls = [c.source for c in notebook.cells[1:]]
    assert calls[0].endswith(
        "given = (export_dir, period_start, period_end, k, out_dir, policy, policy_text, leak_values, memory_limit)"
        "\npub = trends_report.prepare(*given)"
    )
    assert all(hasattr(trends_report, c.removeprefix("trends_report.").split("(")[0]) for c in calls[1:])
    assert all(c.get("outputs") == [] and c.get("execution_count") is None for c in notebook.cells)


def test_hostile_labels_are_escaped(tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert(1)> $\\frac{1}{0}$"
    accounts = [{"account_id": f"ACC-{i:04d}", "country": "FR"} for i in range(4)]
    export = make_export(
        tmp_path / "export",
        {
            "accounts": accounts,
            "products": [{"product_id": "P1", "category": hostile, "collection": hostile}],
            "orders": [
                {"order_id": f"O{i}", "account_id": a["account_id"], "order_date": "2024-01-05"}
                for i, a in enumerate(accounts)
            ],
            "order_items": [
                {"order_id": f"O{i}", "line_no": 1, "product_id": "P1", "quantity": 1, "unit_price": 10}
                for i in range(4)
            ],
        },
    )
    publication = publish_trends(_params(export, tmp_path / "out", k=2, period_end="2024-01-31"))
    page = trends_report.collections(publication).html + trends_report.sales(publication).html
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
