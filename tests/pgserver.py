"""A throwaway PostgreSQL cluster for the snapshot tests and benchmark.

Debian's server binaries (``apt-get install postgresql``) run a cluster in a fresh temporary
directory on a free loopback port, password-protected (SCRAM) over TCP, and are stopped and
removed afterwards. ``initdb`` refuses to run as root, so as root the cluster belongs to the
unprivileged ``nobody`` user, started through ``runuser``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

UNPRIVILEGED = "nobody"


def bin_dir() -> Path | None:
    """The newest installed server's binaries, or None when no server is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True)
class Server:
    """A running cluster: the superuser ``postgres`` with ``password`` at 127.0.0.1:``port``."""

    port: int
    password: str

    def url(self, user: str = "postgres", password: str | None = None, database: str = "postgres") -> str:
        secret = self.password if password is None else password
        return f"postgresql://{user}:{secret}@127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(root: Path | None = None, *, keep: bool = False) -> Iterator[Server]:
    """Start a cluster, yield it, then stop it and (unless ``keep``) delete its files.

    With ``root``, the cluster lives there: one that an earlier ``keep`` run left is started
    again with its password and data (so a benchmark loads a big export once), else a new one
    is made there.
    """
    binaries = bin_dir()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL server binaries (apt-get install postgresql)")
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="privacy-audit-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    reused = (data / "PG_VERSION").exists()
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED)
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", UNPRIVILEGED, "--"]
    if reused:
        password = (root / "pw").read_text()
    else:
        password = secrets.token_urlsafe(16)
        (root / "pw").write_text(password)
        if run_as:
            os.chown(root / "pw", user.pw_uid, user.pw_gid)
    port = _free_port()
    auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}"]
    quiet = {"check": True, "capture_output": True}
    try:
        if not reused:
            subprocess.run(
                [
                    *run_as,
                    binaries / "initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    *auth,
                ],
                **quiet,
            )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [*run_as, binaries / "pg_ctl", "-D", data, "-l", root / "log", "-o", options, "-w", "start"],
            **quiet,
        )
        try:
            yield Server(port, password)
        finally:
            # A kept cluster is stopped cleanly, so that its next start needs no recovery.
            mode = "fast" if keep else "immediate"
            subprocess.run([*run_as, binaries / "pg_ctl", "-D", data, "-m", mode, "-w", "stop"], **quiet)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


# The platform's own names for three tables; every other table keeps its contract name in
# the public schema, where a snapshot finds it without the mapping naming it.
NATIVE_MAPPING = """\
version: 1
tables:
  accounts:
    source: app.accounts
  contacts:
    source: crm.people
    columns: {contact_id: id, account_id: company_id, full_name: name}
  orders:
    source: shop.sales_order
    columns:
      order_id: entity_id
      order_date: {expr: "CAST(created AS DATE)"}
    filter: "store_id <> 'test'"
inventory:
  orders: [utm_campaign]
"""
NATIVE = {"accounts": "app.accounts", "contacts": "crm.people", "orders": "shop.sales_order"}
_RENAMED = {
    "contacts": {"contact_id": "id", "account_id": "company_id", "full_name": "name"},
    "orders": {"order_id": "entity_id"},
}


def _native(table: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """One batch of a contract table as the platform stores it."""
    renamed = _RENAMED.get(table, {})
    batch = batch.rename_columns([renamed.get(n, n) for n in batch.schema.names])
    if table != "orders":
        return batch
    n = batch.num_rows
    created = pc.add(
        pc.cast(batch.column("order_date"), pa.timestamp("us")), pa.scalar(36_000_000, pa.duration("us"))
    )
    columns = {name: batch.column(name) for name in batch.schema.names if name != "order_date"}
    columns["created"] = pc.assume_timezone(created, "UTC")
    columns["store_id"] = pa.array(["web"] * n)
    columns["utm_campaign"] = pa.array(["spring"] * n)
    columns["utm_source"] = pa.array(["newsletter"] * n)
    return pa.RecordBatch.from_pydict(columns)


def load_native(url: str, export: Path, *, unlogged: bool = False) -> str:
    """Load a contract-shaped Parquet export into the database at ``url`` under the platform's
    names (plus one test order the mapping's filter removes); returns the mapping's YAML.

    ``unlogged`` tables skip the write-ahead log (the benchmark's big loads).
    """
    with adbc.connect(url) as connection, connection.cursor() as cursor:
        for schema_name in ("app", "crm", "shop"):
            cursor.execute(f"CREATE SCHEMA {schema_name}")
        for path in sorted(export.glob("*.parquet")):
            table = path.stem
            schema_name, _, name = NATIVE.get(table, f"public.{table}").partition(".")
            parquet = pq.ParquetFile(path)
            batches = (_native(table, b) for b in parquet.iter_batches(batch_size=65_536))
            head = next(batches, None)
            if head is None:
                continue
            reader = pa.RecordBatchReader.from_batches(head.schema, itertools.chain([head], batches))
            if unlogged:  # created empty, made UNLOGGED, then filled
                empty = pa.RecordBatchReader.from_batches(head.schema, [])
                cursor.adbc_ingest(name, empty, mode="create", db_schema_name=schema_name)
                cursor.execute(f"ALTER TABLE {schema_name}.{name} SET UNLOGGED")
            cursor.adbc_ingest(
                name, reader, mode="append" if unlogged else "create", db_schema_name=schema_name
            )
        cursor.execute("INSERT INTO shop.sales_order SELECT * FROM shop.sales_order LIMIT 1")
        cursor.execute(
            "UPDATE shop.sales_order SET store_id = 'test', entity_id = 'TEST-1'"
            " WHERE ctid = (SELECT max(ctid) FROM shop.sales_order)"
        )
        connection.commit()
    return NATIVE_MAPPING
