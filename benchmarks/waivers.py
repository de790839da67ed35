"""What a 10,000-entry waivers file costs an audit: with and without, in one process tree.

A first audit of the export gives the findings the waivers are drawn from: record waivers over
its record ids (then ids no finding has, which end up stale), subject waivers, whole-rule
waivers, a fifth of them expired. Then audits without and with ``--waivers`` alternate (so a
busy machine slows both alike) and the medians and their ratio are printed. The lifecycle step
alone (load and validate the file, match it, compare with a previous run) is also timed in this
process over the first audit's findings: the part that can differ, without the rules' noise.

    python benchmarks/waivers.py /tmp/bench1m/export --repeat 3 --work /tmp/privacy-audit-waivers
"""

from __future__ import annotations

import argparse
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


def waivers_for(findings: Path, count: int, as_of: date) -> dict:
    """``count`` waivers over the findings' rules, records and subjects."""
    table = pq.read_table(findings, columns=["rule_id", "record_id", "subject_id"]).to_pylist()
    rules = sorted({r["rule_id"] for r in table})
    entries = []
    for i in range(count):
        row = table[i % len(table)]
        kind = i % 10
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
        elif kind >= 7 and row["subject_id"]:
            entries.append({**base, "subjects": [row["subject_id"]]})
        else:
            ids = [row["record_id"] if i < len(table) else f"NO-SUCH-{i}", f"NO-SUCH-{i}-B"]
            entries.append({**base, "records": ids})
    return {"version": 1, "waivers": entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--waivers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/privacy-audit-waivers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    as_of = date.fromisoformat(args.as_of)

    def audit(out: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "privacy_audit.cli", "audit", str(args.export), "--as-of", args.as_of,
                "--out", str(args.work / out), *extra]  # fmt: skip

    first = measure(audit("first"))
    waivers_file = args.work / "waivers.yaml"
    waivers_file.write_text(
        yaml.safe_dump(waivers_for(args.work / "first" / "findings.parquet", args.waivers, as_of))
    )
    plain, waived = [], []
    for _ in range(args.repeat):
        plain.append(measure(audit("plain")).seconds)
        waived.append(measure(audit("waived", "--waivers", str(waivers_file))).seconds)

    records = pq.read_table(args.work / "first" / "findings.parquet").select(RECORD_SCHEMA.names)
    ran = set(records["rule_id"].to_pylist())
    steps = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        bag = load_waivers(waivers_file)
        loaded = time.perf_counter()
        life = annotate(records, ran, as_of, bag, load_previous(args.work / "first", as_of))
        steps.append((loaded - start, time.perf_counter() - loaded))

    med_plain, med_waived = statistics.median(plain), statistics.median(waived)
    print(f"export {args.export}: {records.num_rows:,} findings, {args.waivers:,} waivers "
          f"({sum(s == 'waived' for s in life.findings['status'].to_pylist()):,} findings waived); "
          f"first audit {first.seconds:.1f} s")  # fmt: skip
    print("| audit | median s | runs |")
    print("|---|---|---|")
    print(f"| without --waivers | {med_plain:.2f} | {', '.join(f'{s:.1f}' for s in plain)} |")
    print(
        f"| with --waivers ({args.waivers:,}) | {med_waived:.2f} | {', '.join(f'{s:.1f}' for s in waived)} |"
    )
    print(f"ratio with/without: {med_waived / med_plain:.3f}")
    print(f"lifecycle step alone (median): load + validate {statistics.median(s[0] for s in steps):.3f} s, "
          f"match + previous-run comparison {statistics.median(s[1] for s in steps):.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
