"""Training and scoring end to end on the local feature store and a throwaway MLflow store."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import mlflow
import pytest
from pyspark.sql import functions as F

import steps.row_checks
import steps.trips
from features.feature_tables import PICKUP_FEATURES, feature_lookups
from features.scoring import score_trips, split_at_feature_freshness
from features.training import LABEL, MODEL_INPUT_COLUMNS, TRIP_INPUT_COLUMNS, train_and_register
from features.trip_attributes import TRIP_ATTRIBUTES, prepare_trips
from model_spec.contract import INPUT_CONTRACT, TRAINING_CONTRACT
from model_spec.data import TASK
from model_spec.metrics import THRESHOLDS, compute_metrics
from model_spec.prediction import PREDICTION_COLUMN, prediction_column
from tests.contract_counting import counting
from tests.features.conftest import ENV


def test_training_set_has_the_model_inputs_and_the_label(store, trips):
    trips = prepare_trips(trips)
    excluded = [c for c in trips.columns if c not in (*TRIP_INPUT_COLUMNS, LABEL)]
    training_set = store.create_training_set(trips, feature_lookups(ENV), LABEL, excluded)
    df = training_set.load_df()
    assert sorted(df.columns) == sorted([*MODEL_INPUT_COLUMNS, LABEL])
    assert df.count() == trips.count()


def test_only_trips_after_the_newest_feature_window_wait_for_features(spark, store, trips):
    """A trip later than the feature tables waits; one without a pickup time or picked up in the
    future does not (the input contract quarantines it: features will never come for it)."""
    later = [
        (datetime(2022, 2, 1, 8), datetime(2022, 2, 1, 8, 20), 3.0, 10.5, 10001, 10011),  # after the features
        (None, datetime(2022, 2, 1, 8, 20), 3.0, 10.5, 10001, 10011),
        (datetime(2099, 1, 1, 8), datetime(2099, 1, 1, 8, 20), 3.0, 10.5, 10001, 10011),
    ]
    arriving = trips.unionByName(spark.createDataFrame(later, trips.schema))
    # The newest fixture trips already wait: their feature windows end after the newest trip.
    _, open_windows = split_at_feature_freshness(store, trips, ENV)
    ready, deferred = split_at_feature_freshness(store, arriving, ENV)
    waiting = sorted(row.tpep_pickup_datetime for row in open_windows.collect())
    assert sorted(row.tpep_pickup_datetime for row in deferred.collect()) == [*waiting, datetime(2022, 2, 1, 8)]
    assert ready.count() == trips.count() - len(waiting) + 2 and ready.columns == arriving.columns


def test_trained_model_is_registered_and_scores_one_double_per_trip(spark, store, trips):
    result = train_and_register(store, trips, ENV, "fs-test-model")
    assert result.model_version == "1"
    assert math.isfinite(result.metrics["root_mean_squared_error"])
    # The trip's own pickup hour and weekend flag are inputs of the logged model.
    signature_inputs = mlflow.models.get_model_info(result.model_uri).signature.inputs.input_names()
    assert sorted(signature_inputs) == sorted(MODEL_INPUT_COLUMNS)
    assert set(TRIP_ATTRIBUTES) <= set(signature_inputs)

    scored = score_trips(spark, result.model_uri, trips)
    assert scored.columns == [*trips.columns, "prediction", "quarantine_reason", "model_version"]
    assert dict(scored.dtypes)["prediction"] == "double"
    assert {row["model_version"] for row in scored.select("model_version").distinct().collect()} == {"1"}
    predictions = [row["prediction"] for row in scored.collect()]
    assert len(predictions) == trips.count()
    assert all(isinstance(p, float) and math.isfinite(p) for p in predictions)

    # A trip without a drop-off time or with a negative distance is kept unscored, not failing the run.
    bad = trips.limit(2).withColumn("trip_distance", F.lit(-1.0).cast(trips.schema["trip_distance"].dataType))
    rows = score_trips(spark, result.model_uri, trips.unionByName(bad)).toPandas()
    assert len(rows) == trips.count() + 2
    held = rows[rows["quarantine_reason"].notna()]
    assert held["quarantine_reason"].tolist() == ["trip_distance outside (0.0, 400.0)"] * 2
    assert held["prediction"].isna().all()


def test_writing_again_merges_rows_and_new_values_win(spark, store):
    name = PICKUP_FEATURES.name(ENV)
    before, keys = store.read_table(name)
    rows_before = before.count()
    first = before.orderBy("zip", "tpep_pickup_datetime").first()
    replacement = spark.createDataFrame([(first["zip"], first["tpep_pickup_datetime"], -1.0, 0)], before.schema)
    store.write_table(name, replacement, keys["primary_keys"], keys["timestamp_key"])
    after, _ = store.read_table(name)
    assert after.count() == rows_before
    match = after.where((after.zip == first["zip"]) & (after.tpep_pickup_datetime == first["tpep_pickup_datetime"]))
    assert [row["mean_fare_window_1h_pickup_zip"] for row in match.collect()] == [-1.0]


def test_the_model_selects_its_inputs_treats_zips_as_categories_and_quiet_windows_as_zero(spark, store, trips):
    from features.training import build_model, model_inputs

    frame = store.create_training_set(prepare_trips(trips), feature_lookups(ENV), LABEL, []).load_df().toPandas()
    frame = frame.assign(**model_inputs(frame))
    model = build_model().fit(model_inputs(frame), frame[LABEL])
    wider = frame.assign(unrelated="text")  # what score_batch passes: every training-set column
    assert len(model.predict(wider)) == len(frame)
    assert list(model.named_steps["estimator"].is_categorical_) == [True, True] + [False] * (
        len(MODEL_INPUT_COLUMNS) - 2
    )
    quiet = frame.head(1).assign(
        count_trips_window_1h_pickup_zip=float("nan"), count_trips_window_30m_dropoff_zip=float("nan")
    )
    zero = frame.head(1).assign(count_trips_window_1h_pickup_zip=0.0, count_trips_window_30m_dropoff_zip=0.0)
    assert model.predict(quiet) == pytest.approx(model.predict(zero))


def test_the_model_is_of_the_packages_task_and_its_metrics_compute_on_its_prediction(spark, store, trips):
    """The track's own estimator (``build_model``) with the package's task, prediction column and
    metrics: what tests/test_model_spec.py checks for the other tracks' package estimator."""
    from sklearn.base import is_classifier, is_regressor

    from features.training import build_model, model_inputs

    frame = store.create_training_set(prepare_trips(trips), feature_lookups(ENV), LABEL, []).load_df().toPandas()
    model = build_model().fit(model_inputs(frame), frame[LABEL])
    assert (is_regressor if TASK == "regression" else is_classifier)(model), f"build_model must fit a {TASK} model"
    predicted = prediction_column(model, model_inputs(frame))
    assert predicted.name == PREDICTION_COLUMN and len(predicted) == len(frame)
    assert set(compute_metrics(predicted, frame[LABEL])) == set(THRESHOLDS)


def test_the_same_rows_in_another_order_give_the_same_model() -> None:
    """Spark collects the training set in any order; the fit must not depend on it.

    Over 10,000 rows, so that gradient boosting holds out its seeded early-stopping split,
    and many trips per pickup time, so that sorting by time alone leaves their order open.
    """
    import numpy as np
    import pandas as pd

    from features.training import ZIP_COLUMNS, fit_model

    rng = np.random.default_rng(7)
    rows = 12_000
    frame = pd.DataFrame(
        {
            name: rng.integers(10001, 10020, rows) if name in ZIP_COLUMNS else rng.random(rows)
            for name in MODEL_INPUT_COLUMNS
        }
    )
    frame["tpep_pickup_datetime"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 50, rows), unit="h")
    frame[LABEL] = 5.0 + 20.0 * frame["trip_distance"] + rng.normal(0.0, 1.0, rows)
    held_out = frame.head(10)
    models = [fit_model(rows, held_out)[0] for rows in (frame, frame.sample(frac=1.0, random_state=3))]
    probe = frame.head(500)
    np.testing.assert_array_equal(models[0].predict(probe), models[1].predict(probe))


def test_training_and_scoring_run_each_trip_through_the_contract_once(spark, store, trips, monkeypatch):
    # Training takes a cutoff, a freshness split, a count and the training set from the plausible
    # trips; scoring splits the checked trips into scored and quarantined: one check per trip each.
    trained, scored = spark.sparkContext.accumulator(0), spark.sparkContext.accumulator(0)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", counting(TRAINING_CONTRACT, trained))
    result = train_and_register(store, trips, ENV, "fs-test-model")
    assert trained.value == trips.count()

    check = steps.row_checks.with_problems
    counted = counting(INPUT_CONTRACT, scored)
    monkeypatch.setattr(
        steps.row_checks, "with_problems", lambda frame, contract=None, now=None: check(frame, counted, now)
    )
    assert score_trips(spark, result.model_uri, trips).count() == trips.count() == scored.value


def test_training_reads_only_its_window_into_the_contract_and_the_kept_rows(spark, store, trips, monkeypatch):
    """Trips far older than the training window never reach the contract (nor the rows it keeps):
    a daily run checks the window, not the table's whole history. A pickup dated years ahead (a
    glitched meter, which the contract drops) does not move the window."""
    from features.training import TRAINING_WINDOW_DAYS
    from steps.trips import HELD_OUT_DAYS

    years_ago = F.expr("INTERVAL 730 DAYS")
    old = trips.limit(50).select(
        *[(F.col(name) - years_ago).alias(name) if name.endswith("_datetime") else name for name in trips.columns]
    )
    glitched = spark.createDataFrame(
        [(datetime(2099, 1, 1, 8), datetime(2099, 1, 1, 8, 20), 3.0, 10.5, 10001, 10011)], trips.schema
    )
    history = trips.unionByName(old).unionByName(glitched)
    checked = spark.sparkContext.accumulator(0)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", counting(TRAINING_CONTRACT, checked))
    result = train_and_register(store, history, ENV, "fs-test-model")
    assert checked.value == trips.count() + 1
    newest = trips.agg(F.max("tpep_pickup_datetime")).first()[0]
    window_start = mlflow.get_run(result.run_id).data.params["training_window_start"]
    assert datetime.fromisoformat(window_start) == newest - timedelta(days=TRAINING_WINDOW_DAYS + HELD_OUT_DAYS)


def test_sampling_keeps_the_newest_trips_most_and_the_same_trips_in_any_order(trips):
    from features.training import sample_recent_first

    cutoff = "2022-01-17 00:00:00"  # the fixture's trips span 2022-01-14 to 2022-01-16
    sample = sample_recent_first(trips, cutoff, limit=100, half_life_days=0.5)
    assert (sample.available, sample.kept, sample.dropped) == (300, 100, 200)
    kept = steps.trips.in_canonical_order(sample.rows.toPandas())
    assert len(kept) == 100
    # Spark reads the same trips in any order and partitioning: the sample is the same.
    shuffled = trips.orderBy(F.rand(seed=3)).repartition(3)
    again = steps.trips.in_canonical_order(sample_recent_first(shuffled, cutoff, 100, 0.5).rows.toPandas())
    assert kept.equals(again)
    # Weights halve every half day: the newest day is kept far more than its share of the trips.
    newest_day = trips.where(F.col("tpep_pickup_datetime") >= datetime(2022, 1, 16)).count() / trips.count()
    assert (kept["tpep_pickup_datetime"] >= datetime(2022, 1, 16)).mean() > 1.5 * newest_day
    # Up to the limit, every trip is kept.
    everything = sample_recent_first(trips, cutoff, limit=300)
    assert everything.rows is trips and everything.dropped == 0


def test_training_logs_what_sampling_kept_and_dropped(store, trips, monkeypatch):
    import features.training

    monkeypatch.setattr(features.training, "MAX_TRAINING_ROWS", 150)
    result = train_and_register(store, trips, ENV, "fs-test-model")
    run = mlflow.get_run(result.run_id).data
    available = run.metrics["training_rows_available"]
    assert available > 150 and run.metrics["training_rows"] == 150
    assert run.metrics["training_rows_dropped_by_sampling"] == available - 150
    assert run.params["sampling"] == "recency-weighted, half-life 90 days, seed 42"
