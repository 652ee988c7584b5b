"""The template repo keeps its promises: README commands, CI entry point, own workflow."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.variants import TEMPLATE_DIR


def make_recipe(target: str) -> list[str]:
    """The shell lines of a Makefile target."""
    lines = (TEMPLATE_DIR / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{target}:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    text = (TEMPLATE_DIR / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert first_block is not None and text.index(first_block.group(0)) < text.index("## ")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (TEMPLATE_DIR / ".ci" / "run").read_text()
    commands = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert commands[-1] == "make test"


def test_make_test_runs_the_whole_suite_with_large_tests() -> None:
    """Every test, large ones included, on all cores, with the slowest tests listed at the end."""
    assert "$(VENV)/bin/pytest tests --large -n auto --durations=40" in make_recipe("test")


def test_make_demo_generates_the_default_project_and_runs_its_local_pipeline() -> None:
    recipe = make_recipe("demo")
    assert any("cookiecutter . --no-input" in line for line in recipe)
    assert any("install local-pipeline" in line for line in recipe)


def test_the_template_repo_ci_workflow_lints_clean() -> None:
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install -r dev-requirements.txt)")
    result = subprocess.run(
        [actionlint, "-no-color", ".github/workflows/run-checks.yml"], cwd=TEMPLATE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_merge_or_editor_leftovers_are_tracked() -> None:
    """``.orig``/``.rej`` files from merges and editor backups would be generated into projects."""
    files = subprocess.run(["git", "ls-files"], cwd=TEMPLATE_DIR, capture_output=True, text=True, check=True).stdout
    leftovers = [name for name in files.splitlines() if name.endswith((".orig", ".rej", ".bak", "~", ".swp"))]
    assert leftovers == []


def test_no_symlink_is_tracked() -> None:
    """A worktree's symlink to a shared ``node_modules`` or venv once got committed: a fresh clone
    (CI) then has a dangling link where the test support code installs packages."""
    entries = subprocess.run(["git", "ls-files", "-s"], cwd=TEMPLATE_DIR, capture_output=True, text=True, check=True).stdout
    links = [line.split("\t", 1)[1] for line in entries.splitlines() if line.startswith("120000 ")]
    assert links == []
