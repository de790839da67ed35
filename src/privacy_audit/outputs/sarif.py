"""findings.sarif: SARIF 2.1.0 for code-scanning dashboards (recurring-audits.md, "Evidence").

One result per open or waived finding, the table and record as its logical location, the
finding's detail (identifiers only, like every finding) as its message; a waived finding
carries a ``suppressions`` entry with the waiver's justification. The catalogue is the
driver's ``rules``, each with its documentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from privacy_audit import __version__
from privacy_audit.outputs.waived import WaiverNote, waived_mask

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

FILE = "findings.sarif"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def sarif_log(result: AuditResult, waivers: Iterable[WaiverNote] = ()) -> dict:
    """The SARIF log of one run as a JSON-ready dict (small runs; ``write_sarif`` streams)."""
    log = _log_without_results(result)
    log["runs"][0]["results"] = list(_results(result, waivers))
    return log


def _results(result: AuditResult, waivers: Iterable[WaiverNote]) -> Iterator[dict]:
    """One SARIF result per finding, built a record batch at a time: millions of findings never
    become Python objects all at once."""
    justification = {w.id: w.justification for w in waivers}
    index = {r.rule.id: i for i, r in enumerate(result.results)}
    for batch in result.finding_batches():
        part = pa.Table.from_batches([batch])
        waived = waived_mask(part).to_pylist()
        waiver_ids = (
            part.column("waiver_id").to_pylist() if "waiver_id" in part.column_names else [None] * len(waived)
        )
        for row, is_waived, waiver_id in zip(part.to_pylist(), waived, waiver_ids, strict=True):
            yield _result(row, index, is_waived, justification.get(waiver_id) if is_waived else None)


def _result(row: dict, index: dict[str, int], waived: bool, justification: str | None) -> dict:
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
    if waived:
        suppression = {"kind": "external", "status": "accepted"}
        if justification is not None:
            suppression["justification"] = justification
        entry["suppressions"] = [suppression]
    return entry


def _log_without_results(result: AuditResult) -> dict:
    """Everything of the log but its results: the tool, its rules and the invocation."""
    rules = [r.rule for r in result.results]
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
                "results": [],
            }
        ],
    }


def write_sarif(result: AuditResult, directory: Path, waivers: Iterable[WaiverNote] = ()) -> Path:
    """Write findings.sarif result by result: its size is the findings', its memory one batch's."""
    path = directory / FILE
    head, tail = json.dumps(_log_without_results(result), indent=2).rsplit('"results": []', 1)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(head + '"results": [')
        for i, entry in enumerate(_results(result, waivers)):
            handle.write(("," if i else "") + "\n" + json.dumps(entry))
        handle.write("\n]" + tail + "\n")
    return path
