"""The README's quick start and CI agree: two commands, and .ci/run runs the test one verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_COMMAND = "pip install -r requirements.txt && streamlit run app.py"
TEST_COMMAND = "pip install -r requirements-dev.txt && python -m pytest"


def _quick_start() -> list[str]:
    """The shell commands in the README's "Quick start" section, one per code block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_quick_start_has_exactly_the_two_commands():
    assert _quick_start() == [APP_COMMAND, TEST_COMMAND]


def test_ci_runs_the_readme_test_command_verbatim_and_fails_loudly():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in ci.splitlines()]
    assert TEST_COMMAND in lines  # a line of its own, not inside a comment or an `|| true`
    assert "set -euo pipefail" in lines
    assert "LATENTLAB_REQUIRE_BROWSER=1" in ci  # browser tests fail instead of skipping in CI
    assert "|| true" not in ci


def test_requirements_pin_torch_and_name_the_browser_driver():
    req = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert "torch==2.14.1" in req
    assert "-r requirements.txt" in dev
    assert "playwright" in dev and "pytest" in dev
