"""The one output-folder guard: ours-only replacement, hostile --out values, locks, kills, debris."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.errors import InputError
from privacy_audit.outputs import findings, folder
from privacy_audit.outputs.folder import MARKER, staged_output

DEMO_EXPORT = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "demo" / "export"
SRC = str(Path(folder.__file__).resolve().parents[2])


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return make_export(tmp_path / "export", {"accounts": [{"account_id": "A1", "country": "US"}]}, "csv")


def audit(export: Path, out: Path | str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", str(export), "--as-of", "2026-01-01", "--out", str(out)])
    return result.exit_code, result.stdout + result.stderr


def debris(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "privacy_audit.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_marker_lists_exactly_what_was_written(tmp_path: Path) -> None:
    with staged_output(tmp_path / "out") as stage:
        (stage.output / "a.txt").write_text("a")
        (stage.output / "sub").mkdir()
        (stage.output / "sub" / "b.txt").write_text("b")
    marker = json.loads((tmp_path / "out" / MARKER).read_text())
    assert marker["entries"] == ["a.txt", "sub", "sub/b.txt"]
    assert folder.is_ours(tmp_path / "out")
    (tmp_path / "out" / "sub" / "c.txt").write_text("someone else's")
    assert not folder.is_ours(tmp_path / "out")
    assert debris(tmp_path) == []


def test_a_home_folder_with_a_summary_json_is_never_replaced(export: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    for name in ("summary.json", "findings.parquet", "thesis.docx", "photos/cat.jpg"):
        (home / name).write_text("precious")
    code, output = audit(export, home)
    assert code == 2
    assert output.strip().splitlines() == [
        f"error: {home}: expected a new or empty folder, or a previous output (with its {MARKER} and nothing else)"
    ]
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == [
        "findings.parquet",
        "photos",
        "photos/cat.jpg",
        "summary.json",
        "thesis.docx",
    ]
    assert debris(tmp_path) == []


def test_a_forged_marker_does_not_cover_unlisted_files(export: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / MARKER).write_text(json.dumps({"entries": ["summary.json"]}))
    (home / "summary.json").write_text("{}")
    (home / "thesis.docx").write_text("precious")
    assert audit(export, home)[0] == 2
    assert (home / "thesis.docx").exists()


def test_an_empty_folder_is_used(export: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert audit(export, tmp_path / "out")[0] == 0
    assert (tmp_path / "out" / "summary.json").exists()


def test_a_symlink_out_is_refused_and_left_alone(export: Path, tmp_path: Path) -> None:
    assert audit(export, tmp_path / "real")[0] == 0
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, output = audit(export, tmp_path / "link")
    assert code == 2 and "not a symbolic link" in output
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / MARKER).exists()


@pytest.mark.parametrize("out", [".", "", "..", "/"])
def test_the_current_folder_its_parents_and_the_root_are_refused(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, output = audit(export, out)
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    assert "Traceback" not in output
    assert sorted(p.name for p in work.iterdir()) == []


def test_an_unwritable_location_is_refused_before_the_audit_runs(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only or immutable parent (simulated: the tests may run as root, who may write anyway)."""
    import privacy_audit.audit

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(folder.tempfile, "mkdtemp", read_only)
    monkeypatch.setattr(privacy_audit.audit, "run_audit", lambda *a, **k: pytest.fail("the audit ran"))
    code, output = audit(export, tmp_path / "out")
    assert code == 2
    assert output.strip().splitlines() == [
        f"error: {tmp_path / 'out'}: expected an output folder that can be written (Read-only file system)"
    ]


def test_a_full_disk_is_one_line_and_keeps_the_previous_output(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert audit(export, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(findings, "write_outputs", full)
    code, output = audit(export, out)
    assert code == 2 and "Traceback" not in output
    assert [line for line in output.splitlines() if line.startswith("error")] == [
        f"error: {out}: expected an output folder that can be written (No space left on device)"
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert debris(tmp_path) == []


def test_stale_staging_of_killed_runs_is_removed_at_start(export: Path, tmp_path: Path) -> None:
    killed = tmp_path / f".out.staging-{dead_pid()}-abcd1234"
    (killed / "output").mkdir(parents=True)
    (killed / "output" / "findings.parquet").write_bytes(b"PAR1")
    (killed / "scratch" / "duckdb_temp_storage-0.tmp").parent.mkdir()
    (killed / "scratch" / "duckdb_temp_storage-0.tmp").write_bytes(b"spill")
    running = tmp_path / ".out.staging-1-efgh5678"  # pid 1 is alive: not ours to remove
    running.mkdir()
    other = tmp_path / f".other.staging-{dead_pid()}-abcd1234"  # another target's
    other.mkdir()
    assert audit(export, tmp_path / "out")[0] == 0
    assert debris(tmp_path) == sorted([running.name, other.name])


def test_a_run_killed_between_its_renames_gets_the_previous_output_back(tmp_path: Path) -> None:
    killed = tmp_path / f".out.staging-{dead_pid()}-abcd1234"
    (killed / "previous").mkdir(parents=True)
    (killed / "previous" / "summary.json").write_text("previous")
    (killed / "previous" / MARKER).write_text(json.dumps({"entries": ["summary.json"]}))
    with staged_output(tmp_path / "out") as stage:
        assert (tmp_path / "out" / "summary.json").read_text() == "previous"
        (stage.output / "summary.json").write_text("new")
    assert (tmp_path / "out" / "summary.json").read_text() == "new"


def test_a_second_concurrent_run_on_one_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from privacy_audit.outputs.folder import staged_output\n"
            f"with staged_output(Path({str(out)!r})) as stage:\n"
            "    print('staged', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "staged"
        second = cli("audit", str(DEMO_EXPORT), "--as-of", "2026-11-01", "--out", str(out))
        _, stderr = second.communicate(timeout=120)
        assert second.returncode == 2
        assert stderr.strip().splitlines() == [
            f"error: {out}: expected no other run writing this folder at the same time (it holds .out.lock)"
        ]
    finally:
        holder.communicate("done\n", timeout=60)
    assert holder.returncode == 0 and (out / MARKER).exists()
    assert debris(tmp_path) == []  # the lock file is gone with the run


def test_sigterm_mid_audit_exits_143_and_leaves_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = cli("audit", str(DEMO_EXPORT), "--as-of", "2026-11-01", "--out", str(out), "--threads", "1")
    wait_for(lambda: any(p.name.startswith(".out.staging-") for p in tmp_path.iterdir()))
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 143, stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    assert not out.exists()
    assert debris(tmp_path) == []


def test_overlapping_export_and_output_are_refused_either_way(export: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="outside the export"):
        folder.check_target(export / "out", export)
    with pytest.raises(InputError, match="outside the export"):
        folder.check_target(tmp_path, export)
    assert folder.check_target(tmp_path / "out", export) == tmp_path / "out"
