"""The audit on a real Spark standalone cluster, beside Spark local mode and DuckDB, one export.

    python benchmarks/spark_cluster.py                                  # 1M contacts: /tmp/bench1m
    python benchmarks/spark_cluster.py --export /tmp/bench100k/export   # as-of from ../generation.json

Starts a master and ``--workers`` workers on localhost (``tests/sparkcluster.py``: pyspark's
own ``spark-class``, free ports, stopped at the end whatever happens), then audits the export
``--runs`` times with each of DuckDB, Spark ``local[2]`` and Spark on the cluster — each run a
fresh ``privacy-audit audit`` process, as a user would start it (JVM start-up included), the
three engines taking turns so that load on the machine falls on all of them alike — and prints
the medians, their ratios to DuckDB's and whether all three wrote identical findings, as a
Markdown table for benchmarks/README.md. Exits 1 if the findings differ.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sparkcluster import standalone_cluster  # tests/ is put on the path above


def audit(export: Path, as_of: str, out: Path, engine: list[str]) -> tuple[float, float]:
    """(wall seconds of the whole command, seconds spent in rule queries) of one audit process."""
    command = [sys.executable, "-m", "privacy_audit.cli", "audit", str(export), "--as-of", as_of]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out), *engine], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(engine)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return wall, sum(rule["seconds"] for rule in summary["rules"])


def findings(out: Path) -> list[dict[str, object]]:
    return sorted(pq.read_table(out / "findings.parquet").to_pylist(), key=str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=Path("/tmp/bench1m/export"))
    parser.add_argument("--as-of", help="default: as_of of generation.json beside the export")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/privacy-audit-spark-cluster"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executor-memory", default="1g", help="each worker offers this and one core")
    parser.add_argument(
        "--driver-memory", default="2g", help="the driver's heap, local mode and cluster alike"
    )
    parser.add_argument("--shuffle-partitions", type=int, default=8, help="on the cluster (local mode: 4)")
    args = parser.parse_args()
    as_of = args.as_of or json.loads((args.export.parent / "generation.json").read_text())["as_of"]
    args.workdir.mkdir(parents=True, exist_ok=True)
    # A stopped benchmark (SIGTERM) still stops the cluster: the with block below must unwind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    driver = [f"--spark-conf=spark.driver.memory={args.driver_memory}"]
    executors = [
        "--spark-conf=spark.executor.cores=1",
        f"--spark-conf=spark.executor.memory={args.executor_memory}",
        f"--spark-conf=spark.sql.shuffle.partitions={args.shuffle_partitions}",
    ]
    with standalone_cluster(workers=args.workers, cores=1, memory=args.executor_memory) as cluster:
        engines = {
            "DuckDB": ["--engine", "duckdb"],
            "Spark local[2]": ["--engine", "spark", "--spark-master", "local[2]", *driver],
            f"Spark cluster ({args.workers} × 1 core)": [
                *("--engine", "spark", "--spark-master", cluster.master),
                *driver,
                *executors,
            ],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
        for index in range(args.runs):
            for number, (name, engine) in enumerate(engines.items()):
                runs[name].append(audit(args.export, as_of, args.workdir / f"out-{number}", engine))
                print(f"run {index + 1} {name}: {runs[name][-1][0]:.1f} s", flush=True)

    found = [findings(args.workdir / f"out-{number}") for number in range(len(engines))]
    same = all(f == found[0] for f in found)
    medians = {
        n: (statistics.median(w for w, _ in r), statistics.median(q for _, q in r)) for n, r in runs.items()
    }
    duck = medians["DuckDB"]
    print(
        f"\n{args.export} (as of {as_of}); {os.cpu_count()} cores, {platform.machine()}; duckdb "
        f"{version('duckdb')}, pyspark {version('pyspark')}; driver {args.driver_memory}, executors "
        f"1 core {args.executor_memory}, shuffle partitions {args.shuffle_partitions}; medians of "
        f"{args.runs} runs; identical findings: {same} ({len(found[0])})\n"
    )
    print("| engine | whole command (s) | rule queries (s) | command ÷ DuckDB |")
    print("|---|---:|---:|---:|")
    for name, (wall, rules) in medians.items():
        print(f"| {name} | {wall:.1f} | {rules:.1f} | {wall / duck[0]:.1f}× |")
    if not same:
        sys.exit(f"the engines disagree: compare the out-* folders in {args.workdir}")


if __name__ == "__main__":
    main()
