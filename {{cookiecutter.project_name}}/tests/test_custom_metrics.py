import inspect

import pandas as pd
import pytest

from steps import custom_metrics, validation


def test_recipe_metric_is_the_one_model_validation_uses() -> None:
    assert custom_metrics.weighted_mean_squared_error is validation.weighted_mean_squared_error


def test_signature_is_the_one_mlflow_passes_predictions_and_targets_to() -> None:
    assert list(inspect.signature(custom_metrics.weighted_mean_squared_error).parameters) == ["predictions", "targets"]


def test_returns_a_float() -> None:
    value = custom_metrics.weighted_mean_squared_error(pd.Series([9.0, 21.0]), pd.Series([10.0, 20.0]))
    assert isinstance(value, float)
    assert value == pytest.approx((1 / 10 + 1 / 20) / (1 / 10 + 1 / 20))
