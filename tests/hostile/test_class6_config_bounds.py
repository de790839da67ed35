"""Class 6: policy files and options that crashed or exhausted memory are one line and exit 2.

Each case names the key or option and what was expected, and never reads more than it must.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from handmade import make_export, write_policy
from hostile.probe import audit, run
from privacy_audit.policy import DEFAULT_POLICY
from privacy_audit.safe_yaml import MAX_BYTES


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_export(tmp_path_factory.mktemp("hostile") / "export", {})


def policy_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


DEFAULT = DEFAULT_POLICY.read_text(encoding="utf-8")
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (BOMB, ["once aliases are expanded"]),
        ("a: " + "[" * 3000 + "]" * 3000, ["levels deep"]),
        ("".join(" " * i + f"k{i}:\n" for i in range(100)), ["levels deep"]),
        (DEFAULT + "\nminimum_age: 0\n", ["key minimum_age", "once"]),
        (DEFAULT.replace("  default: 7\n", "  default: 7\n  default: 1\n"), ["key default", "once"]),
        (DEFAULT.replace("{GB: 6,", "{GB: 6, GB: 60,"), ["key GB", "once"]),
        ("[a, b]\n", ["a YAML mapping"]),
        ("a: [\n", ["valid YAML at line"]),
        ("? [a]\n: 1\n", ["scalar mapping keys"]),
    ],
    ids=["alias-bomb", "deep-flow", "deep-block", "dup-top", "dup-nested", "dup-flow", "list", "bad", "key"],
)
def test_hostile_policy_yaml(tmp_path: Path, export: Path, text: str, needles: list[str]) -> None:
    policy = policy_text(tmp_path, text)
    audit(export, tmp_path / "out", "--policy", str(policy)).one_line(2, str(policy), *needles)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ticket_retention_years", 5000),
        ("minimum_age", 10**30),
        ("minimum_age", "1e30"),
        ("minimum_age", 1.0e30),
        ("deletion_grace_days", -1),
        ("usage_retention_months", 10**6),
        ("order_retention_years", {"default": 7, "by_country": {"GB": 500}}),
        ("notice_days", True),
    ],
)
def test_out_of_range_numbers_name_the_key(tmp_path: Path, export: Path, key: str, value: object) -> None:
    policy = write_policy(tmp_path / "policy.yaml", {key: value})
    audit(export, tmp_path / "out", "--policy", str(policy)).one_line(2, f"key {key}")


def test_largest_numbers_in_range_still_audit(tmp_path: Path, export: Path) -> None:
    overrides = {"ticket_retention_years": 150, "minimum_age": 120, "usage_retention_months": 1800}
    policy = write_policy(tmp_path / "policy.yaml", overrides)
    assert audit(export, tmp_path / "out", "--policy", str(policy), as_of="1900-01-01").code == 0


def test_a_fifo_as_policy_does_not_hang(tmp_path: Path, export: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    outcome: list = []
    worker = threading.Thread(
        target=lambda: outcome.append(audit(export, tmp_path / "out", "--policy", str(fifo))), daemon=True
    )
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "wb"):
            pass
        pytest.fail("opening a FIFO policy blocked")
    outcome[0].one_line(2, str(fifo), "regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_as_policy(tmp_path: Path, export: Path, device: str) -> None:
    audit(export, tmp_path / "out", "--policy", device).one_line(2, device, "regular file")


def test_a_symlink_to_a_device_as_policy(tmp_path: Path, export: Path) -> None:
    link = tmp_path / "policy.yaml"
    link.symlink_to("/dev/zero")
    audit(export, tmp_path / "out", "--policy", str(link)).one_line(2, "regular file")


def test_a_directory_as_policy(tmp_path: Path, export: Path) -> None:
    audit(export, tmp_path / "out", "--policy", str(tmp_path)).one_line(2, "regular file")


def test_an_oversized_policy(tmp_path: Path, export: Path) -> None:
    policy = policy_text(tmp_path, DEFAULT + "#" * MAX_BYTES)
    audit(export, tmp_path / "out", "--policy", str(policy)).one_line(2, "at most")


def test_rules_command_uses_the_same_loader(tmp_path: Path) -> None:
    policy = policy_text(tmp_path, DEFAULT + "\nminimum_age: 0\n")
    run("rules", "CHILD-MINOR", "--policy", str(policy)).one_line(2, "key minimum_age")


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--threads", "-1", "--threads"),
        ("--threads", "0", "--threads"),
        ("--threads", "99999999999", "--threads"),
        ("--memory-limit", "1KB", "--memory-limit"),
        ("--memory-limit", "63MiB", "--memory-limit"),
        ("--memory-limit", "lots", "--memory-limit"),
        ("--memory-limit", "-4GB", "--memory-limit"),
        ("--as-of", "9999-12-31", "--as-of"),
        ("--as-of", "0001-01-01", "--as-of"),
        ("--as-of", "2026-02-30", "--as-of"),
    ],
)
def test_out_of_range_options(tmp_path: Path, export: Path, option: str, value: str, needle: str) -> None:
    args = ["audit", str(export), "--out", str(tmp_path / "out")]
    if option != "--as-of":
        args += ["--as-of", "2026-01-01"]
    run(*args, option, value).one_line(2, needle, "expected")
    assert not (tmp_path / "out").exists()
