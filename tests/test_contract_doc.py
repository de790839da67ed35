"""`privacy-audit contract`: the contract printed from the declaration the audit validates with.

The committed docs/export-contract.md must equal a fresh rendering, and both forms must carry
every table, column, type, enum, key and personal column of ``contract.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privacy_audit.cli import app
from privacy_audit.contract import COLUMN_NOTES, DESCRIPTIONS, NOTES, SECTIONS, TABLES
from privacy_audit.contract_doc import TYPE_NAMES, declaration, markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "export-contract.md"


def test_committed_doc_equals_the_declaration() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/export-contract.md is stale: run `privacy-audit contract > docs/export-contract.md`"
    )


def test_the_words_name_only_declared_tables_and_columns_each_once() -> None:
    assert [t for s in SECTIONS for t in s.tables] == list(TABLES)
    assert set(DESCRIPTIONS) == set(TABLES)
    assert set(NOTES) <= set(TABLES)
    assert {(t, c) for t, c in COLUMN_NOTES} <= {(t.name, c) for t in TABLES.values() for c in t.column_names}


def test_json_carries_the_whole_declaration() -> None:
    result = CliRunner().invoke(app, ["contract", "--format", "json"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == declaration()
    tables = {t["name"]: t for t in printed["tables"]}
    assert list(tables) == list(TABLES)
    for table in TABLES.values():
        shown = tables[table.name]
        assert (shown["record_id"], shown["optional"], tuple(shown["personal"])) == (
            table.key,
            table.optional,
            table.personal,
        )
        assert [
            (c["name"], c["type"], c["nullable"], tuple(c["enum"]) if c["enum"] else None, c["pattern"])
            for c in shown["columns"]
        ] == [(c.name, TYPE_NAMES[c.type], c.nullable, c.enum, c.pattern) for c in table.columns]


def test_markdown_lists_every_column_with_its_type_and_enum() -> None:
    result = CliRunner().invoke(app, ["contract"])
    assert result.exit_code == 0 and result.stdout == markdown()
    assert "### staff *(optional table)*" in result.stdout
    assert (
        "| `status` | text |  | `placed` · `shipped` · `delivered` · `returned` · `cancelled` |"
        in result.stdout
    )
    assert "| `birth_date` | date | yes |  |" in result.stdout
    for table in TABLES.values():
        section = result.stdout.split(f"### {table.name}")[1].split("###")[0]
        for column in table.columns:
            assert f"| `{column.name}` | {TYPE_NAMES[column.type]} |" in section


def test_an_unknown_format_exits_2() -> None:
    result = CliRunner().invoke(app, ["contract", "--format", "xml"])
    assert result.exit_code == 2
