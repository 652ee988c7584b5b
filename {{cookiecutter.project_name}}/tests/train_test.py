import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from model_spec.estimator import estimator_fn
from model_spec.features import AIRPORT_ZIPS, transformer_fn
from steps.trips import clean_trips

# The fare rule of the synthetic trips below: base fare, per mile, per minute, airport surcharge.
BASE, PER_MILE, PER_MINUTE, AIRPORT_SURCHARGE = 3.0, 2.5, 0.5, 15.0


def synthetic_trips(count: int, seed: int) -> pd.DataFrame:
    """Trips whose fare follows the rule above plus a little noise."""
    rng = np.random.default_rng(seed)
    pickup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 28 * 24 * 60, count), unit="min")
    distance = rng.uniform(0.5, 15.0, count)
    minutes = distance * rng.uniform(2.0, 4.0, count) + rng.uniform(2.0, 10.0, count)
    airport = rng.random(count) < 0.2
    fare = BASE + PER_MILE * distance + PER_MINUTE * minutes + AIRPORT_SURCHARGE * airport + rng.normal(0, 0.5, count)
    return pd.DataFrame(
        {
            "tpep_pickup_datetime": pickup,
            "tpep_dropoff_datetime": pickup + pd.to_timedelta(minutes, unit="min"),
            "trip_distance": distance,
            "fare_amount": fare,
            "pickup_zip": np.where(airport, AIRPORT_ZIPS[0], 10001),
            "dropoff_zip": 10002,
        }
    )


def fitted_model(trips: pd.DataFrame) -> Pipeline:
    return Pipeline([("transformer", transformer_fn()), ("estimator", estimator_fn())]).fit(
        trips.drop(columns=["fare_amount"]), trips["fare_amount"]
    )


def test_model_learns_the_fare_rule_of_synthetic_trips() -> None:
    model = fitted_model(synthetic_trips(3000, seed=1))
    unseen = synthetic_trips(500, seed=2)
    error = model.predict(unseen.drop(columns=["fare_amount"])) - unseen["fare_amount"]
    assert np.sqrt(np.mean(error**2)) < 1.0  # the noise alone is 0.5; the fares spread about 18

    # Same trip, one mile longer / from the airport: the learnt differences are the rule's.
    trip = unseen.drop(columns=["fare_amount"]).iloc[[0]].assign(pickup_zip=10001)
    longer = trip.assign(trip_distance=trip["trip_distance"] + 1.0)
    from_airport = trip.assign(pickup_zip=AIRPORT_ZIPS[0])
    assert abs(model.predict(longer)[0] - model.predict(trip)[0] - PER_MILE) < 0.25
    assert abs(model.predict(from_airport)[0] - model.predict(trip)[0] - AIRPORT_SURCHARGE) < 1.0


def test_estimator_learns_the_sample_fares_better_than_the_mean(trips: pd.DataFrame) -> None:
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
