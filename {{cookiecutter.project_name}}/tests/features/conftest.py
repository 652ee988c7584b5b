"""Fixtures of the feature tests: a local feature store holding both feature tables.

The Spark session, the MLflow store and the synthetic trips come from the conftest.py in
the project root.
"""

from __future__ import annotations

import pytest

from features.feature_tables import FEATURE_TABLES
from features.generate import generate_and_write_features
from features.local_store import ROOT_ENV_VAR, LocalFeatureStore

ENV = "dev"


@pytest.fixture
def store(spark, trips, tmp_path, monkeypatch, mlflow_store):
    """A local store in ``tmp_path`` holding both feature tables of ``ENV`` (MLflow: see conftest.py)."""
    monkeypatch.setenv(ROOT_ENV_VAR, str(tmp_path / "feature_store"))
    store = LocalFeatureStore(spark)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, trips, table.module, ENV)
    return store
