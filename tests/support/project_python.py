"""The Python of the cached venvs in which generated projects run their own code.

The MLflow Recipes code (MLflow 2.22) installs into one venv (``project_python``). Both
MLflow 3 tracks, the plain one (``include_mlflow_recipes=no``) and the feature store, install
into another (``mlflow3_python``): the union of their ``requirements.txt`` and
``test-requirements.txt``, whose shared pins come from one ``requirements.txt`` block.
Use the session fixture in a test module with

    from tests.support.project_python import project_python  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.generation import generate
from tests.support.project_venv import ensure_project_venv
from tests.support.runtimes import PROJECT_TEST_PYTHON

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


def python_executable(version: str) -> str | None:
    """An interpreter of Python ``version`` (``"3.12"``) that runs, or None.

    Looks on PATH and in pyenv's versions folder: a pyenv shim is on PATH for every installed
    version but fails unless that version is selected, so each candidate is tried.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}"), *map(str, sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    return None


def jobs_python() -> str:
    """The interpreter of the Python the project's jobs run (tests/support/runtimes.py).

    Skips the calling test, naming the missing interpreter, where that Python is not installed.
    """
    python = python_executable(PROJECT_TEST_PYTHON)
    if python is None:
        pytest.skip(f"Python {PROJECT_TEST_PYTHON} (the jobs' Python) is not installed: no working python{PROJECT_TEST_PYTHON}")
    return python


@pytest.fixture(scope="session")
def mlflow3_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the MLflow 3 tracks' project venv, on the Python their jobs run."""
    return mlflow3_python_for(jobs_python(), tmp_path_factory.mktemp("mlflow3-requirements"))


@pytest.fixture(scope="session")
def project_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interpreter of the MLflow Recipes project venv, on the Python its jobs run."""
    return project_python_for(jobs_python(), tmp_path_factory.mktemp("project-requirements"))
