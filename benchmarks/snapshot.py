"""``privacy-audit snapshot`` of a local PostgreSQL server beside ``COPY ... TO`` of the same tables.

Starts a cluster (tests/pgserver.py) and loads a contract-shaped export into it under the
platform's names: binary COPY through ADBC's ingest, streamed from Parquet batches into UNLOGGED
tables with no index, then one VACUUM so that no measured read pays for the first
visit's hint bits. With ``--pgdata DIR --keep`` the loaded cluster stays in DIR and a rerun on
the same export starts it again instead of loading.

Then, ``--repeat`` times, each in a fresh child process so that its peak RSS (``wait4``) is its own:

- ``snapshot``: the ``privacy-audit snapshot`` command itself, every table into zstd Parquet,
  timed from start to exit;
- ``copy``: ``COPY <table> TO STDOUT (FORMAT binary)`` of every table through psycopg, bytes
  discarded, timed from start to exit: what the server and the socket cost at the least;
- the clients, on each ``--peer-table`` alone, timed from the first query to the last batch
  (so the interpreter's start does not count): ``adbc`` (ADBC's Arrow stream, the snapshot's
  client), ``psycopg`` (psycopg 3's binary COPY, its rows made into Arrow batches) and
  ``connectorx`` (its Arrow stream).

Prints medians (seconds, rows/s, peak RSS) and the ratio of snapshot to COPY.

    python benchmarks/snapshot.py --export /tmp/bench100k/export --repeat 3
    python benchmarks/snapshot.py --export /tmp/bench1m/export --repeat 1 --pgdata /tmp/pg1m --keep
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
if TYPE_CHECKING:
    import pyarrow as pa

    from pgserver import Server

CLIENTS = ("adbc", "psycopg", "connectorx")
ARROW_ROWS = 65_536  # rows per Arrow batch where the client leaves it to us (psycopg, connectorx)
LOADED = "loaded.json"  # in --pgdata: which export the cluster holds, and its tables' row counts


def relations(export: Path) -> list[str]:
    from pgserver import NATIVE

    return [NATIVE.get(p.stem, f"public.{p.stem}") for p in sorted(export.glob("*.parquet"))]


def load(server: Server, export: Path, root: Path) -> dict[str, int]:
    """Load ``export`` unless the cluster in ``root`` already holds it; the rows of each table."""
    marker = root / LOADED
    if marker.exists():
        loaded = json.loads(marker.read_text())
        if loaded["export"] == str(export.resolve()):
            print(f"reusing the cluster in {root}, loaded with {export}", flush=True)
            return loaded["rows"]
        raise SystemExit(f"{root} holds {loaded['export']}, not {export}: give another --pgdata")
    import adbc_driver_postgresql.dbapi as adbc

    from pgserver import load_native

    started = time.perf_counter()
    load_native(server.url(), export, unlogged=True)
    loaded_at = time.perf_counter()
    with adbc.connect(server.url(), autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("VACUUM")
        rows = {}
        for relation in relations(export):
            cursor.execute(f"SELECT count(*) FROM {relation}")
            rows[relation] = cursor.fetchone()[0]
    print(
        f"loaded {sum(rows.values()):,} rows from {export} in {loaded_at - started:.1f} s"
        f" (+ VACUUM {time.perf_counter() - loaded_at:.1f} s)",
        flush=True,
    )
    marker.write_text(json.dumps({"export": str(export.resolve()), "rows": rows}))
    return rows


def child(mode: str, url: str, relation: str) -> int:
    """One measured read: ``relation`` whole as Arrow batches through one client, or (``copy``)
    the comma-separated relations as bytes; the rows read (``copy``: none counted)."""
    if mode == "copy":
        copy_all(url, relation.split(","))
        return 0
    if mode == "adbc":
        import adbc_driver_postgresql.dbapi as adbc

        from privacy_audit.sources.postgres import BATCH_BYTES

        with adbc.connect(url) as connection, connection.cursor() as cursor:
            hint = {"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)}
            cursor.adbc_statement.set_options(**hint)
            cursor.execute(f"SELECT * FROM {relation}")
            return sum(b.num_rows for b in cursor.fetch_record_batch())
    if mode == "psycopg":
        import psycopg

        rows = 0
        with psycopg.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {relation} LIMIT 0")  # the column types, for rows()
            names = [c.name for c in cursor.description]
            with cursor.copy(f"COPY {relation} TO STDOUT (FORMAT binary)") as copy:
                copy.set_types([c.type_code for c in cursor.description])
                pending: list[tuple[object, ...]] = []
                for row in copy.rows():
                    pending.append(row)
                    if len(pending) == ARROW_ROWS:
                        rows += _batch(pending, names).num_rows
                        pending = []
                if pending:
                    rows += _batch(pending, names).num_rows
        return rows
    if mode == "connectorx":
        import connectorx

        stream = connectorx.read_sql(
            url, f"SELECT * FROM {relation}", return_type="arrow_stream", batch_size=ARROW_ROWS
        )
        return sum(b.num_rows for b in stream)
    raise ValueError(mode)


def _batch(rows: list[tuple[object, ...]], names: list[str]) -> pa.RecordBatch:
    """psycopg's Python rows as one Arrow batch, column by column (types inferred, as a user would)."""
    import pyarrow as pa

    return pa.RecordBatch.from_arrays([pa.array(c) for c in zip(*rows, strict=True)], names)


def copy_all(url: str, tables: list[str]) -> None:
    """Every table through binary ``COPY ... TO STDOUT``, the bytes discarded."""
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for relation in tables:
            with cursor.copy(f"COPY {relation} TO STDOUT (FORMAT binary)") as copy:
                for _ in copy:
                    pass


@dataclass(frozen=True)
class Measured:
    """One child process: seconds (wall, or the child's own count), CPU seconds, peak RSS in MiB."""

    seconds: float
    cpu: float
    rss: float


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[Measured, str]:
    """One child process, measured from start to exit, and its standard output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    output = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[1:3]} failed (status {status})")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), output


def summary(name: str, rows: int, runs: list[Measured]) -> str:
    seconds = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    rss = statistics.median(r.rss for r in runs)
    return (
        f"{name:>30}: {seconds:7.2f} s  {rows / seconds:11,.0f} rows/s  CPU {cpu:7.2f} s"
        f"  peak RSS {rss:6.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--peer-table",
        action="append",
        help="a table each client reads alone (repeatable; default public.web_events and shop.sales_order)",
    )
    parser.add_argument("--pgdata", type=Path, help="the cluster's directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the loaded cluster in --pgdata for a rerun")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # mode, url, relation(s)
    args = parser.parse_args()
    if args.child:
        started = time.perf_counter()
        rows = child(*args.child)
        print(rows, time.perf_counter() - started)
        return
    from pgserver import NATIVE_MAPPING, running_server

    if args.export is None:
        parser.error("--export is required")
    if args.keep and not args.pgdata:
        parser.error("--keep needs --pgdata")
    peers = args.peer_table or ["public.web_events", "shop.sales_order"]
    root = args.pgdata or Path(tempfile.mkdtemp(prefix="snapshot-bench-pg-"))
    runs: dict[str, list[Measured]] = {}

    def measure(name: str, command: list[str], env: dict[str, str] | None = None) -> str:
        measured, output = run(command, env)
        if name not in ("snapshot", "copy"):  # a client: the child's own count of its read
            measured = Measured(float(output.split()[1]), measured.cpu, measured.rss)
        runs.setdefault(name, []).append(measured)
        print(
            f"  {name}: {measured.seconds:.2f} s, CPU {measured.cpu:.2f} s, {measured.rss:.0f} MiB",
            flush=True,
        )
        return output

    with (
        running_server(root, keep=args.keep) as server,
        tempfile.TemporaryDirectory(prefix="snapshot-bench-", dir=root.parent) as tmp,
    ):
        work = Path(tmp)
        table_rows = load(server, args.export, root)
        if args.repeat == 0:  # the load alone, for a --keep cluster
            return
        mapping = work / "mapping.yaml"
        mapping.write_text(NATIVE_MAPPING)
        url, plain = server.url(), server.url().replace(f":{server.password}@", "@")
        env = {**os.environ, "PGPASSWORD": server.password}  # never on a command line
        cli = str(Path(sys.executable).parent / "privacy-audit")
        out = work / "snapshot"
        snapshot_rows = 0
        for _ in range(args.repeat):
            measure("snapshot", [cli, "snapshot", plain, "--mapping", str(mapping), "--out", str(out)], env)
            record = json.loads((out / "snapshot.json").read_text())
            snapshot_rows = sum(t["rows"] for t in record["tables"].values())
            shutil.rmtree(out)
            measure("copy", [sys.executable, __file__, "--child", "copy", url, ",".join(table_rows)])
            for relation in peers:
                for mode in CLIENTS:
                    output = measure(
                        f"{relation} {mode}", [sys.executable, __file__, "--child", mode, url, relation]
                    )
                    assert int(output.split()[0]) == table_rows[relation], f"{mode} misread {relation}"
    total = sum(table_rows.values())
    print(f"\n{args.export}: {len(table_rows)} tables, {total:,} rows; medians of {args.repeat}")
    print(summary("snapshot", snapshot_rows, runs["snapshot"]))
    print(summary("copy", total, runs["copy"]))
    ratio = statistics.median(r.seconds for r in runs["snapshot"]) / statistics.median(
        r.seconds for r in runs["copy"]
    )
    print(f"snapshot / COPY: {ratio:.2f}x")
    for relation in peers:
        for mode in CLIENTS:
            print(summary(f"{relation} {mode}", table_rows[relation], runs[f"{relation} {mode}"]))


if __name__ == "__main__":
    main()
