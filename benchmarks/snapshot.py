"""A snapshot of a local PostgreSQL server beside ``COPY ... TO`` of the same tables, in one run.

Starts a throwaway cluster (tests/pgserver.py), loads a contract-shaped export into it under
the platform's names (once per run), then alternates, ``--repeat`` times, each in a fresh child
process so that its peak RSS is its own:

- ``snapshot``: ``privacy-audit snapshot`` of every table into zstd Parquet;
- ``copy``: ``COPY <table> TO STDOUT (FORMAT binary)`` of the same tables through psycopg,
  bytes discarded: what the server and the socket cost at the least;
- the three clients on ``--peer-table`` alone: ADBC's Arrow stream (the snapshot's client),
  psycopg 3's binary COPY as Python rows, and connectorx's Arrow table.

Prints medians of seconds, rows/s and peak RSS, and the ratio of snapshot to COPY.

    python benchmarks/snapshot.py --export /tmp/bench1m/export --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pgserver import NATIVE, load_native, running_server  # noqa: E402


def relations(export: Path) -> list[str]:
    return [NATIVE.get(p.stem, f"public.{p.stem}") for p in sorted(export.glob("*.parquet"))]


def child(mode: str, url: str, work: Path, export: Path, peer: str) -> int:
    """One measured run; returns the rows it read."""
    if mode == "snapshot":
        from privacy_audit.sources.mapping import load_mapping
        from privacy_audit.sources.snapshot import take_snapshot

        record = take_snapshot(url, load_mapping(work / "mapping.yaml"), work / "snapshot")
        return sum(t["rows"] for t in record["tables"].values())  # type: ignore[union-attr]
    if mode in ("copy", "psycopg"):
        import psycopg

        rows = 0
        with psycopg.connect(url) as connection, connection.cursor() as cursor:
            for relation in [peer] if mode == "psycopg" else relations(export):
                cursor.execute(f"SELECT * FROM {relation} LIMIT 0")  # the column types, for rows()
                types = [c.type_code for c in cursor.description]
                with cursor.copy(f"COPY {relation} TO STDOUT (FORMAT binary)") as copy:
                    if mode == "copy":
                        for _ in copy:  # the bytes, discarded
                            pass
                    else:
                        copy.set_types(types)
                        rows += sum(1 for _ in copy.rows())
        return rows  # COPY's bytes are not parsed: its rows are the snapshot's
    if mode == "adbc":
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {peer}")
            return sum(b.num_rows for b in cursor.fetch_record_batch())
    if mode == "connectorx":
        import connectorx

        return connectorx.read_sql(url, f"SELECT * FROM {peer}", return_type="arrow").num_rows
    raise ValueError(mode)


def measure(mode: str, args: argparse.Namespace, url: str, work: Path) -> tuple[float, int, float]:
    """Seconds (of the work, without the child's start), rows and peak RSS (MiB) of one child run."""
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--work", str(work)]
    command += ["--export", str(args.export), "--peer-table", args.peer_table]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    assert status == 0, f"{mode} failed"
    rows, seconds = process.stdout.read().split()  # type: ignore[union-attr]
    return float(seconds), int(rows), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-table", default="crm.people", help="the table the three clients each read")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        started = time.perf_counter()
        rows = child(args.child, args.url, args.work, args.export, args.peer_table)
        print(rows, time.perf_counter() - started)  # the work alone, not the interpreter's start
        return
    modes = ["snapshot", "copy", "adbc", "psycopg", "connectorx"]
    with running_server() as server, tempfile.TemporaryDirectory(prefix="snapshot-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        (work / "mapping.yaml").write_text(load_native(server.url(), args.export))
        print(f"loaded {args.export} in {time.perf_counter() - started:.1f} s", flush=True)
        runs: dict[str, list[tuple[float, int, float]]] = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in modes:
                runs[mode].append(measure(mode, args, server.url(), work))
                seconds, _, rss = runs[mode][-1]
                print(f"  {mode}: {seconds:.2f} s, {rss:.0f} MiB", flush=True)
    median = {m: statistics.median(s for s, _, _ in r) for m, r in runs.items()}
    for mode, results in runs.items():
        rows = runs["snapshot"][0][1] if mode == "copy" else results[0][1]
        rss = statistics.median(r for _, _, r in results)
        print(
            f"{mode:>10}: {median[mode]:7.2f} s  {rows / median[mode]:12,.0f} rows/s  peak RSS {rss:6.0f} MiB"
        )
    print(f"snapshot / COPY: {median['snapshot'] / median['copy']:.2f}x")


if __name__ == "__main__":
    main()
