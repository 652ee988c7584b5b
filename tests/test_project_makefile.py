"""The generated Makefile: `make` alone lists the commands, and `make install` refuses an
unsupported Python before it installs anything."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.variants import SUPPORTED_VARIANTS

COMMANDS = ["help", "install", "test", "local-pipeline", "lint", "format", "clean"]


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_make_alone_lists_the_commands(generated_project: Path) -> None:
    result = subprocess.run(["make", "--no-print-directory"], cwd=generated_project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^  ([a-z-]+) +\S", result.stdout, re.MULTILINE) == COMMANDS


def fake_python(folder: Path, version: str) -> Path:
    """An executable that answers the version check like Python ``version`` would."""
    script = folder / f"python{version}"
    script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS[:1], ids=lambda v: v.id)
@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_install_refuses_an_unsupported_python_first(generated_project: Path, tmp_path: Path, version: str) -> None:
    project = shutil.copytree(generated_project, tmp_path / "project")
    python = fake_python(tmp_path, version)
    result = subprocess.run(["make", "install", f"PYTHON={python}"], cwd=project, capture_output=True, text=True)
    assert result.returncode != 0
    assert f"is Python {version}; this project needs one of Python 3.10 3.11 3.12" in result.stderr
    assert "make install PYTHON=python3.11" in result.stderr
    assert not (project / ".venv").exists()


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS[:1], ids=lambda v: v.id)
def test_install_names_a_python_it_cannot_run(generated_project: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / "project")
    result = subprocess.run(["make", "install", "PYTHON=no-such-python"], cwd=project, capture_output=True, text=True)
    assert result.returncode != 0 and "Cannot run 'no-such-python'" in result.stderr
    assert not (project / ".venv").exists()
