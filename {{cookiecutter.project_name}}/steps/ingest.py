"""Ingest step: load raw trips into pandas for the recipe.

MLflow Recipes reads parquet, delta and Spark SQL sources itself. For any other ``using``
format it calls the profile's ``loader_method``: the local profile names this loader, so
pointing its ``INGEST_CONFIG`` at a csv or json file (``using: csv``) needs no other change.
"""

from __future__ import annotations

import pandas as pd

_READERS = {
    "csv": pd.read_csv,
    "json": lambda path: pd.read_json(path, lines=True),
    "parquet": pd.read_parquet,
}
TIMESTAMP_COLUMNS = ("tpep_pickup_datetime", "tpep_dropoff_datetime")


def load_file_as_dataframe(file_path: str, file_format: str) -> pd.DataFrame:
    """Read one file of trips, parsing the pickup and dropoff columns as timestamps.

    Text formats carry no types, so the timestamps are parsed here; otherwise the
    transform step would see strings. Unknown formats fail with the supported list.
    """
    try:
        read = _READERS[file_format]
    except KeyError:
        raise NotImplementedError(
            f"Unsupported ingest format {file_format!r}; supported: {', '.join(sorted(_READERS))}"
        ) from None
    trips = read(file_path)
    for column in TIMESTAMP_COLUMNS:
        if column in trips.columns:
            trips[column] = pd.to_datetime(trips[column])
    return trips
