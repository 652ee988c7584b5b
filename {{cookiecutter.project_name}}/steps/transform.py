{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Transform step: turn raw trips into model features.

The fitted transformer becomes the first stage of the logged model, so scoring takes the
same six raw columns as ingest produces.
{%- if recipes %}

The recipe pickles the fitted transformer with cloudpickle, which would store only a
reference to ``steps.transform.calculate_features``: a process that imports the repository
first (every notebook, ModelValidation scoring the deployed version) would then score an old
model with today's feature code. This module is therefore registered to be pickled *by
value*: the model carries the code it was trained with.
{%- else %}

This file is also the feature code every logged model carries (``fare_model.model_code``):
it must import third-party packages only.
{%- endif %}
"""

from __future__ import annotations
{%- if recipes %}

import sys
{%- endif %}

{% if recipes -%}
import cloudpickle
{% endif -%}
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
{%- if recipes %}

cloudpickle.register_pickle_by_value(sys.modules[__name__])
{%- endif %}


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
    """{% if recipes %}The recipe's ``transformer_method``: an unfitted{% else %}An unfitted{% endif %} feature pipeline.

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
