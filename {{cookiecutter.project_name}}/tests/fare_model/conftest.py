"""Fixtures for the fare_model tests: the committed test slice of trips and registered models."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.base import RegressorMixin
from sklearn.pipeline import Pipeline

from fare_model.data import TARGET, integer_schema_hint_ignored
from fare_model.model_code import bundled_feature_code
from fare_model.training import TrainedModel, _trusted_types, train_and_register
from tests.mlflow_store import use_sqlite_store

TEST_SAMPLE = Path(__file__).resolve().parents[1] / "test_sample.parquet"
MODEL_NAME = "fares"

RegisterModel = Callable[[RegressorMixin], str]


@pytest.fixture
def trips() -> pd.DataFrame:
    """200 raw trips of March 2024 with the sample's six columns and dtypes."""
    return pd.read_parquet(TEST_SAMPLE)


@pytest.fixture(scope="session")
def _store_snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """An empty store and one holding version 1 of ``fares``, built once per test session.

    Creating an MLflow 3 SQLite store (schema migrations) and training take seconds; the
    tests copy these database files instead. Artifacts stay in this session folder, which
    every copy's experiment points to.
    """
    root = tmp_path_factory.mktemp("mlflow-store")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)  # the experiment's artifact root becomes root / "mlruns"
        use_sqlite_store(root / "mlruns.db", monkeypatch)
        empty = (root / "mlruns.db").read_bytes()
        trained = train_and_register(pd.read_parquet(TEST_SAMPLE), MODEL_NAME, source=str(TEST_SAMPLE))
        mlflow.set_tracking_uri(None)
    return {"empty": empty, "trained": (root / "mlruns.db").read_bytes(), "run_id": trained.run_id.encode()}


@pytest.fixture
def mlflow_store(_store_snapshots: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty store of this test's own (replaces the project-wide fixture, faster)."""
    (tmp_path / "mlruns.db").write_bytes(_store_snapshots["empty"])
    monkeypatch.chdir(tmp_path)
    yield use_sqlite_store(tmp_path / "mlruns.db", monkeypatch)
    mlflow.set_tracking_uri(None)


@pytest.fixture
def trained(_store_snapshots: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainedModel:
    """A store of this test's own holding version 1 of ``fares``, trained by ``fare_model.training`` on ``trips``."""
    (tmp_path / "mlruns.db").write_bytes(_store_snapshots["trained"])
    monkeypatch.chdir(tmp_path)
    use_sqlite_store(tmp_path / "mlruns.db", monkeypatch)
    run = mlflow.get_run(_store_snapshots["run_id"].decode())
    params = run.data.params
    yield TrainedModel(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_name=MODEL_NAME,
        model_version="1",
        training_cutoff=pd.Timestamp(params["training_cutoff"]),
        training_rows=int(params["training_rows"]),
        held_out_rows=int(params["held_out_rows"]),
    )
    mlflow.set_tracking_uri(None)


@pytest.fixture
def register_model(trips: pd.DataFrame, trained: TrainedModel) -> RegisterModel:
    """Register another fitted scikit-learn model as the next version of ``fares``.

    The version gets the trained version's training cutoff, as ``fare_model.training``
    would have recorded it; returns the version number.
    """

    def register(model: RegressorMixin) -> str:
        # Zip codes as long in the signature, as fare_model.training declares them.
        features = trips.drop(columns=[TARGET]).astype({"pickup_zip": "int64", "dropoff_zip": "int64"})
        with integer_schema_hint_ignored():  # long zip codes on purpose, as in fare_model.training
            signature = infer_signature(features, model.predict(features))
        with bundled_feature_code() as code, mlflow.start_run():
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=signature,
                registered_model_name=MODEL_NAME,
                skops_trusted_types=_trusted_types(model) if isinstance(model, Pipeline) else None,
                code_paths=[str(code.path)],
            )
        version = str(info.registered_model_version)
        mlflow.MlflowClient().set_model_version_tag(
            MODEL_NAME, version, "training_cutoff", trained.training_cutoff.isoformat()
        )
        return version

    return register
