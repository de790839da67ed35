"""A throwaway Spark standalone cluster on localhost: one master, N workers, pyspark's own JVM classes.

pyspark's wheel ships ``bin/spark-class`` but not the ``sbin/start-*.sh`` scripts, so the
master and each worker are started as ``spark-class org.apache.spark.deploy.…`` child
processes, on free ports, in their own process groups, logging into a private folder. The
cluster is ready when the master's JSON status (``http://127.0.0.1:WEBUI/json``) lists every
worker ``ALIVE``; leaving the ``with`` block stops all of them (SIGTERM, then SIGKILL), whether
the block raised or not, and removes the folder. Used by ``tests/test_spark_cluster.py`` and
``benchmarks/spark_cluster.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).parent
READY_SECONDS = 180
"""Two JVMs starting on a busy two-core machine can take a minute; past this the start failed."""


@dataclass(frozen=True)
class Cluster:
    """A running standalone cluster: its master URL and web UI."""

    master: str
    webui: str

    def status(self) -> dict[str, object]:
        """The master's JSON status page (workers, their state, cores and memory)."""
        with urllib.request.urlopen(f"{self.webui}/json", timeout=5) as response:
            return json.load(response)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def standalone_cluster(workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[Cluster]:
    """A master and ``workers`` workers of ``cores`` cores and ``memory`` each, stopped on exit."""
    folder = Path(tempfile.mkdtemp(prefix="privacy-audit-spark-cluster-"))
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_NO_DAEMONIZE": "1",
    }
    port, webui = free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{webui}")
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        started: list[tuple[str, subprocess.Popen[bytes]]] = []
        stack.callback(_stop, started)
        master = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui)]
        started.append(
            ("master", _spawn(env, folder, "master", "org.apache.spark.deploy.master.Master", master))
        )
        for index in range(workers):
            work = folder / f"worker-{index}"
            work.mkdir()
            options = [
                cluster.master,
                *("--host", "127.0.0.1", "--port", str(free_port()), "--webui-port", str(free_port())),
                *("--cores", str(cores), "--memory", memory, "--work-dir", str(work)),
            ]
            name = f"worker-{index}"
            started.append(
                (name, _spawn(env, folder, name, "org.apache.spark.deploy.worker.Worker", options))
            )
        _wait_for_workers(cluster, workers, started, folder)
        yield cluster


def _spawn(
    env: dict[str, str], folder: Path, name: str, main: str, options: list[str]
) -> subprocess.Popen[bytes]:
    with (folder / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [str(SPARK_HOME / "bin" / "spark-class"), main, *options],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopping it stops its JVM too
        )


def _wait_for_workers(
    cluster: Cluster, workers: int, started: list[tuple[str, subprocess.Popen[bytes]]], folder: Path
) -> None:
    """Return once the master lists ``workers`` ALIVE workers; raise naming a process that died."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        for name, process in started:
            if process.poll() is not None:
                log = (folder / f"{name}.log").read_text(errors="replace").splitlines()[-5:]
                raise RuntimeError(f"Spark {name} exited with {process.returncode}: {' | '.join(log)}")
        try:
            alive = [w for w in cluster.status()["workers"] if w["state"] == "ALIVE"]  # type: ignore[union-attr]
        except OSError:  # the master's web UI is not up yet
            alive = []
        if len(alive) == workers:
            return
        time.sleep(1)
    raise RuntimeError(f"the Spark master did not list {workers} live workers within {READY_SECONDS} s")


def _stop(started: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """Workers first, then the master: SIGTERM to each process group, SIGKILL after 20 s."""
    for _, process in reversed(started):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for _, process in reversed(started):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
