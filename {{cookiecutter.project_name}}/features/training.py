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

Held-out period (the newest tenth of the trips, at most the newest ``steps.trips.HELD_OUT_DAYS``
days; ``steps.trips`` says why): the model is fitted on the trips before it and evaluated on it,
and those metrics are the run's. The period's first pickup time is recorded on the model
version (tag ``training_cutoff``, ``fare_model.registry``) and ModelValidation scores exactly
that period, against the thresholds and the ``champion``.

The registered model is that fit; it is not refitted on the held-out period afterwards, because
ModelValidation's judgement would break: it scores the version on the held-out period, so a
version refitted on those trips would be judged on trips it learned from, beat the champion
and the thresholds on its own training data, and the one gate before deployment would compare
nothing. What it costs is at most ``HELD_OUT_DAYS`` days of the newest data, which the next
scheduled retraining learns from (the run's param ``refit_on_held_out_period`` is ``False``).

Training window: a run reads only the trips picked up in the ``TRAINING_WINDOW_DAYS`` (plus
the held-out period's ``HELD_OUT_DAYS``) before the newest plausible pickup (``training_window``),
before anything else touches them: the input contract, its kept rows and the held-out
percentile cover that window, not the table's whole history, so a daily run's cost stays
bounded as the table grows (the MLflow 3 and Recipes tracks cut to their newest trips the same way).

At most ``MAX_TRAINING_ROWS`` training rows reach the driver; a longer history is sampled down
with weights that halve every ``SAMPLING_HALF_LIFE_DAYS`` days of age (``sample_recent_first``),
so the newest trips are kept most and the sample is the same on every run over the same trips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Sequence

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from fare_model.registry import TRAINING_CUTOFF_TAG, model_version_uri
from features.feature_tables import FEATURE_TABLES, FeatureLookup, feature_lookups
from features.scoring import PREDICTION_TYPE_TAG, prediction_type_for, split_at_feature_freshness
from features.stores import FeatureStore, TrainingSet
from features.time_windows import clock_seconds, rows_since
from features.trip_attributes import TRIP_ATTRIBUTES, prepare_trips
from model_spec.contract import latest_plausible_pickup
from model_spec.data import LABEL, TASK, TIME_COLUMN
from model_spec.metrics import compute_metrics
from model_spec.prediction import prediction_column
from steps.row_checks import run_time
from steps.trips import (
    HELD_OUT_DAYS,
    MAX_HELD_OUT_ROWS,
    collect_at_most,
    held_out_period,
    holdout_cutoff,
    in_canonical_order,
    plausible_trips,
    split_at,
)

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
# Held-out trips left out of the evaluation because no feature table covered their time yet.
HELD_OUT_BEYOND_FEATURES_METRIC = "held_out_trips_beyond_feature_freshness"
# Run metrics of the sampling: rows of the training period, those fitted on and those left out.
AVAILABLE_ROWS_METRIC, TRAINING_ROWS_METRIC, DROPPED_ROWS_METRIC = (
    "training_rows_available",
    "training_rows",
    "training_rows_dropped_by_sampling",
)
EVALUATION_ROWS_METRIC = "evaluation_rows"
_SEED = 42
# The model is fitted in the driver's memory; a larger training period is sampled down to this.
MAX_TRAINING_ROWS = 2_000_000
# Days of trips before the held-out period that a run reads at most (``training_window``): a year
# holds every season once, and a trip older than that would weigh less than a sixteenth of a new
# one in the sample (SAMPLING_HALF_LIFE_DAYS), so cutting there changes the sample little.
TRAINING_WINDOW_DAYS = 365
# Age (days before the held-out period) at which a trip's chance to be sampled weighs half a
# new trip's: a year-old trip still counts (seasons), at a sixteenth of today's weight.
SAMPLING_HALF_LIFE_DAYS = 90.0
# Held-out rows collected to evaluate on: the held-out period's bound that every track's
# validation uses (``steps.trips.MAX_HELD_OUT_ROWS``).
MAX_EVALUATION_ROWS = MAX_HELD_OUT_ROWS
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


def fit_model(training_frame: pd.DataFrame, evaluation_frame: pd.DataFrame) -> tuple[Pipeline, dict[str, float]]:
    """Fit on ``training_frame``; return the model and its metrics on ``evaluation_frame``.

    The frames are training-set rows (model inputs and label): the training period's and the
    held-out period's. The metrics are the model's (``model_spec.metrics.compute_metrics``),
    which raises ``ValueError`` for an empty ``evaluation_frame``.

    The training rows are put in canonical order first (``steps.trips.in_canonical_order``):
    Spark collects them in any order, and the seeded fit depends on it.
    """
    train = in_canonical_order(training_frame)
    with threadpool_limits(limits=_threads_for(len(train)), user_api="openmp"):
        model = build_model().fit(model_inputs(train), train[LABEL])
        predicted = prediction_column(model, model_inputs(evaluation_frame))
    return model, compute_metrics(predicted, evaluation_frame[LABEL])


@dataclass(frozen=True)
class TrainingSample:
    """The training period's rows to fit on, and how many it had before sampling."""

    rows: DataFrame
    available: int
    kept: int

    @property
    def dropped(self) -> int:
        return self.available - self.kept


def sample_recent_first(
    rows: DataFrame, cutoff: str, limit: int = MAX_TRAINING_ROWS, half_life_days: float = SAMPLING_HALF_LIFE_DAYS
) -> TrainingSample:
    """``rows`` (trips before the held-out period from ``cutoff``), sampled down to ``limit`` when more.

    Weighted sampling without replacement (Efraimidis and Spirakis, 2006): each trip draws
    ``u`` in (0, 1) from a seeded hash of all its columns, its weight ``w`` halves every
    ``half_life_days`` days of age before ``cutoff``, and the ``limit`` trips of largest
    ``u ** (1 / w)`` are kept, ordered by that key and then by every column, so the same trips
    give the same sample on any cluster and in any order (identical trips are interchangeable).
    The key is compared as ``log(u) / w``, which keeps its order and stays finite for any age;
    a different reference time multiplies every key by one constant, so the session time zone,
    which moves ``cutoff``, does not change the sample. Counts the rows (a Spark job).
    """
    available = rows.count()
    if available <= limit:
        return TrainingSample(rows, available, available)
    columns = sorted(rows.columns, key=lambda name: (name != TIME_COLUMN, name))
    hashed = F.pmod(F.xxhash64(F.lit(_SEED), *[F.col(name) for name in columns]), F.lit(2**52))
    uniform = (hashed + F.lit(0.5)) / F.lit(float(2**52))
    age_days = (F.lit(cutoff).cast("timestamp").cast("long") - clock_seconds(F.col(TIME_COLUMN))) / 86400.0
    key = F.log(uniform) * F.exp(F.greatest(age_days, F.lit(0.0)) * F.lit(math.log(2) / half_life_days))
    kept = rows.withColumn("_sampling_key", key).orderBy(F.desc("_sampling_key"), *columns).limit(limit)
    return TrainingSample(kept.drop("_sampling_key"), available, limit)


def training_window(
    trips: DataFrame, now: datetime, days: int = TRAINING_WINDOW_DAYS
) -> tuple[DataFrame, Optional[str]]:
    """``(window, start)``: the raw ``trips`` picked up at most ``days + HELD_OUT_DAYS`` days before the newest one.

    The newest is the latest pickup a real trip can have at ``now`` (the run's time,
    ``model_spec.contract.latest_plausible_pickup``): one meter clock dated years ahead, which the
    contract drops later, must not move the window past every real trip. ``start`` is the
    window's first clock time, ``yyyy-MM-dd HH:mm:ss`` (None and ``trips`` as they are when no
    trip has a plausible pickup: the contract then finds nothing to train on). Trips without a
    pickup time fall outside. One aggregation of the pickup column (a Spark job); the window
    is a filter on the stored column, which Spark pushes down to the files.
    """
    pickup = clock_seconds(F.col(TIME_COLUMN))
    latest = int(latest_plausible_pickup(now).timestamp())
    (newest,) = trips.where(pickup <= F.lit(latest)).agg(F.max(pickup)).first()
    if newest is None:
        return trips, None
    first = int(newest) - (days + HELD_OUT_DAYS) * 86400
    start = datetime.fromtimestamp(first, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return rows_since(trips, TIME_COLUMN, first), start


def _training_set_frame(
    store: FeatureStore, trips: DataFrame, lookups: Sequence[FeatureLookup]
) -> tuple[TrainingSet, DataFrame]:
    """The training set of ``trips`` (raw) by ``lookups``: the trip inputs, the label, the pickup time and the features."""
    prepared = prepare_trips(trips)
    excluded = [column for column in prepared.columns if column not in (*TRIP_INPUT_COLUMNS, LABEL, TIME_COLUMN)]
    training_set = store.create_training_set(prepared, lookups, LABEL, excluded)
    return training_set, training_set.load_df()


def train_and_register(
    store: FeatureStore, trips: DataFrame, env: str, model_name: str, ci_run_id: str = ""
) -> TrainingResult:
    """Build the training set from ``env``'s feature tables, train, evaluate on the held-out period, log and register.

    With ``ci_run_id`` (CI environment only) the feature tables are those that CI run wrote
    (``features.feature_tables``), and so are the lookups the model is logged with.

    ``trips`` are raw trips, cut to the ``training_window`` first (param
    ``training_window_start``); the implausible ones are left out. The model is fitted on the
    trips before the held-out period (``steps.trips.holdout_cutoff``), sampled recent-first
    (``sample_recent_first``), and its metrics are those on the held-out period, the trips
    ModelValidation scores. Trips newer than a feature table's freshness are left out of both
    and counted (metrics ``trips_beyond_feature_freshness`` and
    ``held_out_trips_beyond_feature_freshness``). Must run with the MLflow experiment already
    chosen. The model is logged with its feature lookups, so scoring needs only the raw trip
    columns. The held-out period's first pickup time is logged (param) and tagged on the version
    (``TRAINING_CUTOFF_TAG``), and so is the run's timestamp that the contract judged pick-ups
    against (param ``contract_as_of``). The version's tag ``PREDICTION_TYPE_TAG`` says which
    Spark type scoring writes its prediction as (``features.scoring.prediction_type_for``: the
    label's for a classifier). Raises ``ValueError``, before any run starts, when no held-out
    trip is within the feature tables' freshness (run the feature job first), as
    ModelValidation would.
    """
    # The run's timestamp, the one "now" of the contract's clock rule (model_spec.contract.as_of).
    started_at = run_time()
    window, window_start = training_window(trips, started_at)
    plausible = plausible_trips(window, started_at)
    cutoff = holdout_cutoff(plausible)
    # Trips newer than the feature tables (the feature job is behind) would be fitted and judged on
    # zero counts that mean "not computed yet": they are left out, and counted per period.
    ready, beyond = split_at_feature_freshness(store, plausible, env, ci_run_id)
    (training_period, _), (beyond_features, _) = split_at(ready, cutoff), split_at(beyond, cutoff)
    held_out, held_out_beyond = held_out_period(ready, cutoff), held_out_period(beyond, cutoff)
    lookups = feature_lookups(env, ci_run_id)
    _, evaluation_rows = _training_set_frame(store, held_out, lookups)
    evaluation_frame = collect_at_most(evaluation_rows, MAX_EVALUATION_ROWS, "features.training.MAX_EVALUATION_ROWS")
    if evaluation_frame.empty:
        raise ValueError(
            f"no held-out trip (picked up from {cutoff}) is within the freshness of the {env} feature tables, "
            "so the model cannot be evaluated: run the feature job (write-feature-table-job) before training"
        )
    # Sampled before the lookups, which keep one row per trip: the point-in-time join runs on
    # the kept trips only.
    sample = sample_recent_first(training_period, cutoff, MAX_TRAINING_ROWS)
    with mlflow.start_run() as run:
        training_set, training_rows = _training_set_frame(store, sample.rows, lookups)
        prediction_type = prediction_type_for(training_rows.schema[LABEL].dataType)
        model, metrics = fit_model(training_rows.toPandas(), evaluation_frame)
        estimator = model.named_steps["estimator"]
        mlflow.log_params(
            {
                "env": env,
                "training_cutoff": cutoff,
                "training_window_start": window_start,
                "evaluation_period": f"{cutoff} to {evaluation_frame[TIME_COLUMN].max()}",
                "refit_on_held_out_period": False,
                "sampling": (
                    f"recency-weighted, half-life {SAMPLING_HALF_LIFE_DAYS:g} days, seed {_SEED}"
                    if sample.dropped
                    else "none"
                ),
                "contract_as_of": started_at.isoformat(),
                "model_type": type(estimator).__name__,
                **estimator.get_params(),
            }
        )
        mlflow.log_metrics(
            {
                **metrics,
                EVALUATION_ROWS_METRIC: len(evaluation_frame),
                AVAILABLE_ROWS_METRIC: sample.available,
                TRAINING_ROWS_METRIC: sample.kept,
                DROPPED_ROWS_METRIC: sample.dropped,
                TRIPS_BEYOND_FEATURES_METRIC: beyond_features.count(),
                HELD_OUT_BEYOND_FEATURES_METRIC: held_out_beyond.count(),
            }
        )
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
