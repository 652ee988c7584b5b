"""The Python of the cached venvs in which generated projects run their own code.

The MLflow Recipes code (MLflow 2.22) installs into one venv (``project_python``). Both
MLflow 3 tracks, the plain one (``include_mlflow_recipes=no``) and the feature store, install
into another (``mlflow3_python``): the union of their ``requirements.txt`` and
``test-requirements.txt``, whose shared pins come from one ``requirements.txt`` block.
Use the session fixture in a test module with

    from tests.support.project_python import project_python  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.generation import generate
from tests.support.project_venv import ensure_project_venv

REQUIREMENT_FILES = ("requirements.txt", "test-requirements.txt")


def union_requirement_files(output_dir: Path) -> list[Path]:
    """Requirement files of a default project (the MLflow Recipes code)."""
    project = generate(output_dir / "recipes", {})
    return [project / name for name in REQUIREMENT_FILES]


def project_python_for(python: str, workdir: Path) -> Path:
    """The cached project venv's interpreter, built with ``python`` if it does not exist yet."""
    return ensure_project_venv(union_requirement_files(workdir), python=python)


def mlflow3_requirement_files(output_dir: Path) -> list[Path]:
    """Requirement files of the two MLflow 3 tracks: the plain MLflow 3 code and the feature store.

    MLflow 3 cannot share a venv with MLflow 2.22, so these tracks get a venv of their own.
    """
    files = []
    for name, answers in (("mlflow3", {"include_mlflow_recipes": "no"}), ("fs", {"include_feature_store": "yes"})):
        project = generate(output_dir / name, answers)
        files += [project / file_name for file_name in REQUIREMENT_FILES]
    return files


def mlflow3_python_for(python: str, workdir: Path) -> Path:
    """The interpreter of the cached venv for the MLflow 3 code, built with ``python`` if needed."""
    return ensure_project_venv(mlflow3_requirement_files(workdir), python=python)


@pytest.fixture(scope="session")
def mlflow3_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the MLflow 3 tracks' project venv for this interpreter's Python version."""
    return mlflow3_python_for(sys.executable, tmp_path_factory.mktemp("mlflow3-requirements"))


@pytest.fixture(scope="session")
def project_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the shared project venv for this interpreter's Python version."""
    return project_python_for(sys.executable, tmp_path_factory.mktemp("project-requirements"))
