"""Run the project's pipelines on this machine, with no Databricks workspace.

Shared by the entry points in this package: project paths, the local MLflow store (a
SQLite file and an artifact folder in the project root), a small local Spark session and
step reporting that names the failing step.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = PROJECT_ROOT / "data" / "sample.parquet"
PREDICTIONS_PATH = PROJECT_ROOT / "data" / "predictions.parquet"
LOCAL_STORE = PROJECT_ROOT / "mlruns.db"
TRACKING_URI = f"sqlite:///{LOCAL_STORE}"
ARTIFACT_ROOT = PROJECT_ROOT / "mlruns"


class StepFailed(Exception):
    """A pipeline step failed; the message names the step and the cause."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step '{step}' failed: {type(cause).__name__}: {cause}")
        self.step = step


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step and turn any error inside it into ``StepFailed`` naming it."""
    print(f"==> {name}", flush=True)
    try:
        yield
    except Exception as error:
        raise StepFailed(name, error) from error


def use_local_mlflow_store() -> None:
    """Point MLflow tracking and the model registry at the store in the project root."""
    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = TRACKING_URI
    mlflow.set_tracking_uri(TRACKING_URI)
    mlflow.set_registry_uri(TRACKING_URI)


@contextlib.contextmanager
def local_spark() -> Iterator["pyspark.sql.SparkSession"]:  # noqa: F821
    """A one-core Spark session without UI, whose Python worker uses this interpreter.

    One core: each extra Python worker would import MLflow and load the model again,
    which costs more than it saves on samples of this size.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("local-pipeline")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def print_summary(lines: dict[str, str]) -> None:
    """The closing summary, one aligned ``label: value`` per line."""
    width = max(len(label) for label in lines)
    print("\n" + "\n".join(f"{label + ':':<{width + 1}} {value}" for label, value in lines.items()))


def mlflow_ui_command() -> str:
    return f"mlflow ui --backend-store-uri {TRACKING_URI} --default-artifact-root {ARTIFACT_ROOT}"


def run_as_command(run: Callable[[], None]) -> None:
    """Run a pipeline; a failed step ends the process with status 1 and the step's name."""
    try:
        run()
    except StepFailed as failure:
        print(f"\nLocal pipeline FAILED: {failure}", file=sys.stderr)
        raise SystemExit(1) from failure
