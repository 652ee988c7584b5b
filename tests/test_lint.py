"""Lint set-ups: the template's own code passes ruff, and every generated project passes ``make lint``.

Generated projects run ``make lint`` (ruff check and ruff format --check, settings in their
ruff.toml) once per distinct lint signature: variants whose Python files and ruff
settings are identical lint identically, so one of them stands for all.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.generation import generate_variant
from tests.support.project_venv import ensure_project_venv
from tests.support.variants import SUPPORTED_VARIANTS, TEMPLATE_DIR, Variant

LINT_INPUTS = ("ruff.toml",)


def ruff_pin(requirements: Path) -> str:
    match = re.search(r"^ruff==(\S+)$", requirements.read_text(), re.MULTILINE)
    assert match, f"{requirements} does not pin ruff"
    return match.group(1)


def pre_commit_ruff_rev(config: Path) -> str:
    repos = yaml.safe_load(config.read_text())["repos"]
    [ruff] = [repo for repo in repos if repo["repo"].endswith("/ruff-pre-commit")]
    return ruff["rev"].removeprefix("v")


def lint_signature(project: Path) -> str:
    """Hash of what ``make lint`` reads: every Python file and the ruff settings."""
    digest = hashlib.sha256()
    files = sorted(p for p in project.rglob("*") if p.is_file() and (p.suffix == ".py" or p.name in LINT_INPUTS))
    for path in files:
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def test_template_code_passes_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=TEMPLATE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_pre_commit_runs_the_pinned_ruff() -> None:
    assert pre_commit_ruff_rev(TEMPLATE_DIR / ".pre-commit-config.yaml") == ruff_pin(TEMPLATE_DIR / "dev-requirements.txt")


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS[:1], ids=lambda v: v.id)
def test_generated_pre_commit_config_is_valid_and_runs_the_pinned_ruff(generated_project: Path) -> None:
    config = generated_project / ".pre-commit-config.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = [hook["id"] for repo in yaml.safe_load(config.read_text())["repos"] for hook in repo["hooks"]]
    assert hooks == ["ruff-check", "ruff-format"]
    assert pre_commit_ruff_rev(config) == ruff_pin(generated_project / "dev-requirements.txt")


def test_template_pre_commit_config_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(TEMPLATE_DIR / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.large
def test_generated_code_passes_make_lint(
    _generated_projects: dict[Variant, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    by_signature: dict[str, list[Variant]] = {}
    for variant in SUPPORTED_VARIANTS:
        if variant not in _generated_projects:
            _generated_projects[variant] = generate_variant(tmp_path_factory.mktemp(variant.id), variant)
        by_signature.setdefault(lint_signature(_generated_projects[variant]), []).append(variant)

    failures = []
    for variants in by_signature.values():
        project = shutil.copytree(_generated_projects[variants[0]], tmp_path_factory.mktemp("lint") / "project")
        venv = ensure_project_venv([project / "dev-requirements.txt"]).parent.parent
        (venv / ".lint-tools").touch()  # the venv has dev-requirements.txt: make needs not install it
        result = subprocess.run(
            ["make", "--no-print-directory", "lint", f"VENV={venv}"], cwd=project, capture_output=True, text=True
        )
        if result.returncode != 0:
            names = ", ".join(v.id for v in variants)
            failures.append(f"make lint failed for {names}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)
