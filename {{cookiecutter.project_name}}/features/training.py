"""Train the fare model on a feature-store training set and register it.

The same code trains on Databricks (TrainWithFeatureStore) and locally
(``python -m local_pipeline.feature_store``); only the ``FeatureStore`` passed in
differs. The model is a scikit-learn gradient-boosting model, which accepts the
missing values a trip gets when its zip had no earlier feature row.

What comes from the model's package (``model_spec``): the label, time column and task
(``model_spec.data``), the cleaning rules (``model_spec.contract``, through ``steps.trips``), the
metrics (``model_spec.metrics``) and the prediction (``model_spec.prediction``: a classifier's
predicted class, written with the label's type, ``features.scoring``). What is this track's own:
the inputs and the estimator (``build_model``). The other tracks take those from the package
too (``model_spec.features`` and ``model_spec.estimator``, fitted on raw trip columns); this
track's inputs are the trip's attributes plus the feature tables' looked-up columns
(``features.feature_tables``), with missing values and zip codes as categories, so its package
has neither module and ``build_model`` fits a histogram gradient-boosting model of the
package's ``TASK`` (a regressor or a classifier) that takes those inputs as they are. Those feature
tables are the taxi trips' windows per zip code: a model of other data needs its own feature
modules and tables in ``features/`` (stack-customization.md, task C).

Training never sees the held-out period (the newest tenth of the trips, at most the newest
``steps.trips.HELD_OUT_DAYS`` days; ``steps.trips`` says why) that ModelValidation judges the
model on: it records where that period starts on the model version (tag ``training_cutoff``,
``fare_model.registry``) and ModelValidation holds out exactly that period. The registered
model is the one validated, so it is not refitted on the held-out days (``steps.trips``). Its
own metrics come from the last fifth of the training period by time. At most
``MAX_TRAINING_ROWS`` rows are collected to the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from fare_model.registry import TRAINING_CUTOFF_TAG, model_version_uri
from features.feature_tables import FEATURE_TABLES, feature_lookups
from features.scoring import PREDICTION_TYPE_TAG, prediction_type_for, split_at_feature_freshness
from features.stores import FeatureStore
from features.trip_attributes import TRIP_ATTRIBUTES, prepare_trips
from model_spec.data import LABEL, TASK, TIME_COLUMN
from model_spec.metrics import compute_metrics
from model_spec.prediction import prediction_column
from steps.row_checks import run_time
from steps.trips import holdout_cutoff, in_canonical_order, plausible_trips, split_at

ZIP_COLUMNS = ("pickup_zip", "dropoff_zip")
# The trip's own columns the model reads: raw ones and those ``prepare_trips`` derives.
TRIP_INPUT_COLUMNS = ("trip_distance", *ZIP_COLUMNS, *TRIP_ATTRIBUTES)
MODEL_INPUT_COLUMNS = TRIP_INPUT_COLUMNS + tuple(name for table in FEATURE_TABLES for name in table.feature_names)
MODEL_NAME_IN_RUN = "model"
# Training-period trips left out because no feature table covered their time yet.
TRIPS_BEYOND_FEATURES_METRIC = "trips_beyond_feature_freshness"
# Types inside the fitted model that skops (MLflow 3's format for scikit-learn models) does
# not load unless told to trust them: scikit-learn's own tree predictor and input checks.
# Trusting them is safe for models this project fitted itself; review the list when you
# change ``build_model`` (MLflow's error on logging names any type missing here).
SKOPS_TRUSTED_TYPES = (
    "functools.partial",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
)
_SEED = 42
# The model is fitted in the driver's memory; a larger training set is sampled down to this.
MAX_TRAINING_ROWS = 2_000_000
METRICS_FRACTION = 0.2
# Zip codes are categories, not quantities. The estimator takes at most 255 categories per
# feature; rarer zips share one "infrequent" category and unseen ones count as missing.
MAX_ZIP_CATEGORIES = 250
# Below this many training rows the model is fitted on one thread (see ``_threads_for``).
SINGLE_THREAD_ROWS = 200_000


@dataclass(frozen=True)
class TrainingResult:
    run_id: str
    model_name: str
    model_version: str
    metrics: dict[str, float]

    @property
    def model_uri(self) -> str:
        return model_version_uri(self.model_name, self.model_version)


def model_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns of ``frame``: zip codes as they are, the rest as float64.

    Float64 is what the model receives when scored through its signature, where counts
    may be missing (a quiet window), so it is fitted on the same types.
    """
    inputs = frame.loc[:, list(MODEL_INPUT_COLUMNS)]
    return inputs.astype({name: "float64" for name in MODEL_INPUT_COLUMNS if name not in ZIP_COLUMNS})


def build_model() -> Pipeline:
    """An unfitted model of ``model_spec.data.TASK`` that selects and encodes its own inputs from any wider frame.

    Selection and encoding are part of the logged model, so Databricks' ``score_batch``
    (which passes every column of the training set) and the local store feed it the same
    inputs. Zip codes are ordinal-encoded categories; the other inputs pass as numbers,
    a missing count (no feature row within the look-back: a quiet window) is 0, and the
    gradient-boosting estimator (a regressor, or for "classification" a classifier) takes the
    other missing values (no fare known yet).
    """
    zips = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_ZIP_CATEGORIES,
        dtype=np.float64,
    )
    # No feature row within the look-back means the window had no trips: a count of 0.
    counts = [name for name in MODEL_INPUT_COLUMNS if name.startswith("count_")]
    numeric = [name for name in MODEL_INPUT_COLUMNS if name not in (*ZIP_COLUMNS, *counts)]
    inputs = ColumnTransformer(
        [
            ("zip_categories", zips, list(ZIP_COLUMNS)),
            ("counts", SimpleImputer(strategy="constant", fill_value=0, keep_empty_features=True), counts),
            ("numbers", "passthrough", numeric),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    kind = HistGradientBoostingRegressor if TASK == "regression" else HistGradientBoostingClassifier
    estimator = kind(
        max_iter=200, learning_rate=0.1, categorical_features=list(range(len(ZIP_COLUMNS))), random_state=_SEED
    )
    return Pipeline([("inputs", inputs), ("estimator", estimator)])


def _threads_for(rows: int) -> Optional[int]:
    """OpenMP threads for fitting on ``rows`` rows: one below ``SINGLE_THREAD_ROWS``, else all.

    On small sets the gradient-boosting's per-iteration thread synchronisation costs more
    than it saves, dramatically so when the cores are busy (Spark's JVM, other jobs): on
    the 10,000-trip sample on a loaded 2-core machine, 200 iterations took 31.5 s with
    every core and 1.7 s with one.
    """
    return 1 if rows < SINGLE_THREAD_ROWS else None


def fit_model(training_frame: pd.DataFrame) -> tuple[Pipeline, dict[str, float]]:
    """Fit on the older 80% of the rows (by pickup time); return the model and its metrics on the newest 20%.

    The metrics are the model's (``model_spec.metrics.compute_metrics``).

    The rows are put in canonical order first (``steps.trips.in_canonical_order``): Spark
    collects them in any order, and the seeded fit depends on it.
    """
    ordered = in_canonical_order(training_frame)
    cut = int(len(ordered) * (1 - METRICS_FRACTION))
    train, test = ordered.iloc[:cut], ordered.iloc[cut:]
    with threadpool_limits(limits=_threads_for(len(ordered)), user_api="openmp"):
        model = build_model().fit(model_inputs(train), train[LABEL])
        predicted = prediction_column(model, model_inputs(test))
    return model, compute_metrics(predicted, test[LABEL])


def sample_at_most(rows: DataFrame, limit: int = MAX_TRAINING_ROWS) -> DataFrame:
    """``rows``, sampled down (seeded) to about ``limit`` rows when there are more."""
    count = rows.count()
    return rows.sample(fraction=limit / count, seed=_SEED) if count > limit else rows


def train_and_register(
    store: FeatureStore, trips: DataFrame, env: str, model_name: str, ci_run_id: str = ""
) -> TrainingResult:
    """Build the training set from ``env``'s feature tables, train, log and register.

    With ``ci_run_id`` (CI environment only) the feature tables are those that CI run wrote
    (``features.feature_tables``), and so are the lookups the model is logged with.

    ``trips`` are raw trips; the implausible ones and the held-out period are left out
    here, and so are the trips newer than a feature table's freshness (their count is the
    metric ``trips_beyond_feature_freshness``). Must run with the MLflow experiment already chosen. The model is logged with its
    feature lookups, so scoring needs only the raw trip columns. The held-out period's first
    pickup time is logged (param) and tagged on the version (``TRAINING_CUTOFF_TAG``), and so is
    the run's timestamp that the contract judged pick-ups against (param ``contract_as_of``).
    The version's tag ``PREDICTION_TYPE_TAG`` says which Spark type scoring writes its
    prediction as (``features.scoring.prediction_type_for``: the label's for a classifier).
    """
    # The run's timestamp, the one "now" of the contract's clock rule (model_spec.contract.as_of).
    started_at = run_time()
    plausible = plausible_trips(trips, started_at)
    cutoff = holdout_cutoff(plausible)
    training_period, _ = split_at(plausible, cutoff)
    # Trips newer than the feature tables (the feature job is behind) would be fitted on zero
    # counts that mean "not computed yet": they are left out, and counted.
    training_period, beyond_features = split_at_feature_freshness(store, training_period, env, ci_run_id)
    # Sampled before the lookups, which keep one row per trip: the point-in-time join then
    # runs once, on the trips that are collected, not once to count and again to collect.
    trips = prepare_trips(sample_at_most(training_period))
    excluded = [column for column in trips.columns if column not in (*TRIP_INPUT_COLUMNS, LABEL, TIME_COLUMN)]
    with mlflow.start_run() as run:
        training_set = store.create_training_set(trips, feature_lookups(env, ci_run_id), LABEL, excluded)
        training_frame = training_set.load_df()
        prediction_type = prediction_type_for(training_frame.schema[LABEL].dataType)
        model, metrics = fit_model(training_frame.toPandas())
        estimator = model.named_steps["estimator"]
        mlflow.log_params(
            {
                "env": env,
                "training_cutoff": cutoff,
                "contract_as_of": started_at.isoformat(),
                "model_type": type(estimator).__name__,
                **estimator.get_params(),
            }
        )
        mlflow.log_metrics({**metrics, TRIPS_BEYOND_FEATURES_METRIC: beyond_features.count()})
        store.log_model(model, training_set, MODEL_NAME_IN_RUN, model_name, SKOPS_TRUSTED_TYPES)
    version = _version_registered_by(run.info.run_id, model_name)
    MlflowClient().set_model_version_tag(model_name, version, TRAINING_CUTOFF_TAG, cutoff)
    MlflowClient().set_model_version_tag(model_name, version, PREDICTION_TYPE_TAG, prediction_type)
    return TrainingResult(run.info.run_id, model_name, version, metrics)


def _version_registered_by(run_id: str, model_name: str) -> str:
    """The version of ``model_name`` that run ``run_id`` registered."""
    # Filter on run_id alone, the one clause every registry backend supports, then by name.
    versions = [v for v in MlflowClient().search_model_versions(f"run_id='{run_id}'") if v.name == model_name]
    if not versions:
        raise RuntimeError(f"run {run_id} registered no version of model {model_name!r}")
    return str(max(int(v.version) for v in versions))
