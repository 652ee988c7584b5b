"""A local SparkSession for the feature tests (Java 17 must be on the machine)."""

from __future__ import annotations

from typing import Iterator

import pytest
from pyspark.sql import SparkSession

from features.local_spark import local_spark_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = local_spark_session("feature-tests")
    yield session
    session.stop()
