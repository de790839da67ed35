"""The evidence a run writes beside findings.parquet and summary.json, in one call.

Order matters: the requested formats first, the attestation last, because it digests every
output already in the folder. ``waivers`` are the waivers the run applied (see ``waived.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from privacy_audit.outputs.attestation import Signature, write_attestation
from privacy_audit.outputs.waived import WaiverNote

if TYPE_CHECKING:
    from securesystemslib.signer import CryptoSigner

    from privacy_audit.audit import AuditResult

FORMATS = ("sarif", "junit", "oscal")


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``sarif,junit`` as a tuple of formats; an unknown one is a ``ValueError``."""
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in (text or "").split(",") if f.strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown format {', '.join(unknown)} (expected a comma-separated list of {', '.join(FORMATS)})"
        )
    return wanted


def write_evidence(
    result: AuditResult,
    directory: Path,
    formats: Sequence[str] = (),
    signer: CryptoSigner | None = None,
    waivers: Sequence[WaiverNote] = (),
) -> Signature | None:
    """Write the requested formats, then attestation.json (and its DSSE envelope when signing)."""
    if "sarif" in formats:
        from privacy_audit.outputs.sarif import write_sarif

        write_sarif(result, directory, waivers)
    if "junit" in formats:
        from privacy_audit.outputs.junit import write_junit

        write_junit(result, directory)
    if "oscal" in formats:
        from privacy_audit.outputs.oscal import write_oscal

        write_oscal(result, directory, waivers)
    return write_attestation(result, directory, signer)
