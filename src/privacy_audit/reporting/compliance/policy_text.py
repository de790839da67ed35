"""The policy's own words, by section number, read from the policy text at run time.

The compliance report quotes the promise a failing rule checks ("6.1 Retention Period" and its
words). Quoting from the text itself, never from a retyped copy, keeps the report faithful to
the policy the company actually published; ``load_policy_text(path)`` reads another company's
(``--policy-text``). ``scope`` answers, for the text in force, which rules evidence each of its
sections, and ``not_found`` which sections a rule cites that the text does not have: a rule is
never quoted from the bundled policy in place of the user's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from privacy_audit.errors import InputError
from privacy_audit.policy import Policy
from privacy_audit.rules.coverage import COVERAGE
from privacy_audit.rules.registry import Rule

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

    @property
    def bundled(self) -> bool:
        """True for the policy text shipped with the package, whose sections COVERAGE declares."""
        return self.digest == hashlib.sha256(DEFAULT_POLICY_TEXT.read_bytes()).hexdigest()

    @property
    def leaves(self) -> list[str]:
        """The sections that have no subsection, in reading order: what coverage is counted over."""
        numbers = [n for n in self.clauses if not any(m.startswith(f"{n}.") for m in self.clauses)]
        return sorted(numbers, key=lambda n: tuple(int(p) for p in n.split(".")))


def parse_policy_text(text: str, source: str = "policy text") -> tuple[str, dict[str, Clause]]:
    """Split a policy text into its title (first line) and numbered sections.

    A top-level heading ("6. Data Retention") is clause "6" and holds the words before its
    first subsection; "6.1 Retention Period" holds the words up to the next heading. A section
    number that heads two sections is an ``InputError`` naming the line of the second: which of
    the two a rule cites could not be told.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    title = next((line.strip() for line in lines if line.strip()), "")
    clauses: dict[str, Clause] = {}
    current: tuple[str, str] | None = None
    words: list[str] = []

    def close() -> None:
        if current:
            clauses[current[0]] = Clause(current[0], current[1], "\n".join(words).strip())

    for number, line in enumerate(lines, start=1):
        match = _HEADING.match(line.strip())
        if match and not match["title"].endswith((".", ":", ",", ";")):
            close()
            if match["number"] in clauses or (current and current[0] == match["number"]):
                raise InputError(f"{source}, line {number}", expected="each section number once")
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
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{name}, line {line}", expected="a UTF-8 policy text") from None
    title, clauses = parse_policy_text(text, name)
    if not clauses:
        raise InputError(
            f"{name}, line 1", expected='numbered sections such as "6.1 Retention Period" (none found)'
        )
    return PolicyText(title, clauses, name, hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class Scope:
    """One section of the policy text in force: the rules that evidence it, or why none can."""

    section: str
    title: str
    rules: tuple[str, ...]
    not_evidenced: str


_DECLARED = {c.section: c for c in COVERAGE}
UNMAPPED = "no rule of the catalogue is mapped to this section (policy file key clauses)"
NOT_FOUND = "section not found in the policy text"


def scope(text: PolicyText, policy: Policy, rules: Iterable[Rule]) -> list[Scope]:
    """Every leaf section of ``text`` with the rules citing it under ``policy``'s mapping.

    For the bundled text the declared coverage table also counts, for each rule the policy file
    does not remap, and gives its reasons; another text has only the policy file's mapping.
    """
    rules = list(rules)
    rows = []
    for number in text.leaves:
        cited = {r.id for r in rules if number in r.sections(policy)}
        declared = _DECLARED.get(number) if text.bundled else None
        if declared:
            cited |= {r for r in declared.rules if r not in policy.clauses}
        reason = declared.not_evidenced if declared else ("" if cited else UNMAPPED)
        ordered = tuple(r.id for r in rules if r.id in cited)
        rows.append(Scope(number, text.clauses[number].title, ordered, reason))
    return rows


def not_found(text: PolicyText, policy: Policy, rule: Rule) -> tuple[str, ...]:
    """The sections ``rule`` cites under ``policy`` that ``text`` does not have."""
    return tuple(s for s in rule.sections(policy) if text.get(s) is None)
