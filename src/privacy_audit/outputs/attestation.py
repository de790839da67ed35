"""attestation.json: an in-toto Statement v1 with the test-result predicate, optionally DSSE-signed.

What a regulator is handed must not be quietly editable (recurring-audits.md, "Evidence that
cannot be quietly edited"). The statement's subjects are the export files read, its
configuration the policy (and waivers and mapping, when the manifest names them), its test
lists the rule ids by result, and an extension field the sha256 of every other output file
in the run folder. ``--sign-key`` wraps the same bytes in a DSSE envelope signed with Ed25519.

Libraries: ``in-toto-attestation`` (the Statement, ResourceDescriptor and TestResult protobuf
models), ``securesystemslib`` (DSSE ``Envelope``, ``CryptoSigner``, ``SSlibKey``), and
``cryptography`` (PEM keys). Nothing here implements a signature or an encoding by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from google.protobuf import json_format

from privacy_audit.errors import InputError
from privacy_audit.outputs.waived import outcome

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from securesystemslib.signer import CryptoSigner

    from privacy_audit.audit import AuditResult

STATEMENT = "attestation.json"
ENVELOPE = "attestation.dsse.json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
# The predicate has no field for a run's own outputs; in-toto allows extension fields named by URI.
OUTPUTS_FIELD = "urn:privacy-audit:outputs:v1"
# Configuration files by the manifest keys that name them and hold their sha256.
CONFIGURATION = (
    ("policy_file", "policy_digest"),
    ("waivers_file", "waivers_digest"),
    ("mapping_file", "mapping_digest"),
)
BUNDLED_POLICY = "default_policy.yaml"


@dataclass(frozen=True)
class Signature:
    """Who signed a run: the key's fingerprint (sha256 of its DER SubjectPublicKeyInfo)."""

    fingerprint: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the key's DER SubjectPublicKeyInfo (what ``openssl pkey -pubout -outform DER | sha256sum`` prints)."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def write_attestation(
    result: AuditResult, directory: Path, signer: CryptoSigner | None = None
) -> Signature | None:
    """Write attestation.json over every file already in ``directory``; sign it when a key is given.

    Call it last: the outputs it digests must be final. ``signer`` comes from ``load_signer``,
    called before the audit runs so that an unusable key is reported before any work.
    """
    from privacy_audit.outputs.findings import summary

    payload = statement_bytes(result, summary(result), outputs(directory))
    (directory / STATEMENT).write_bytes(payload)
    if signer is None:
        return None
    from securesystemslib.dsse import Envelope

    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    (directory / ENVELOPE).write_text(json.dumps(envelope.to_dict(), indent=2) + "\n", encoding="utf-8")
    return Signature(signer.public_key.keyid)


def outputs(directory: Path) -> dict[str, str]:
    """Name → sha256 of every output file of the run folder except the attestation itself."""
    return {
        path.name: sha256_file(path)
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name not in (STATEMENT, ENVELOPE)
    }


def statement_bytes(result: AuditResult, summary: dict, output_digests: dict[str, str]) -> bytes:
    """The Statement as JSON bytes (also the DSSE payload), built from the in-toto models."""
    from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    by_outcome: dict[str, list[str]] = {}
    for rule_result in result.results:
        opened = result.lifecycle.counts_of(rule_result.rule.id).open
        by_outcome.setdefault(outcome(rule_result, opened), []).append(rule_result.rule.id)
    failed = by_outcome.get("fail", []) + by_outcome.get("error", [])
    warned = by_outcome.get("skipped", []) + by_outcome.get("waived", [])
    predicate = test_result_pb2.TestResult(
        result="FAILED" if failed else ("WARNED" if warned else "PASSED"),
        configuration=[rd.pb for rd in _configuration(summary, ResourceDescriptor)],
        passed_tests=by_outcome.get("pass", []),
        warned_tests=sorted(warned),
        failed_tests=sorted(failed),
    )
    subjects = [
        ResourceDescriptor(name=name, digest={"sha256": digest}).pb
        for name, digest in sorted(summary["input_digests"].items())
    ]
    body = json_format.MessageToDict(predicate)
    body[OUTPUTS_FIELD] = [{"name": n, "digest": {"sha256": d}} for n, d in sorted(output_digests.items())]
    statement = Statement(subjects, PREDICATE_TYPE, body)
    statement.validate()
    return (json.dumps(json_format.MessageToDict(statement.pb), indent=2, sort_keys=True) + "\n").encode()


def _configuration(summary: dict, descriptor: type) -> Iterator[object]:
    """The policy, waivers and mapping the run used; a file of the user's carries its location."""
    for name_key, digest_key in CONFIGURATION:
        name, digest = summary.get(name_key), summary.get(digest_key)
        if not name or not digest:
            continue
        uri = "" if name == BUNDLED_POLICY and name_key == "policy_file" else Path(name).resolve().as_uri()
        yield descriptor(name=name, uri=uri, digest={"sha256": digest})


def load_signer(path: Path) -> CryptoSigner:
    """A DSSE signer for an Ed25519 private key in PEM; anything else is unusable input."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner, SSlibKey

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise InputError(str(path), expected=f"a readable key file ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise InputError(str(path), expected="an unencrypted Ed25519 private key in PEM") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(str(path), expected="an Ed25519 private key (another key type was given)")
    public = SSlibKey.from_crypto(key.public_key(), keyid=fingerprint(key.public_key()))
    return CryptoSigner(key, public)
