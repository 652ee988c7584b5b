"""The SparkSession for local runs and tests (on Databricks the runtime provides ``spark``)."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def local_spark_session(app_name: str) -> SparkSession:
    """A small single-core session whose timestamps are read and written in UTC.

    Spark starts Python workers with ``PYSPARK_PYTHON``; pointing it at this
    interpreter makes the workers see the same packages (and Python version) as the
    driver, which a fresh machine's ``python3`` on PATH may not.
    """
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    return (
        SparkSession.builder.master("local[1]")
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
