{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
import pandas as pd
import pytest

{% if recipes -%}
from model_spec.metrics import THRESHOLDS, compute_metrics, weighted_mean_squared_error
from steps.validation import (
    ModelValidationFailed,
    RunMode,
    ValidationResult,
    ValidationStatus,
    description_with_result,
    enforce,
    metric_limit,
    validate,
    within_limit,
)
{%- else -%}
from model_spec.metrics import weighted_mean_squared_error
from steps.validation import RunMode, metric_limit, within_limit
{%- endif %}


def test_weighted_error_counts_cheap_trips_more() -> None:
    miss_on_cheap = weighted_mean_squared_error(pd.Series([10.0, 50.0]), pd.Series([5.0, 50.0]))
    miss_on_expensive = weighted_mean_squared_error(pd.Series([5.0, 55.0]), pd.Series([5.0, 50.0]))
    assert miss_on_cheap > miss_on_expensive


def test_weights_do_not_depend_on_predictions_and_survive_zero_or_negative_fares() -> None:
    value = weighted_mean_squared_error(pd.Series([0.0, -3.0]), pd.Series([0.0, -2.0]))
    assert value == pytest.approx((0.0 * 1.0 + 1.0 * 0.5) / 1.5)


@pytest.mark.parametrize(
    "text, mode", [("disabled", RunMode.DISABLED), (" DRY_RUN ", RunMode.DRY_RUN), ("Enabled", RunMode.ENABLED)]
)
def test_run_modes_parse(text: str, mode: RunMode) -> None:
    assert RunMode.parse(text) is mode


def test_unknown_run_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="dry_run"):
        RunMode.parse("sometimes")
{%- if recipes %}


def test_metrics_of_known_errors() -> None:
    metrics = compute_metrics(pd.Series([12.0, 8.0]), pd.Series([10.0, 10.0]))
    assert metrics["root_mean_squared_error"] == pytest.approx(2.0)
    assert metrics["mean_absolute_error"] == pytest.approx(2.0)
    assert metrics["weighted_mean_squared_error"] == pytest.approx(4.0)


def test_weighted_error_weighs_unequal_errors_by_the_true_fare() -> None:
    # Errors 2 on a $4 fare and 10 on a $40 fare: weights 1/4 and 1/40.
    value = weighted_mean_squared_error(pd.Series([6.0, 50.0]), pd.Series([4.0, 40.0]))
    assert value == pytest.approx((4.0 / 4 + 100.0 / 40) / (1 / 4 + 1 / 40))
    assert value != pytest.approx(
        compute_metrics(pd.Series([6.0, 50.0]), pd.Series([4.0, 40.0]))["root_mean_squared_error"] ** 2
    )


def test_no_rows_is_an_error() -> None:
    with pytest.raises(ValueError, match="No rows"):
        compute_metrics(pd.Series([], dtype=float), pd.Series([], dtype=float))


def test_result_passes_only_when_every_metric_is_within_its_threshold() -> None:
    good = {name: maximum for name, maximum in THRESHOLDS.items()}
    assert ValidationResult(good).passed
    bad = {**good, "mean_absolute_error": THRESHOLDS["mean_absolute_error"] + 0.01}
    assert ValidationResult(bad).failures == ["mean_absolute_error"]
    missing = {name: 0.0 for name in list(THRESHOLDS)[1:]}
    assert ValidationResult(missing).failures == [list(THRESHOLDS)[0]]


def test_report_names_failed_metrics() -> None:
    result = validate(pd.Series([100.0]), pd.Series([10.0]))
    assert not result.passed
    assert "root_mean_squared_error" in result.report() and "FAILED" in result.report()


def test_only_enabled_mode_blocks_a_failed_model() -> None:
    failed = validate(pd.Series([100.0]), pd.Series([10.0]))
    enforce(failed, RunMode.DRY_RUN)
    with pytest.raises(ModelValidationFailed, match="root_mean_squared_error"):
        enforce(failed, RunMode.ENABLED)
    enforce(validate(pd.Series([10.0]), pd.Series([10.0])), RunMode.ENABLED)


def test_description_keeps_earlier_text_and_appends_status() -> None:
    passed = description_with_result("", ValidationStatus.PASSED, "run 1")
    assert passed == "Model Validation Status: PASSED\nValidation Details: run 1"
    updated = description_with_result("Trained on March data", ValidationStatus.FAILED, "run 2")
    assert updated.startswith("Trained on March data\n\n---\n\n")
    assert updated.endswith("Model Validation Status: FAILED\nValidation Details: run 2")


def test_the_deployed_models_metrics_tighten_the_thresholds() -> None:
    metrics = {"root_mean_squared_error": 3.0, "mean_absolute_error": 2.0, "weighted_mean_squared_error": 1.0}
    assert ValidationResult(metrics, baseline={name: value * 1.05 for name, value in metrics.items()}).passed
    worse = ValidationResult(metrics, baseline={**metrics, "mean_absolute_error": 1.5}, max_regression=0.05)
    assert worse.failures == ["mean_absolute_error"] and worse.limit("mean_absolute_error") == pytest.approx(1.575)
    assert worse.status is ValidationStatus.FAILED
    assert (
        ValidationResult(metrics, baseline={"root_mean_squared_error": 100.0}).limit("root_mean_squared_error")
        == THRESHOLDS["root_mean_squared_error"]
    )
{%- endif %}


def test_an_error_metric_passes_at_or_below_its_limit_and_a_champion_tightens_it_upwards() -> None:
    assert metric_limit(5.0, None, 0.05, greater_is_better=False) == 5.0
    assert metric_limit(5.0, 2.0, 0.05, greater_is_better=False) == pytest.approx(2.1)
    assert within_limit(2.1, 2.1, greater_is_better=False) and not within_limit(2.2, 2.1, greater_is_better=False)


def test_a_deployed_model_whose_metric_is_nan_is_not_silently_left_out() -> None:
    """min(threshold, NaN * 1.05) is the threshold: the comparison with the champion vanished."""
    for greater_is_better in (False, True):
        with pytest.raises(ValueError, match="deployed model's metric is NaN"):
            metric_limit(5.0, float("nan"), 0.05, greater_is_better=greater_is_better)


def test_a_score_metric_passes_at_or_above_its_limit_and_a_champion_raises_it() -> None:
    # Accuracy-like: higher is better, the threshold is the lowest passing value.
    assert metric_limit(0.7, None, 0.05, greater_is_better=True) == 0.7
    assert metric_limit(0.7, 0.9, 0.05, greater_is_better=True) == pytest.approx(0.855)
    assert metric_limit(0.7, 0.6, 0.05, greater_is_better=True) == 0.7  # a weak champion never lowers the floor
    assert within_limit(0.86, 0.855, greater_is_better=True) and not within_limit(0.85, 0.855, greater_is_better=True)
    assert not within_limit(None, 0.0, greater_is_better=True) and not within_limit(float("nan"), 1.0, False)
