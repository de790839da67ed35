"""findings.sarif: SARIF 2.1.0 for code-scanning dashboards (recurring-audits.md, "Evidence").

One result per open or waived finding, the table and record as its logical location, the
finding's detail (identifiers only, like every finding) as its message; a waived finding
carries a ``suppressions`` entry with the waiver's justification. The catalogue is the
driver's ``rules``, each with its documentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from privacy_audit import __version__
from privacy_audit.outputs.waived import WaiverNote, waived_mask

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

FILE = "findings.sarif"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def sarif_log(result: AuditResult, waivers: Iterable[WaiverNote] = ()) -> dict:
    """The SARIF log of one run as a JSON-ready dict."""
    justification = {w.id: w.justification for w in waivers}
    rules = [r.rule for r in result.results]
    index = {rule.id: i for i, rule in enumerate(rules)}
    findings = result.findings()
    waived = waived_mask(findings).to_pylist()
    waiver_ids = (
        findings.column("waiver_id").to_pylist()
        if "waiver_id" in findings.column_names
        else [None] * len(waived)
    )
    results = []
    for row, is_waived, waiver_id in zip(findings.to_pylist(), waived, waiver_ids, strict=True):
        entry = {
            "ruleId": row["rule_id"],
            "ruleIndex": index[row["rule_id"]],
            "level": LEVELS[row["severity"]],
            "message": {
                "text": row["detail"] or f"{row['rule_id']} found {row['table_name']} {row['record_id']}"
            },
            "locations": [
                {
                    "logicalLocations": [
                        {
                            "name": row["record_id"],
                            "fullyQualifiedName": f"{row['table_name']}/{row['record_id']}",
                            "kind": "object",
                        }
                    ]
                }
            ],
            "properties": {
                "table": row["table_name"],
                "subjectId": row["subject_id"],
                "clause": row["clause"],
            },
        }
        if is_waived:
            suppression = {"kind": "external", "status": "accepted"}
            if waiver_id in justification:
                suppression["justification"] = justification[waiver_id]
            entry["suppressions"] = [suppression]
        results.append(entry)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "privacy-audit",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "shortDescription": {
                                    "text": " ".join(rule.docs(result.policy).what.split()).split(". ")[0]
                                },
                                "fullDescription": {"text": " ".join(rule.docs(result.policy).what.split())},
                                "help": {
                                    "text": rule.doc(result.policy),
                                    "markdown": rule.doc(result.policy),
                                },
                                "defaultConfiguration": {"level": LEVELS[rule.severity.value]},
                                "properties": {
                                    "severity": rule.severity.value,
                                    "clauses": list(rule.clauses),
                                },
                            }
                            for rule in rules
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": all(r.status != "error" for r in result.results),
                        "startTimeUtc": result.started_at.isoformat(timespec="seconds").replace(
                            "+00:00", "Z"
                        ),
                        "endTimeUtc": result.finished_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                    }
                ],
                "results": results,
            }
        ],
    }


def write_sarif(result: AuditResult, directory: Path, waivers: Iterable[WaiverNote] = ()) -> Path:
    path = directory / FILE
    path.write_text(json.dumps(sarif_log(result, waivers), indent=2) + "\n", encoding="utf-8")
    return path
