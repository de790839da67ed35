"""Issue 23 part 5: the audit submitted to a real standalone Spark cluster gives DuckDB's findings.

A master and two one-core, 1 GiB workers start on localhost (``sparkcluster.py``); the audit
runs as a user would start it, a separate ``python -m privacy_audit.cli`` process with
``--spark-master spark://127.0.0.1:PORT``, so its driver is not this process's SparkSession
and its executors run in the workers' JVMs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")
from sparkcluster import Cluster, standalone_cluster  # after importorskip: needs pyspark

pytestmark = pytest.mark.spark

DEMO = Path(__file__).parents[1] / "data" / "synthetic" / "demo"
AS_OF = "2026-11-01"
EXECUTORS = ["spark.executor.cores=1", "spark.executor.memory=1g", "spark.sql.shuffle.partitions=4"]
"""One small executor per worker: the machine has two cores."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with standalone_cluster(workers=2, cores=1, memory="1g") as running:
        yield running


def audit(out: Path, *engine: str) -> dict[str, object]:
    """Run the audit of the demo as its own process; its summary.json."""
    command = [sys.executable, "-m", "privacy_audit.cli", "audit", str(DEMO / "export"), "--as-of", AS_OF]
    done = subprocess.run([*command, "--out", str(out), *engine], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def outcome(summary: dict[str, object], out: Path) -> tuple[object, list[dict[str, object]]]:
    """Per rule (id, status, checked, violations), and every finding with its lifecycle columns."""
    rules = [(r["rule_id"], r["status"], r["checked"], r["violations"]) for r in summary["rules"]]  # type: ignore[index, union-attr]
    return rules, sorted(pq.read_table(out / "findings.parquet").to_pylist(), key=str)


def test_the_demo_on_a_two_worker_cluster_finds_what_duckdb_finds(cluster: Cluster, tmp_path: Path) -> None:
    conf = [f"--spark-conf={kv}" for kv in EXECUTORS]
    spark = audit(tmp_path / "cluster", "--engine", "spark", "--spark-master", cluster.master, *conf)
    assert spark["engine"] == "spark"
    apps = cluster.status()["completedapps"]
    assert [app["name"] for app in apps] == ["privacy-audit"], apps  # it ran on this master, and stopped
    duck = audit(tmp_path / "duckdb", "--engine", "duckdb")
    assert outcome(spark, tmp_path / "cluster") == outcome(duck, tmp_path / "duckdb")
    assert len(outcome(duck, tmp_path / "duckdb")[1]) > 100  # the demo's planted findings, not an empty match
