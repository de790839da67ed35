"""Audit speed at scale, against the DuckDB floor and a pandas peer, in one process tree.

For each size it generates an export (through the synthetic generator's vectorized path) and
times, in fresh subprocesses so that each peak RSS is its own:

- the floor: DuckDB reading every column of every table once;
- the join floor: the floor, plus the two key joins no exact "in force at" rule can avoid
  (tracked web events with their session's cookie consents, promotional sends with the
  contact's preferences for the topic), counted and nothing more — what the catalogue's two
  heaviest rules cost before they judge anything;
- the audit: ``privacy-audit audit`` with every rule, then with the peer's subset only;
- the peer: benchmarks/pandas_peer.py, the same subset in pandas (checked to agree first).

It prints Markdown tables for benchmarks/README.md: medians, ratios and peak RSS per size, the
generation of each export it made, and the slowest rules' seconds at every size (growth that
is not linear shows there). The pandas peer needs ~20 GiB at 1M contacts, so it (and the subset
run it is compared with) is skipped above ``--peer-max`` contacts.

Every command runs as ``python -m privacy_audit.cli``, so ``PYTHONPATH=src`` measures a work tree.

    python benchmarks/run.py --contacts 100000 1000000 --repeat 3 --work /tmp/privacy-audit-bench
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).parent
AS_OF = "2026-11-01"
SUBSET = ("RET-ORDER-OVERDUE", "RET-USAGE-OVERDUE", "CONSENT-TRACKING", "MIN-CARD-IN-TEXT", "RIGHTS-LATE")
FLOOR = """
import sys, duckdb, pathlib
con = duckdb.connect()
con.execute("SET threads = {threads}")
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.parquet")):
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{{path}}')").fetchall()]
    con.execute("SELECT " + ", ".join(f'min("{{c}}")' for c in cols) + f" FROM read_parquet('{{path}}')").fetchall()
"""
JOINS = """
root = sys.argv[1]
con.execute(f\"\"\"SELECT count(*) FROM read_parquet('{{root}}/web_events.parquet') e
    JOIN read_parquet('{{root}}/cookie_consents.parquet') c USING (session_id)
    WHERE e.tracking_category <> 'necessary'\"\"\").fetchall()
con.execute(f\"\"\"SELECT count(*) FROM read_parquet('{{root}}/email_sends.parquet') s
    JOIN read_parquet('{{root}}/communication_preferences.parquet') p USING (contact_id, topic)
    WHERE s.kind IN ('marketing', 'survey')\"\"\").fetchall()
"""


@dataclass
class Run:
    seconds: float
    peak_rss: int
    stdout: str
    cpu_seconds: float = 0.0  # user + system time of the process tree: what a busy machine inflates least


def measure(cmd: list[str]) -> Run:
    """Run ``cmd``; its wall time and its own peak RSS (from wait4), failing loudly on error."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
        return Run(seconds, usage.ru_maxrss * 1024, out.read().decode(), usage.ru_utime + usage.ru_stime)


@dataclass
class Median:
    seconds: float
    peak_rss: int
    stdout: str
    cpu_seconds: float


CLI = [sys.executable, "-m", "privacy_audit.cli"]


def median_of(cmd: list[str], repeat: int) -> Median:
    runs = [measure(cmd) for _ in range(repeat)]
    return Median(
        statistics.median(r.seconds for r in runs),
        max(r.peak_rss for r in runs),
        runs[-1].stdout,
        statistics.median(r.cpu_seconds for r in runs),
    )


def generate(contacts: int, work: Path) -> tuple[Path, Run | None]:
    """The export of ``contacts`` contacts in ``work``, and its generation's measurement if made now."""
    target = work / f"contacts-{contacts}"
    made = None
    if not (target / "generation.json").exists():
        made = measure(
            [*CLI, "generate", "--contacts", str(contacts), "--as-of", AS_OF, "--out", str(target)]
        )
    return target / "export", made


def audit_cmd(export: Path, out: Path, threads: int, memory: str, rules: tuple[str, ...] = ()) -> list[str]:
    cmd = [*CLI, "audit", str(export), "--as-of", AS_OF, "--out", str(out)]
    cmd += ["--threads", str(threads), "--memory-limit", memory]
    return cmd + (["--rules", ",".join(rules)] if rules else [])


def counts_from(out: Path) -> dict[str, int]:
    findings = pq.read_table(out / "findings.parquet", columns=["rule_id"]).column("rule_id").to_pylist()
    return {r: findings.count(r) for r in SUBSET}


@dataclass
class Result:
    contacts: int
    rows: int
    repeat: int
    made: Run | None
    floor: Median
    joins: Median
    audit: Median
    rules: dict[str, float]  # rule id → seconds, from the last audit's summary.json
    subset: Median | None = None
    peer: Median | None = None


def bench(contacts: int, args: argparse.Namespace) -> Result:
    export, made = generate(contacts, args.work)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in export.glob("*.parquet"))
    out = args.work / f"audit-{contacts}"
    repeat = 1 if args.once_above is not None and contacts > args.once_above else args.repeat
    floor = median_of([sys.executable, "-c", FLOOR.format(threads=args.threads), str(export)], repeat)
    joins = median_of(
        [sys.executable, "-c", FLOOR.format(threads=args.threads) + JOINS.format(), str(export)], repeat
    )
    full = median_of(audit_cmd(export, out, args.threads, args.memory_limit), repeat)
    summary = json.loads((out / "summary.json").read_text())
    result = Result(
        contacts,
        rows,
        repeat,
        made,
        floor,
        joins,
        full,
        {r["rule_id"]: r["seconds"] for r in summary["rules"]},
    )
    if contacts > args.peer_max:
        return result
    result.subset = median_of(audit_cmd(export, out, args.threads, args.memory_limit, SUBSET), repeat)
    ours = counts_from(out)
    result.peer = median_of(
        [sys.executable, str(HERE / "pandas_peer.py"), str(export), AS_OF], args.peer_repeat
    )
    theirs = {
        line.split()[0]: int(line.split()[1]) for line in result.peer.stdout.splitlines() if line.strip()
    }
    if ours != theirs:
        raise SystemExit(f"audit and pandas peer disagree at {contacts} contacts: {ours} vs {theirs}")
    return result


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(measured: list[Result]) -> str:
    results = sorted(measured, key=lambda r: r.contacts)
    lines = [
        "| contacts | rows | runs | floor | join floor | audit (31 rules) | audit CPU | audit / floor "
        "| audit / join floor | audit s per 100M rows | audit subset | pandas subset | pandas / audit "
        "| peak RSS floor · audit · pandas |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        floor, joins, audit, subset, peer = r.floor, r.joins, r.audit, r.subset, r.peer
        compared = (
            f"{subset.seconds:.1f} s | {peer.seconds:.1f} s | {peer.seconds / subset.seconds:.1f}×"
            if subset and peer
            else "— | — | —"
        )
        lines.append(
            f"| {r.contacts:,} | {r.rows:,} | {r.repeat} | {floor.seconds:.1f} s | {joins.seconds:.1f} s "
            f"| {audit.seconds:.1f} s | {audit.cpu_seconds:.1f} s | {audit.seconds / floor.seconds:.2f}× "
            f"| {audit.seconds / joins.seconds:.2f}× | {audit.seconds / r.rows * 1e8:.1f} s | {compared} "
            f"| {mib(floor.peak_rss)} · {mib(audit.peak_rss)} · {mib(peer.peak_rss) if peer else '—'} |"
        )
    lines += ["", "| rule | " + " | ".join(f"{r.contacts:,}" for r in results) + " | growth per step |"]
    lines.append("|---|" + "---:|" * (len(results) + 1))
    largest = results[-1].rules
    for rule in sorted(largest, key=lambda k: -largest[k])[:8]:
        seconds = [r.rules.get(rule, 0.0) for r in results]
        steps = [
            f"{b / a:.1f}× ({results[i + 1].rows / results[i].rows:.1f}× rows)"
            for i, (a, b) in enumerate(itertools.pairwise(seconds))
            if a > 0
        ]
        lines.append(f"| {rule} | " + " | ".join(f"{x:.2f} s" for x in seconds) + f" | {', '.join(steps)} |")
    made = [r for r in results if r.made is not None]
    if made:
        lines += ["", "| generated | wall clock | user + sys CPU | peak RSS |", "|---:|---:|---:|---:|"]
        for r in made:
            assert r.made is not None
            lines.append(
                f"| {r.contacts:,} | {r.made.seconds:.0f} s | {r.made.cpu_seconds:.0f} s | {mib(r.made.peak_rss)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-repeat", type=int, default=3)
    parser.add_argument("--peer-max", type=int, default=1_000_000, help="no pandas peer above this size")
    parser.add_argument("--once-above", type=int, help="sizes above this run once, not --repeat times")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "privacy-audit-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.contacts:
        results.append(bench(n, args))
        print(report(results), flush=True)  # after every size: a long run still leaves its numbers


if __name__ == "__main__":
    main()
