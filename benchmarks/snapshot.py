"""``privacy-audit snapshot`` of a local PostgreSQL server beside ``COPY ... TO`` of the same tables.

Starts a cluster (tests/pgserver.py) and loads a contract-shaped export into it under the
platform's names: binary COPY through ADBC's ingest, streamed from Parquet batches into UNLOGGED
tables with no index, then one VACUUM so that no measured read pays for the first
visit's hint bits. With ``--pgdata DIR --keep`` the loaded cluster stays in DIR and a rerun on
the same export starts it again instead of loading.

Then, ``--repeat`` times, each in a fresh child process that GNU time starts, so that its peak
RSS is its own (``--repeat 0``: the load alone):

- ``snapshot``: the ``privacy-audit snapshot`` command itself, every table into zstd Parquet,
  timed from start to exit;
- ``copy``: psql's ``\\copy <table> TO '/dev/null' (FORMAT binary)`` of every table, timed from
  start to exit: what the server, the socket and libpq cost at the least;
- the clients, on each ``--peer-table`` alone, timed from the first query to the last batch
  (so the interpreter's start does not count): ``adbc`` (ADBC's Arrow stream, the snapshot's
  client), ``psycopg`` (psycopg 3's binary COPY, its rows made into Arrow batches) and
  ``connectorx`` (its Arrow stream).

Each run's CPU seconds are its own plus the server's (the postmaster's reaped backends), so
that a machine shared with other work still gives a fair ratio. Prints medians (seconds, rows/s,
CPU, peak RSS) and the ratios of snapshot to COPY.

    python benchmarks/snapshot.py --export /tmp/bench100k/export --repeat 3
    python benchmarks/snapshot.py --export /tmp/bench1m/export --repeat 1 --pgdata /tmp/pg1m --keep \\
        --peer-table shop.sales_order
"""

from __future__ import annotations

import argparse
import importlib
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

# Each client's modules, imported before its read is timed: the interpreter's and the
# libraries' start is the same cost whatever the table's size.
CLIENTS = {
    "adbc": ["adbc_driver_postgresql.dbapi", "privacy_audit.sources.postgres"],
    "psycopg": ["psycopg", "pyarrow"],
    "connectorx": ["connectorx"],
}
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
    """One measured read: ``relation`` whole as Arrow batches through one client; the rows read."""
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


def copy_command(binaries: Path, url: str, tables: list[str]) -> list[str]:
    """psql copying every table's rows to /dev/null in binary, one statement each."""
    command = [str(binaries / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
    for relation in tables:
        command += ["-c", f"\\copy {relation} TO '/dev/null' WITH (FORMAT binary)"]
    return command


def server_cpu(root: Path) -> float:
    """CPU seconds of the cluster so far: the postmaster and every backend it has reaped."""
    import psutil

    pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True)
class Measured:
    """One child process: seconds (wall, or a client's own count), its CPU seconds and the
    server's, its peak RSS in MiB."""

    seconds: float
    cpu: float
    server_cpu: float
    rss: float


def summary(name: str, rows: int | None, runs: list[Measured]) -> str:
    """One line of medians; rows/s when the rows are known."""

    def median(field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    rate = f"  {rows / median('seconds'):11,.0f} rows/s" if rows is not None else ""
    return (
        f"{name:>30}: {median('seconds'):7.2f} s{rate}"
        f"  CPU {median('cpu'):6.1f} s + server {median('server_cpu'):6.1f} s  peak RSS {median('rss'):6.0f} MiB"
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
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # mode, url, relation
    args = parser.parse_args()
    if args.child:
        for module in CLIENTS[args.child[0]]:
            importlib.import_module(module)
        started = time.perf_counter()
        rows = child(*args.child)
        print(rows, time.perf_counter() - started)
        return
    from pgserver import NATIVE_MAPPING, bin_dir, running_server

    if args.export is None:
        parser.error("--export is required")
    if args.keep and not args.pgdata:
        parser.error("--keep needs --pgdata")
    peers = args.peer_table or ["public.web_events", "shop.sales_order"]
    root = args.pgdata or Path(tempfile.mkdtemp(prefix="snapshot-bench-pg-"))
    runs: dict[str, list[Measured]] = {}

    def measure(name: str, command: list[str], env: dict[str, str] | None = None) -> str:
        """Run one child process; record it under ``name``; its standard output.

        GNU time forks it: a child this big process started itself would inherit this
        process's peak RSS (Linux keeps the high-water mark across exec).
        """
        usage = work / "usage"
        server_before = server_cpu(root)
        started = time.perf_counter()
        timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(usage), *command]
        done = subprocess.run(timed, stdout=subprocess.PIPE, text=True, env=env)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{name} failed (status {done.returncode})")
        time.sleep(0.5)  # the postmaster reaps the finished backend
        if name not in ("snapshot", "copy"):  # a client: its own count of the read alone
            seconds = float(done.stdout.split()[1])
        kib, user, system = usage.read_text().split()[-3:]
        measured = Measured(
            seconds, float(user) + float(system), server_cpu(root) - server_before, int(kib) / 1024
        )
        runs.setdefault(name, []).append(measured)
        print(" ", summary(name, None, [measured]), flush=True)
        return done.stdout

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
        copy = copy_command(bin_dir(), plain, list(table_rows))  # type: ignore[arg-type]
        out = work / "snapshot"
        snapshot_rows = 0
        for _ in range(args.repeat):
            measure("snapshot", [cli, "snapshot", plain, "--mapping", str(mapping), "--out", str(out)], env)
            record = json.loads((out / "snapshot.json").read_text())
            snapshot_rows = sum(t["rows"] for t in record["tables"].values())
            shutil.rmtree(out)
            measure("copy", copy, env)
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

    def ratio(field: str) -> float:
        def median(mode: str) -> float:
            return statistics.median(
                getattr(r, field) + (r.server_cpu if field == "cpu" else 0) for r in runs[mode]
            )

        return median("snapshot") / median("copy")

    print(f"snapshot / COPY: {ratio('seconds'):.2f}x wall, {ratio('cpu'):.2f}x CPU (client + server)")
    for relation in peers:
        for mode in CLIENTS:
            print(summary(f"{relation} {mode}", table_rows[relation], runs[f"{relation} {mode}"]))


if __name__ == "__main__":
    main()
