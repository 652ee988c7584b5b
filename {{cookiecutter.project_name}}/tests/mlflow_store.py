"""A throwaway MLflow store for tests, shared by the conftest.py files of the project."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest


def use_sqlite_store(database: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MLflow tracking and the model registry at the SQLite file ``database`` and return its URI.

    The environment variable (undone by ``monkeypatch`` after the test) reaches processes the test
    starts; the experiment ``tests`` receives the runs, so tests never touch a real workspace.
    """
    uri = f"sqlite:///{database}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_name="tests")
    return uri
