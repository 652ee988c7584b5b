"""The example model's feature code (``model_spec.features``)."""

import pandas as pd
import pytest

from model_spec.features import MAX_TRIP_MINUTES, calculate_features, transformer_fn


def two_trips() -> pd.DataFrame:
    """A Friday-evening trip of 15.5 minutes and a JFK pickup at 1 a.m. on Saturday whose meter ran for a day."""
    return pd.DataFrame(
        {
            "tpep_pickup_datetime": pd.to_datetime(["2024-03-08 17:50:00", "2024-03-09 01:00:00"]),
            "tpep_dropoff_datetime": pd.to_datetime(["2024-03-08 18:05:30", "2024-03-10 01:00:00"]),
            "trip_distance": [2.0, 3.0],
            "pickup_zip": [10001, 11430],
            "dropoff_zip": [10002, 10003],
        }
    )


def test_calculate_features_replaces_timestamps() -> None:
    trips = two_trips()
    features = calculate_features(trips)
    assert "tpep_pickup_datetime" not in features and "tpep_dropoff_datetime" not in features
    assert features["pickup_dow"].tolist() == [4, 5]  # Friday, Saturday
    assert features["pickup_hour"].tolist() == [17, 1]
    assert features["trip_duration"].tolist() == [pytest.approx(15.5), MAX_TRIP_MINUTES]
    assert features["airport_trip"].tolist() == [0.0, 1.0]
    assert "tpep_pickup_datetime" in trips  # the caller's frame is left alone


def test_transformer_encodes_every_trip_into_finite_numbers(trips: pd.DataFrame) -> None:
    features = trips.drop(columns=["fare_amount"])
    transformed = transformer_fn().fit_transform(features)
    assert transformed.shape[0] == len(trips)
    assert pd.DataFrame(transformed).notna().all().all()


def test_transformer_ignores_hours_unseen_in_training(trips: pd.DataFrame) -> None:
    features = trips.drop(columns=["fare_amount"])
    night = features["tpep_pickup_datetime"].dt.hour < 6
    transformer = transformer_fn().fit(features[~night])
    assert transformer.transform(features[night]).shape[0] == night.sum()


def test_transformer_maps_known_trips_to_known_features() -> None:
    trips = two_trips()
    features = transformer_fn().fit_transform(trips)
    expected = pd.DataFrame(
        {
            "hour_encoder__pickup_hour_1": [0.0, 1.0],
            "hour_encoder__pickup_hour_17": [1.0, 0.0],
            "day_encoder__pickup_dow_4": [1.0, 0.0],  # Friday
            "day_encoder__pickup_dow_5": [0.0, 1.0],  # Saturday
            "std_scaler__trip_distance": [-1.0, 1.0],  # two values standardise to -1 and 1
            "std_scaler__trip_duration": [-1.0, 1.0],  # 15.5 minutes and the 180-minute cap
            "airport__airport_trip": [0.0, 1.0],  # JFK pickup
        }
    )
    pd.testing.assert_frame_equal(features, expected, check_dtype=False)


def test_a_trips_fare_never_reaches_its_features(trips: pd.DataFrame) -> None:
    # Training hands the transformer the rows without the target; even if it got them,
    # changing every fare must change no feature.
    without = transformer_fn().fit_transform(trips.drop(columns=["fare_amount"]))
    with_other_fares = transformer_fn().fit_transform(trips.assign(fare_amount=trips["fare_amount"][::-1].to_numpy()))
    pd.testing.assert_frame_equal(without, with_other_fares)
    assert not any("fare" in name for name in without.columns)
