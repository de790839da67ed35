"""Plants of policy-change notices (§11.2): too little notice, notices never sent."""

from __future__ import annotations

from datetime import timedelta

from privacy_audit.synth.plants.book import PlantBook, instant
from privacy_audit.synth.plants.registry import plants

SECOND = timedelta(seconds=1)


@plants("NOTICE-SHORT")
def short(book: PlantBook) -> None:
    for v in book.versions:
        if v.short:
            book.violation("NOTICE-SHORT", v.version)
        elif v.note:
            book.near_miss("NOTICE-SHORT", v.version, v.note.removeprefix("near:"))


@plants("NOTICE-NOT-SENT")
def not_sent(book: PlantBook) -> None:
    rule = "NOTICE-NOT-SENT"
    v = book.current
    published, effective = instant(v.published_at), instant(v.effective_at)
    upcoming = next(x for x in book.versions if x.major and x.effective_at > book.timeline.now)

    def key(contact: dict[str, object]) -> str:
        return f"{contact['contact_id']}|{v.version}"

    gb = book.partner("GB", created=book.years_ago(3))
    book.person(gb)
    missed = book.person(gb, skip_notices=(v.version,))
    book.violation(rule, key(missed))
    late = book.person(gb, skip_notices=(v.version,))
    book.send(late, "policy_notice", effective + SECOND, policy_version=v.version)
    book.violation(rule, key(late))
    wrong_kind = book.person(gb, skip_notices=(v.version,))
    book.send(
        wrong_kind,
        "marketing",
        published + timedelta(days=2),
        topic="new_collections",
        policy_version=v.version,
    )
    book.violation(rule, key(wrong_kind))
    just_before = book.person(gb, created=published - SECOND, skip_notices=(v.version,))
    book.violation(rule, key(just_before))
    jp = book.partner("JP", created=book.years_ago(2))
    book.person(jp)
    other = book.person(jp, skip_notices=(v.version,))
    book.send(other, "policy_notice", published + timedelta(days=2), policy_version=upcoming.version)
    book.violation(rule, key(other))

    on_time = book.person(gb, skip_notices=(v.version,))
    book.send(on_time, "policy_notice", effective, policy_version=v.version)
    book.near_miss(rule, key(on_time), "notice sent at the very instant the version took effect")
    newcomer = book.person(gb, created=published, skip_notices=(v.version,))
    book.near_miss(rule, key(newcomer), "contact created exactly when the version was published")
    suspended = book.partner("IT", created=book.years_ago(3), status="suspended")
    quiet = book.person(suspended, skip_notices=(v.version,))
    book.near_miss(rule, key(quiet), "account suspended, not active")
    gone = book.person(
        gb, last_login=published - timedelta(days=30), erased_at=published - timedelta(days=20)
    )
    book.near_miss(rule, key(gone), "contact erased")
    waiting = book.person(gb, skip_notices=(upcoming.version,))
    book.near_miss(
        rule, f"{waiting['contact_id']}|{upcoming.version}", "version published but not yet in effect"
    )
