"""Millions of findings: every output of an audit over an export where a share of records violates.

Generates (unless already there) ``privacy-audit generate --contacts N --violation-rate R``, then
runs, each as its own command under ``/usr/bin/time -v`` (wall clock and peak RSS of that
command alone): a first audit with SARIF and a signed attestation; a second audit with
``--previous`` the first and a 10,000-entry waivers file drawn from truth.csv; ``verify`` of the
second run's attestation; ``report compliance`` and ``report trends``. Prints one table row per
step with the number of findings and the sizes of what it wrote (compliance.html must stay
under 5 MB), and checks that the first audit's findings equal truth.csv exactly.

    python benchmarks/violations.py /tmp/bench1m-v30 --contacts 1000000 --violation-rate 0.3 \\
        --work /tmp/privacy-audit-violations
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from waivers import waivers_for  # benchmarks/waivers.py, beside this script

HTML_LIMIT = 5 * 1024 * 1024
WAIVERS = 10_000


def timed(name: str, command: list[str], work: Path) -> dict[str, object]:
    """Run ``command`` under ``/usr/bin/time -v``; its wall clock, peak RSS and exit status."""
    log = work / f"{name}.time"
    done = subprocess.run(["/usr/bin/time", "-v", "-o", str(log), *command], capture_output=True, text=True)
    report = log.read_text(encoding="utf-8")
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)", report).group(1)
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    seconds = sum(float(part) * 60**i for i, part in enumerate(reversed(wall.split(":"))))
    step = {
        "step": name,
        "exit": done.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_gib": rss_kib / 2**20,
    }
    if done.returncode not in (0, 1):
        step["error"] = (done.stderr or done.stdout).strip().splitlines()[-1:]
    print(json.dumps(step), file=sys.stderr, flush=True)
    return step


def findings_count(run: Path) -> int:
    return duckdb.sql(f"SELECT count(*) FROM read_parquet('{run / 'findings.parquet'}')").fetchall()[0][0]


def differences(run: Path, truth: Path) -> tuple[int, int]:
    """(reported but not in truth, in truth but not reported), over the rules that ran."""
    db = duckdb.connect()
    db.execute(f"CREATE VIEW f AS SELECT rule_id, record_id FROM read_parquet('{run / 'findings.parquet'}')")
    db.execute(f"CREATE VIEW t AS SELECT * FROM read_csv('{truth}') WHERE rule_id IN (SELECT rule_id FROM f)")
    extra = db.execute("SELECT count(*) FROM (SELECT * FROM f EXCEPT SELECT * FROM t)").fetchone()[0]
    missing = db.execute("SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM f)").fetchone()[0]
    return extra, missing


def waivers_file(truth: Path, as_of: date, work: Path) -> Path:
    """10,000 waivers over a sample of truth.csv spread across its rules (benchmarks/waivers.py)."""
    sample = work / "truth-sample.csv"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{truth}') USING SAMPLE {WAIVERS} ROWS (reservoir, 7)"
        f" ORDER BY ALL) TO '{sample}' (HEADER)"
    )
    path = work / "waivers.yaml"
    path.write_text(yaml.safe_dump(waivers_for(sample, WAIVERS, as_of), sort_keys=False), encoding="utf-8")
    return path


def signing_key(work: Path) -> Path:
    path = work / "signing.pem"
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(key)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generated", type=Path, help="the generator's output folder (made if absent)")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--violation-rate", type=float, default=0.3)
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--work", type=Path, default=Path("/tmp/privacy-audit-violations"))
    args = parser.parse_args()
    work, out, as_of = args.work, args.generated, args.as_of
    work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "privacy_audit.cli"]
    steps = []
    if not (out / "truth.csv").exists():
        generate = ["generate", "--out", str(out), "--contacts", str(args.contacts)]
        steps.append(timed("generate", [*cli, *generate, "--violation-rate", str(args.violation_rate)], work))
    export, truth, key = out / "export", out / "truth.csv", signing_key(work)
    audit = [*cli, "audit", str(export), "--as-of", as_of, "--format", "sarif", "--sign-key", str(key)]
    steps.append(timed("audit", [*audit, "--out", str(work / "run1")], work))
    waivers = waivers_file(truth, date.fromisoformat(as_of), work)
    again = ["--previous", str(work / "run1"), "--waivers", str(waivers), "--out", str(work / "run2")]
    steps.append(timed("audit --previous --waivers", [*audit, *again], work))
    steps.append(timed("verify", [*cli, "verify", str(work / "run2")], work))
    report = [*cli, "report", "compliance", "--export", str(export), "--as-of", as_of]
    steps.append(timed("report compliance", [*report, "--out", str(work / "compliance")], work))
    trends = [*cli, "report", "trends", "--export", str(export), "--period-start", "2025-11-01"]
    steps.append(
        timed("report trends", [*trends, "--period-end", "2026-10-31", "--out", str(work / "trends")], work)
    )

    sizes = {
        name: (work / name).stat().st_size if (work / name).exists() else None
        for name in (
            "run1/findings.parquet",
            "run1/findings.sarif",
            "run2/findings.parquet",
            "run2/attestation.json",
            "compliance/compliance.html",
            "trends/trends.html",
        )
    }
    result = {"steps": steps, "sizes": sizes}
    if (work / "run1" / "findings.parquet").exists():
        result["findings"] = findings_count(work / "run1")
        result["reported_not_true"], result["true_not_reported"] = differences(work / "run1", truth)
    html = sizes["compliance/compliance.html"]
    result["compliance_html_under_5mb"] = html is not None and html < HTML_LIMIT
    (work / "violations.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
