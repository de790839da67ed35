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

It prints a Markdown table of medians, ratios and peak RSS for benchmarks/README.md.

    python benchmarks/run.py --contacts 100000 1000000 --repeat 3 --work /tmp/privacy-audit-bench
"""

from __future__ import annotations

import argparse
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


def median_of(cmd: list[str], repeat: int) -> tuple[float, int, str]:
    runs = [measure(cmd) for _ in range(repeat)]
    return statistics.median(r.seconds for r in runs), max(r.peak_rss for r in runs), runs[-1].stdout


def generate(contacts: int, work: Path) -> Path:
    target = work / f"contacts-{contacts}"
    if not (target / "generation.json").exists():
        measure(
            ["privacy-audit", "generate", "--contacts", str(contacts), "--as-of", AS_OF, "--out", str(target)]
        )
    return target / "export"


def audit_cmd(export: Path, out: Path, threads: int, memory: str, rules: tuple[str, ...] = ()) -> list[str]:
    cmd = ["privacy-audit", "audit", str(export), "--as-of", AS_OF, "--out", str(out)]
    cmd += ["--threads", str(threads), "--memory-limit", memory]
    return cmd + (["--rules", ",".join(rules)] if rules else [])


def counts_from(out: Path) -> dict[str, int]:
    findings = pq.read_table(out / "findings.parquet", columns=["rule_id"]).column("rule_id").to_pylist()
    return {r: findings.count(r) for r in SUBSET}


def bench(contacts: int, args: argparse.Namespace) -> dict[str, object]:
    export = generate(contacts, args.work)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in export.glob("*.parquet"))
    out = args.work / f"audit-{contacts}"
    floor = median_of([sys.executable, "-c", FLOOR.format(threads=args.threads), str(export)], args.repeat)
    joins = median_of(
        [sys.executable, "-c", FLOOR.format(threads=args.threads) + JOINS.format(), str(export)], args.repeat
    )
    full = median_of(audit_cmd(export, out, args.threads, args.memory_limit), args.repeat)
    summary = json.loads((out / "summary.json").read_text())
    slowest = sorted(summary["rules"], key=lambda r: -r["seconds"])[:5]
    subset = median_of(audit_cmd(export, out, args.threads, args.memory_limit, SUBSET), args.repeat)
    ours = counts_from(out)
    peer = median_of([sys.executable, str(HERE / "pandas_peer.py"), str(export), AS_OF], args.peer_repeat)
    theirs = {line.split()[0]: int(line.split()[1]) for line in peer[2].splitlines() if line.strip()}
    if ours != theirs:
        raise SystemExit(f"audit and pandas peer disagree at {contacts} contacts: {ours} vs {theirs}")
    return {
        "contacts": contacts,
        "rows": rows,
        "floor": floor,
        "joins": joins,
        "audit": full,
        "subset": subset,
        "peer": peer,
        "slowest": [(r["rule_id"], r["seconds"]) for r in slowest],
    }


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(results: list[dict[str, object]]) -> str:
    lines = [
        "| contacts | rows | floor | join floor | audit (31 rules) | audit / floor | audit / join floor "
        "| audit subset | pandas subset | pandas / audit | peak RSS floor · audit · pandas |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        floor, joins, audit, subset, peer = r["floor"], r["joins"], r["audit"], r["subset"], r["peer"]
        lines.append(
            f"| {r['contacts']:,} | {r['rows']:,} | {floor[0]:.1f} s | {joins[0]:.1f} s | {audit[0]:.1f} s "
            f"| {audit[0] / floor[0]:.2f}× | {audit[0] / joins[0]:.2f}× "
            f"| {subset[0]:.1f} s | {peer[0]:.1f} s | {peer[0] / subset[0]:.1f}× "
            f"| {mib(floor[1])} · {mib(audit[1])} · {mib(peer[1])} |"
        )
    lines.append("")
    for r in results:
        slow = ", ".join(f"{rule} {s:.2f} s" for rule, s in r["slowest"])
        lines.append(f"- slowest rules at {r['contacts']:,} contacts: {slow}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "privacy-audit-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(report([bench(n, args) for n in args.contacts]))


if __name__ == "__main__":
    main()
