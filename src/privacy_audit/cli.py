"""The ``privacy-audit`` command line: audit · rules · generate · report.

Every command turns bad input into one clear line on stderr and exit status 2; nothing below
the CLI prints or exits.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from privacy_audit.errors import InputError
from privacy_audit.rules import REGISTRY, Severity

app = typer.Typer(
    help="Prove from a platform export whether the privacy policy's promises are kept.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
report_app = typer.Typer(help="Render the compliance or anonymized trend report.", no_args_is_help=True)
app.add_typer(report_app, name="report")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def parse_day(value: str, option: str = "--as-of") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: expected a date YYYY-MM-DD") from None


@app.command()
def audit(
    export_dir: Annotated[
        Path, typer.Argument(help="The export: a directory of <table>.parquet/.csv files.")
    ],
    as_of: Annotated[str, typer.Option("--as-of", help="Audit date YYYY-MM-DD (00:00 UTC that day).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Where findings.parquet and summary.json go.")],
    policy: Annotated[Path | None, typer.Option(help="Policy YAML replacing the bundled default.")] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option("--fail-on", help="Exit 1 when a finding of this severity or worse exists."),
    ] = None,
    rules: Annotated[str | None, typer.Option(help="Comma-separated rule ids to run (default: all).")] = None,
    threads: Annotated[int | None, typer.Option(help="Engine threads (default: all cores).")] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option("--memory-limit", help="Engine memory limit, e.g. 4GB; beyond it DuckDB spills."),
    ] = None,
) -> None:
    """Audit one export and write findings.parquet and summary.json to OUT."""
    from privacy_audit.audit import run_audit, select_rules
    from privacy_audit.engine import make_engine
    from privacy_audit.findings import atomic_directory, check_output_dir, write_outputs
    from privacy_audit.progress import RuleProgress, print_summary

    day = parse_day(as_of)
    try:
        selected = select_rules(rules.split(",") if rules else None)
    except ValueError as exc:
        raise fail(f"--rules: {exc}") from None
    try:
        engine = make_engine("duckdb", threads=threads, memory_limit=memory_limit)
    except ValueError as exc:
        raise fail(f"--memory-limit: {exc}") from None
    try:
        check_output_dir(out_dir, export_dir)
        with RuleProgress(len(selected), err) as progress:
            result = run_audit(
                export_dir, day, policy_file=policy, rules=selected, engine=engine, progress=progress.update
            )
        with atomic_directory(out_dir) as tmp:
            write_outputs(result, tmp)
    except InputError as exc:
        raise fail(str(exc)) from None
    print_summary(result, out)
    if fail_on and any(
        Severity(r.rule.severity).rank >= fail_on.rank and r.violations for r in result.results
    ):
        raise typer.Exit(1)


@app.command("rules")
def list_rules(
    rule_id: Annotated[str | None, typer.Argument(help="Show this rule's documentation.")] = None,
) -> None:
    """List the rule catalogue, or print one rule's documentation."""
    if rule_id:
        rule = REGISTRY.get(rule_id.upper())
        if rule is None:
            raise fail(f"unknown rule id {rule_id} (run `privacy-audit rules` for the catalogue)")
        out.print(Markdown(rule.doc()))
        return
    table = Table(title=f"{len(REGISTRY)} rules", show_lines=False)
    table.add_column("rule", no_wrap=True)
    for column in ("severity", "§", "record id", "what it checks"):
        table.add_column(column)
    for rule in REGISTRY.values():
        first = " ".join(rule.what.split()).split(". ")[0]
        table.add_row(rule.id, rule.severity.value, rule.clause, rule.key, first)
    out.print(table)


@report_app.command("compliance")
def report_compliance(
    export_dir: Annotated[Path, typer.Option("--export", help="The export directory to audit.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Audit date YYYY-MM-DD (00:00 UTC that day).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Gets compliance.html, the executed notebook, findings, summary.")
    ],
    policy: Annotated[Path | None, typer.Option(help="Policy YAML replacing the bundled default.")] = None,
    previous: Annotated[
        Path | None,
        typer.Option(help="summary.json of the last run, or a folder of earlier runs' folders."),
    ] = None,
    cell_timeout: Annotated[int, typer.Option("--cell-timeout", help="Seconds any one cell may run.")] = 600,
) -> None:
    """Audit an export and render the compliance report for auditors (no partial report on failure)."""
    from privacy_audit.findings import check_output_dir
    from privacy_audit.reporting.compliance import parameters
    from privacy_audit.reporting.leaks import LeakScanner
    from privacy_audit.reporting.runner import ReportError, notebook_path, render_report

    day = parse_day(as_of)
    try:
        params = parameters(
            export_dir=export_dir,
            as_of=day,
            policy=policy or "",
            out_dir=out_dir,
            previous_summary=previous or "",
        )
        check_output_dir(params.out_dir, params.export_dir)
        html = render_report(
            notebook_path("compliance_report.ipynb"),
            params.notebook_parameters(),
            params.out_dir,
            "compliance.html",
            cell_timeout=cell_timeout,
            scanner=LeakScanner.from_export(params.export_dir),
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    except ReportError as exc:  # a cell's InputError is unusable input too: exit 2, like `audit`
        raise fail(str(exc), 2 if exc.ename == "InputError" else 1) from None
    out.print(f"compliance report written to {html}")


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
