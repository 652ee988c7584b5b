import numpy as np
import pandas as pd
from sklearn.base import clone

from steps.split import clean_trips
from steps.train import estimator_fn
from steps.transform import transformer_fn


def test_estimator_learns_fares_better_than_the_mean(trips: pd.DataFrame) -> None:
    trips = clean_trips(trips)
    features = transformer_fn().fit_transform(trips.drop(columns=["fare_amount"]))
    model = estimator_fn().fit(features, trips["fare_amount"])
    model_error = np.sqrt(np.mean((model.predict(features) - trips["fare_amount"]) ** 2))
    assert model_error < 0.5 * trips["fare_amount"].std()


def test_estimator_is_unfitted_and_repeatable(trips: pd.DataFrame) -> None:
    trips = clean_trips(trips)
    features = transformer_fn().fit_transform(trips.drop(columns=["fare_amount"]))
    first = clone(estimator_fn()).fit(features, trips["fare_amount"]).predict(features)
    second = estimator_fn().fit(features, trips["fare_amount"]).predict(features)
    np.testing.assert_array_equal(first, second)
