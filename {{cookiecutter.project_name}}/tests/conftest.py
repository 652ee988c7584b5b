"""Fixtures shared by all project tests: a local Spark session and a throwaway MLflow store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import mlflow
import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator["pyspark.sql.SparkSession"]:  # noqa: F821
    """One small local Spark session for the whole test run (needs Java 17)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("project-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


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
