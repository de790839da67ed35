"""How fast ``privacy-audit subject`` answers for one person, against a full audit of the same export.

Three measurements, each in a fresh subprocess so that each peak RSS is its own:

- the answer: one process opens (validates) the export once, then finds and judges N random
  subjects (half contacts, half accounts) one after another — the median and maximum seconds
  per subject are what a request costs once the export is open;
- the command: ``privacy-audit subject`` end to end (open, validate, find, judge, digest,
  scan, write) for the first few of those subjects;
- the baseline: ``privacy-audit audit`` of the same export, once.

    python benchmarks/subject.py --export /tmp/bench1m/export --subjects 20 --commands 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = "2026-11-01"


def pick(export: Path, n: int, seed: int) -> list[str]:
    """``n`` subjects drawn with ``seed``: contacts and accounts alternately."""
    import duckdb

    rows = duckdb.sql(
        f"SELECT contact_id, account_id FROM read_parquet('{export}/contacts.parquet')"
    ).fetchall()
    rng = random.Random(seed)
    drawn = rng.sample(rows, n)
    return [row[i % 2] for i, row in enumerate(drawn)]


def answer_child(export: str, subjects: list[str]) -> dict[str, object]:
    """In the child: open once, then time each subject's linkage, judgement and documents."""
    import resource

    from privacy_audit.engine import make_engine
    from privacy_audit.export import open_export
    from privacy_audit.policy import load_policy
    from privacy_audit.subject.assessment import assess
    from privacy_audit.subject.documents import plan_csv, subject_document
    from privacy_audit.subject.linkage import collect, resolve

    policy, _ = load_policy()
    start = time.perf_counter()
    engine = make_engine()
    opened = open_export(export, engine)
    open_seconds = time.perf_counter() - start
    seconds, records = [], []
    for subject_id in subjects:
        start = time.perf_counter()
        holding = collect(engine, opened, resolve(engine, subject_id))
        assessed = assess(holding, policy, date.fromisoformat(AS_OF))
        json.dumps(subject_document(holding, assessed, date.fromisoformat(AS_OF), {}))
        plan_csv(assessed)
        seconds.append(time.perf_counter() - start)
        records.append(sum(len(r) for r in assessed.values()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"open": open_seconds, "seconds": seconds, "records": records, "peak_rss": peak}


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one subprocess, which must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {process.stderr.read().decode()[-400:]}")
    return seconds, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--export", type=Path, default=Path("/tmp/bench1m/export"))
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--commands", type=int, default=3, help="subjects also run as the whole command")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--no-baseline", action="store_true", help="skip the full audit")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(answer_child(args.child[0], args.child[1:])))
        return
    subjects = pick(args.export, args.subjects, args.seed)
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(args.export), *subjects],
        check=True,
        capture_output=True,
        text=True,
    )
    answer = json.loads(child.stdout)
    with tempfile.TemporaryDirectory(prefix="subject-bench-") as work:
        commands = [
            timed(
                [
                    "privacy-audit",
                    "subject",
                    s,
                    "--export",
                    str(args.export),
                    "--as-of",
                    AS_OF,
                    "--out",
                    f"{work}/{s}",
                ]
            )
            for s in subjects[: args.commands]
        ]
        audit = None
        if not args.no_baseline:
            audit = timed(
                ["privacy-audit", "audit", str(args.export), "--as-of", AS_OF, "--out", f"{work}/audit"]
            )
    gib = 1024**3
    per = answer["seconds"]
    print(f"export {args.export}, {len(subjects)} subjects (seed {args.seed}), as of {AS_OF}\n")
    print("| measurement | median s | max s | peak RSS |")
    print("|---|---|---|---|")
    print(f"| open + validate the export, once | {answer['open']:.2f} | | |")
    print(
        f"| one subject, export open ({min(answer['records'])}–{max(answer['records'])} records) "
        f"| {statistics.median(per):.2f} | {max(per):.2f} | {answer['peak_rss'] / gib:.2f} GiB (all {len(per)}) |"
    )
    wall = [s for s, _ in commands]
    print(
        f"| `privacy-audit subject`, end to end ({len(commands)} subjects) | {statistics.median(wall):.2f} "
        f"| {max(wall):.2f} | {max(r for _, r in commands) / gib:.2f} GiB |"
    )
    slowest = sorted(zip(per, subjects, answer["records"], strict=True), reverse=True)[:3]
    if audit:
        print(f"| `privacy-audit audit`, baseline | {audit[0]:.2f} | | {audit[1] / gib:.2f} GiB |")
        print(
            f"\ncommand / audit: {statistics.median(wall) / audit[0]:.2f}; one subject / audit: "
            f"{statistics.median(per) / audit[0]:.3f}"
        )
    print("\nslowest subjects: " + ", ".join(f"{s} {t:.2f} s ({n} records)" for t, s, n in slowest))


if __name__ == "__main__":
    main()
