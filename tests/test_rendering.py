"""Generated files are fully rendered, and the template hard-codes no workspace or docs URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_extensions import DOC_BASE_URLS
from tests.support.variants import TEMPLATE_DIR, Variant

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_name}}"

# Files whose own tool reads Jinja-style markup after generation.
MLFLOW_RECIPE_FILES = re.compile(r"^(recipe\.yaml|profiles/[^/]+\.yaml)$")
# GitHub Actions and Azure Pipelines expressions: ${{ ... }}.
CI_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
CI_FILES = re.compile(r"^(\.github|\.azure)/.*\.ya?ml$")
LEFTOVER = re.compile(r"\{\{|\{%|%\}")
# Databricks Jobs dynamic value references, e.g. {{tasks.Train.values.model_uri}}.
DATABRICKS_REFERENCE = re.compile(r"\{\{(?:tasks|job|run)\.[\w.]+\}\}")

WORKSPACE_HOST_DOMAINS = ("azuredatabricks.net", "cloud.databricks.com", "gcp.databricks.com")
DOC_BASES = tuple(url.split("://", 1)[1] for url in DOC_BASE_URLS.values())


def text_files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue  # binary data such as the sample parquet


def unrendered_markup(relative: str, text: str) -> list[str]:
    """Jinja markup that cookiecutter should have rendered, ignoring markup that belongs to the file's tool."""
    if MLFLOW_RECIPE_FILES.match(relative):
        return []
    if CI_FILES.match(relative):
        text = CI_EXPRESSION.sub("", text)
    text = DATABRICKS_REFERENCE.sub("", text)
    return [line for line in text.splitlines() if LEFTOVER.search(line)]


def test_no_unrendered_jinja_in_generated_files(variant: Variant, generated_project: Path) -> None:
    leftovers = {}
    for path, text in text_files(generated_project):
        relative = str(path.relative_to(generated_project))
        if lines := unrendered_markup(relative, text):
            leftovers[relative] = lines
    assert leftovers == {}


def test_leftover_detection_catches_markup_but_not_tool_expressions() -> None:
    assert unrendered_markup("README.md", "Hello {{ cookiecutter.project_name }}") != []
    assert unrendered_markup("notebooks/Train.py", "{% if x %}") != []
    assert unrendered_markup(".github/workflows/x.yml", "run: echo ${{ github.sha }}") == []
    assert unrendered_markup(".github/workflows/x.yml", "run: echo {{ oops }}") != []
    assert unrendered_markup("recipe.yaml", "ingest: {{INGEST_CONFIG}}") == []
    assert unrendered_markup("scripts/x.py", 'URI = "{{tasks.Train.values.model_uri}}"') == []
    assert unrendered_markup("scripts/x.py", 'URI = "{{ tasks }}"') != []


@pytest.mark.parametrize("needle", WORKSPACE_HOST_DOMAINS + DOC_BASES)
def test_template_writes_no_workspace_host_or_docs_base_literally(needle: str) -> None:
    """Hosts come from the answers, docs links from the generate_doc_link filter."""
    offenders = [str(p.relative_to(PROJECT_TEMPLATE)) for p, text in text_files(PROJECT_TEMPLATE) if needle in text]
    assert offenders == []


def test_project_name_reaches_readme_and_terraform_locals(generated_project: Path) -> None:
    assert "my-mlops-project" in (generated_project / "README.md").read_text()
    locals_tf = (generated_project / "databricks-config/prod/locals.tf").read_text()
    assert 'mlflow_experiment_parent_dir = "/ml-projects/my-mlops-project"' in locals_tf
    assert 'read_user_group = "ml-team"' in locals_tf
