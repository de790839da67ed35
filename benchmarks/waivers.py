"""What a 10,000-entry waivers file costs an audit: with and without, in one process tree.

The waivers are drawn from the generator's truth.csv beside the export (the planted findings):
record waivers over its record ids (then ids no finding has, which end up stale), whole-rule
waivers, subject waivers, a fifth of them expired. Audits without and with ``--waivers``
alternate (so a busy machine slows both alike) and the medians and their ratio are printed. The
lifecycle step alone (load and validate the file, match it, compare with a previous run) is
also timed in this process (CPU time, which a busy machine inflates less than wall time) over
the audit's findings: the part that can differ, without the rules' noise.

    python benchmarks/waivers.py /tmp/bench1m --repeat 3 --work /tmp/privacy-audit-waivers
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from run import measure  # benchmarks/run.py, beside this script

from privacy_audit.lifecycle import annotate, load_previous, load_waivers
from privacy_audit.outputs.findings import RECORD_SCHEMA


def waivers_for(truth: Path, count: int, as_of: date) -> dict:
    """``count`` waivers over the planted findings' rules and records."""
    rows = list(csv.DictReader(truth.open(encoding="utf-8")))
    rules = sorted({r["rule_id"] for r in rows})
    entries = []
    for i in range(count):
        row, kind = rows[i % len(rows)], i % 10
        base = {
            "id": f"W-{i:05d}",
            "rule": row["rule_id"],
            "justification": f"Accepted risk number {i}, see the ticket",
            "approved_by": "Data protection officer",
            "expires": (as_of + timedelta(days=-30 if kind < 2 else 90)).isoformat(),
            "ticket": f"PRIV-{i}",
        }
        if kind == 9 and i // 10 < len(rules):
            entries.append({**base, "rule": rules[i // 10], "scope": "rule"})
        elif kind >= 7:
            entries.append({**base, "subjects": [f"ACC-{i:07d}"]})
        else:
            ids = [row["record_id"] if i < len(rows) else f"NO-SUCH-{i}", f"NO-SUCH-{i}-B"]
            entries.append({**base, "records": ids})
    return {"version": 1, "waivers": entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generated", type=Path, help="a generator's output: export/, truth.csv")
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--waivers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/privacy-audit-waivers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    as_of = date.fromisoformat(args.as_of)

    def audit(out: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "privacy_audit.cli", "audit", str(args.generated / "export"), "--as-of", args.as_of,
                "--out", str(args.work / out), *extra]  # fmt: skip

    waivers_file = args.work / "waivers.yaml"
    waivers_file.write_text(yaml.safe_dump(waivers_for(args.generated / "truth.csv", args.waivers, as_of)))
    plain, waived = [], []
    for i in range(args.repeat):
        plain.append(measure(audit("plain")))
        waived.append(measure(audit("waived", "--waivers", str(waivers_file))))
        print(f"run {i + 1}: without {plain[-1].seconds:.1f} s ({plain[-1].cpu_seconds:.1f} s CPU), "
              f"with {waived[-1].seconds:.1f} s ({waived[-1].cpu_seconds:.1f} s CPU)", flush=True)  # fmt: skip

    records = pq.read_table(args.work / "plain" / "findings.parquet").select(RECORD_SCHEMA.names)
    ran = set(records["rule_id"].to_pylist())
    found, lifecycle = args.work / "records.parquet", args.work / "lifecycle"
    pq.write_table(records, found)  # as the rules write their findings, one file (here for all of them)
    lifecycle.mkdir(exist_ok=True)
    steps = []
    for _ in range(args.repeat):
        start = time.process_time()
        bag = load_waivers(waivers_file)
        loaded = time.process_time()
        life = annotate([found], ran, as_of, bag, load_previous(args.work / "plain", as_of), folder=lifecycle)
        steps.append((loaded - start, time.process_time() - loaded))
    waived_count = sum(c.waived for c in life.counts.values())
    print(f"{args.generated / 'export'}: {records.num_rows:,} findings, {args.waivers:,} waivers "
          f"({waived_count:,} findings waived)")  # fmt: skip
    print("| audit | median wall s | median CPU s | runs (wall s) |")
    print("|---|---|---|---|")
    for label, runs in (("without --waivers", plain), (f"with --waivers ({args.waivers:,})", waived)):
        wall, cpu = statistics.median(r.seconds for r in runs), statistics.median(r.cpu_seconds for r in runs)
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {', '.join(f'{r.seconds:.1f}' for r in runs)} |")
    for what in ("seconds", "cpu_seconds"):
        ratio = statistics.median(getattr(r, what) for r in waived) / statistics.median(
            getattr(r, what) for r in plain
        )
        print(f"ratio with/without ({what}): {ratio:.3f}")
    print(f"lifecycle step alone (median CPU time): load + validate {statistics.median(s[0] for s in steps):.3f} s, "
          f"match + previous-run comparison {statistics.median(s[1] for s in steps):.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
