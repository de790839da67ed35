"""``--violation-rate R``: a share R of the clean background made violating, one rule at a time.

Plants are a few hand-placed cases per rule; a platform that never ran its deletion job has
millions. Each family below takes one chunk's background and turns every eligible record into a
violation of exactly one rule with probability R, by a vectorized rewrite of one or two columns
chosen so that no other rule's outcome changes (an event is un-erased but keeps no contact, so
no erasure rule sees it; a late answer is only given to request kinds nothing else times). The
family returns the record ids it made violating, which go to truth.csv, so the ground truth
stays exact at any rate. Families draw from their own seeded generator, after the background
is complete: R = 0 runs none of this and leaves every byte as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from privacy_audit.synth import columns as col
from privacy_audit.synth import schemas
from privacy_audit.synth.inforce import CATEGORIES, in_force, tracking_allowed
from privacy_audit.synth.timeline import DAY, Timeline

Tables = dict[str, pa.Table]
Family = Callable[[Tables, float, Timeline, np.random.Generator], tuple[Tables, pa.Array]]

FAMILIES: dict[str, Family] = {}
"""Rule id → the rewrite that makes background records violate it, in the order they run."""

_LATE_KINDS = ("access", "rectification", "portability")
"""Request kinds whose completion time no other rule or background record depends on."""


def family(rule_id: str) -> Callable[[Family], Family]:
    """Register the decorated function as the way to make background records violate ``rule_id``."""

    def register(rewrite: Family) -> Family:
        FAMILIES[rule_id] = rewrite
        return rewrite

    return register


def make_violating(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Table]:
    """Every family applied to one chunk: the rewritten tables and the (rule_id, record_id) made."""
    tables = dict(tables)
    truth = []
    for rule_id, rewrite in FAMILIES.items():
        changed, record_ids = rewrite(tables, rate, timeline, rng)
        tables.update(changed)
        truth.append(
            pa.table({"rule_id": pa.array([rule_id] * len(record_ids), pa.string()), "record_id": record_ids})
        )
    return tables, pa.concat_tables(truth)


class MadeViolating:
    """The truth of every chunk's rewrites, streamed to a scratch file rather than held.

    At 1M contacts and R = 0.3 that is tens of millions of ids; truth.csv is then written
    sorted by DuckDB, which spills to the scratch folder instead of growing the process.
    """

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.path = scratch / "made-violating.parquet"
        self._writer = pq.ParquetWriter(self.path, _TRUTH_SCHEMA, compression="zstd")
        self._counts: Counter[str] = Counter()

    def add(self, truth: pa.Table) -> None:
        self._writer.write_table(truth)
        counted = pc.value_counts(truth.column("rule_id"))
        self._counts.update(
            dict(zip(counted.field(0).to_pylist(), counted.field(1).to_pylist(), strict=True))
        )

    @property
    def counts(self) -> dict[str, int]:
        """Records made violating, per rule id (generation.json's ``made_violating``)."""
        return dict(sorted(self._counts.items()))

    def write_truth(self, path: Path, planted: Iterable[tuple[str, str]]) -> None:
        """truth.csv: the planted pairs and the rewritten ones, sorted as the generator sorts."""
        self._writer.close()
        plants = pa.Table.from_pylist(
            [{"rule_id": r, "record_id": i} for r, i in planted], schema=_TRUTH_SCHEMA
        )
        with duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(self.scratch)}) as db:
            db.register("plants", plants)
            db.execute(
                f"""COPY (SELECT rule_id, record_id FROM read_parquet({_quoted(self.path)})
                          UNION SELECT rule_id, record_id FROM plants ORDER BY rule_id, record_id)
                    TO {_quoted(path)} (HEADER, DELIMITER ',')"""
            )
        self.path.unlink()


_TRUTH_SCHEMA = pa.schema([("rule_id", pa.string()), ("record_id", pa.string())])


def _quoted(path: Path) -> str:
    """A path as an SQL string literal (COPY takes no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    """A ``timestamp[us]`` column as epoch seconds (NULL as 0; callers select non-NULL rows)."""
    return pc.fill_null(column.cast(pa.int64()), 0).to_numpy() // 1_000_000


def _session_number(table: pa.Table) -> np.ndarray:
    """The running number of each row's session: background session ids are ``schemas.labels``."""
    prefix, _ = schemas.ID_FORMATS["sessions"]
    digits = pc.utf8_slice_codeunits(table.column("session_id"), len(prefix))
    return pc.cast(digits, pa.int64()).to_numpy()


def _chosen(eligible: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Each eligible row with probability ``rate`` (a draw per row, eligible or not: no data-dependent
    stream)."""
    return eligible & (rng.random(len(eligible)) < rate)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(
        table.schema.get_field_index(name), name, values.cast(table.schema.field(name).type)
    )


def _ids(table: pa.Table, key: str, rows: np.ndarray) -> pa.Array:
    return table.column(key).combine_chunks().filter(pa.array(rows))


@family("RET-USAGE-OVERDUE")
def _usage_kept(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """Usage data past retention that the deletion job skipped: an old event gets back the IP
    address and user agent of a live event of the chunk. Its contact_id stays NULL, so no
    erasure request and no subject is touched."""
    events = tables["web_events"]
    ip = events.column("ip_address").combine_chunks()
    donors = np.flatnonzero(ip.is_valid().to_numpy(zero_copy_only=False))
    made = _chosen(_seconds(events.column("occurred_at")) < timeline.usage_cutoff, rate, rng)
    if not len(donors) or not made.any():
        return {}, pa.array([], pa.string())
    donor = np.zeros(len(made), np.int64)
    donor[made] = donors[rng.integers(0, len(donors), int(made.sum()))]
    keep = pa.array(~made)
    for name in ("ip_address", "user_agent"):
        values = events.column(name).combine_chunks()
        events = _replace(events, name, pc.if_else(keep, values, values.take(pa.array(donor))))
    return {"web_events": events}, _ids(events, "event_id", made)


@family("CONSENT-TRACKING")
def _marketing_unconsented(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """Marketing tracking without consent: a cookie consent granting marketing is recorded as
    refusing it, so the marketing events it governed ran unconsented. The events judged are the
    whole chunk's, with the rule's in-force semantics (``inforce.in_force``)."""
    consents, events = tables["cookie_consents"], tables["web_events"]
    granted = consents.column("marketing").combine_chunks()
    made = _chosen(granted.to_numpy(zero_copy_only=False), rate, rng)
    consents = _replace(consents, "marketing", pc.and_(granted, pa.array(~made)))
    key = np.concatenate([_session_number(consents), _session_number(events)])
    key -= key.min() if len(key) else 0  # small keys: ``in_force`` packs key and time into one int64
    category = col.codes(events.column("tracking_category"), CATEGORIES)
    found, grant = in_force(
        key[: consents.num_rows],
        _seconds(consents.column("recorded_at")),
        {
            name: consents.column(name).to_numpy(zero_copy_only=False)
            for name in ("analytics", "marketing", "personalization")
        }
        | {"tracked": ~consents.column("do_not_track").to_numpy(zero_copy_only=False)},
        key[consents.num_rows :],
        _seconds(events.column("occurred_at")),
        timeline.start - DAY,
    )
    allowed = tracking_allowed(category, found, grant)
    return {"cookie_consents": consents}, _ids(events, "event_id", ~allowed)


@family("CONSENT-NO-UNSUBSCRIBE")
def _no_unsubscribe(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """A newsletter or survey template that lost its unsubscribe link."""
    sends = tables["email_sends"]
    made = _chosen(col.codes(sends.column("kind"), ("marketing", "survey")) >= 0, rate, rng)
    link = sends.column("has_unsubscribe_link").combine_chunks()
    return {"email_sends": _replace(sends, "has_unsubscribe_link", pc.and_(link, pa.array(~made)))}, _ids(
        sends, "send_id", made
    )


@family("RIGHTS-LATE")
def _answered_late(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """An access, rectification or portability request answered after 91 to 150 days: late even
    with a notified extension, and still answered before as_of."""
    requests = tables["privacy_requests"]
    received = _seconds(requests.column("received_at"))
    kind = requests.column("kind").to_numpy(zero_copy_only=False)
    answered = pc.is_valid(requests.column("completed_at")).to_numpy(zero_copy_only=False)
    took = rng.integers(91 * DAY, 150 * DAY, requests.num_rows)
    made = _chosen(answered & np.isin(kind, _LATE_KINDS) & (received + took < timeline.now), rate, rng)
    completed = requests.column("completed_at").combine_chunks()
    later = col.timestamps(received + took)
    return {
        "privacy_requests": _replace(requests, "completed_at", pc.if_else(pa.array(made), later, completed))
    }, _ids(requests, "request_id", made)


@family("SEC-PASSWORD-STORAGE")
def _unsalted_password(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """A login migrated from a legacy system that kept its unsalted md5 hex digest."""
    contacts = tables["contacts"]
    hashes = contacts.column("password_hash").combine_chunks()
    made = _chosen(hashes.is_valid().to_numpy(zero_copy_only=False), rate, rng)
    digests = col.random_text(contacts.num_rows, 32, col.HEXDIGITS, rng)
    return {
        "contacts": _replace(contacts, "password_hash", pc.if_else(pa.array(made), digests, hashes))
    }, _ids(contacts, "contact_id", made)


@family("MIN-CARD-NUMBER")
def _full_card_number(
    tables: Tables, rate: float, timeline: Timeline, rng: np.random.Generator
) -> tuple[Tables, pa.Array]:
    """A payment form that stored the whole card number instead of its mask (same last four)."""
    payments = tables["payments"]
    masked = payments.column("card_number").combine_chunks()
    made = _chosen(masked.is_valid().to_numpy(zero_copy_only=False), rate, rng)
    full = col.join(
        "4",
        col.random_text(payments.num_rows, 11, col.DIGITS, rng),
        payments.column("card_last4").combine_chunks(),
    )
    return {"payments": _replace(payments, "card_number", pc.if_else(pa.array(made), full, masked))}, _ids(
        payments, "payment_id", made
    )
