"""A partial --policy file overrides the bundled defaults key by key (issue 22); an unknown key is
named with a did-you-mean; the effective policy and its digest are in summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.errors import InputError
from privacy_audit.policy import load_policy

runner = CliRunner()
DEFAULT, _ = load_policy()


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_one_key_keeps_every_other_default(tmp_path: Path) -> None:
    policy, _ = load_policy(_policy(tmp_path, "deletion_grace_days: 14\n"))
    assert policy.deletion_grace_days == 14
    assert policy.model_copy(update={"deletion_grace_days": 30}) == DEFAULT


def test_fixed_sub_keys_merge_while_a_mapping_of_names_is_replaced(tmp_path: Path) -> None:
    policy, _ = load_policy(_policy(tmp_path, "order_retention_years: {default: 8}\n"))
    assert policy.order_retention_years.default == 8
    assert policy.order_retention_years.by_country == DEFAULT.order_retention_years.by_country
    policy, _ = load_policy(_policy(tmp_path, "order_retention_years: {by_country: {US: 4}}\n"))
    assert policy.order_retention_years.by_country == {"US": 4} and policy.order_retention_years.default == 7


@pytest.mark.parametrize(
    ("text", "key", "meant"),
    [
        ("deletion_grace_dayz: 14\n", "key deletion_grace_dayz", "deletion_grace_days"),
        ("disclosure: {dominance_shar: 0.5}\n", "key disclosure.dominance_shar", "dominance_share"),
    ],
)
def test_an_unknown_key_is_named_with_a_did_you_mean(tmp_path: Path, text: str, key: str, meant: str) -> None:
    with pytest.raises(InputError) as caught:
        load_policy(_policy(tmp_path, text))
    assert (
        str(caught.value)
        == f"{tmp_path / 'policy.yaml'}, {key}: expected no such key (unknown key; did you mean {meant}?)"
    )


def test_the_audit_records_the_effective_policy_and_its_digest(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {})
    digests = []
    for name, text in (("same", "deletion_grace_days: 30\n"), ("other", "deletion_grace_days: 14\n")):
        out = tmp_path / name
        policy = tmp_path / f"{name}.yaml"
        policy.write_text(text, encoding="utf-8")
        args = ["audit", str(export), "--as-of", "2026-11-01", "--out", str(out), "--policy", str(policy)]
        assert runner.invoke(app, [*args, "--rules", "RET-USAGE-OVERDUE"]).exit_code == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["policy_effective"]["order_retention_years"]["by_country"]["DE"] == 10
        digests.append(summary["policy_effective_digest"])
    assert summary["policy_effective"]["deletion_grace_days"] == 14
    assert digests[0] == DEFAULT.effective_digest != digests[1]


@pytest.mark.parametrize(
    "command",
    [
        ["rules", "RET-ORDER-OVERDUE"],
        ["coverage"],
        ["subject", "C1", "--export", "EXPORT", "--as-of", "2026-11-01", "--out", "OUT"],
        [
            "report",
            "trends",
            "--export",
            "EXPORT",
            "--period-start",
            "2026-01-01",
            "--period-end",
            "2026-06-30",
            "--out",
            "OUT",
        ],
        ["report", "compliance", "--export", "EXPORT", "--as-of", "2026-11-01", "--out", "OUT"],
    ],
)
def test_every_command_reads_a_partial_policy(tmp_path: Path, command: list[str]) -> None:
    export = make_export(tmp_path / "export", {})
    args = [str(export) if a == "EXPORT" else str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = runner.invoke(app, [*args, "--policy", str(_policy(tmp_path, "deletion_grace_dayz: 14\n"))])
    assert result.exit_code == 2 and "did you mean deletion_grace_days?" in result.output, result.output


def test_rules_quote_the_partial_policy(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["rules", "RET-TICKET-OVERDUE", "--policy", str(_policy(tmp_path, "deletion_grace_days: 14\n"))]
    )
    assert result.exit_code == 0 and "and 14 days" in result.stdout
    assert "Example (with the default policy's numbers)" in result.stdout
