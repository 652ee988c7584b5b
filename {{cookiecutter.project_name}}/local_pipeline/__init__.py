{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
{%- set scored_with_spark = cookiecutter | derived("ml_code") != "mlflow3" -%}
"""Run the project's pipelines on this machine, with no Databricks workspace.

Shared by the entry points in this package: project paths, the local MLflow store (a
SQLite file and an artifact folder in the project root), a small local Spark session,
step reporting (name and duration), writing predictions, and the closing summary (run id,
metrics against thresholds, model version, predictions, the ``mlflow ui`` command). A failing step exits non-zero with the step's
name and cause.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import logging
import os
import shutil
import sys
import time
{%- if recipes %}
import warnings
{%- endif %}
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple, Protocol

import model_spec.data

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = PROJECT_ROOT / model_spec.data.SAMPLE_PATH
PREDICTIONS_PATH = PROJECT_ROOT / "data" / "predictions.parquet"
LOCAL_STORE = PROJECT_ROOT / "mlruns.db"
TRACKING_URI = f"sqlite:///{LOCAL_STORE}"
ARTIFACT_ROOT = PROJECT_ROOT / "mlruns"
# Spark's log settings for local runs: errors only, so its start-up notices stay hidden.
SPARK_LOG_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"
VALIDATION_VIEW = "local_validation_trips"
# The local JVM's options: Spark's log settings; the quick JIT compiler only, as a local run ends
# before the optimising one pays back its compile time; and one garbage-collector thread for the
# small heap, leaving the other core to Python. Together they cut the JVM's CPU time in the
# feature-store pipeline from 45 s to 24 s (benchmarks/README.md in the template).
JAVA_OPTIONS = (
    f"-Dlog4j2.configurationFile={SPARK_LOG_CONFIG.as_uri()}",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
)


class ValidationReport(Protocol):
    """What the summary shows of a validation: each track's result type has this method."""

    def report(self) -> str:
        """One line per metric: its value, its limit and the verdict."""


class StepFailed(Exception):
    """A pipeline step failed; the message names the step and the cause."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step '{step}' failed: {type(cause).__name__}: {cause}")
        self.step = step


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step, report its duration, and turn any error inside it into ``StepFailed``."""
    print(f"==> {name}", flush=True)
    started = time.monotonic()
    try:
        yield
    except Exception as error:
        raise StepFailed(name, error) from error
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


class _DropMessages(logging.Filter):
    """Drops a logger's records whose message contains one of the given fragments."""

    def __init__(self, *fragments: str) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(fragment in record.getMessage() for fragment in self.fragments)


def quiet_library_output() -> None:
    """Hide what libraries print on every local run that a user can neither act on nor needs.

    Each filter names its cause; warnings about this project's own code are left alone.
    """
    import mlflow  # noqa: F401 - first, as importing MLflow sets the levels of its loggers

    # MLflow reports each step it runs at INFO; the pipeline prints its own steps and timings.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
{%- if recipes %}
    # MLflow Recipes logs the fitted transformer on its own, as a model without a predict
    # function or signature; the registered model (transformer and estimator) has both.
    logging.getLogger("mlflow.sklearn").addFilter(_DropMessages("Model was missing function: predict"))
    logging.getLogger("mlflow.models.model").addFilter(_DropMessages("Model logged without a signature"))
{%- endif %}
    # Explainability plots need SHAP and matplotlib, which this project does not install.
    for name in ("mlflow.models.evaluation.evaluators.shap"{% if recipes %}, "mlflow.recipes.steps.evaluate"{% else %},{% endif %}):
        logging.getLogger(name).addFilter(_DropMessages("SHAP or matplotlib"))
    # Local scoring runs in this venv on purpose (env_manager="local"): the project pins
    # its requirements, so the model's own environment would be the same.
    logging.getLogger("mlflow.pyfunc").addFilter(_DropMessages('env_manager="local"'))
{%- if recipes %}
    # A pandas deprecation triggered inside numpy.array_split, which MLflow Recipes calls.
    warnings.filterwarnings("ignore", message=".*DataFrame.swapaxes.*", category=FutureWarning)
{%- endif %}
    # Spark's notice that the host name resolves to the loopback address, which local runs want.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def use_local_mlflow_store() -> None:
    """Point MLflow tracking and the model registry at the store in the project root."""
    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = TRACKING_URI
    mlflow.set_tracking_uri(TRACKING_URI)
    mlflow.set_registry_uri(TRACKING_URI)
    if not LOCAL_STORE.exists():
        _create_store_quietly()


def _create_store_quietly() -> None:
    """Create the SQLite store without the ~40 lines its schema migrations log.

    MLflow runs the migrations with Alembic, which configures logging from its own file
    (INFO, to stderr) as it starts; that configuration is undone afterwards.
    """
    from mlflow.tracking import MlflowClient

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with contextlib.redirect_stderr(io.StringIO()):
        MlflowClient(TRACKING_URI).search_experiments(max_results=1)
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)


@contextlib.contextmanager
def local_spark(
    app_name: str = "local-pipeline", while_starting: Callable[[], None] | None = None
) -> Iterator[SparkSession]:
    """A one-core Spark session without UI, whose Python worker uses this interpreter.

    The session and this process both use UTC, so results never depend on the machine's time zone.
    One core: each extra Python worker would import MLflow and load the model again,
    which costs more than it saves on samples of this size; and one shuffle partition, as
    more partitions on one core only add tasks (and model loads in the scoring stage).
    Spark logs errors only (``log4j2.properties`` beside this module), from the start of its
    JVM on. ``while_starting``, if given, runs in a thread while the JVM starts (seconds of
    waiting otherwise); its error is raised before the session is used.
    """
    # Spark's Python workers score with one OpenMP thread: the session has one core, and more
    # threads only contend with the JVM for it.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The session's zone is UTC; PySpark converts naive Python datetimes with this process's zone.
    # Both UTC: a datetime means the same clock time on Spark's side on any machine.
    os.environ["TZ"] = "UTC"
    time.tzset()
    # Spark's notice that the host name resolves to the loopback address (quiet_library_output's
    # too: set here, before the JVM starts, whatever runs while it starts).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
        started = background.submit(while_starting) if while_starting else None
        spark = (
            SparkSession.builder.master("local[1]")
            .appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", " ".join(JAVA_OPTIONS))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        try:
            if started:
                started.result()
        except BaseException:
            spark.stop()
            raise
    try:
        yield spark
    finally:
        spark.stop()


{% if scored_with_spark %}def spark_to_pandas(frame: "pyspark.sql.DataFrame") -> pd.DataFrame:  # noqa: F821
    """``frame.toPandas()``, with integer columns kept integers (pandas' nullable ``Int64``) where Spark made them floats.

    Spark hands an integer column that holds a null to pandas as float64: a classifier's class,
    null on a quarantined row, would reach ``data/predictions.parquet`` as DOUBLE where the
    jobs' table holds the label's type (LONG).
    """
    from pyspark.sql.types import IntegralType

    rows = frame.toPandas()
    for field in frame.schema.fields:
        if isinstance(field.dataType, IntegralType) and rows[field.name].dtype.kind == "f":
            rows[field.name] = rows[field.name].astype("Int64")
    return rows


{% endif %}class SavedPredictions(NamedTuple):
    """What ``save_predictions`` did: rows ``added`` by this run, ``total`` rows in the file now."""

    added: int
    total: int


def save_predictions(predictions: pd.DataFrame, path: Path = PREDICTIONS_PATH) -> SavedPredictions:
    """Add ``predictions`` to ``path`` (``data/predictions.parquet``) as batch inference adds them to its table.

    Keyed like the jobs' predictions table (``steps/predictions.py``): a row is added only when
    the file holds no row of the same ``record_id`` (the record's model inputs,
    ``record_id_columns``) and ``model_version``, so running the pipeline again keeps the earlier
    versions' predictions and stores none twice. ``scored_at`` is the run's time (UTC). The
    ``record_id`` is the file's own (``local_record_ids``), not comparable with a workspace
    table's. A file written before the file was keyed gets its ids when it is read.
    """
    import pandas as pd

    from steps.predictions import MODEL_VERSION_COLUMN, RECORD_ID_COLUMN, SCORED_AT_COLUMN

    rows = predictions.assign(
        **{RECORD_ID_COLUMN: local_record_ids(predictions), SCORED_AT_COLUMN: pd.Timestamp.now(tz="UTC")}
    )
    if path.is_dir():  # {% if recipes %}left by the recipe's own predict step, which writes{% else %}a folder left by a write{% endif %} with Spark
        shutil.rmtree(path)
    if not path.is_file():
        _replace_parquet(rows, path)
        return SavedPredictions(added=len(rows), total=len(rows))
    earlier = pd.read_parquet(path)
    if RECORD_ID_COLUMN not in earlier.columns:
        earlier[RECORD_ID_COLUMN] = local_record_ids(earlier)
    key = [RECORD_ID_COLUMN, MODEL_VERSION_COLUMN]
    stored = pd.MultiIndex.from_frame(earlier[key].astype(str))
    new = rows[~pd.MultiIndex.from_frame(rows[key].astype(str)).isin(stored)]
    history = pd.concat([earlier, new], ignore_index=True) if len(new) else earlier
    _replace_parquet(history, path)
    return SavedPredictions(added=len(new), total=len(history))


def _replace_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file beside it and ``os.replace``, so an
    interrupted write leaves the earlier file whole (the predictions history lives in it)."""
    partial = path.with_name(f".{path.name}.partial")
    frame.to_parquet(partial, index=False)
    os.replace(partial, path)


def local_record_ids(rows: pd.DataFrame) -> pd.Series:
    """Per row, the SHA-256 of its model inputs (``steps.predictions.record_id_columns``) as JSON lines.

    What ``record_id`` is in the jobs' table, computed with pandas (timestamps in ISO 8601, floats
    to 15 significant digits) so that the local pipelines need no Spark to key their file. Raises
    ``ValueError`` when ``rows`` hold none of the model's inputs.
    """
    import pandas as pd

    from steps.predictions import record_id_columns

    inputs = rows[record_id_columns(list(rows.columns))]
    lines = inputs.to_json(orient="records", lines=True, date_format="iso", date_unit="us", double_precision=15)
    ids = [hashlib.sha256(line.encode()).hexdigest() for line in lines.splitlines()]
    return pd.Series(ids, index=rows.index, dtype=object)


def passing_side() -> str:
    """How a metric passes its threshold, in the directions of ``model_spec.metrics.GREATER_IS_BETTER``.

    "value <= threshold" when every metric is an error (lower is better), "value >= threshold"
    when every one is a score, and both, each per its metric's line, when they are mixed.
    """
    from model_spec.metrics import GREATER_IS_BETTER

    directions = set(GREATER_IS_BETTER.values())
    if directions == {False}:
        return "value <= threshold"
    if directions == {True}:
        return "value >= threshold"
    return "value <= threshold for an error, >= for a score (as each line shows)"


def print_summary(
    lines: dict[str, str], validation: ValidationReport, validated_on: str, predictions: SavedPredictions
) -> None:
    """The closing summary: ``lines`` first, then validation, predictions and the ``mlflow ui`` command.

    One aligned ``label: value`` per line; values may span lines.
    """
    lines = {
        **lines,
        "Validation metrics": f"{validated_on}, {passing_side()}\n{validation.report()}",
        "Predictions": f"{shown_path(PREDICTIONS_PATH)} ({predictions.added} rows added, {predictions.total} in all)",
        "Browse the runs": mlflow_ui_command(),
    }
    width = max(len(label) for label in lines) + 1
    print()
    for label, value in lines.items():
        first, *rest = value.splitlines() or [""]
        print(f"{label + ':':<{width}} {first}")
        for line in rest:
            print(f"{'':<{width}} {line}")


def alias_lines(model_name: str, champion: str, baseline_version: str | None, champion_uri: str) -> dict[str, str]:
    """The summary lines of a pipeline that moves the ``champion`` alias (MLflow 3, feature store).

    ``baseline_version``: the version validation compared against (None on the first run);
    ``champion_uri``: where the alias of ``model_name`` points after the deployment step.
    """
    return {
        "Baseline": f"{champion} version {baseline_version}" if baseline_version else "none yet",
        "Alias": f"{model_name}@{champion} -> {champion_uri}",
    }


def shown_path(path: Path) -> str:
    """``path`` relative to the project root when inside it (shorter in the summary), else absolute."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def mlflow_ui_command() -> str:
    """The ``mlflow ui`` command that shows the local runs, with this venv's ``mlflow``."""
    mlflow = Path(sys.executable).parent / "mlflow"
    with contextlib.suppress(ValueError):
        mlflow = mlflow.relative_to(Path.cwd())
    return f"{mlflow} ui --backend-store-uri {TRACKING_URI} --default-artifact-root {ARTIFACT_ROOT}"


def run_as_command(run: Callable[[], None]) -> None:
    """Run a pipeline, timed; a failed step ends the process with status 1 and the step's name."""
    started = time.monotonic()
    try:
        run()
    except StepFailed as failure:
        print(f"\nLocal pipeline FAILED: {failure}", file=sys.stderr)
        raise SystemExit(1) from failure
    print(f"\nLocal pipeline finished in {time.monotonic() - started:.0f} s.")
