import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from fare_model.data import TARGET, TIME_COLUMN
from fare_model.registry import CHALLENGER, CHAMPION, ValidationStatus, validation_status, version_with_alias
from fare_model.training import TrainedModel, build_model
from fare_model.validation import BASELINE_MARGIN, metric_limits, validate_model_version
from model_spec.metrics import THRESHOLDS
from steps.validation import ModelValidationFailed, RunMode


@pytest.fixture
def held_out(trips: pd.DataFrame, trained: TrainedModel) -> pd.DataFrame:
    return trips[trips[TIME_COLUMN] >= trained.training_cutoff]


def status(version: str) -> ValidationStatus:
    return validation_status(MlflowClient(), "fares", version)


def test_limits_are_the_thresholds_without_a_champion() -> None:
    assert metric_limits(None) == THRESHOLDS


def test_a_better_champion_tightens_the_limits_by_the_margin() -> None:
    baseline = {"root_mean_squared_error": 2.0, "mean_absolute_error": 100.0, "weighted_mean_squared_error": 1.0}
    limits = metric_limits(baseline)
    assert limits["root_mean_squared_error"] == pytest.approx(2.0 * (1 + BASELINE_MARGIN))
    assert limits["mean_absolute_error"] == THRESHOLDS["mean_absolute_error"]  # the threshold is tighter
    assert limits["weighted_mean_squared_error"] == pytest.approx(1.0 * (1 + BASELINE_MARGIN))


def test_good_model_passes_and_becomes_challenger(trained: TrainedModel, held_out: pd.DataFrame) -> None:
    outcome = validate_model_version("fares", "1", held_out, RunMode.ENABLED)
    assert outcome.passed and outcome.baseline_version is None
    assert set(outcome.metrics) == set(THRESHOLDS)
    assert status("1") is ValidationStatus.PASSED
    assert version_with_alias(MlflowClient(), "fares", CHALLENGER) == "1"


def test_revalidating_an_older_version_does_not_move_the_challenger_back(
    trained: TrainedModel, trips: pd.DataFrame, held_out: pd.DataFrame, register_model
) -> None:
    train = trips[trips[TIME_COLUMN] < trained.training_cutoff]
    newer = register_model(build_model().fit(train.drop(columns=[TARGET]), train[TARGET]))
    assert validate_model_version("fares", newer, held_out, RunMode.ENABLED).passed
    assert validate_model_version("fares", "1", held_out, RunMode.ENABLED).passed
    assert version_with_alias(MlflowClient(), "fares", CHALLENGER) == newer


def test_enabled_mode_fails_a_model_over_a_threshold(register_model, held_out: pd.DataFrame) -> None:
    version = register_model(DummyRegressor(strategy="constant", constant=100.0).fit([[0]] * 2, [0.0, 1.0]))
    with pytest.raises(ModelValidationFailed, match="root_mean_squared_error"):
        validate_model_version("fares", version, held_out, RunMode.ENABLED)
    assert status(version) is ValidationStatus.FAILED
    assert version_with_alias(MlflowClient(), "fares", CHALLENGER) is None


def test_dry_run_records_a_failure_without_raising(register_model, held_out: pd.DataFrame) -> None:
    version = register_model(DummyRegressor(strategy="constant", constant=100.0).fit([[0]] * 2, [0.0, 1.0]))
    outcome = validate_model_version("fares", version, held_out, RunMode.DRY_RUN)
    assert not outcome.passed and "FAILED" in outcome.report()
    assert status(version) is ValidationStatus.FAILED


def test_a_regression_against_the_champion_fails_within_the_thresholds(
    trained: TrainedModel, trips: pd.DataFrame, held_out: pd.DataFrame, register_model
) -> None:
    MlflowClient().set_registered_model_alias("fares", CHAMPION, "1")
    train = trips[trips[TIME_COLUMN] < trained.training_cutoff]
    # Fares 8 % too high: still within the fixed thresholds, clearly worse than the champion.
    inflated = build_model().fit(train.drop(columns=[TARGET]), 1.08 * train[TARGET])
    version = register_model(inflated)
    outcome = validate_model_version("fares", version, held_out, RunMode.DRY_RUN)
    assert outcome.baseline_version == "1"
    assert all(outcome.metrics[name] <= THRESHOLDS[name] for name in THRESHOLDS)
    assert not outcome.passed and "champion v1" in outcome.report()


def test_a_model_that_lost_a_third_of_its_skill_fails_without_a_champion(
    trained: TrainedModel, trips: pd.DataFrame, held_out: pd.DataFrame, register_model
) -> None:
    train = trips[trips[TIME_COLUMN] < trained.training_cutoff]
    # 30 % of the way from the trained model to the mean fare: what a chain of releases, each
    # within the champion margin, could drift to if only the champion were compared.
    target = 0.7 * train[TARGET] + 0.3 * train[TARGET].mean()
    version = register_model(build_model().fit(train.drop(columns=[TARGET]), target))
    outcome = validate_model_version("fares", version, held_out, RunMode.DRY_RUN)
    assert outcome.baseline_version is None and not outcome.passed, outcome.report()


def test_a_model_as_good_as_the_champion_passes(
    trained: TrainedModel, trips: pd.DataFrame, held_out: pd.DataFrame, register_model
) -> None:
    MlflowClient().set_registered_model_alias("fares", CHAMPION, "1")
    train = trips[trips[TIME_COLUMN] < trained.training_cutoff]
    same = register_model(build_model().fit(train.drop(columns=[TARGET]), train[TARGET]))
    outcome = validate_model_version("fares", same, held_out, RunMode.ENABLED)
    assert outcome.passed and outcome.baseline_version == "1"


def test_a_scoring_error_fails_even_in_dry_run(trained: TrainedModel, held_out: pd.DataFrame) -> None:
    without_a_model_input = held_out.drop(columns=["trip_distance"])
    with pytest.raises(ValueError, match=r"input columns \['trip_distance'\]"):
        validate_model_version("fares", "1", without_a_model_input, RunMode.DRY_RUN)
    assert status("1") is ValidationStatus.FAILED


def test_disabled_mode_records_that_validation_was_switched_off(trained: TrainedModel) -> None:
    outcome = validate_model_version("fares", "1", None, RunMode.DISABLED)
    assert outcome.status is ValidationStatus.DISABLED
    assert status("1") is ValidationStatus.DISABLED
    assert version_with_alias(MlflowClient(), "fares", CHALLENGER) == "1"
