"""Validation, aliases and batch inference of models logged with their feature lookups.

The rules are ``fare_model.validation``'s and ``fare_model.deployment``'s (tested with plain
models on the other track); here the candidate and the champion are scored through the
local feature store, as ``score_batch`` scores them on Databricks.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F
from sklearn.dummy import DummyRegressor

import features.validation
import steps.trips
from fare_model.deployment import DeploymentRefused, promote_to_champion
from fare_model.registry import (
    CHALLENGER,
    CHAMPION,
    TRAINING_CUTOFF_TAG,
    ValidationStatus,
    resolve_alias,
    validation_status,
    version_with_alias,
)
from features.feature_tables import FEATURE_TABLES, feature_lookups
from features.generate import generate_and_write_features
from features.scoring import score_trips, split_at_feature_freshness
from features.time_windows import FEATURE_AVAILABILITY_LAG
from features.training import LABEL, SKOPS_TRUSTED_TYPES, build_model, model_inputs, train_and_register
from features.trip_attributes import prepare_trips
from features.validation import BEYOND_FEATURES_METRIC, held_out_trips, validate_with_feature_store
from model_spec.contract import TRAINING_CONTRACT
from model_spec.data import TIME_COLUMN
from model_spec.metrics import THRESHOLDS
from steps.trips import holdout_cutoff, plausible_trips
from steps.validation import ModelValidationFailed, RunMode
from tests.contract_counting import counting
from tests.features.conftest import ENV

MODEL_NAME = "fs-fares"
TRIPS_VIEW = "validation_trips"
QUERY = f"SELECT * FROM {TRIPS_VIEW}"


@pytest.fixture
def trained(store, trips):
    """Version 1 of ``MODEL_NAME``, trained by ``features.training``; the trips as ``TRIPS_VIEW``."""
    trips.createOrReplaceTempView(TRIPS_VIEW)
    return train_and_register(store, trips, ENV, MODEL_NAME)


def register_constant(store, trips, fare: float) -> str:
    """The next version of ``MODEL_NAME``, logged with its lookups, predicting ``fare`` for every trip."""
    training_set = store.create_training_set(prepare_trips(trips), feature_lookups(ENV), LABEL, [])
    frame = training_set.load_df().toPandas()
    model = build_model().set_params(estimator=DummyRegressor(strategy="constant", constant=fare))
    model.fit(model_inputs(frame), frame[LABEL])
    with mlflow.start_run():
        store.log_model(model, training_set, "model", MODEL_NAME, SKOPS_TRUSTED_TYPES)
    client = MlflowClient()
    version = str(max(int(v.version) for v in client.search_model_versions(f"name='{MODEL_NAME}'")))
    client.set_model_version_tag(MODEL_NAME, version, TRAINING_CUTOFF_TAG, holdout_cutoff(plausible_trips(trips)))
    return version


def status(version: str):
    return validation_status(MlflowClient(), MODEL_NAME, version)


def test_held_out_trips_are_the_most_recent_tenth(trips) -> None:
    held_out = held_out_trips(trips, holdout_cutoff(plausible_trips(trips)))
    first_held_out = held_out.agg({TIME_COLUMN: "min"}).first()[0]
    assert 0 < held_out.count() < trips.count() / 5
    assert plausible_trips(trips).where(F.col(TIME_COLUMN) >= first_held_out).count() == held_out.count()
    with pytest.raises(ValueError, match="fare_amount"):
        held_out_trips(trips.drop(LABEL), "2024-03-01 00:00:00")


def test_only_the_held_out_period_goes_through_the_contract(spark, trips, monkeypatch) -> None:
    # The period is filtered first; the held-out trips are checked once, however often they are read.
    cutoff = holdout_cutoff(plausible_trips(trips))
    rows = spark.sparkContext.accumulator(0)
    monkeypatch.setattr(steps.trips, "TRAINING_CONTRACT", counting(TRAINING_CONTRACT, rows))
    held_out = held_out_trips(trips, cutoff)
    assert held_out.count() == held_out.count() > 0
    assert rows.value == trips.where(f"{TIME_COLUMN} >= CAST('{cutoff}' AS TIMESTAMP)").count() < trips.count()


def test_validation_holds_out_the_period_training_recorded(spark, store, trained, trips, monkeypatch) -> None:
    cutoff = MlflowClient().get_model_version(MODEL_NAME, "1").tags[TRAINING_CUTOFF_TAG]
    assert mlflow.get_run(trained.run_id).data.params["training_cutoff"] == cutoff
    handed_over = {}

    def record(name, version, held_out, run_mode, score):
        handed_over["held_out"] = held_out

    monkeypatch.setattr(features.validation, "validate_model_version", record)
    # The input has changed since training (only its newest 30 % is left): its own latest tenth
    # would be a different period; validation must still hold out exactly the trips from the cutoff.
    (recent_start,) = trips.selectExpr(f"percentile(CAST({TIME_COLUMN} AS LONG), 0.7)").first()
    trips.where(f"CAST({TIME_COLUMN} AS LONG) >= {recent_start}").createOrReplaceTempView("recent_trips")
    validate_with_feature_store(spark, MODEL_NAME, "1", "SELECT * FROM recent_trips", RunMode.ENABLED, ENV)
    held_out = handed_over["held_out"]
    from_cutoff = plausible_trips(trips).where(f"{TIME_COLUMN} >= CAST('{cutoff}' AS TIMESTAMP)")
    expected, _ = split_at_feature_freshness(store, from_cutoff, ENV)
    assert held_out.count() == expected.count() > 0
    assert held_out.agg({TIME_COLUMN: "min"}).first()[0] == expected.agg({TIME_COLUMN: "min"}).first()[0]


def test_validation_scores_only_held_out_trips_within_the_features_freshness(
    spark, store, trained, trips, monkeypatch
) -> None:
    cutoff = MlflowClient().get_model_version(MODEL_NAME, "1").tags[TRAINING_CUTOFF_TAG]
    held_out = held_out_trips(trips, cutoff)
    # The feature job is behind: its tables end in the middle of the held-out period.
    (middle,) = held_out.selectExpr(f"CAST(percentile(CAST({TIME_COLUMN} AS LONG), 0.5) AS TIMESTAMP)").first()
    shutil.rmtree(store.root)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, trips, table.module, ENV, end_date=middle)
    real_validation, handed_over = features.validation.validate_model_version, {}

    def record(name, version, trips_to_score, run_mode, score):
        handed_over["held_out"] = trips_to_score
        return real_validation(name, version, trips_to_score, run_mode, score=score)

    monkeypatch.setattr(features.validation, "validate_model_version", record)
    outcome = validate_with_feature_store(spark, MODEL_NAME, "1", QUERY, RunMode.DRY_RUN, ENV)
    scored = handed_over["held_out"]
    left_out = mlflow.get_run(outcome.run_id).data.metrics[BEYOND_FEATURES_METRIC]
    assert 0 < scored.count() < held_out.count() and scored.count() + left_out == held_out.count()
    # Pickup features are looked up at the pickup time less the availability lag, rounded down to 15 minutes.
    assert scored.agg({TIME_COLUMN: "max"}).first()[0] < middle + FEATURE_AVAILABILITY_LAG + timedelta(minutes=15)


def test_the_training_run_reports_the_metrics_validation_finds_on_the_held_out_period(spark, trained) -> None:
    """Fitted before the cutoff and evaluated on the held-out period: the training run's metrics
    are those ModelValidation computes when it scores the same trips through the feature store."""
    outcome = validate_with_feature_store(spark, MODEL_NAME, "1", QUERY, RunMode.DRY_RUN, ENV)
    run = mlflow.get_run(trained.run_id).data
    assert trained.metrics == pytest.approx(outcome.metrics, rel=1e-9)
    assert {name: run.metrics[name] for name in THRESHOLDS} == pytest.approx(outcome.metrics, rel=1e-9)
    cutoff = run.params["training_cutoff"]
    assert run.params["evaluation_period"].startswith(f"{cutoff} to ")
    # The registered version is that fit: validation would otherwise judge it on trips it learned from.
    assert run.params["refit_on_held_out_period"] == "False"


def test_training_refuses_when_no_held_out_trip_has_features_yet(spark, store, trips) -> None:
    cutoff = datetime.fromisoformat(holdout_cutoff(plausible_trips(trips)))
    shutil.rmtree(store.root)
    # The feature job is behind: its tables end an hour before the first window the held-out period reads.
    behind = cutoff - FEATURE_AVAILABILITY_LAG - timedelta(hours=1)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, trips, table.module, ENV, end_date=behind)
    with pytest.raises(ValueError, match="run the feature job"):
        train_and_register(store, trips, ENV, MODEL_NAME)
    assert MlflowClient().search_model_versions(f"name='{MODEL_NAME}'") == []


def test_validation_refuses_a_version_without_a_recorded_cutoff(spark, trained) -> None:
    MlflowClient().delete_model_version_tag(MODEL_NAME, "1", TRAINING_CUTOFF_TAG)
    with pytest.raises(ValueError, match="training_cutoff"):
        validate_with_feature_store(spark, MODEL_NAME, "1", QUERY, RunMode.ENABLED, ENV)


def test_a_good_model_passes_becomes_champion_and_scores_the_trips(spark, trained, trips) -> None:
    outcome = validate_with_feature_store(spark, MODEL_NAME, "1", QUERY, RunMode.ENABLED, ENV)
    assert outcome.passed and set(outcome.metrics) == set(THRESHOLDS) and outcome.baseline_version is None
    client = MlflowClient()
    assert status("1") is ValidationStatus.PASSED
    assert version_with_alias(client, MODEL_NAME, CHALLENGER) == "1"

    assert promote_to_champion(trained.model_uri, MODEL_NAME) == "1"
    assert version_with_alias(client, MODEL_NAME, CHAMPION) == "1"
    assert version_with_alias(client, MODEL_NAME, CHALLENGER) is None

    champion_uri = resolve_alias(MODEL_NAME)
    rows = score_trips(spark, champion_uri, trips).select("prediction", "model_version").toPandas()
    assert champion_uri == "models:/fs-fares/1" and len(rows) == trips.count()
    assert rows["prediction"].notna().all() and set(rows["model_version"]) == {"1"}


def test_a_model_worse_than_the_champion_fails_and_is_not_deployed(spark, store, trained, trips) -> None:
    validate_with_feature_store(spark, MODEL_NAME, "1", QUERY, RunMode.ENABLED, ENV)
    promote_to_champion(trained.model_uri, MODEL_NAME)
    mean_fare = trips.agg({LABEL: "avg"}).first()[0]
    version = register_constant(store, trips, mean_fare)

    outcome = validate_with_feature_store(spark, MODEL_NAME, version, QUERY, RunMode.DRY_RUN, ENV)
    assert not outcome.passed and outcome.baseline_version == "1" and "champion v1" in outcome.report()
    assert status(version) is ValidationStatus.FAILED
    with pytest.raises(DeploymentRefused, match="only versions that passed ModelValidation"):
        promote_to_champion(f"models:/{MODEL_NAME}/{version}", MODEL_NAME)
    with pytest.raises(ModelValidationFailed, match="root_mean_squared_error"):
        validate_with_feature_store(spark, MODEL_NAME, version, QUERY, RunMode.ENABLED, ENV)
    assert version_with_alias(MlflowClient(), MODEL_NAME, CHAMPION) == "1"


def test_disabled_mode_does_not_score(spark, trained) -> None:
    outcome = validate_with_feature_store(spark, MODEL_NAME, "1", "SELECT * FROM no_such_table", RunMode.DISABLED, ENV)
    assert outcome.status is ValidationStatus.DISABLED and status("1") is ValidationStatus.DISABLED
