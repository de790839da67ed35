"""``privacy-audit verify``: recompute every digest of a run's attestation and check its signature.

The outputs are always checked; the export files and the configuration (policy, waivers,
mapping) when the export is given, since they live where the audit ran. With a public key
the DSSE envelope must hold a valid signature by it, and its payload is the statement that
counts. ``Mismatch`` names the first file that differs (exit 1); unusable input, such as a
folder that is no run or a key that is no Ed25519 public key, is an ``InputError`` (exit 2).
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from privacy_audit.errors import InputError
from privacy_audit.outputs.attestation import (
    BUNDLED_POLICY,
    ENVELOPE,
    OUTPUTS_FIELD,
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT,
    fingerprint,
    sha256_file,
)
from privacy_audit.sources.files import table_of


class Mismatch(Exception):
    """Evidence that does not hold: ``file`` is the first file that differs."""

    def __init__(self, file: str, what: str) -> None:
        super().__init__(f"{file}: {what}")
        self.file = file


@dataclass(frozen=True)
class Verified:
    """What was checked, for the one line ``verify`` prints."""

    outputs: int
    export_files: int
    configuration: int
    signed_by: str | None


def verify_run(run_dir: Path, export_dir: Path | None = None, public_key: Path | None = None) -> Verified:
    """Check a run folder's evidence; raises ``Mismatch`` or ``InputError``."""
    if not (run_dir / STATEMENT).is_file():
        raise InputError(
            str(run_dir), expected=f"a run folder holding {STATEMENT} (written by privacy-audit audit)"
        )
    if export_dir is not None and not export_dir.is_dir():
        raise InputError(str(export_dir), expected="the export directory the run audited")
    key = _public_key(public_key) if public_key else None
    payload = (run_dir / STATEMENT).read_bytes()
    signed_by = None
    if key is not None:
        payload = _signed_payload(run_dir / ENVELOPE, key)
        if (run_dir / STATEMENT).read_bytes() != payload:
            raise Mismatch(STATEMENT, "differs from the signed statement in " + ENVELOPE)
        signed_by = key.keyid
    statement = _statement(payload)
    predicate = statement["predicate"]
    outputs = _entries(predicate.get(OUTPUTS_FIELD), OUTPUTS_FIELD)
    for name, digest in outputs:
        _check(run_dir / name, name, digest)
    subjects = _entries(statement.get("subject"), "subject")
    configuration = _entries(predicate.get("configuration"), "configuration")
    if export_dir is not None:
        listed = {name.split("/")[0] for name, _ in subjects}  # a part file's table directory
        for name, digest in subjects:
            _check(export_dir / name, name, digest)
        extra = sorted(
            p.name for p in export_dir.iterdir() if _is_table_file(p.name) and p.name not in listed
        )
        if extra:
            raise Mismatch(extra[0], "a table file the attested run did not read")
        for (name, digest), uri in zip(configuration, _uris(predicate["configuration"]), strict=True):
            _check(_configuration_path(name, uri), name, digest)
    return Verified(
        len(outputs),
        len(subjects) if export_dir else 0,
        len(configuration) if export_dir else 0,
        signed_by,
    )


def _check(path: Path, name: str, digest: str) -> None:
    if not path.is_file():
        raise Mismatch(name, "missing (it is in the attestation)")
    if sha256_file(path) != digest:
        raise Mismatch(name, "its sha256 differs from the attestation")


def _statement(payload: bytes) -> dict:
    try:
        statement = json.loads(payload)
    except ValueError:
        raise Mismatch(STATEMENT, "not valid JSON (truncated or edited)") from None
    if (
        not isinstance(statement, dict)
        or statement.get("_type") != "https://in-toto.io/Statement/v1"
        or statement.get("predicateType") != PREDICATE_TYPE
        or not isinstance(statement.get("predicate"), dict)
    ):
        raise Mismatch(STATEMENT, f"not an in-toto Statement v1 with the {PREDICATE_TYPE} predicate")
    return statement


def _entries(items: object, field: str) -> list[tuple[str, str]]:
    """(name, sha256) of each resource descriptor of ``field``; a malformed one is a Mismatch."""
    try:
        return [(str(item["name"]), str(item["digest"]["sha256"])) for item in items or []]  # type: ignore[union-attr]
    except (TypeError, KeyError):
        raise Mismatch(STATEMENT, f"its {field} entries lack a name or a sha256 digest") from None


def _uris(items: list[dict]) -> list[str]:
    return [str(item.get("uri", "")) for item in items]


def _configuration_path(name: str, uri: str) -> Path:
    if not uri:  # the policy bundled with the package (no user file)
        from privacy_audit.policy import DEFAULT_POLICY

        return Path(str(DEFAULT_POLICY)) if name == BUNDLED_POLICY else Path(name)
    return Path(unquote(urlparse(uri).path))


def _is_table_file(name: str) -> bool:
    return table_of(name) is not None


def _public_key(path: Path):  # -> securesystemslib.signer.SSlibKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer import SSlibKey

    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise InputError(str(path), expected=f"a readable public key file ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise InputError(str(path), expected="an Ed25519 public key in PEM") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(str(path), expected="an Ed25519 public key (another key type was given)")
    return SSlibKey.from_crypto(key, keyid=fingerprint(key))


def _signed_payload(path: Path, key) -> bytes:
    """The envelope's payload once a signature by ``key`` over it verifies."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import FormatError, VerificationError

    if not path.is_file():
        raise Mismatch(ENVELOPE, "missing: the run was not signed")
    try:
        envelope = Envelope.from_dict(json.loads(path.read_bytes()))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, FormatError):
        raise Mismatch(ENVELOPE, "not a DSSE envelope (truncated or edited)") from None
    if envelope.payload_type != PAYLOAD_TYPE:
        raise Mismatch(ENVELOPE, f"its payload type is not {PAYLOAD_TYPE}")
    try:
        envelope.verify([key], 1)
    except VerificationError:
        raise Mismatch(ENVELOPE, f"no valid signature by the key {key.keyid}") from None
    return envelope.payload
