"""The example model's features: raw trips in, the columns its estimator is fitted on out.

The fitted transformer becomes the first stage of the logged model, so scoring takes the
same raw columns as training. Every logged model carries this file as its own feature code
(the MLflow 3 track imports a copy under a content-addressed name, ``fare_model.model_code``;
the recipe pickles it by value, ``steps.transform``), so a model never scores with a later
version of it. It must therefore import third-party packages only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Longer "trips" are meters left running; clipping keeps them from dominating the scaler.
MAX_TRIP_MINUTES = 180.0
# LaGuardia and JFK: airport rides follow their own (partly flat) fares.
AIRPORT_ZIPS = (11371, 11430)
DERIVED_FEATURES = ["pickup_dow", "pickup_hour", "trip_duration", "airport_trip"]


def calculate_features(trips: pd.DataFrame) -> pd.DataFrame:
    """Day of week, hour, duration (minutes) and airport flag of each trip, in place of its timestamps."""
    pickup = pd.to_datetime(trips["tpep_pickup_datetime"])
    dropoff = pd.to_datetime(trips["tpep_dropoff_datetime"])
    features = trips.drop(columns=["tpep_pickup_datetime", "tpep_dropoff_datetime"])
    features["pickup_dow"] = pickup.dt.dayofweek
    features["pickup_hour"] = pickup.dt.hour
    minutes = (dropoff - pickup).dt.total_seconds() / 60.0
    features["trip_duration"] = minutes.clip(lower=0.0, upper=MAX_TRIP_MINUTES)
    features["airport_trip"] = (
        trips["pickup_zip"].isin(AIRPORT_ZIPS) | trips["dropoff_zip"].isin(AIRPORT_ZIPS)
    ).astype(float)
    return features


def _feature_names(_transformer: FunctionTransformer, input_features: np.ndarray) -> np.ndarray:
    kept = [name for name in input_features if name not in ("tpep_pickup_datetime", "tpep_dropoff_datetime")]
    return np.asarray(kept + DERIVED_FEATURES, dtype=object)


def transformer_fn() -> Pipeline:
    """An unfitted feature pipeline (the recipe's ``transformer_method``, via ``steps.transform``).

    Hour and weekday are one-hot encoded (demand and traffic change by the hour), distance
    and duration are standardised for the linear model, and the airport flag lets it learn
    airport fares. The zip codes themselves are dropped: one column per zip code would
    make the model large for little gain. Hours or weekdays unseen in training are
    ignored rather than failing a batch scoring job. The output is a pandas frame with
    named columns: the estimator is fitted on named columns, and scoring must hand it the same.
    """
    encoder = ColumnTransformer(
        transformers=[
            ("hour_encoder", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["pickup_hour"]),
            ("day_encoder", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["pickup_dow"]),
            ("std_scaler", StandardScaler(), ["trip_distance", "trip_duration"]),
            ("airport", "passthrough", ["airport_trip"]),
        ]
    )
    return Pipeline(
        steps=[
            (
                "calculate_time_and_duration_features",
                FunctionTransformer(calculate_features, feature_names_out=_feature_names),
            ),
            ("encoder", encoder),
        ]
    ).set_output(transform="pandas")
