import inspect

import pandas as pd
import pytest

from model_spec import metrics
from steps import custom_metrics


def test_recipe_metric_is_the_models() -> None:
    assert custom_metrics.weighted_mean_squared_error is metrics.weighted_mean_squared_error


def test_signature_is_the_one_mlflow_passes_predictions_and_targets_to() -> None:
    assert list(inspect.signature(custom_metrics.weighted_mean_squared_error).parameters) == ["predictions", "targets"]


def test_returns_the_squared_errors_weighted_by_one_over_the_fare() -> None:
    # Unequal errors (1 on a $10 fare, 5 on a $20 fare), so the weighting shows: the plain
    # mean of the squared errors would be 13.
    value = custom_metrics.weighted_mean_squared_error(pd.Series([9.0, 25.0]), pd.Series([10.0, 20.0]))
    assert isinstance(value, float)
    assert value == pytest.approx((1 / 10 + 25 / 20) / (1 / 10 + 1 / 20))  # 9.0
