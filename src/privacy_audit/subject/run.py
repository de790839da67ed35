"""``privacy-audit subject``: find, judge and write one subject's records, all or nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from privacy_audit import __version__
from privacy_audit.engine import Engine, make_engine
from privacy_audit.errors import InputError
from privacy_audit.export import open_export
from privacy_audit.outputs.folder import staged_output
from privacy_audit.policy import load_policy
from privacy_audit.sources.mapping import Mapping
from privacy_audit.subject.assessment import assess
from privacy_audit.subject.documents import leak_scan, plan_csv, subject_document, write_package
from privacy_audit.subject.linkage import collect, resolve

SUBJECT_FILE = "subject.json"
PLAN_FILE = "erasure-plan.csv"


@dataclass(frozen=True)
class SubjectRun:
    """What the command tells the terminal: counts and identifiers, never values."""

    document: dict[str, Any]
    out: Path

    @property
    def erased(self) -> bool:
        return bool(self.document["subject"]["erased"])

    def held(self) -> dict[str, int]:
        return dict(self.document["counts"]["by_table"])


def run_subject(
    subject_id: str,
    export_dir: str | Path,
    as_of: date,
    out: Path,
    *,
    policy_file: Path | None = None,
    mapping: Mapping | None = None,
    with_values: bool = False,
    engine: Engine | None = None,
) -> SubjectRun:
    """Write ``out``/subject.json and erasure-plan.csv (and package/ ``with_values``).

    ``out`` must not exist: a subject's folder is evidence for one request and is never
    replaced. Raises ``InputError`` for unusable input, ``LeakFound`` when a document would
    carry a personal value; in both cases nothing is written.
    """
    if out.exists():
        raise InputError(str(out), expected="a new output directory (it exists already)")
    with staged_output(out, export_dir) as stage:
        policy, policy_digest = load_policy(policy_file)
        engine = engine or make_engine()
        export = open_export(export_dir, engine, mapping)
        holding = collect(engine, export, resolve(engine, subject_id))
        assessed = assess(holding, policy, as_of)
        manifest = {
            "tool_version": __version__,
            "as_of": as_of.isoformat(),
            "policy_file": str(policy_file) if policy_file else "default_policy.yaml",
            "policy_digest": policy_digest,
            "policy_effective_digest": policy.effective_digest,  # the promises applied
            "input_digests": dict(sorted(export.digests.items())),
            "ignored_files": export.ignored,
            "mapping_file": mapping.file if mapping else None,
            "mapping_digest": mapping.sha256 if mapping else None,
            "engine": engine.name,
            "engine_version": engine.version,
            "with_values": with_values,
        }
        document = subject_document(holding, assessed, as_of, manifest)
        texts = {SUBJECT_FILE: json.dumps(document, indent=2) + "\n", PLAN_FILE: plan_csv(assessed)}
        leak_scan(holding, texts)
        for name, text in texts.items():
            (stage.output / name).write_text(text, encoding="utf-8")
        if with_values:
            write_package(holding, stage.output)
    return SubjectRun(document, out)
