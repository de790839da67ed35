"""A PostgreSQL database read at one instant, as streams of Arrow record batches.

The client is ADBC's PostgreSQL driver (``adbc-driver-postgresql``, Apache Arrow's own): it
reads each query as binary ``COPY`` straight into Arrow batches in C, one connection and one
transaction, batch by batch. psycopg 3's binary COPY yields Python tuples (Arrow would be
hand-built row by row), and connectorx reads each query over connections of its own, so no
two tables would share one transaction (benchmarks/snapshot.py measures all three).

Every failure is an ``InputError`` naming the table (or the server, shown without its
password) and what was expected, worded here from the SQLSTATE: the server's own message can
quote a value, so it is never repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from privacy_audit.errors import InputError

BATCH_BYTES = 16 << 20  # what one Arrow batch read from the server may hold, about
_SCHEMES = ("postgresql", "postgres")
_REASONS = {
    "42501": "permission to read it (permission denied)",
    "42P01": "an existing table or view (not found)",
    "3F000": "an existing schema (not found)",
    "42703": "the columns the mapping reads (a column is not found)",
    "57014": "a read that runs to its end (the statement was cancelled)",
}
_LOST = "a connection that stays open until the snapshot ends (the connection was lost)"


def shown(url: str) -> str:
    """``url`` as it may be printed or recorded: without a password, in the netloc or the query."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    userinfo, host = (netloc[0], netloc[2]) if netloc[1] else ("", parts.netloc)
    user = userinfo.partition(":")[0]
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"])
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host, query=query))


def reason(exc: BaseException) -> str:
    """What was expected, from an ADBC, Arrow or DuckDB error met while reading."""
    state = getattr(exc, "sqlstate", None) or ""
    if state in _REASONS:
        return _REASONS[state]
    text = str(exc).lower()
    if state.startswith(("08", "57P")) or "server closed the connection" in text or "terminating" in text:
        return _LOST
    return f"a table the snapshot can read (PostgreSQL error {state or 'without SQLSTATE'})"


READ_ERRORS = (adbc_driver_manager.Error, pa.ArrowException)


class Transaction:
    """One ``REPEATABLE READ, READ ONLY`` transaction: every read sees the database at ``instant``."""

    def __init__(self, connection: adbc.Connection) -> None:
        self._connection = connection
        cursor = connection.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # The first statement after it takes the transaction's snapshot: its time is the instant.
        cursor.execute("SELECT statement_timestamp() AS instant")
        self.instant: datetime = cursor.fetchone()[0]
        cursor.close()

    def resolve(self, name: str) -> str | None:
        """The quoted, qualified name of table or view ``name`` (SQL's own folding), or None."""
        with self._connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass($1)::text AS name", (name,))
            return cursor.fetchone()[0]

    def schema(self, relation: str) -> pa.Schema:
        """The Arrow schema of ``relation``'s columns, in their order."""
        with self._connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {relation} LIMIT 0")
            return cursor.fetch_arrow_table().schema

    @contextmanager
    def stream(self, sql: str, batch_bytes: int = BATCH_BYTES) -> Iterator[pa.RecordBatchReader]:
        """The rows of ``sql`` as a reader pulling about ``batch_bytes`` from the server at a time."""
        with self._connection.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(batch_bytes)})
            cursor.execute(sql)
            yield cursor.fetch_record_batch()


@contextmanager
def read_transaction(url: str) -> Iterator[Transaction]:
    """Connect to ``url`` and open the snapshot's transaction; it is rolled back at the end.

    Credentials come from the URL, ``PGPASSWORD`` or ``~/.pgpass`` (libpq's own rules).
    """
    if urlsplit(url).scheme not in _SCHEMES:
        raise InputError(shown(url), expected="a PostgreSQL URL postgresql://user@host:port/database")
    try:
        connection = adbc.connect(url)
    except adbc_driver_manager.Error as exc:
        why = _why(exc, urlsplit(url).password)
        raise InputError(shown(url), expected=f"a server accepting this connection ({why})") from None
    try:
        try:
            transaction = Transaction(connection)
        except READ_ERRORS as exc:
            raise InputError(shown(url), expected=reason(exc)) from None
        yield transaction
    finally:
        with suppress(adbc_driver_manager.Error):  # already gone: nothing was written through it
            connection.close()


def _why(exc: adbc_driver_manager.Error, password: str | None) -> str:
    """libpq's reason a connection failed (its last ``failed:`` clause), any secret blanked."""
    text = str(exc).split("failed:")[-1].replace("FATAL:", "").strip()
    first = " ".join(text.splitlines()[0].split()) if text else ""
    for secret in {password, unquote(password or "")} - {None, ""}:
        first = first.replace(secret, "***")
    if "password" in first and "authentication" not in first:
        return "the server asks for a password (give it in the URL, PGPASSWORD or ~/.pgpass)"
    return first.rstrip(".") or "the connection failed"
