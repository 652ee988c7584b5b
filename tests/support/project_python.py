"""The Python of the one cached venv in which generated projects run their own code.

Both MLflow 2.22 variants (MLflow Recipes and the feature store) install into the same venv:
it gets the union of both variants' ``requirements.txt`` and ``test-requirements.txt``. The
MLflow 3 code (``include_mlflow_recipes=no``) gets a venv of its own (``mlflow3_python``).
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
    """Requirement files of a default project with and one without the feature store."""
    files = []
    for include_feature_store in ("no", "yes"):
        project = generate(output_dir / include_feature_store, {"include_feature_store": include_feature_store})
        files += [project / name for name in REQUIREMENT_FILES]
    return files


def project_python_for(python: str, workdir: Path) -> Path:
    """The cached project venv's interpreter, built with ``python`` if it does not exist yet."""
    return ensure_project_venv(union_requirement_files(workdir), python=python)


def mlflow3_requirement_files(output_dir: Path) -> list[Path]:
    """Requirement files of a default project with the MLflow 3 code (include_mlflow_recipes=no).

    MLflow 3 cannot share a venv with MLflow 2.22, so that code gets a venv of its own.
    """
    project = generate(output_dir / "mlflow3", {"include_mlflow_recipes": "no"})
    return [project / name for name in REQUIREMENT_FILES]


def mlflow3_python_for(python: str, workdir: Path) -> Path:
    """The interpreter of the cached venv for the MLflow 3 code, built with ``python`` if needed."""
    return ensure_project_venv(mlflow3_requirement_files(workdir), python=python)


@pytest.fixture(scope="session")
def mlflow3_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the MLflow 3 code's project venv for this interpreter's Python version."""
    return mlflow3_python_for(sys.executable, tmp_path_factory.mktemp("mlflow3-requirements"))


@pytest.fixture(scope="session")
def project_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the shared project venv for this interpreter's Python version."""
    return project_python_for(sys.executable, tmp_path_factory.mktemp("project-requirements"))
