"""The project installs as a package: a wheel holds the library, the services, the UI with its
browser code, and the ``latentlab`` command (built offline, without installing it)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from ui import launch

ROOT = Path(__file__).resolve().parents[1]


def test_the_command_points_at_the_app():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["latentlab"] == "ui.launch:main"
    assert launch.APP == ROOT / "app.py" and launch.APP.exists()


@pytest.mark.slow
def test_a_wheel_holds_the_packages_and_the_browser_code(tmp_path):
    src = tmp_path / "src"  # setuptools writes build/ and *.egg-info beside pyproject.toml
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "checkpoints", "test-artifacts", ".cache", ".state", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(src)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("latentlab-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("aecore/__init__.py", "aecore/export.py", "services/classroom.py",
                 "ui/latentmap.py", "ui/web/latentmap.js", "ui/web/decoder.js",
                 "ui/web/latentmap.css"):
        assert must in names, must
    assert not any(n.startswith(("tests/", "bench/", "checkpoints/")) for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "latentlab = ui.launch:main" in zipfile.ZipFile(wheel).read(entry).decode()
