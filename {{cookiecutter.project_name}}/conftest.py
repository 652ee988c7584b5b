"""Fixtures shared by every test of the project (tests/ and the feature modules' own tests).

A local Spark session and a throwaway MLflow store{% if cookiecutter.include_feature_store == "yes" %}, and synthetic trips for the feature pipelines{% endif %}.
It lives in the project root so that pytest gives it to tests beside the code too.
"""

from __future__ import annotations

{% if cookiecutter.include_feature_store == "yes" -%}
import random
{% endif -%}
{% if cookiecutter.include_feature_store == "yes" -%}
from datetime import datetime, timedelta
{% endif -%}
from pathlib import Path
from typing import Iterator

import mlflow
import pytest

from local_pipeline import local_spark
from steps import dev_namespace
from tests.mlflow_store import use_sqlite_store


@pytest.fixture(scope="session")
def spark() -> Iterator["pyspark.sql.SparkSession"]:  # noqa: F821
    """One small local Spark session for the whole test run (needs Java 17), as the local pipeline uses."""
    with local_spark("project-tests") as session:
        yield session


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Tracking and registry in a fresh SQLite file, so tests never touch a real workspace."""
    uri = use_sqlite_store(tmp_path / "mlruns.db", monkeypatch)
    monkeypatch.chdir(tmp_path)  # default artifact root ./mlruns lands in tmp_path
    yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(autouse=True)
def _tracking_outside_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send any MLflow call a test makes without a store fixture to this test's folder.

    With no tracking URI, MLflow 3 creates ``mlflow.db`` in the working directory, which is the
    project root under ``make test``; the fixtures above still set their own store.
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'unexpected-mlflow.db'}")


@pytest.fixture(autouse=True)
def _no_dev_user_between_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget, after each test, the dev user a notebook took (``steps.dev_namespace.enter``)."""
    monkeypatch.setattr(dev_namespace, "_user", None)
{%- if cookiecutter.include_feature_store == "yes" %}


TRIP_COLUMNS = [
    "tpep_pickup_datetime",
    "tpep_dropoff_datetime",
    "trip_distance",
    "fare_amount",
    "pickup_zip",
    "dropoff_zip",
]


@pytest.fixture
def trips(spark):
    """300 trips over three days between a few zips; the fare grows with the distance."""
    rng = random.Random(7)
    start = datetime(2022, 1, 14)
    rows = []
    for _ in range(300):
        pickup = start + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        distance = round(rng.uniform(0.5, 12.0), 2)
        dropoff = pickup + timedelta(minutes=5 + distance * 3)
        fare = round(3 + 2.5 * distance, 2)
        rows.append(
            (pickup, dropoff, distance, fare, rng.choice([10001, 10002, 10003]), rng.choice([10001, 10011, 10021]))
        )
    return spark.createDataFrame(rows, TRIP_COLUMNS)
{%- endif %}
