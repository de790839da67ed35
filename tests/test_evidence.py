"""Evidence that cannot be quietly edited: attestation, signature, verify, SARIF, JUnit, OSCAL, coverage."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import xmlschema
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from typer.testing import CliRunner

import privacy_audit.audit
from handmade import make_export
from privacy_audit.audit import AuditResult, run_audit
from privacy_audit.cli import app
from privacy_audit.outputs import sarif
from privacy_audit.outputs.attestation import PREDICATE_TYPE, sha256_file
from privacy_audit.outputs.junit import junit_tree
from privacy_audit.outputs.oscal import assessment_results
from privacy_audit.outputs.sarif import sarif_log
from privacy_audit.outputs.waived import WaiverNote
from privacy_audit.reporting.common.leaks import LeakScanner
from privacy_audit.reporting.compliance.policy_text import load_policy_text
from privacy_audit.rules import REGISTRY
from privacy_audit.rules.coverage import COVERAGE

SCHEMAS = Path(__file__).parent / "schemas"
runner = CliRunner()
SECRET_EMAIL = "jane.doe@example.com"


def _pem(key: object, private: bool) -> bytes:
    if private:
        return key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An Ed25519 key pair, another Ed25519 public key, and an EC key (not Ed25519)."""
    folder = tmp_path_factory.mktemp("keys")
    ours, theirs = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    files = {
        "private": _pem(ours, True),
        "public": _pem(ours, False),
        "other_public": _pem(theirs, False),
        "ec_private": _pem(ec.generate_private_key(ec.SECP256R1()), True),
    }
    for name, data in files.items():
        (folder / f"{name}.pem").write_bytes(data)
    return {name: folder / f"{name}.pem" for name in files}


def _export(folder: Path) -> Path:
    """An overdue order (fails), a plaintext password (fails); no consent tables (skipped rules)."""
    return make_export(
        folder,
        {
            "accounts": [{"account_id": "A1", "country": "US"}],
            "contacts": [
                {"contact_id": "C1", "account_id": "A1", "password_hash": "hunter2", "email": SECRET_EMAIL}
            ],
            "orders": [
                {"order_id": "O1", "account_id": "A1", "order_date": "2010-01-01", "contact_id": "C1"}
            ],
        },
        "csv",
    )


def audit(export: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", str(export), "--as-of", "2026-01-01", "--out", str(out), *extra])
    return result.exit_code, result.stdout + result.stderr


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", *args])
    return result.exit_code, result.stdout + result.stderr


def _signed_audit(folder: Path, private_key: Path) -> tuple[Path, Path, Path]:
    """(run folder, export, policy file) of a signed audit with every format."""
    export = _export(folder / "export")
    policy = folder / "policy.yaml"
    policy.write_bytes((Path(__file__).parents[1] / "src/privacy_audit/default_policy.yaml").read_bytes())
    out = folder / "run"
    code, output = audit(
        export, out, "--policy", str(policy), "--sign-key", str(private_key), "--format", "sarif,junit,oscal"
    )
    assert code == 0, output
    return out, export, policy


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> tuple[Path, Path, Path]:
    return _signed_audit(tmp_path_factory.mktemp("pristine"), keys["private"])


@pytest.fixture
def signed_run(pristine: tuple[Path, Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the signed run and its export to tamper with (the policy stays where it was recorded)."""
    out, export, policy = pristine
    shutil.copytree(out, tmp_path / "run")
    shutil.copytree(export, tmp_path / "export")
    return tmp_path / "run", tmp_path / "export", policy


def test_attestation_is_an_in_toto_test_result_over_export_configuration_and_outputs(
    pristine: tuple[Path, Path, Path],
) -> None:
    out, export, policy = pristine
    statement = json.loads((out / "attestation.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {p.name: sha256_file(p) for p in export.iterdir()}
    predicate = statement["predicate"]
    assert predicate["result"] == "FAILED"
    assert predicate["configuration"] == [
        {"name": str(policy), "uri": policy.resolve().as_uri(), "digest": {"sha256": sha256_file(policy)}}
    ]
    assert {"RET-ORDER-OVERDUE", "SEC-PASSWORD-STORAGE"} <= set(predicate["failedTests"])
    assert "ACCESS-ROLE" in predicate["warnedTests"]  # skipped: the staff tables are absent
    assert "CHILD-MINOR" in predicate["passedTests"]
    every = predicate["failedTests"] + predicate["warnedTests"] + predicate["passedTests"]
    assert sorted(every) == sorted(REGISTRY)
    outputs = {o["name"]: o["digest"]["sha256"] for o in predicate["urn:privacy-audit:outputs:v1"]}
    expected = [
        "findings.parquet",
        "findings.sarif",
        "junit.xml",
        "oscal-assessment-results.json",
        "resolved.parquet",
        "summary.json",
    ]
    assert sorted(outputs) == expected
    assert all(outputs[name] == sha256_file(out / name) for name in expected)
    envelope = json.loads((out / "attestation.dsse.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"


def test_an_untouched_run_verifies(pristine: tuple[Path, Path, Path], keys: dict[str, Path]) -> None:
    out, export, _ = pristine
    code, output = verify(str(out), "--export", str(export), "--key", str(keys["public"]))
    assert code == 0, output
    assert "signed by sha256:" in output and "6 outputs" in output  # resolved.parquet too


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (lambda out, export, policy, keys: _flip_last_byte(out / "findings.parquet"), "findings.parquet"),
        (lambda out, export, policy, keys: _flip_last_byte(out / "summary.json"), "summary.json"),
        (lambda out, export, policy, keys: _flip_last_byte(export / "orders.csv"), "orders.csv"),
        (lambda out, export, policy, keys: keys.update(public=keys["other_public"]), "attestation.dsse.json"),
        (
            lambda out, export, policy, keys: (out / "attestation.dsse.json").write_bytes(
                (out / "attestation.dsse.json").read_bytes()[:100]
            ),
            "attestation.dsse.json",
        ),
        (lambda out, export, policy, keys: (out / "attestation.dsse.json").unlink(), "attestation.dsse.json"),
        (lambda out, export, policy, keys: _flip_last_byte(out / "attestation.json"), "attestation.json"),
        (lambda out, export, policy, keys: (export / "staff.csv").write_text("staff_id\n"), "staff.csv"),
    ],
    ids=[
        "findings",
        "summary",
        "export-file",
        "other-key",
        "truncated-envelope",
        "no-envelope",
        "statement",
        "added-table",
    ],
)
def test_a_changed_file_fails_verification_naming_it(
    signed_run: tuple[Path, Path, Path], keys: dict[str, Path], tamper: object, named: str
) -> None:
    out, export, policy = signed_run
    keys = dict(keys)
    tamper(out, export, policy, keys)  # type: ignore[operator]
    code, output = verify(str(out), "--export", str(export), "--key", str(keys["public"]))
    assert code == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], output
    assert "Traceback" not in output


def test_a_swapped_policy_fails_verification_naming_it(tmp_path: Path, keys: dict[str, Path]) -> None:
    out, export, policy = _signed_audit(tmp_path, keys["private"])
    policy.write_text(policy.read_text() + "\n# swapped\n")
    code, output = verify(str(out), "--export", str(export), "--key", str(keys["public"]))
    assert code == 1 and "policy.yaml" in output and "sha256" in output, output


def test_outputs_are_checked_without_the_export_and_the_key(signed_run: tuple[Path, Path, Path]) -> None:
    out, export, _ = signed_run
    _flip_last_byte(export / "orders.csv")  # not checked: no --export
    assert verify(str(out))[0] == 0
    _flip_last_byte(out / "junit.xml")
    code, output = verify(str(out))
    assert code == 1 and "junit.xml" in output


@pytest.mark.parametrize("what", ["no-run", "not-a-key", "ec-key", "missing-export"])
def test_unusable_verify_input_is_exit_2(
    signed_run: tuple[Path, Path, Path], keys: dict[str, Path], tmp_path: Path, what: str
) -> None:
    out = signed_run[0]
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    args = {
        "no-run": [str(tmp_path / "export")],
        "not-a-key": [str(out), "--key", str(garbage)],
        "ec-key": [str(out), "--key", str(keys["ec_private"])],
        "missing-export": [str(out), "--export", str(tmp_path / "nowhere")],
    }[what]
    code, output = verify(*args)
    assert code == 2, output
    assert len([line for line in output.splitlines() if line.strip()]) == 1 and "Traceback" not in output


@pytest.mark.parametrize("key", ["ec_private", "public"])
def test_a_sign_key_that_is_no_ed25519_private_key_is_exit_2_before_the_audit(
    tmp_path: Path, keys: dict[str, Path], key: str
) -> None:
    code, output = audit(_export(tmp_path / "export"), tmp_path / "out", "--sign-key", str(keys[key]))
    assert code == 2 and "--sign-key" in output and "Ed25519" in output, output
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_exit_2(tmp_path: Path) -> None:
    code, output = audit(_export(tmp_path / "export"), tmp_path / "out", "--format", "sarif,pdf")
    assert code == 2 and "--format" in output and "pdf" in output


def test_every_run_writes_an_unsigned_attestation_that_verifies(tmp_path: Path) -> None:
    export = _export(tmp_path / "export")
    assert audit(export, tmp_path / "out")[0] == 0
    assert not (tmp_path / "out" / "attestation.dsse.json").exists()
    code, output = verify(str(tmp_path / "out"), "--export", str(export))
    assert code == 0 and "signature not checked" in output and "1 configuration" in output


def test_sarif_validates_and_maps_findings(pristine: tuple[Path, Path, Path]) -> None:
    out, _, _ = pristine
    log = json.loads((out / "findings.sarif").read_text())
    schema = json.loads((SCHEMAS / "sarif-2.1.0-rtm.5.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(REGISTRY)
    assert "## What it checks" in run["tool"]["driver"]["rules"][0]["help"]["markdown"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["SEC-PASSWORD-STORAGE"]["level"] == "error"  # critical
    location = by_rule["RET-ORDER-OVERDUE"]["locations"][0]["logicalLocations"][0]
    assert location["fullyQualifiedName"] == "orders/O1"
    assert not any("suppressions" in r for r in run["results"])


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    return run_audit(_export(tmp_path_factory.mktemp("plain") / "export"), date(2026, 1, 1))


@pytest.fixture(scope="module")
def waived(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, WaiverNote]:
    """A result whose findings carry the lifecycle's status and waiver_id columns: RET-ORDER-OVERDUE waived."""
    folder = tmp_path_factory.mktemp("waived")
    waiver = WaiverNote("W-1", "RET-ORDER-OVERDUE", "Tax audit 2026 keeps it", "DPO", date(2027, 3, 31))
    entry = {"id": waiver.id, "rule": waiver.rule, "scope": "rule", "justification": waiver.justification,
             "approved_by": waiver.approved_by, "expires": waiver.expires}  # fmt: skip
    waivers = folder / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"version": 1, "waivers": [entry]}), encoding="utf-8")
    result = run_audit(_export(folder / "export"), date(2026, 1, 1), waivers_file=waivers)
    assert result.lifecycle.counts_of("RET-ORDER-OVERDUE").waived  # the waiver matched
    return result, waiver


def test_a_waived_finding_carries_a_suppression_with_the_justification(
    waived: tuple[AuditResult, WaiverNote],
) -> None:
    result, waiver = waived
    log = sarif_log(result, [waiver])
    jsonschema.Draft4Validator(json.loads((SCHEMAS / "sarif-2.1.0-rtm.5.json").read_text())).validate(log)
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert by_rule["RET-ORDER-OVERDUE"]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "Tax audit 2026 keeps it"}
    ]
    assert "suppressions" not in by_rule["SEC-PASSWORD-STORAGE"]
    cases = {c.get("name"): c for c in junit_tree(result).getroot().iter("testcase")}
    assert cases["RET-ORDER-OVERDUE"].find("failure") is None  # waived findings never count
    assert cases["SEC-PASSWORD-STORAGE"].find("failure") is not None


def test_sarif_is_written_batch_by_batch_as_the_whole_log(
    waived: tuple[AuditResult, WaiverNote], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, waiver = waived
    monkeypatch.setattr(privacy_audit.audit, "BATCH_ROWS", 1)  # a finding a batch: millions stream this way
    log = json.loads(sarif.write_sarif(result, tmp_path, [waiver]).read_text(encoding="utf-8"))
    assert len(log["runs"][0]["results"]) > 1
    assert log == sarif_log(result, [waiver])


def test_junit_validates_with_one_case_per_rule(
    pristine: tuple[Path, Path, Path], plain: AuditResult
) -> None:
    xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd").validate(pristine[0] / "junit.xml")
    tree = junit_tree(plain).getroot()
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    assert list(cases) == list(REGISTRY)
    assert cases["RET-ORDER-OVERDUE"].find("failure") is not None
    assert cases["ACCESS-ROLE"].find("skipped") is not None
    assert cases["CHILD-MINOR"].find("failure") is None and cases["CHILD-MINOR"].find("skipped") is None


def test_oscal_assessment_results_validate_with_trestle(pristine: tuple[Path, Path, Path]) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    out, _, _ = pristine
    model = AssessmentResults.oscal_read(out / "oscal-assessment-results.json")
    run = model.results[0]
    assert [o.title for o in run.observations] == list(REGISTRY)
    assert all(o.methods == ["TEST"] for o in run.observations)
    digest = sha256_file(out / "findings.parquet")
    assert run.observations[0].relevant_evidence[0].props[0].value == digest
    states = {f.target.target_id: f.target.status.state.value for f in run.findings}
    assert states["policy-section-6.1"] == "not-satisfied"  # RET-ORDER-OVERDUE has an open finding
    assert states["policy-section-10.1"] == "satisfied"  # CHILD-MINOR passed
    assert "policy-section-1.1" not in states and "§1.1" in run.remarks
    assert "policy-section-5.3" not in states  # ACCESS-AFTER-OFFBOARDING skipped: not evidenced this run


def test_oscal_waivers_are_deviation_approved_risks(waived: tuple[AuditResult, WaiverNote]) -> None:
    result, waiver = waived
    risk = assessment_results(result, "0" * 64, [waiver]).results[0].risks[0]
    assert risk.status.root.root == "deviation-approved"
    assert risk.deadline.date() == date(2027, 3, 31) and risk.description == waiver.justification


def test_evidence_holds_no_personal_value_of_the_export(pristine: tuple[Path, Path, Path]) -> None:
    out, export, _ = pristine
    scanner = LeakScanner.from_export(export)
    evidence = ["attestation.json", "attestation.dsse.json", "findings.sarif", "junit.xml"]
    for name in [*evidence, "oscal-assessment-results.json"]:
        text = (out / name).read_text()
        assert SECRET_EMAIL not in text
        personal = [leak for leak in scanner.scan_text(text) if "email" in leak or "full name" in leak]
        assert not personal, (name, personal)


def test_the_scanner_would_see_a_personal_value_in_evidence(pristine: tuple[Path, Path, Path]) -> None:
    out, export, _ = pristine
    sarif = (out / "findings.sarif").read_text().replace("orders/O1", f"orders/{SECRET_EMAIL}")
    assert LeakScanner.from_export(export).scan_text(sarif)


def test_the_report_manifest_says_who_signed_and_how_to_verify(tmp_path: Path, keys: dict[str, Path]) -> None:
    from privacy_audit.reporting.compliance import run as compliance_run
    from privacy_audit.reporting.compliance import sections

    export = _export(tmp_path / "export")
    run = compliance_run.prepare(
        str(export), "2026-01-01", "", str(tmp_path / "out"), sign_key=str(keys["private"])
    )
    page = sections.manifest(run).html
    fingerprint = json.loads((tmp_path / "out" / "attestation.dsse.json").read_text())["signatures"][0][
        "keyid"
    ]
    assert fingerprint.startswith("sha256:") and fingerprint in page
    assert f"privacy-audit verify REPORT_FOLDER --export {export.resolve()} --key PUBLIC_KEY.pem" in page
    assert verify(str(tmp_path / "out"), "--export", str(export), "--key", str(keys["public"]))[0] == 0
    unsigned = sections.manifest(dataclasses.replace(run, signature=None)).html
    assert "attestation.json is unsigned" in unsigned and "--key" not in unsigned


def test_coverage_lists_every_subsection_of_the_policy_text_once() -> None:
    sections = [c.section for c in COVERAGE]
    subsections = [n for n in load_policy_text().clauses if "." in n]
    assert sorted(sections) == sorted(subsections)
    assert len(set(sections)) == len(sections)


def test_every_clause_a_rule_cites_lists_that_rule() -> None:
    listed = {c.section: set(c.rules) for c in COVERAGE}
    missing = [(r.id, c) for r in REGISTRY.values() for c in r.clauses if r.id not in listed.get(c, set())]
    assert not missing


def test_coverage_names_only_rules_of_the_catalogue() -> None:
    unknown = {rule for c in COVERAGE for rule in c.rules} - set(REGISTRY)
    assert not unknown


def test_unevidenced_subsections_say_why() -> None:
    assert all(c.not_evidenced for c in COVERAGE if not c.rules)


def test_coverage_command_prints_the_table() -> None:
    result = runner.invoke(app, ["coverage"], terminal_width=250)
    assert result.exit_code == 0
    assert re.search(r"6\.1\s.*RET-ORDER-OVERDUE", result.stdout)
    assert all(re.search(rf"^│ {re.escape(c.section)} ", result.stdout, re.M) for c in COVERAGE)


@pytest.mark.spark
def test_a_spark_run_verifies(tmp_path: Path, keys: dict[str, Path]) -> None:
    pytest.importorskip("pyspark")
    export = _export(tmp_path / "export")
    code, output = audit(export, tmp_path / "out", "--engine", "spark", "--sign-key", str(keys["private"]))
    assert code == 0, output
    code, output = verify(str(tmp_path / "out"), "--export", str(export), "--key", str(keys["public"]))
    assert code == 0, output
