"""oscal-assessment-results.json: the run as OSCAL assessment results, at the policy's clause level.

One observation per rule (method TEST, evidence findings.parquet by sha256), one finding per
subsection of the coverage table that a rule evidences (satisfied / not-satisfied), and each
waiver as a risk with status ``deviation-approved`` and its expiry as deadline. Built with
compliance-trestle's OSCAL models, which validate every field as it is set; subsections no
export can evidence, or whose rules were all skipped, are named in the result's remarks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from privacy_audit import __version__
from privacy_audit.outputs.attestation import sha256_file
from privacy_audit.outputs.waived import WaiverNote, outcome
from privacy_audit.rules.coverage import COVERAGE

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

FILE = "oscal-assessment-results.json"
FINDINGS_FILE = "findings.parquet"
NS = "urn:privacy-audit"


def assessment_results(result: AuditResult, findings_digest: str, waivers: Iterable[WaiverNote] = ()):
    """The trestle ``AssessmentResults`` model of one run."""
    from trestle.oscal import OSCAL_VERSION, common
    from trestle.oscal import assessment_results as ar

    run_id = f"{result.as_of.isoformat()}/{result.started_at.isoformat()}"

    def uid(kind: str, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"privacy-audit:{run_id}:{kind}:{name}"))

    outcomes = {r.rule.id: outcome(r, result.lifecycle.counts_of(r.rule.id).open) for r in result.results}
    observations = [
        ar.Observation(
            uuid=uid("observation", r.rule.id),
            title=r.rule.id,
            description=" ".join(r.rule.docs(result.policy).what.split()),
            methods=["TEST"],
            collected=result.finished_at,
            props=[
                common.Property(name="status", value=outcomes[r.rule.id], ns=NS),
                common.Property(name="findings", value=str(r.violations), ns=NS),
            ],
            relevant_evidence=[
                common.RelevantEvidence(
                    href=FINDINGS_FILE,
                    description=f"The findings of every rule of the run; sha256 {findings_digest}.",
                    props=[common.Property(name="sha256", value=findings_digest, ns=NS)],
                )
            ],
        )
        for r in result.results
    ]
    findings, not_evidenced = [], []
    for row in COVERAGE:
        ran = [rule for rule in row.rules if outcomes.get(rule) not in (None, "skipped")]
        if not ran:
            reason = row.not_evidenced if not row.rules else "its rules did not run"
            not_evidenced.append(f"§{row.section}: {reason}")
            continue
        broken = [rule for rule in ran if outcomes[rule] in ("fail", "error")]
        findings.append(
            common.Finding(
                uuid=uid("finding", row.section),
                title=f"Policy §{row.section}",
                description=f"Evidenced by {', '.join(ran)}"
                + (f"; not evidenced by an export: {row.not_evidenced}" if row.not_evidenced else ""),
                target=common.FindingTarget(
                    type="objective-id",
                    target_id=f"policy-section-{row.section}",
                    status=common.ObjectiveStatus(
                        state="not-satisfied" if broken else "satisfied",
                        reason="fail" if broken else "pass",
                        remarks=f"broken by {', '.join(broken)}" if broken else None,
                    ),
                ),
                related_observations=[
                    common.RelatedObservation(observation_uuid=uid("observation", rule)) for rule in ran
                ],
            )
        )
    risks = [
        common.Risk(
            uuid=uid("risk", w.id),
            title=f"Waiver {w.id} of {w.rule}",
            description=w.justification,
            statement=f"Findings of {w.rule} accepted by {w.approved_by} until {w.expires.isoformat()}.",
            status="deviation-approved",
            deadline=datetime.combine(w.expires, time.max, UTC),
            related_observations=[common.RelatedObservation(observation_uuid=uid("observation", w.rule))]
            if w.rule in outcomes
            else None,
        )
        for w in waivers
    ]
    run = ar.Result(
        uuid=uid("result", "run"),
        title=f"privacy-audit as_of {result.as_of.isoformat()}",
        description="Every rule of the catalogue that ran over one export, by policy section.",
        start=result.started_at,
        end=result.finished_at,
        reviewed_controls=common.ReviewedControls(
            control_selections=[common.ControlSelection(include_all=common.IncludeAll())]
        ),
        observations=observations,
        findings=findings or None,
        risks=risks or None,
        remarks="Not evidenced by this run: " + "; ".join(not_evidenced) if not_evidenced else None,
    )
    return ar.AssessmentResults(
        uuid=uid("assessment-results", "run"),
        metadata=common.Metadata(
            title="Privacy policy compliance: assessment results",
            last_modified=result.finished_at,
            version=__version__,
            oscal_version=OSCAL_VERSION,
        ),
        import_ap=ar.ImportAp(
            href="summary.json",
            remarks="No separate assessment plan: the rule catalogue of privacy-audit is the plan.",
        ),
        results=[run],
    )


def write_oscal(result: AuditResult, directory: Path, waivers: Iterable[WaiverNote] = ()) -> Path:
    model = assessment_results(result, sha256_file(directory / FINDINGS_FILE), waivers)
    path = directory / FILE
    path.write_text(model.oscal_serialize_json(pretty=True, wrapped=True) + "\n", encoding="utf-8")
    return path
