"""The policy's own words, by section number, read from the policy text at run time.

The compliance report quotes the promise a failing rule checks ("6.1 Retention Period" and its
words). Quoting from the text itself, never from a retyped copy, keeps the report faithful to
the policy the company actually published; ``load_policy_text(path)`` reads another company's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from privacy_audit.errors import InputError

DEFAULT_POLICY_TEXT = resources.files("privacy_audit") / "privacy-policy.txt"

# "6.1 Retention Period" or "6. Data Retention": a number, then a short title that is not a
# sentence (body lines such as "30 days." end in punctuation or run long).
_HEADING = re.compile(r"^(?P<number>\d{1,2}(?:\.\d{1,2})?)\.?\s+(?P<title>\S.{0,80})$")


@dataclass(frozen=True)
class Clause:
    """One numbered section: its number, its title and its words (paragraphs, one per line)."""

    number: str
    title: str
    words: str

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.words.splitlines() if p.strip()]


@dataclass(frozen=True)
class PolicyText:
    """Every numbered section of one policy text, plus where it came from and its digest."""

    title: str
    clauses: dict[str, Clause]
    source: str
    digest: str

    def get(self, number: str) -> Clause | None:
        return self.clauses.get(number.strip())


def parse_policy_text(text: str) -> tuple[str, dict[str, Clause]]:
    """Split a policy text into its title (first line) and numbered sections.

    A top-level heading ("6. Data Retention") is clause "6" and holds the words before its
    first subsection; "6.1 Retention Period" holds the words up to the next heading.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    title = next((line.strip() for line in lines if line.strip()), "")
    clauses: dict[str, Clause] = {}
    current: tuple[str, str] | None = None
    words: list[str] = []

    def close() -> None:
        if current:
            clauses[current[0]] = Clause(current[0], current[1], "\n".join(words).strip())

    for line in lines:
        match = _HEADING.match(line.strip())
        if match and not match["title"].endswith((".", ":", ",", ";")):
            close()
            current, words = (match["number"], match["title"].strip()), []
        elif current:
            words.append(line)
    close()
    return title, clauses


def load_policy_text(path: Path | None = None) -> PolicyText:
    """Read and parse a policy text (the bundled one when ``path`` is None)."""
    name = str(path) if path else "privacy-policy.txt"
    try:
        raw = Path(path).read_bytes() if path else DEFAULT_POLICY_TEXT.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise InputError(name, expected=f"a readable policy text ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(name, expected="a UTF-8 policy text") from None
    title, clauses = parse_policy_text(text)
    if not clauses:
        raise InputError(name, expected='numbered sections such as "6.1 Retention Period"')
    return PolicyText(title, clauses, name, hashlib.sha256(raw).hexdigest())
