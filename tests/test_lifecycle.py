"""Waivers, the run-to-run lifecycle and exit codes a scheduler can trust (recurring-audits.md).

One hand-made export has three findings with a reason each: order O1 is overdue (high, subject
A1), contact C1 stores a plaintext password (critical), contacts.nickname is undeclared (medium).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import privacy_audit.audit
from handmade import make_export
from privacy_audit import __version__
from privacy_audit.audit import RuleResult
from privacy_audit.cli import app
from privacy_audit.lifecycle import Lifecycle, PreviousRun, Waiver, Waivers, annotate, exit_status
from privacy_audit.outputs.findings import FINDINGS_SCHEMA, RECORD_SCHEMA, RESOLVED_SCHEMA
from privacy_audit.rules import Severity

runner = CliRunner()
RULES = "RET-ORDER-OVERDUE,SEC-PASSWORD-STORAGE,MIN-UNDECLARED-COLUMN,CHILD-MINOR"
AS_OF = "2026-01-01"


def tables(*, password: str = "hunter2", orders: tuple[str, ...] = ("O1",)) -> dict:
    return {
        "accounts": [{"account_id": "A1", "country": "US"}],
        "contacts": [{"contact_id": "C1", "account_id": "A1", "password_hash": password, "nickname": "x"}],
        "orders": [
            {"order_id": o, "account_id": "A1", "order_date": "2010-01-01", "contact_id": "C1"}
            for o in orders
        ],
    }


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return make_export(tmp_path / "export", tables(), "csv")


def audit(export: Path, out: Path, *extra: str, as_of: str = AS_OF) -> tuple[int, str]:
    result = runner.invoke(
        app, ["audit", str(export), "--as-of", as_of, "--out", str(out), "--rules", RULES, *extra]
    )
    return result.exit_code, result.stdout + result.stderr


def waivers_file(path: Path, *waivers: dict, version: object = 1) -> Path:
    path.write_text(yaml.safe_dump({"version": version, "waivers": list(waivers)}, sort_keys=False))
    return path


def waiver(wid: str = "W-1", **changes: object) -> dict:
    base = {
        "id": wid,
        "rule": "RET-ORDER-OVERDUE",
        "records": ["O1"],
        "justification": "Tax audit 2026 keeps these orders until it closes",
        "approved_by": "Data protection officer",
        "expires": date(2027, 3, 31),
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def findings(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["rule_id"], r["record_id"]): r for r in pq.read_table(out / "findings.parquet").to_pylist()}


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


# --- waivers: validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "key", "expected"),
    [
        ([waiver(rule="RET-NO-SUCH-RULE")], "waivers[W-1].rule", "a rule id of the catalogue"),
        ([waiver(justification="  ")], "waivers[W-1].justification", "a non-blank text"),
        ([waiver(approved_by="")], "waivers[W-1].approved_by", "a non-blank text"),
        ([waiver(approved_by=None)], "waivers[W-1].approved_by", "this key (required)"),
        ([waiver(expires=None)], "waivers[W-1].expires", "this key (required)"),
        ([waiver(expires="2027-13-01")], "waivers[W-1].expires", "a date YYYY-MM-DD"),
        ([waiver(expires="next spring")], "waivers[W-1].expires", "a date YYYY-MM-DD"),
        ([waiver(expires=datetime(2027, 3, 31, 10))], "waivers[W-1].expires", "a date YYYY-MM-DD"),
        ([waiver(), waiver()], "waivers[W-1].id", "an id used once in the file"),
        ([waiver(records=None)], "waivers[W-1].records | subjects | scope", "exactly one of records"),
        ([waiver(subjects=["A1"])], "waivers[W-1].records | subjects | scope", "exactly one of records"),
        ([waiver(records=[])], "waivers[W-1].records", "a non-empty list of identifiers"),
        ([waiver(records=[123])], "waivers[W-1].records.0", "a text (quote it)"),
        ([waiver(records=None, scope="table")], "waivers[W-1].scope", "the value the format allows"),
        ([waiver(id=None)], "waivers[#1].id", "this key (required)"),
        ([waiver(), waiver("two words")], "waivers[#2].id", "an id of up to 100 characters"),
        ([waiver(expiry="2027-01-01")], "waivers[W-1].expiry", "no such key"),
    ],
)
def test_every_bad_waiver_is_one_line_naming_waiver_and_key(
    export: Path, tmp_path: Path, entries: list, key: str, expected: str
) -> None:
    path = waivers_file(tmp_path / "waivers.yaml", *entries)
    code, output = audit(export, tmp_path / "out", "--waivers", str(path))
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, output
    assert f"waivers.yaml, key {key}: expected {expected}" in lines[0]
    assert "RET-NO-SUCH-RULE" not in output and "next spring" not in output  # never the value
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 2\nwaivers: []\n", "key version: expected the value the format allows"),
        ("waivers: []\n", "key version: expected this key (required)"),
        ("version: 1\nwaivers: [\n", "expected valid YAML at line"),
        ("- a list\n", "expected a YAML mapping with version: 1"),
        (
            "version: 1\nwaivers:\n- {id: W-1, rule: CHILD-MINOR, scope: rule, justification: j, approved_by: a,"
            " expires: 2027-13-01}\n",
            "key waivers[W-1].expires: expected a date",
        ),
    ],
)
def test_a_bad_waivers_file_is_one_line(export: Path, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    code, output = audit(export, tmp_path / "out", "--waivers", str(path))
    assert code == 2 and expected in output, output
    code, output = audit(export, tmp_path / "out", "--waivers", str(tmp_path / "missing.yaml"))
    assert code == 2 and "a readable waivers file" in output


# --- waivers: what they do -----------------------------------------------------------------


def test_a_waiver_in_force_keeps_the_finding_marked_waived(export: Path, tmp_path: Path) -> None:
    path = waivers_file(tmp_path / "w.yaml", waiver())
    assert audit(export, tmp_path / "plain")[0] == 0
    assert audit(export, tmp_path / "out", "--waivers", str(path))[0] == 0
    found, plain = findings(tmp_path / "out"), findings(tmp_path / "plain")
    assert found.keys() == plain.keys()  # nothing dropped
    assert (found["RET-ORDER-OVERDUE", "O1"]["status"], found["RET-ORDER-OVERDUE", "O1"]["waiver_id"]) == (
        "waived",
        "W-1",
    )
    assert {r["status"] for k, r in found.items() if k[0] != "RET-ORDER-OVERDUE"} == {"open"}
    s = summary(tmp_path / "out")
    assert s["waivers_digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert s["waivers_file"] == str(path) and summary(tmp_path / "plain")["waivers_digest"] is None
    overdue = next(r for r in s["rules"] if r["rule_id"] == "RET-ORDER-OVERDUE")
    assert (overdue["status"], overdue["violations"], overdue["open"], overdue["waived"]) == ("fail", 1, 0, 1)
    assert s["totals"]["open_by_severity"]["high"] == 0 and s["totals"]["by_severity"]["high"] == 1
    assert s["waivers"] == [
        {"waiver_id": "W-1", "rule_id": "RET-ORDER-OVERDUE", "expires": "2027-03-31", "state": "in_force",
         "matched": 1}
    ]  # fmt: skip


def test_fail_on_counts_open_findings_only(export: Path, tmp_path: Path) -> None:
    assert audit(export, tmp_path / "o1", "--fail-on", "high")[0] == 1
    every = waivers_file(
        tmp_path / "w.yaml",
        waiver(),
        waiver("W-2", rule="SEC-PASSWORD-STORAGE", records=None, subjects=["A1", "C1"]),
        waiver("W-3", rule="MIN-UNDECLARED-COLUMN", records=None, scope="rule"),
    )
    assert audit(export, tmp_path / "o2", "--fail-on", "low", "--waivers", str(every))[0] == 0
    assert {r["status"] for r in findings(tmp_path / "o2").values()} == {"waived"}


@pytest.mark.parametrize(("as_of", "state", "status", "code"), [("2027-03-31", "in_force", "waived", 0),
                                                                 ("2027-04-01", "expired", "open", 1)])  # fmt: skip
def test_expiry_is_judged_against_as_of(
    export: Path, tmp_path: Path, as_of: str, state: str, status: str, code: int
) -> None:
    password = waiver(
        "W-PW", rule="SEC-PASSWORD-STORAGE", records=None, scope="rule", expires=date(2030, 1, 1)
    )
    path = waivers_file(tmp_path / "w.yaml", waiver(), password)
    assert (
        audit(export, tmp_path / "out", "--waivers", str(path), "--fail-on", "high", as_of=as_of)[0] == code
    )
    row = findings(tmp_path / "out")["RET-ORDER-OVERDUE", "O1"]
    assert (row["status"], row["waiver_id"]) == (status, "W-1")  # an expired waiver is still named
    s = summary(tmp_path / "out")
    assert s["waivers"][0]["state"] == state
    assert s["expired_waivers"] == (["W-1"] if state == "expired" else [])


def test_stale_waivers_are_listed_and_unchecked_ones_are_not(export: Path, tmp_path: Path) -> None:
    path = waivers_file(
        tmp_path / "w.yaml",
        waiver("W-STALE", records=["O-GONE"]),
        waiver("W-NOT-RUN", rule="RIGHTS-LATE", records=None, scope="rule"),
    )
    assert audit(export, tmp_path / "out", "--waivers", str(path))[0] == 0
    s = summary(tmp_path / "out")
    assert s["stale_waivers"] == ["W-STALE"]
    assert [w["state"] for w in s["waivers"]] == ["stale", "not_checked"]  # RIGHTS-LATE did not run


def test_an_in_force_waiver_wins_over_an_expired_one(export: Path, tmp_path: Path) -> None:
    path = waivers_file(tmp_path / "w.yaml", waiver("W-OLD", expires=date(2025, 1, 1)), waiver("W-NEW"))
    assert audit(export, tmp_path / "out", "--waivers", str(path))[0] == 0
    row = findings(tmp_path / "out")["RET-ORDER-OVERDUE", "O1"]
    assert (row["status"], row["waiver_id"]) == ("waived", "W-NEW")


# --- from one run to the next --------------------------------------------------------------


def test_previous_run_gives_change_first_seen_and_resolved(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", tables(), "csv")
    assert audit(export, tmp_path / "jan", as_of="2026-01-01")[0] == 0
    make_export(export, tables(password="$2b$12$" + "a" * 53, orders=("O1", "O2")), "csv")  # C1 fixed, O2 new
    assert audit(export, tmp_path / "feb", "--previous", str(tmp_path / "jan"), as_of="2026-02-01")[0] == 0
    feb = findings(tmp_path / "feb")
    assert (feb["RET-ORDER-OVERDUE", "O1"]["change"], feb["RET-ORDER-OVERDUE", "O1"]["first_seen"]) == (
        "persisting",
        date(2026, 1, 1),
    )
    assert (feb["RET-ORDER-OVERDUE", "O2"]["change"], feb["RET-ORDER-OVERDUE", "O2"]["first_seen"]) == (
        "new",
        date(2026, 2, 1),
    )
    resolved = pq.read_table(tmp_path / "feb" / "resolved.parquet")
    assert resolved.schema.equals(RESOLVED_SCHEMA)
    assert [(r["rule_id"], r["record_id"], r["first_seen"], r["resolved_as_of"]) for r in resolved.to_pylist()] == [
        ("SEC-PASSWORD-STORAGE", "C1", date(2026, 1, 1), date(2026, 2, 1))
    ]  # fmt: skip
    s = summary(tmp_path / "feb")
    by_rule = {r["rule_id"]: r for r in s["rules"]}
    assert (by_rule["RET-ORDER-OVERDUE"]["new"], by_rule["SEC-PASSWORD-STORAGE"]["resolved"]) == (1, 1)
    assert (s["totals"]["new"], s["totals"]["resolved"]) == (1, 1)
    change = s["previous"]
    assert (change["as_of"], change["export_changed"], change["policy_changed"]) == (
        "2026-01-01",
        True,
        False,
    )
    assert change["files_changed"] == ["contacts.csv", "orders.csv"] and change["waivers_changed"] is False

    assert audit(export, tmp_path / "mar", "--previous", str(tmp_path / "feb"), as_of="2026-03-01")[0] == 0
    mar = findings(tmp_path / "mar")
    assert mar["RET-ORDER-OVERDUE", "O1"]["first_seen"] == date(2026, 1, 1)  # carried over twice
    assert summary(tmp_path / "mar")["previous"]["export_changed"] is False


def test_the_policy_changed_when_its_promises_did_not_its_file(export: Path, tmp_path: Path) -> None:
    """A partial file holding a default value is the bundled policy: same promises, no change."""
    assert audit(export, tmp_path / "jan")[0] == 0
    same = tmp_path / "same.yaml"
    same.write_text("deletion_grace_days: 30\n", encoding="utf-8")
    assert audit(export, tmp_path / "feb", "--policy", str(same), "--previous", str(tmp_path / "jan"))[0] == 0
    assert summary(tmp_path / "feb")["previous"]["policy_changed"] is False
    other = tmp_path / "other.yaml"
    other.write_text("deletion_grace_days: 29\n", encoding="utf-8")
    assert (
        audit(export, tmp_path / "mar", "--policy", str(other), "--previous", str(tmp_path / "feb"))[0] == 0
    )
    assert summary(tmp_path / "mar")["previous"]["policy_changed"] is True


def test_a_rule_that_did_not_run_resolves_nothing(export: Path, tmp_path: Path) -> None:
    assert audit(export, tmp_path / "jan")[0] == 0
    result = runner.invoke(app, ["audit", str(export), "--as-of", AS_OF, "--out", str(tmp_path / "feb"),
                                 "--rules", "CHILD-MINOR", "--previous", str(tmp_path / "jan")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "feb" / "resolved.parquet").num_rows == 0


def test_a_run_from_before_the_lifecycle_is_a_usable_previous(export: Path, tmp_path: Path) -> None:
    assert audit(export, tmp_path / "old", as_of="2025-12-01")[0] == 0
    old = pq.read_table(tmp_path / "old" / "findings.parquet").select(RECORD_SCHEMA.names)
    gone = old.slice(0, 1).set_column(3, "record_id", pa.array(["GONE-1"]))  # found then, not now
    pq.write_table(pa.concat_tables([old, gone]), tmp_path / "old" / "findings.parquet")
    assert audit(export, tmp_path / "out", "--previous", str(tmp_path / "old"))[0] == 0
    assert {(r["change"], r["first_seen"]) for r in findings(tmp_path / "out").values()} == {
        ("persisting", date(2025, 12, 1))
    }
    resolved = pq.read_table(tmp_path / "out" / "resolved.parquet").to_pylist()
    assert [
        (r["record_id"], r["status"], r["waiver_id"], r["change"], r["first_seen"]) for r in resolved
    ] == [("GONE-1", "open", None, None, date(2025, 12, 1))]


def _break(run: Path, how: str) -> Path:
    findings_file, summary_file = run / "findings.parquet", run / "summary.json"
    table = pq.read_table(findings_file)
    if how == "a summary.json file":
        return summary_file
    if how == "no findings":
        findings_file.unlink()
    elif how == "a missing column":
        pq.write_table(table.drop_columns(["record_id"]), findings_file)
    elif how == "a wrong type":
        pq.write_table(table.set_column(10, "first_seen", pa.array(["x"] * table.num_rows)), findings_file)
    elif how == "not parquet":
        findings_file.write_text("no")
    elif how == "not json":
        summary_file.write_text("{")
    elif how == "a later run":
        summary_file.write_text(json.dumps({**json.loads(summary_file.read_text()), "as_of": "2026-06-01"}))
    return run


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("a summary.json file", "summary.json: expected a previous run's output folder"),
        (
            "no findings",
            "prev: expected a previous run's output folder (with findings.parquet and summary.json)",
        ),
        ("a missing column", "findings.parquet, column record_id: expected a column of type string"),
        ("a wrong type", "findings.parquet, column first_seen: expected a column of type date32[day]"),
        ("not parquet", "findings.parquet: expected a findings.parquet written by privacy-audit"),
        ("not json", "summary.json: expected a summary.json written by privacy-audit"),
        ("a later run", "summary.json, key as_of: expected a run on or before --as-of"),
    ],
)
def test_a_bad_previous_is_one_line_never_an_empty_comparison(
    export: Path, tmp_path: Path, how: str, expected: str
) -> None:
    assert audit(export, tmp_path / "prev")[0] == 0
    code, output = audit(export, tmp_path / "out", "--previous", str(_break(tmp_path / "prev", how)))
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, output
    assert expected in lines[0]


# --- exit codes ----------------------------------------------------------------------------


def test_an_errored_rule_exits_3_whatever_fail_on_says(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = privacy_audit.audit.run_rule

    def out_of_memory(engine, export, rule, params, **kwargs):  # type: ignore[no-untyped-def]
        if rule.id == "CHILD-MINOR":
            return RuleResult(rule, "error", reason="Out of Memory Error")
        return real(engine, export, rule, params, **kwargs)

    monkeypatch.setattr(privacy_audit.audit, "run_rule", out_of_memory)
    assert audit(export, tmp_path / "a")[0] == 3
    assert audit(export, tmp_path / "b", "--fail-on", "low")[0] == 3
    assert summary(tmp_path / "b")["totals"]["error"] == 1  # the outputs are still written


def test_exit_status_from_a_summary() -> None:
    def run(error: int = 0, **rule: object) -> dict:
        return {"totals": {"error": error}, "rules": [{"severity": "high", "open": 0, **rule}]}

    assert exit_status(run(), Severity.low) == 0
    assert exit_status(run(open=1), None) == 0
    assert exit_status(run(open=1), Severity.high) == 1
    assert exit_status(run(open=1), Severity.critical) == 0
    assert exit_status(run(open=0, waived=5), Severity.low) == 0
    assert exit_status(run(error=1), None) == 3
    assert exit_status(run(error=1, open=1), Severity.low) == 3


def test_version_and_exit_codes_in_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"privacy-audit {__version__}"
    for command in ([], ["audit"], ["report", "compliance"], ["report", "trends"]):
        text = " ".join(runner.invoke(app, [*command, "--help"], terminal_width=200).stdout.split())
        assert "Exit status: 0" in text and "2 unusable input" in text and "3 incomplete" in text, command


@pytest.mark.parametrize(
    ("rules", "fail_on", "code"),
    [
        ([{"severity": "high", "open": 1}], "high", 1),
        ([{"severity": "high", "open": 0, "waived": 1}], "low", 0),
        ([{"severity": "low", "open": 0}], None, 3),
    ],
)
def test_report_compliance_exit_status_comes_from_its_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: list, fail_on: str | None, code: int
) -> None:
    """The CLI's exit status for a published report (the kernel itself is tested elsewhere)."""
    import privacy_audit.cli as cli

    def published(notebook: str, params: object, html_name: str, *args: object) -> Path:
        out = params.out_dir  # type: ignore[attr-defined]
        out.mkdir()
        (out / "summary.json").write_text(json.dumps({"totals": {"error": int(code == 3)}, "rules": rules}))
        (out / html_name).write_text("<p>report</p>")
        return out / html_name

    monkeypatch.setattr(cli, "publish", published)
    export = make_export(tmp_path / "export", tables())
    extra = ["--fail-on", fail_on] if fail_on else []
    result = runner.invoke(
        app,
        [
            "report",
            "compliance",
            "--export",
            str(export),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "r"),
            *extra,
        ],
    )
    assert result.exit_code == code, result.output


# --- properties ----------------------------------------------------------------------------

RULE_IDS = ("RET-ORDER-OVERDUE", "CHILD-MINOR", "SHARE-SALE")
# the properties' files (tmp_path is per test, and hypothesis runs many examples in one)
SCRATCH = tempfile.mkdtemp(prefix="privacy-audit-test-lifecycle-")
DAY = date(2026, 11, 1)
keys = st.tuples(st.sampled_from(RULE_IDS), st.sampled_from(["R1", "R2", "R3", "R4"]),
                 st.sampled_from(["S1", "S2", None]))  # fmt: skip
finding_lists = st.lists(keys, max_size=12)


@st.composite
def waiver_lists(draw: st.DrawFn) -> list[Waiver]:
    out = []
    for i in range(draw(st.integers(0, 5))):
        target = draw(st.sampled_from(["records", "subjects", "scope"]))
        values = {
            "records": {
                "records": draw(st.lists(st.sampled_from(["R1", "R2", "R9"]), min_size=1, max_size=3))
            },
            "subjects": {"subjects": draw(st.lists(st.sampled_from(["S1", "S2"]), min_size=1, max_size=2))},
            "scope": {"scope": "rule"},
        }[target]
        out.append(
            Waiver(
                id=f"W-{i}",
                rule=draw(st.sampled_from(RULE_IDS)),
                justification="j",
                approved_by="a",
                expires=DAY + timedelta(days=draw(st.integers(-3, 3))),
                **values,
            )
        )
    return out


def table_of(rows: list[tuple[str, str, str | None]]) -> pa.Table:
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    columns = {
        "rule_id": [r[0] for r in rows],
        "severity": ["high"] * len(rows),
        "table_name": ["t"] * len(rows),
        "record_id": [r[1] for r in rows],
        "subject_id": [r[2] for r in rows],
        "clause": ["6.1"] * len(rows),
        "detail": ["d"] * len(rows),
    }
    return pa.table(columns, schema=RECORD_SCHEMA)


def bag(listed: list[Waiver]) -> Waivers:
    return Waivers("w.yaml", "0" * 64, tuple(listed))


@pytest.fixture(scope="module", autouse=True)
def _remove_scratch() -> Iterator[None]:
    yield
    shutil.rmtree(SCRATCH, ignore_errors=True)


def written(table: pa.Table, name: str = "found.parquet") -> Path:
    """``table`` in a Parquet file of its own folder, as a rule's findings (or a run's) are."""
    path = Path(tempfile.mkdtemp(prefix="lifecycle-", dir=SCRATCH)) / name
    pq.write_table(table, path)
    return path


def annotate_table(records: pa.Table, *args: object) -> Lifecycle:
    """The lifecycle of one file of findings; its outputs beside it."""
    path = written(records)
    return annotate([path], RULE_IDS, *args, folder=path.parent)  # type: ignore[arg-type]


def previous_of(table: pa.Table, as_of: date) -> PreviousRun:
    return PreviousRun("prev", as_of, {}, "p", None, None, written(table, "findings.parquet"))


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def open_keys(table: pa.Table) -> set[tuple[str, str]]:
    return {(r["rule_id"], r["record_id"]) for r in table.to_pylist() if r["status"] == "open"}


@settings(max_examples=60, deadline=None)
@given(finding_lists, waiver_lists(), waiver_lists())
def test_adding_a_waiver_never_adds_an_open_finding(rows: list, listed: list, extra: list) -> None:
    records = table_of(rows)
    before = annotate_table(records, DAY, bag(listed)).findings
    more = [*listed, *(w.model_copy(update={"id": f"X-{w.id}"}) for w in extra)]
    after = annotate_table(records, DAY, bag(more)).findings
    assert open_keys(after) <= open_keys(before)


@settings(max_examples=60, deadline=None)
@given(finding_lists, waiver_lists())
def test_waivers_change_status_never_presence(rows: list, listed: list) -> None:
    records = table_of(rows)
    plain = annotate_table(records, DAY).findings
    waived = annotate_table(records, DAY, bag(listed)).findings
    assert waived.schema.equals(FINDINGS_SCHEMA)
    assert waived.select(RECORD_SCHEMA.names).equals(records)  # every row, in order
    assert waived.select(["change", "first_seen"]).equals(plain.select(["change", "first_seen"]))
    in_force = {w.id for w in listed if w.in_force(DAY)}
    for row in waived.to_pylist():
        assert (row["status"] == "waived") == (row["waiver_id"] in in_force)


@settings(max_examples=40, deadline=None)
@given(finding_lists, finding_lists, waiver_lists())
def test_same_inputs_give_byte_identical_findings_and_resolved(
    rows: list, earlier: list, listed: list
) -> None:
    prior = previous_of(annotate_table(table_of(earlier), DAY - timedelta(days=30)).findings, DAY)
    first, second = (annotate_table(table_of(rows), DAY, bag(listed), prior) for _ in range(2))
    assert parquet_bytes(first.findings) == parquet_bytes(second.findings)
    assert parquet_bytes(first.resolved) == parquet_bytes(second.resolved)


@settings(max_examples=60, deadline=None)
@given(finding_lists, waiver_lists())
def test_the_same_findings_twice_are_neither_new_nor_resolved(rows: list, listed: list) -> None:
    records = table_of(rows)
    first = annotate_table(records, DAY, bag(listed))
    again = annotate_table(records, DAY, bag(listed), previous_of(first.findings, DAY))
    assert set(again.findings["change"].to_pylist()) <= {"persisting"}
    assert again.resolved.num_rows == 0
    assert again.findings.drop_columns(["change"]).equals(first.findings.drop_columns(["change"]))


def test_twice_on_the_same_export_is_byte_identical_with_nothing_new(export: Path, tmp_path: Path) -> None:
    path = waivers_file(tmp_path / "w.yaml", waiver())
    assert audit(export, tmp_path / "first", "--waivers", str(path))[0] == 0
    for out in ("a", "b"):
        assert (
            audit(export, tmp_path / out, "--waivers", str(path), "--previous", str(tmp_path / "first"))[0]
            == 0
        )
    for name in ("findings.parquet", "resolved.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert {r["change"] for r in findings(tmp_path / "a").values()} == {"persisting"}
    assert (summary(tmp_path / "a")["totals"]["new"], summary(tmp_path / "a")["totals"]["resolved"]) == (0, 0)


@pytest.mark.spark
def test_waivers_and_previous_give_the_same_findings_on_spark(export: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from privacy_audit.audit import run_audit
    from privacy_audit.engine.duckdb import DuckDBEngine
    from privacy_audit.engine.spark import SparkEngine

    path = waivers_file(
        tmp_path / "w.yaml",
        waiver(),
        waiver("W-2", rule="SEC-PASSWORD-STORAGE", expires=date(2025, 1, 1), records=["C1"]),
    )
    assert audit(export, tmp_path / "prev", as_of="2025-12-01")[0] == 0
    make_export(export, tables(password="$2b$12$" + "a" * 53, orders=("O1", "O2")), "csv")
    results = []
    for engine in (DuckDBEngine(), SparkEngine(conf={"spark.sql.shuffle.partitions": "1"})):
        try:
            results.append(run_audit(export, date(2026, 1, 1), engine=engine, waivers_file=path,
                                     previous=tmp_path / "prev"))  # fmt: skip
        finally:
            engine.close()
    duck, spark = results
    assert duck.findings().num_rows and duck.lifecycle.resolved.num_rows
    assert spark.findings().to_pylist() == duck.findings().to_pylist()
    assert spark.lifecycle.resolved.to_pylist() == duck.lifecycle.resolved.to_pylist()
