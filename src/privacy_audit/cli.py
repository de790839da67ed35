"""The ``privacy-audit`` command line: audit · check · snapshot · subject · explain · rules · generate · report.

Every command turns bad input into one clear line on stderr and exit status 2; nothing below
the CLI prints or exits.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from privacy_audit.errors import InputError
from privacy_audit.rules import REGISTRY, Severity
from privacy_audit.terminal import print_line

if TYPE_CHECKING:
    from privacy_audit.engine import Engine
    from privacy_audit.reporting.common.runner import TextScanner
    from privacy_audit.reporting.compliance.run import ComplianceParameters
    from privacy_audit.reporting.trends.publish import TrendParameters

EXIT_CODES = (
    "Exit status: 0 ran · 1 open findings at or above --fail-on (waived findings never count)"
    " · 2 unusable input · 3 incomplete: a rule ended in error (never 0 then, whatever --fail-on says)."
)
REPORT_EXIT_CODES = "Exit status: 0 published · 2 unusable input · 3 incomplete: a cell failed."

app = typer.Typer(
    help="Prove from a platform export whether the privacy policy's promises are kept.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
report_app = typer.Typer(help="Render the compliance or anonymized trend report.", no_args_is_help=True)
app.add_typer(report_app, name="report")

out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from privacy_audit import __version__

        out.print(f"privacy-audit {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Options that come before any command (--version)."""


class EngineName(StrEnum):
    """The SQL engines an audit can run on."""

    duckdb = "duckdb"
    spark = "spark"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the Exit to raise (the message is text, not markup)."""
    print_line(err, ("error:", "bold red"), " ", message)
    return typer.Exit(code)


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
"""Dates an audit may stand at: far enough either way that no deadline leaves the calendar."""


def parse_day(value: str, option: str = "--as-of") -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise fail(f"{option}: expected a date YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_conf(pairs: list[str]) -> dict[str, str]:
    """``--spark-conf key=value`` options as a mapping."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--spark-conf: expected key=value, got {pair!r}")
        conf[key.strip()] = value
    return conf


POLICY_HELP = "Policy YAML: the keys it gives override the bundled default's."
MAPPING_OPTION = typer.Option(
    "--mapping", help="A mapping file: the platform's own tables and columns as the contract's."
)


def start_engine(engine_name: EngineName, options: dict[str, object]) -> Engine:
    """The chosen engine, or one line and exit 2 when it cannot start with these options."""
    from privacy_audit.engine import make_engine
    from privacy_audit.engine.base import MAX_THREADS, EngineError

    threads = options.get("threads")
    if isinstance(threads, int) and not 1 <= threads <= MAX_THREADS:
        raise fail(f"--threads: expected a whole number from 1 to {MAX_THREADS}")
    try:
        return make_engine(engine_name.value, **options)
    except ValueError as exc:
        raise fail(str(exc)) from None
    except ImportError as exc:
        raise fail(f"--engine {engine_name}: {exc} (pip install 'privacy-audit[spark]')") from None
    except EngineError as exc:
        raise fail(f"--engine {engine_name}: {exc}") from None


FailOnOption = Annotated[
    Severity | None,
    typer.Option("--fail-on", help="Exit 1 when an open finding of this severity or worse exists."),
]
ReportMemoryOption = Annotated[
    str,
    typer.Option(
        "--memory-limit",
        help="DuckDB's memory limit, in this process and in the notebook's kernel, as the audit's.",
    ),
]
WaiversOption = Annotated[
    Path | None,
    typer.Option("--waivers", help="Waivers YAML: accepted findings, each with approver and expiry."),
]


@app.command(epilog=EXIT_CODES)
def audit(
    export_dir: Annotated[
        str,
        typer.Argument(
            metavar="EXPORT",
            help="The export: a directory of tables (<table>.parquet, .csv, .csv.gz, .csv.zst or <table>/ of part files); with --engine spark also"
            " a URI Spark reads (hdfs://, s3a://…).",
        ),
    ],
    as_of: Annotated[str, typer.Option("--as-of", help="Audit date YYYY-MM-DD (00:00 UTC that day).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Where findings.parquet and summary.json go.")],
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    policy_text: Annotated[
        Path | None,
        typer.Option(
            "--policy-text", help="Your own policy text: findings and the report cite its sections."
        ),
    ] = None,
    fail_on: FailOnOption = None,
    waivers: WaiversOption = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="An earlier run's output folder: new, persisting, resolved."),
    ] = None,
    rules: Annotated[str | None, typer.Option(help="Comma-separated rule ids to run (default: all).")] = None,
    threads: Annotated[int | None, typer.Option(help="Engine threads (default: all cores).")] = None,
    memory_limit: Annotated[
        str,
        typer.Option(
            "--memory-limit",
            help="DuckDB's memory limit; beyond it, joins and sorts spill to a temporary directory.",
        ),
    ] = "3GB",
    engine_name: Annotated[
        EngineName, typer.Option("--engine", help="duckdb (in-process) or spark (local mode or a cluster).")
    ] = EngineName.duckdb,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="With --engine spark: master URL (default local[2]).")
    ] = None,
    spark_conf: Annotated[
        list[str] | None,
        typer.Option("--spark-conf", help="With --engine spark: a Spark setting key=value (repeatable)."),
    ] = None,
    mapping: Annotated[Path | None, MAPPING_OPTION] = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", help="Ed25519 private key (PEM): sign attestation.json as attestation.dsse.json."
        ),
    ] = None,
    formats: Annotated[
        str | None,
        typer.Option(
            "--format", help="Also write sarif (findings.sarif), junit (junit.xml), oscal; comma-separated."
        ),
    ] = None,
) -> None:
    """Audit one export and write findings.parquet, resolved.parquet, summary.json and attestation.json to OUT."""
    from privacy_audit.audit import run_audit, select_rules
    from privacy_audit.engine.base import EngineError
    from privacy_audit.lifecycle import exit_status, waiver_notes
    from privacy_audit.outputs.attestation import load_signer
    from privacy_audit.outputs.evidence import parse_formats, write_evidence
    from privacy_audit.outputs.findings import summary, write_outputs
    from privacy_audit.outputs.folder import staged_output
    from privacy_audit.progress import RuleProgress, print_summary
    from privacy_audit.sources.mapping import load_mapping

    day = parse_day(as_of)
    try:
        selected = select_rules(rules.split(",") if rules else None)
    except ValueError as exc:
        raise fail(f"--rules: {exc}") from None
    try:
        evidence_formats = parse_formats(formats)
    except ValueError as exc:
        raise fail(f"--format: {exc}") from None
    try:
        signer = load_signer(sign_key) if sign_key else None
    except InputError as exc:
        raise fail(f"--sign-key: {exc}") from None
    options: dict[str, object] = {"threads": threads}
    if engine_name is EngineName.spark:  # Spark's memory is --spark-conf spark.driver.memory=…
        options.update(master=spark_master, conf=parse_conf(spark_conf or []))
    elif spark_master or spark_conf:
        raise fail("--spark-master and --spark-conf need --engine spark")
    else:
        options["memory_limit"] = memory_limit
    try:
        # The output folder is checked, locked and staged before any work; DuckDB spills into
        # the staging folder's scratch, so a killed run's spill files go with its staging.
        loaded = load_mapping(mapping) if mapping else None
        with staged_output(out_dir, export_dir) as stage:
            if engine_name is EngineName.duckdb:
                options["temp_directory"] = stage.scratch
            engine = start_engine(engine_name, options)
            with RuleProgress(len(selected), err) as progress:
                result = run_audit(
                    export_dir,
                    day,
                    policy_file=policy,
                    policy_text=policy_text,
                    rules=selected,
                    engine=engine,
                    progress=progress.update,
                    mapping=loaded,
                    waivers_file=waivers,
                    previous=previous,
                    folder=stage.scratch,  # the findings files go with the staging, like the spill
                )
            write_outputs(result, stage.output)
            write_evidence(result, stage.output, evidence_formats, signer, waiver_notes(result.waivers))
    except InputError as exc:
        raise fail(str(exc)) from None
    except EngineError as exc:  # the lifecycle's (a rule's own is its status): incomplete, nothing published
        raise fail(f"the findings' lifecycle: {exc}", 3) from None
    print_summary(result, out_dir, out)
    raise typer.Exit(exit_status(summary(result), fail_on))


@app.command()
def check(
    export_dir: Annotated[str, typer.Argument(metavar="EXPORT", help="The export directory to validate.")],
    mapping: Annotated[Path | None, MAPPING_OPTION] = None,
) -> None:
    """Validate an export without running rules: every problem at once, and which rules would run."""
    from privacy_audit.audit import skip_reason
    from privacy_audit.engine import make_engine
    from privacy_audit.export import check_export
    from privacy_audit.sources.mapping import load_mapping

    try:
        loaded = load_mapping(mapping) if mapping else None
    except InputError as exc:
        raise fail(str(exc)) from None
    engine = make_engine()
    try:
        checked = check_export(export_dir, engine, loaded)
    finally:
        engine.close()
    for problem in checked.problems:
        print_line(err, ("error:", "bold red"), " ", str(problem))
    if checked.export is None:
        raise typer.Exit(2)
    tables = ", ".join(f"{t} ({s.origin})" for t, s in sorted(checked.export.sources.items()))
    print_line(out, f"export is usable: {tables}")
    for rule in REGISTRY.values():
        reason = skip_reason(rule, checked.export)
        verdict = f"skipped: {reason}" if reason else "runs"
        print_line(out, f"{rule.id}: {verdict}")


@app.command()
def subject(
    subject_id: Annotated[str, typer.Argument(metavar="ID", help="A contact_id or an account_id.")],
    export_dir: Annotated[str, typer.Option("--export", help="The export (as for audit).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Date YYYY-MM-DD the deletion request is received.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="A new folder for subject.json and erasure-plan.csv.")
    ],
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    mapping: Annotated[Path | None, MAPPING_OPTION] = None,
    with_values: Annotated[
        bool, typer.Option("--with-values", help="Also write package/: the data itself, owner-only.")
    ] = False,
    engine_name: Annotated[
        EngineName, typer.Option("--engine", help="duckdb (in-process) or spark (local mode or a cluster).")
    ] = EngineName.duckdb,
) -> None:
    """One person's (or account's) records: access package and erasure plan, identifiers only."""
    from privacy_audit.sources.mapping import load_mapping
    from privacy_audit.subject import run_subject
    from privacy_audit.subject.documents import LeakFound

    day = parse_day(as_of)
    try:
        run = run_subject(
            subject_id,
            export_dir,
            day,
            out_dir,
            policy_file=policy,
            mapping=load_mapping(mapping) if mapping else None,
            with_values=with_values,
            engine=start_engine(engine_name, {}),
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    except LeakFound as exc:
        raise fail(f"nothing written: a document would carry personal data ({exc})", 1) from None
    held = ", ".join(f"{table} {n}" for table, n in run.held().items())
    if run.erased:
        print_line(out, f"{subject_id} is erased, yet records still refer to it: {held}")
    else:
        print_line(out, f"{subject_id}: {held}")
    print_line(out, f"subject.json and erasure-plan.csv written to {run.out}")


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(metavar="RULE-ID", help="The rule, e.g. RET-ORDER-OVERDUE.")],
    record_id: Annotated[str, typer.Argument(metavar="RECORD-ID", help="The record id a finding names.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Audit date YYYY-MM-DD (00:00 UTC that day).")],
    export_dir: Annotated[
        str | None, typer.Argument(metavar="[EXPORT]", help="The export (default: the bundled demo).")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    mapping: Annotated[Path | None, MAPPING_OPTION] = None,
    table: Annotated[
        str | None, typer.Option(help="The record's table, for a rule over several (ANON-INCOMPLETE…).")
    ] = None,
) -> None:
    """The facts behind one finding, or why the record is not one: identifiers and dates only."""
    from privacy_audit.explain import explain as explain_record
    from privacy_audit.reporting.common.notebook_defaults import DEMO_EXPORT
    from privacy_audit.sources.mapping import load_mapping

    day = parse_day(as_of)
    try:
        explained = explain_record(
            rule_id,
            record_id,
            export_dir or DEMO_EXPORT,
            day,
            policy_file=policy,
            mapping=load_mapping(mapping) if mapping else None,
            table=table,
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    for line in explained.lines():
        print_line(out, line)


@app.command()
def snapshot(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="The database: postgresql://user@host:port/database.")
    ],
    mapping: Annotated[Path, MAPPING_OPTION],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the <table>.parquet files and snapshot.json go.")
    ],
) -> None:
    """Export a PostgreSQL database at one instant as a contract export (the nightly export job)."""
    from privacy_audit.sources.mapping import load_mapping
    from privacy_audit.sources.snapshot import take_snapshot

    try:
        record = take_snapshot(source, load_mapping(mapping), out_dir)
    except InputError as exc:
        raise fail(str(exc)) from None
    tables = record["tables"]
    assert isinstance(tables, dict)
    rows = sum(t["rows"] for t in tables.values())
    out.print(
        f"{len(tables)} tables, {rows:,} rows as of {record['snapshot_at']} written to {out_dir}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("rules")
def list_rules(
    rule_id: Annotated[str | None, typer.Argument(help="Show this rule's documentation.")] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Quote this policy's numbers instead of the bundled default's.")
    ] = None,
) -> None:
    """List the rule catalogue, or print one rule's documentation."""
    from privacy_audit.policy import load_policy
    from privacy_audit.progress import print_rules

    try:
        in_force, _ = load_policy(policy)
    except InputError as exc:
        raise fail(str(exc)) from None
    if rule_id:
        rule = REGISTRY.get(rule_id.upper())
        if rule is None:
            raise fail(f"unknown rule id {rule_id} (run `privacy-audit rules` for the catalogue)")
        out.print(Markdown(rule.doc(in_force)))
        return
    print_rules(REGISTRY.values(), in_force, out)


class ContractFormat(StrEnum):
    """The forms ``privacy-audit contract`` prints."""

    markdown = "markdown"
    json = "json"


@app.command()
def contract(
    fmt: Annotated[
        ContractFormat, typer.Option("--format", help="markdown (docs/export-contract.md) or json.")
    ] = ContractFormat.markdown,
) -> None:
    """Print the export contract: tables, columns, types, enums, keys, personal columns."""
    from privacy_audit.contract_doc import as_json, markdown

    sys.stdout.write(markdown() if fmt is ContractFormat.markdown else as_json())


@app.command("map")
def map_export(
    export_dir: Annotated[
        Path, typer.Argument(metavar="EXPORT", help="The platform's own export directory.")
    ],
) -> None:
    """Print a starting mapping file guessed from file names, column names and types (never values)."""
    from privacy_audit.sources.suggest import suggest

    try:
        text = suggest(export_dir)
    except InputError as exc:
        raise fail(str(exc)) from None
    sys.stdout.write(text)


@app.command("coverage")
def coverage(
    policy: Annotated[
        Path | None, typer.Option(help="Policy YAML: its clauses map rules to the text's sections.")
    ] = None,
    policy_text: Annotated[
        Path | None, typer.Option("--policy-text", help="Your own policy text: the coverage of its sections.")
    ] = None,
) -> None:
    """Print every subsection of the policy text with the rules that evidence it, or why an export cannot."""
    from privacy_audit.audit import load_scope
    from privacy_audit.reporting.compliance.policy_text import NOT_FOUND, not_found, scope

    try:
        in_force, text = load_scope(policy, policy_text)
    except InputError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"Coverage of {text.title or text.source}", show_lines=False)
    for column in ("§", "checked by", "not evidenced by an export, because"):
        table.add_column(column, overflow="fold")
    for row in scope(text, in_force, REGISTRY.values()):
        table.add_row(row.section, ", ".join(row.rules) or "—", row.not_evidenced)
    out.print(table)
    for rule in REGISTRY.values():
        missing = not_found(text, in_force, rule)
        if missing:
            print_line(out, f"{rule.id} cites §{', '.join(missing)}: {NOT_FOUND} ({text.source})")


@app.command()
def verify(
    run_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="A run folder written by `privacy-audit audit`.")
    ],
    export_dir: Annotated[
        Path | None,
        typer.Option("--export", help="Also recompute the export's and the configuration's digests."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Ed25519 public key (PEM) that must have signed the run.")
    ] = None,
) -> None:
    """Recompute every digest of DIR's attestation and check its signature (exit 1 names the first file that differs)."""
    from privacy_audit.outputs.verify import Mismatch, verify_run

    try:
        checked = verify_run(run_dir, export_dir, key)
    except InputError as exc:
        raise fail(str(exc)) from None
    except Mismatch as exc:
        raise fail(f"{run_dir}: {exc}", 1) from None
    signed = f"signed by {checked.signed_by}" if checked.signed_by else "signature not checked (no --key)"
    inputs = (
        f"{checked.export_files} export files, {checked.configuration} configuration files"
        if export_dir
        else "export not checked (no --export)"
    )
    print_line(out, f"verified: {checked.outputs} outputs, {inputs}; {signed}")


@contextmanager
def report_errors() -> Iterator[None]:
    """Unusable input exits 2; a failed report is incomplete (3), or 2 when a cell met unusable input."""
    from privacy_audit.reporting.common.runner import ReportError

    try:
        yield
    except InputError as exc:
        raise fail(str(exc)) from None
    except ReportError as exc:  # a cell's InputError is unusable input too: exit 2, like `audit`
        raise fail(str(exc), 2 if exc.ename == "InputError" else 3) from None


def publish(
    notebook: str,
    params: ComplianceParameters | TrendParameters,
    html_name: str,
    cell_timeout: int,
    scanner: TextScanner,
) -> Path:
    """Run one report notebook with validated parameters and publish it whole into its out_dir."""
    from privacy_audit.reporting.common.runner import notebook_path, render_report

    err.print(f"{html_name}: starting the notebook's kernel", highlight=False)
    return render_report(
        notebook_path(notebook),
        params.notebook_parameters(),
        params.out_dir,
        html_name,
        cell_timeout=cell_timeout,
        scanner=scanner,
        export=params.export_dir,
        progress=lambda number, of, section: err.print(
            f"{html_name}: section {number} of {of}, {section}", highlight=False, soft_wrap=True
        ),
    )


@report_app.command("compliance", epilog=EXIT_CODES.replace("ended in error", "or a cell ended in error"))
def report_compliance(
    export_dir: Annotated[Path, typer.Option("--export", help="The export directory to audit.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Audit date YYYY-MM-DD (00:00 UTC that day).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Gets compliance.html, the executed notebook, findings, summary.")
    ],
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    policy_text: Annotated[
        Path | None,
        typer.Option(
            "--policy-text", help="Your own policy text: findings and the report cite its sections."
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            help="An earlier run's folder, or a folder of run folders (the latest before --as-of is"
            " compared, all of them are charted)."
        ),
    ] = None,
    waivers: WaiversOption = None,
    fail_on: FailOnOption = None,
    cell_timeout: Annotated[int, typer.Option("--cell-timeout", help="Seconds any one cell may run.")] = 600,
    sign_key: Annotated[
        Path | None,
        typer.Option("--sign-key", help="Ed25519 private key (PEM): sign the run's attestation.json."),
    ] = None,
    memory_limit: ReportMemoryOption = "3GB",
) -> None:
    """Audit an export and render the compliance report for auditors (no partial report on failure)."""
    from privacy_audit.lifecycle import exit_status
    from privacy_audit.outputs.attestation import load_signer
    from privacy_audit.outputs.folder import check_target
    from privacy_audit.reporting.compliance.quoted import leak_scanner
    from privacy_audit.reporting.compliance.run import check_earlier_runs, parameters

    day = parse_day(as_of)
    engine = start_engine(EngineName.duckdb, {"memory_limit": memory_limit})
    with report_errors():
        params = parameters(
            export_dir=export_dir,
            as_of=day,
            policy=policy or "",
            policy_text=policy_text or "",
            out_dir=out_dir,
            previous=previous or "",
            waivers=waivers or "",
            sign_key=sign_key or "",
            memory_limit=memory_limit,
        )
        check_target(params.out_dir, params.export_dir)
        check_earlier_runs(params)
        if params.sign_key:
            load_signer(params.sign_key)  # an unusable key is exit 2 before any kernel starts
        # So are an unusable policy, policy text or export: the scanner reads all three.
        scanner = leak_scanner(params.export_dir, params.policy, params.policy_text, engine)
        html = publish("compliance_report.ipynb", params, "compliance.html", cell_timeout, scanner)
    print_line(out, f"compliance report written to {html}")
    published = json.loads((html.parent / "summary.json").read_text(encoding="utf-8"))
    raise typer.Exit(exit_status(published, fail_on))


@report_app.command("trends", epilog=REPORT_EXIT_CODES)
def report_trends(
    export_dir: Annotated[Path, typer.Option("--export", help="The export directory to summarize.")],
    period_start: Annotated[str, typer.Option("--period-start", help="First day of the period, YYYY-MM-DD.")],
    period_end: Annotated[str, typer.Option("--period-end", help="Last day of the period (included).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Gets trends.parquet, trends.html, the executed notebook.")
    ],
    k: Annotated[
        int, typer.Option("--k", help="Least distinct accounts (web: sessions) behind a published cell.")
    ] = 10,
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    policy_text: Annotated[
        Path | None,
        typer.Option(
            "--policy-text", help="Your own policy text: recorded, with its digest, in the manifest."
        ),
    ] = None,
    cell_timeout: Annotated[int, typer.Option("--cell-timeout", help="Seconds any one cell may run.")] = 600,
    memory_limit: ReportMemoryOption = "3GB",
) -> None:
    """Render the anonymized trend report for the analytics team (no partial report on failure)."""
    from privacy_audit.outputs.folder import check_target
    from privacy_audit.policy import load_policy
    from privacy_audit.reporting.common.leaks import LeakScanner
    from privacy_audit.reporting.compliance.policy_text import load_policy_text
    from privacy_audit.reporting.trends.publish import parameters

    engine = start_engine(EngineName.duckdb, {"memory_limit": memory_limit})
    with report_errors():  # parameters, policy and export are all checked before a kernel starts
        params = parameters(
            export_dir=export_dir,
            period_start=period_start,
            period_end=period_end,
            k=k,
            out_dir=out_dir,
            policy=policy or "",
            policy_text=policy_text or "",
            memory_limit=memory_limit,
        )
        load_policy(params.policy)
        load_policy_text(params.policy_text)
        check_target(params.out_dir, params.export_dir)
        # The kernel scans trends.parquet with this scanner's values (the runner hands them over).
        scanner = LeakScanner.from_export(params.export_dir, engine=engine)
        html = publish("trends_report.ipynb", params, "trends.html", cell_timeout, scanner)
    print_line(out, f"trend report written to {html}")


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Where export/, truth.csv and generation.json go.")],
    scale: Annotated[
        str | None, typer.Option(help="Named size: demo (the default, ~4,000 contacts).")
    ] = None,
    contacts: Annotated[
        int | None,
        typer.Option(
            help="Number of contacts instead of a scale, 500 to 10,000,000. Each brings about 107 rows"
            " across the tables: 1,000,000 is ~107M rows and ~1.1 GiB of Parquet, 10,000,000 ~1.07"
            " billion rows and ~11 GiB (written in chunks, so memory stays under 2 GiB)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: a fixed one).")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="parquet, csv or mixed (some tables each way).")
    ] = "parquet",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date the plants are computed against (default 2026-11-01).")
    ] = None,
    layout: Annotated[
        str,
        typer.Option(
            help="contract (the contract's names) or native (a platform's own names and part files,"
            " with mapping.yaml beside the export)."
        ),
    ] = "contract",
    violation_rate: Annotated[
        float,
        typer.Option(
            help="Share (0 to 1) of background records made violating, all listed in truth.csv"
            " (default 0: only the planted cases)."
        ),
    ] = 0.0,
) -> None:
    """Generate a synthetic export with planted violations, near misses and their ground truth."""
    from privacy_audit.synth.generate import GenerationError, generate, settings

    day = parse_day(as_of) if as_of else None
    try:
        chosen = settings(
            scale=scale,
            contacts=contacts,
            seed=seed,
            fmt=fmt,
            as_of=day,
            layout=layout,
            violation_rate=violation_rate,
        )
        manifest = generate(out_dir, chosen, err)
    except (GenerationError, InputError) as exc:
        raise fail(str(exc)) from None
    print_line(
        out,
        f"{manifest['planted_violations']} planted violations and {manifest['near_misses']} near misses "
        f"over {sum(manifest['row_counts'].values()):,} rows written to {out_dir}",
    )


_SIGNALLED: list[int] = []
"""The signal that ended the run, if one did: whatever error it surfaced as, the exit is 128 + it."""


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler's timeout, ``kill``) unwinds like SIGINT: staging is removed, exit 143."""
    _SIGNALLED.append(signum)
    err.print("[bold red]error:[/] terminated; nothing was written", highlight=False, markup=True)
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point.

    A signal that lands while DuckDB runs a statement comes back as DuckDB's "interrupted"
    error rather than as the handler's exit: the exit code still says terminated."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = app()
    except BaseException:
        if not _SIGNALLED:
            raise
        code = None
    sys.exit(128 + _SIGNALLED[0] if _SIGNALLED else code)


if __name__ == "__main__":  # python -m privacy_audit.cli, or spark-submit …/privacy_audit/cli.py
    main()
