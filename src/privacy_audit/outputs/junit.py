"""junit.xml: one test case per rule, for CI dashboards (recurring-audits.md, "Evidence").

A rule with open findings fails, a skipped rule is skipped, an errored one is an error; a rule
whose findings are all waived passes (waived findings never count). Messages name counts and
rule ids, never a finding's values.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from privacy_audit.outputs.waived import outcome

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

FILE = "junit.xml"


def junit_tree(result: AuditResult) -> ET.ElementTree:
    """The JUnit XML of one run: a ``testsuites`` root holding one ``testsuite``."""
    outcomes = [outcome(r, result.lifecycle.counts_of(r.rule.id).open) for r in result.results]
    counts = {k: str(outcomes.count(k)) for k in ("fail", "error", "skipped")}
    seconds = f"{sum(r.seconds for r in result.results):.3f}"
    root = ET.Element(
        "testsuites",
        name="privacy-audit",
        tests=str(len(outcomes)),
        failures=counts["fail"],
        errors=counts["error"],
        time=seconds,
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"privacy-audit as_of {result.as_of.isoformat()}",
        tests=str(len(outcomes)),
        failures=counts["fail"],
        errors=counts["error"],
        skipped=counts["skipped"],
        time=seconds,
        timestamp=result.started_at.isoformat(timespec="seconds"),
    )
    for rule_result, status in zip(result.results, outcomes, strict=True):
        rule = rule_result.rule
        case = ET.SubElement(
            suite,
            "testcase",
            name=rule.id,
            classname=f"privacy-audit.{rule.severity.value}",
            time=f"{rule_result.seconds:.3f}",
        )
        if status == "fail":
            n = result.lifecycle.counts_of(rule.id).open
            ET.SubElement(
                case, "failure", type=rule.severity.value, message=f"{n} open findings (§{rule.clause})"
            ).text = f"{n} open findings of {rule_result.checked} records checked; see findings.parquet"
        elif status == "skipped":
            ET.SubElement(case, "skipped", message=rule_result.reason or "skipped")
        elif status == "error":
            ET.SubElement(
                case, "error", type="EngineError", message="the rule's query failed (see summary.json)"
            )
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(result: AuditResult, directory: Path) -> Path:
    path = directory / FILE
    junit_tree(result).write(path, encoding="utf-8", xml_declaration=True)
    return path
