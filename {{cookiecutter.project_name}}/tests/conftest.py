"""Fixtures shared by all project tests: a local Spark session and a throwaway MLflow store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import mlflow
import pytest

from local_pipeline import local_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One small local Spark session for the whole test run (needs Java 17), as the local pipeline uses."""
    with local_spark("project-tests") as session:
        yield session


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Tracking and registry in a fresh SQLite file, so tests never touch a real workspace."""
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_name="tests")
    monkeypatch.chdir(tmp_path)  # default artifact root ./mlruns lands in tmp_path
    yield uri
    mlflow.set_tracking_uri(None)
