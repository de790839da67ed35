"""The two reports at scale, against the audit they are built on, in one process tree each.

Times, in fresh subprocesses, ``privacy-audit audit``, ``report compliance`` and ``report
trends`` over one export, and the peak RSS of each command's whole process tree: a report runs
its notebook in a kernel, a child process, so its memory is the CLI's plus the kernel's (psutil,
polling the tree; ``wait4`` would only see the largest single process). It prints a Markdown
table for benchmarks/README.md: medians of ``--repeat`` runs and each report's ratio to the audit.

Every command runs as ``python -m privacy_audit.cli`` with ``PYTHONPATH`` set to ``--src``, so a
second work tree (e.g. one at ``main``) is measured with the same script:

    python benchmarks/reports.py --export /tmp/rep100k/export --repeat 3
    python benchmarks/reports.py --contacts 100000 --work /tmp/rep100k --src /tmp/main/src

``--phases`` instead times, in this process, the trend report's steps one by one (what its
kernel does, and the leak scanner the CLI builds): where a report's time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).parent
AS_OF = "2026-11-01"
PERIOD = ("2025-11-01", "2026-10-31")
POLL_SECONDS = 0.05


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes, the whole process tree at its largest


def measure(cmd: list[str], src: Path) -> Run:
    """Run ``cmd`` to completion, polling its process tree's summed RSS; fails loudly on error."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        with contextlib.suppress(psutil.NoSuchProcess):  # the tree changes while it is read
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
        peak = max(peak, total)
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1: the audit found open findings, as planted
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-2000:]}")
    return Run(seconds, peak)


def commands(export: Path, out: Path, memory: str) -> dict[str, list[str]]:
    """The three commands over ``export``, each writing into its own folder under ``out``."""
    cli = [sys.executable, "-m", "privacy_audit.cli"]
    limit = ["--memory-limit", memory] if memory else []
    return {
        "audit": [*cli, "audit", str(export), "--as-of", AS_OF, "--out", str(out / "audit"), *limit],
        "report compliance": [
            *cli,
            "report",
            "compliance",
            "--export",
            str(export),
            "--as-of",
            AS_OF,
            "--out",
            str(out / "compliance"),
            *limit,
        ],
        "report trends": [
            *cli,
            "report",
            "trends",
            "--export",
            str(export),
            "--period-start",
            PERIOD[0],
            "--period-end",
            PERIOD[1],
            "--out",
            str(out / "trends"),
            *limit,
        ],
    }


def generate(contacts: int, work: Path, src: Path) -> Path:
    """Generate an export of ``contacts`` contacts into ``work`` (kept: reused when present)."""
    export = work / "export"
    if not export.is_dir():
        cmd = [sys.executable, "-m", "privacy_audit.cli", "generate", "--contacts", str(contacts)]
        subprocess.run([*cmd, "--out", str(work)], check=True, env={**os.environ, "PYTHONPATH": str(src)})
    return export


def phases(export: Path) -> None:
    """Each step of the trend publication, and the leak scanner's build, timed in this process."""
    from datetime import date

    from privacy_audit.engine import make_engine
    from privacy_audit.export import open_export
    from privacy_audit.policy import load_policy
    from privacy_audit.reporting.common.leaks import LeakScanner
    from privacy_audit.reporting.trends.aggregates import aggregate
    from privacy_audit.reporting.trends.disclosure import DisclosureRules, protect
    from privacy_audit.reporting.trends.publish import LAYOUT
    from privacy_audit.reporting.trends.verifier import verify

    policy, _ = load_policy(None)
    rules = DisclosureRules(10, policy.disclosure.dominance_share, policy.disclosure.protection_pct)
    engine = make_engine("duckdb", memory_limit="3GB")
    start = date.fromisoformat(PERIOD[0]), date.fromisoformat(PERIOD[1])
    state: dict[str, object] = {}
    steps = {
        "open_export (validation)": lambda: open_export(export, engine),
        "aggregate": lambda: state.update(cells=aggregate(engine, *start, policy.region_of())),
        "protect": lambda: state.update(disclosed=protect(state["cells"], rules, LAYOUT)),
        "verify": lambda: verify(state["disclosed"].table, rules.k, rules.protection_pct),
        "leak scanner build": lambda: state.update(scanner=LeakScanner.from_engine(engine)),
        "scan_table": lambda: state["scanner"].scan_table(state["disclosed"].table),
    }
    print("| step | seconds |\n|---|---:|")
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        print(f"| {name} | {time.perf_counter() - began:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path, help="An existing export (else --contacts and --work).")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "privacy-audit-reports")
    parser.add_argument("--src", type=Path, default=HERE.parent / "src", help="The package's source tree.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--memory-limit",
        default="",
        help="Passed to every command (the reports take it once they have the option); default: theirs.",
    )
    parser.add_argument("--only", nargs="*", help="Measure only these commands (audit, compliance, trends).")
    parser.add_argument("--phases", action="store_true", help="Time the trend report's steps instead.")
    args = parser.parse_args()
    src = args.src.resolve()
    export = args.export.resolve() if args.export else generate(args.contacts, args.work, src)
    if args.phases:
        sys.path.insert(0, str(src))
        phases(export)
        return
    runs: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        for name, cmd in commands(export, Path(tmp), args.memory_limit).items():
            if args.only and name.split()[-1] not in args.only:
                continue
            for _ in range(args.repeat):
                run = measure(cmd, src)
                runs.setdefault(name, []).append(run)
                print(f"{name}: {run.seconds:.1f} s, {run.peak_rss / 2**20:,.0f} MiB", file=sys.stderr)
    audit = statistics.median(r.seconds for r in runs["audit"]) if "audit" in runs else None
    print(f"\nexport {export}, {args.repeat} runs each, medians; source {src}\n")
    print("| command | seconds | / audit | peak RSS (process tree) |")
    print("|---|---:|---:|---:|")
    for name, measured in runs.items():
        seconds = statistics.median(r.seconds for r in measured)
        rss = statistics.median(r.peak_rss for r in measured)
        ratio = f"{seconds / audit:.2f}×" if audit else "–"
        print(f"| `{name}` | {seconds:.1f} s | {ratio} | {rss / 2**20:,.0f} MiB |")


if __name__ == "__main__":
    main()
