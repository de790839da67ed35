"""Spark in local mode against DuckDB on one synthetic export: when is Spark worth it?

    python benchmarks/spark_vs_duckdb.py --contacts 100000 --workdir /tmp/privacy-audit-bench

Generates the export once into ``--workdir`` (never into the repository), then audits it with
each engine ``--runs`` times, each run a fresh ``privacy-audit audit`` process as a user would
start it (so Spark's JVM start-up is included), checks that both engines wrote the same
findings, and prints the medians and their ratio as a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pyarrow.parquet as pq


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "privacy_audit.cli", *args]


def generate(workdir: Path, contacts: int, fmt: str) -> Path:
    """The generated folder for this size and format, made once and reused by later runs."""
    out = workdir / f"generated-{contacts}-{fmt}"
    if not (out / "generation.json").exists():
        subprocess.run(
            cli("generate", "--contacts", str(contacts), "--format", fmt, "--out", str(out)),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


def audit(export: Path, as_of: str, out: Path, engine: str, extra: list[str]) -> tuple[float, float]:
    """(wall seconds of the whole command, seconds spent in rule queries) for one run."""
    start = time.perf_counter()
    subprocess.run(
        cli("audit", str(export), "--as-of", as_of, "--out", str(out), "--engine", engine, *extra),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return wall, sum(rule["seconds"] for rule in summary["rules"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/privacy-audit-bench"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--spark-conf", action="append", default=[], help="key=value, repeatable")
    args = parser.parse_args()

    generated = generate(args.workdir, args.contacts, args.format)
    as_of = json.loads((generated / "generation.json").read_text(encoding="utf-8"))["as_of"]
    spark_args = ["--spark-master", args.spark_master, *(f"--spark-conf={kv}" for kv in args.spark_conf)]
    engines = {"duckdb": [], "spark": spark_args}
    medians: dict[str, tuple[float, float]] = {}
    for engine, extra in engines.items():
        runs = [
            audit(generated / "export", as_of, args.workdir / f"out-{engine}", engine, extra)
            for _ in range(args.runs)
        ]
        medians[engine] = (statistics.median(w for w, _ in runs), statistics.median(r for _, r in runs))
        print(f"{engine}: wall {[round(w, 1) for w, _ in runs]} s, rules {[round(r, 1) for _, r in runs]} s")

    findings = {e: pq.read_table(args.workdir / f"out-{e}" / "findings.parquet").to_pylist() for e in engines}
    same = sorted(findings["duckdb"], key=str) == sorted(findings["spark"], key=str)
    duck, spark = medians["duckdb"], medians["spark"]
    print(
        f"\n{args.contacts:,} contacts, {args.format}; {os.cpu_count()} cores, {platform.machine()}; "
        f"duckdb {version('duckdb')}, pyspark {version('pyspark')} ({' '.join(spark_args)}); "
        f"medians of {args.runs} runs; identical findings: {same} ({len(findings['duckdb'])})\n"
    )
    print("| engine | whole command (s) | rule queries (s) |")
    print("|---|---:|---:|")
    print(f"| DuckDB | {duck[0]:.1f} | {duck[1]:.1f} |")
    print(f"| Spark {args.spark_master} | {spark[0]:.1f} | {spark[1]:.1f} |")
    print(f"| Spark ÷ DuckDB | {spark[0] / duck[0]:.1f}× | {spark[1] / duck[1]:.1f}× |")
    if not same:
        sys.exit("the engines disagree: compare out-duckdb and out-spark in the workdir")


if __name__ == "__main__":
    main()
