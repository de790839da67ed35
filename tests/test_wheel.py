"""A non-editable install works outside the checkout, and its report runs its own code.

Two virtualenvs get the package from a wheel built from this checkout; the second one's
version is changed so that its code can be told apart. A global ``privacy-audit`` kernelspec
points at the second install (what a second project or an upgrade in a new venv leaves behind).
The first install's CLI, run from a folder outside the checkout, must render the compliance
report with its own interpreter: the summary it writes from inside the kernel carries its
version, not the other install's.

The venvs see the system's site-packages for the dependencies (no download of the whole
stack per run); ``privacy_audit`` itself is installed into each venv and checked to be
imported from there, never from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
OTHER_VERSION = "0.0.1+other-install"
pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """No PYTHONPATH (the tests point it at src/) and no Jupyter settings of this machine's user."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV")}


def build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    """A wheel from a clean copy of the checkout (an in-tree build/ could ship stale modules)."""
    source = tmp / "source"
    shutil.copytree(
        CHECKOUT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "data", "tests"),
    )
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", source, cwd=tmp, env=env)
    (wheel,) = (tmp / "dist").glob("privacy_audit-*.whl")
    return wheel


def venv_with(wheel: Path, where: Path, env: dict[str, str]) -> Path:
    run(
        sys.executable,
        "-m",
        "venv",
        "--system-site-packages",
        "--without-pip",
        where,
        cwd=where.parent,
        env=env,
    )
    python = where / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "-q",
        wheel,
        cwd=where,
        env=env,
    )
    return python


def test_a_wheel_renders_the_report_outside_the_checkout_in_its_own_kernel(tmp_path: Path) -> None:
    env = clean_env()
    wheel = build_wheel(tmp_path, env)
    mine = venv_with(wheel, tmp_path / "mine", env)
    other = venv_with(wheel, tmp_path / "other", env)
    (metadata,) = (tmp_path / "other").glob("lib/python*/site-packages/privacy_audit-*.dist-info/METADATA")
    text = metadata.read_text(encoding="utf-8")
    metadata.write_text(
        text.replace("\nVersion: ", f"\nVersion: {OTHER_VERSION}\nX-Was: ", 1), encoding="utf-8"
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = "import privacy_audit, sys; print(privacy_audit.__file__); print(privacy_audit.__version__)"
    mine_file, mine_version = run(mine, "-c", probe, cwd=elsewhere, env=env).split()
    assert Path(mine_file).is_relative_to(tmp_path / "mine")
    assert run(other, "-c", probe, cwd=elsewhere, env=env).split()[1] == OTHER_VERSION != mine_version

    jupyter = tmp_path / "jupyter"  # the global kernelspec of that name launches the other install
    run(
        other,
        "-m",
        "ipykernel",
        "install",
        "--prefix",
        jupyter,
        "--name",
        "privacy-audit",
        cwd=elsewhere,
        env=env,
    )
    # nbconvert's templates are data files of the borrowed system install, found through JUPYTER_PATH.
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(jupyter / "share" / "jupyter"), str(Path(sys.prefix) / "share" / "jupyter")]
    )

    out = tmp_path / "reports" / "r"
    run(
        tmp_path / "mine" / "bin" / "privacy-audit",
        "report",
        "compliance",
        "--export",
        CHECKOUT / "data" / "synthetic" / "demo" / "export",
        "--as-of",
        "2026-11-01",
        "--out",
        out,
        cwd=elsewhere,
        env=env,
    )
    assert (out / "compliance.html").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["tool_version"] == mine_version  # written by the kernel: the CLI's own code
    executed = nbformat.read(out / "compliance.ipynb", as_version=4)
    assert not any(o.output_type == "error" for c in executed.cells for o in c.get("outputs", []))
    assert sorted(p.name for p in elsewhere.iterdir()) == []
