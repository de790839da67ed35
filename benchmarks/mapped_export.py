"""A mapped, part-file export audits as fast as the same data in contract shape.

From a contract-shaped export (``privacy-audit generate``) it writes the same data in a
platform's own shape once: each table a directory ``platform_<table>/`` under a hive
partition ``load_date=…/`` with ``_SUCCESS`` and ``.crc`` files beside four part files (the
same row groups, compression and order as the original, so that only the shape differs), every
contract column renamed ``src_<column>``, and the mapping file that maps it all back. Then it audits
both forms alternately in this one process and prints the medians and their ratio.

    python benchmarks/mapped_export.py --export /tmp/bench1m/export --work /tmp/bench1m-mapped --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from privacy_audit.audit import run_audit
from privacy_audit.contract import TABLES
from privacy_audit.engine import make_engine
from privacy_audit.sources.mapping import load_mapping

PARTS = 4
PARTITION = "load_date=2026-11-01"


def write_native(export: Path, work: Path) -> Path:
    """The platform-shaped copy of ``export`` and its mapping file (written once, then reused)."""
    mapping_file = work / "mapping.yaml"
    if mapping_file.exists():
        return mapping_file
    native = work / "export"
    tables = {}
    for table in TABLES:
        source = export / f"{table}.parquet"
        if not source.exists():
            continue
        parquet = pq.ParquetFile(source)
        meta = parquet.metadata
        compression = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "zstd"
        directory = native / f"platform_{table}" / PARTITION
        directory.mkdir(parents=True)
        (directory.parent / "_SUCCESS").touch()
        groups = list(range(meta.num_row_groups)) or [None]
        per_part = -(-len(groups) // PARTS)
        schema = parquet.schema_arrow
        # Contract columns get platform names; the others keep theirs, so that the policy's
        # inventory declares the same ones and both forms give the same findings.
        contract = TABLES[table].column_names
        renamed = pa.schema([f.with_name(f"src_{f.name}") if f.name in contract else f for f in schema])
        for part in range(0, len(groups), per_part):
            path = directory / f"part-{part // per_part:05d}.snappy.parquet"
            with pq.ParquetWriter(path, renamed, compression=compression) as writer:
                for group in groups[part : part + per_part]:
                    table_data = parquet.read_row_group(group) if group is not None else schema.empty_table()
                    writer.write_table(table_data.rename_columns(renamed.names), row_group_size=1 << 30)
            (directory / f".{path.name}.crc").write_bytes(b"crc")
        tables[table] = {
            "source": f"platform_{table}/",
            "columns": {c: f"src_{c}" for c in TABLES[table].column_names},
        }
    mapping_file.write_text(
        yaml.safe_dump({"version": 1, "tables": tables}, sort_keys=False), encoding="utf-8"
    )
    return mapping_file


def audit_seconds(export: Path, mapping_file: Path | None, as_of: date) -> tuple[float, float, int]:
    """Wall and CPU seconds of one whole audit (validation, every rule, digests), and its findings.

    CPU time (every thread of this process) is the steadier measure on a shared machine.
    """
    engine = make_engine()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        result = run_audit(
            export, as_of, engine=engine, mapping=load_mapping(mapping_file) if mapping_file else None
        )
        result.export.manifest()  # as summary.json does: it waits for every file's digest
        return time.perf_counter() - start, time.process_time() - cpu, result.findings().num_rows
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, required=True, help="a contract-shaped Parquet export")
    parser.add_argument("--work", type=Path, required=True, help="where the platform-shaped copy goes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", default="2026-11-01")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    start = time.perf_counter()
    mapping_file = write_native(args.export, args.work)
    print(f"platform-shaped copy ready in {time.perf_counter() - start:.1f} s: {args.work}", flush=True)
    forms = {"contract": (args.export, None), "mapped": (args.work / "export", mapping_file)}
    wall: dict[str, list[float]] = {form: [] for form in forms}
    cpu: dict[str, list[float]] = {form: [] for form in forms}
    counts: dict[str, set[int]] = {form: set() for form in forms}
    for repeat in range(args.repeat):
        order = list(forms) if repeat % 2 == 0 else list(reversed(forms))  # no form always goes first
        for form in order:
            seconds, cpu_seconds, findings = audit_seconds(*forms[form], as_of)
            wall[form].append(seconds)
            cpu[form].append(cpu_seconds)
            counts[form].add(findings)
            print(f"{form}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU, {findings} findings", flush=True)
    print("| form | median wall s | median CPU s | runs (wall / CPU) | findings |\n|---|---|---|---|---|")
    for form in forms:
        runs = ", ".join(f"{w:.1f} / {c:.1f}" for w, c in zip(wall[form], cpu[form], strict=True))
        print(
            f"| {form} | {statistics.median(wall[form]):.1f} | {statistics.median(cpu[form]):.1f} | {runs} "
            f"| {sorted(counts[form])} |"
        )
    for name, measure in (("wall", wall), ("CPU", cpu)):
        ratio = statistics.median(measure["mapped"]) / statistics.median(measure["contract"])
        print(f"mapped / contract ({name}) = {ratio:.3f}")


if __name__ == "__main__":
    main()
