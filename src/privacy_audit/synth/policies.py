"""The privacy policy's version history, and the versions planted as NOTICE-SHORT.

Every major version gets its notice e-mails in the background (``messaging.notices``); the
version in force at as_of is major, so NOTICE-NOT-SENT reads the same whether a rule checks
only the current version or every major version in effect. One major version is published
but not yet effective: missing notices for it are near misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from privacy_audit.synth.timeline import DAY, HOUR, Timeline

# (days before as_of it was published, notice in seconds, major, why it is planted or a near miss)
_HISTORY: tuple[tuple[int, int | str, bool, str], ...] = (
    (4430, 45 * DAY, True, ""),
    (4050, 20 * DAY, False, ""),
    (
        3700,
        "short-by-a-second",
        True,
        "published one second less than the notice period before taking effect",
    ),
    (3400, 3 * DAY, False, "near:a minor version needs no advance notice"),
    (3050, 45 * DAY, True, ""),
    (2700, 14 * DAY, True, "two weeks of notice for a major change"),
    (2350, 40 * DAY, False, ""),
    (2100, "exact", True, "near:exactly the notice period between publication and effect"),
    (1800, 7 * DAY, True, "one week of notice for a major change"),
    (1500, 10 * DAY, False, ""),
    (1250, 60 * DAY, True, ""),
    (1000, DAY, True, "an overnight major change"),
    (760, 20 * DAY, False, ""),
    (560, 21 * DAY, True, "three weeks of notice for a major change"),
    (380, 31 * DAY, True, ""),
    (200, 15 * DAY, False, ""),
    (75, 35 * DAY, True, ""),
    (20, 40 * DAY, True, ""),
)


@dataclass(frozen=True)
class PolicyVersion:
    """One row of policy_versions; ``note`` says why it is planted (or ``near:`` a near miss)."""

    version: str
    published_at: int
    effective_at: int
    major: bool
    note: str

    @property
    def short(self) -> bool:
        return bool(self.note) and not self.note.startswith("near:")


def policy_history(timeline: Timeline) -> list[PolicyVersion]:
    """The versions, oldest first, named ``YEAR.N`` by their publication year."""
    notice = timeline.policy.notice_days * DAY
    versions: list[PolicyVersion] = []
    per_year: dict[int, int] = {}
    for days_before, length, major, note in _HISTORY:
        published = timeline.now - days_before * DAY + 9 * HOUR
        seconds = (
            notice - 1 if length == "short-by-a-second" else notice if length == "exact" else int(length)
        )
        year = (datetime(1970, 1, 1) + timedelta(seconds=published)).year
        per_year[year] = per_year.get(year, 0) + 1
        versions.append(
            PolicyVersion(f"{year}.{per_year[year]}", published, published + seconds, major, note)
        )
    return versions


def in_force(versions: list[PolicyVersion], now: int) -> PolicyVersion:
    """The version in effect at ``now`` (the latest effective one)."""
    return max((v for v in versions if v.effective_at <= now), key=lambda v: v.effective_at)
