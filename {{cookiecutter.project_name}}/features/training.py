"""Train the fare model on a feature-store training set and register it.

The same code trains on Databricks (TrainWithFeatureStore) and locally
(``python -m local_pipeline.feature_store``); only the ``FeatureStore`` passed in
differs. The model is a scikit-learn gradient-boosting regressor, which accepts the
missing values a trip gets when its zip had no earlier feature row.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from features.feature_tables import FEATURE_TABLES, feature_lookups
from features.point_in_time import add_lookup_timestamps
from features.stores import FeatureStore

LABEL = "fare_amount"
TRIP_INPUT_COLUMNS = ("trip_distance", "pickup_zip", "dropoff_zip")
MODEL_INPUT_COLUMNS = TRIP_INPUT_COLUMNS + tuple(name for table in FEATURE_TABLES for name in table.feature_names)
MODEL_ARTIFACT_PATH = "model"
_SEED = 42


@dataclass(frozen=True)
class TrainingResult:
    run_id: str
    model_name: str
    model_version: str
    metrics: dict[str, float]

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}/{self.model_version}"


def plausible_trips(trips: DataFrame) -> DataFrame:
    """Trips fit to learn from: a label and a distance, both positive and not absurd."""
    return trips.where(F.col(LABEL).between(0.01, 1000) & F.col("trip_distance").between(0.01, 400))


def model_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns as float64.

    The model's signature then says "double" everywhere: MLflow accepts int32 and
    float columns for it, so a lookup that returns nulls (float) or counts (int)
    scores the same way on Databricks and locally.
    """
    return frame.loc[:, list(MODEL_INPUT_COLUMNS)].astype("float64")


def fit_model(training_frame: pd.DataFrame) -> tuple[HistGradientBoostingRegressor, dict[str, float]]:
    """Fit on 80% of the rows; return the model and its metrics on the other 20%."""
    train, test = train_test_split(training_frame, test_size=0.2, random_state=_SEED)
    model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, random_state=_SEED)
    model.fit(model_inputs(train), train[LABEL])
    predicted = model.predict(model_inputs(test))
    metrics = {
        "root_mean_squared_error": float(np.sqrt(mean_squared_error(test[LABEL], predicted))),
        "mean_absolute_error": float(mean_absolute_error(test[LABEL], predicted)),
        "r2_score": float(r2_score(test[LABEL], predicted)),
    }
    return model, metrics


def train_and_register(store: FeatureStore, trips: DataFrame, env: str, model_name: str) -> TrainingResult:
    """Build the training set from ``env``'s feature tables, train, log and register.

    Must run with the MLflow experiment already chosen. The model is logged with its
    feature lookups, so scoring needs only the raw trip columns.
    """
    trips = add_lookup_timestamps(plausible_trips(trips))
    excluded = [column for column in trips.columns if column not in (*TRIP_INPUT_COLUMNS, LABEL)]
    with mlflow.start_run() as run:
        training_set = store.create_training_set(trips, feature_lookups(env), LABEL, excluded)
        model, metrics = fit_model(training_set.load_df().toPandas())
        mlflow.log_params({"env": env, "model_type": type(model).__name__, **model.get_params()})
        mlflow.log_metrics(metrics)
        store.log_model(model, training_set, MODEL_ARTIFACT_PATH, model_name)
    version = _version_registered_by(run.info.run_id, model_name)
    return TrainingResult(run.info.run_id, model_name, version, metrics)


def _version_registered_by(run_id: str, model_name: str) -> str:
    """The version of ``model_name`` that run ``run_id`` registered."""
    # Filter on run_id alone, the one clause every registry backend supports, then by name.
    versions = [v for v in MlflowClient().search_model_versions(f"run_id='{run_id}'") if v.name == model_name]
    if not versions:
        raise RuntimeError(f"run {run_id} registered no version of model {model_name!r}")
    return str(max(int(v.version) for v in versions))
