"""The whole feature-store pipeline on this machine: ``make local-pipeline``.

1. features: both feature tables computed from ``data/sample.parquet`` into the local
   feature store (``local_feature_store/``, the dev tables), as GenerateAndWriteFeatures
   does on Databricks;
2. train: the training set by point-in-time lookups, then fit, log and register against
   the MLflow store in the project root, as TrainWithFeatureStore does (without the most
   recent trips, which are held out; see ``steps/trips.py``);
3. validate: ``features.validation`` (``fare_model.validation`` scoring through the feature
   store) in ``enabled`` mode on the held-out trips, against the thresholds and, from the
   second run on, the current ``champion``;
4. deploy: ``fare_model.deployment`` moves ``champion`` to the validated version;
5. batch inference: the sample scored with the champion through the feature store, as
   BatchInference does, added to ``data/predictions.parquet`` (per record and model version).
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

Feature tables and model get their Unity Catalog names (``<dev catalog>.<schema>.<name>``,
from databricks-config/unity-catalog.json): each table is a folder of that name in the local
feature store, the model is registered under it in the local MLflow store, where three-level
names and aliases work as in Unity Catalog. The registry URI stays local and predictions go
to a parquet file instead of a Unity Catalog table (the seam: fare_model/unity_catalog.py).
{%- endif %}
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import local_pipeline as pipeline

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from features.stores import FeatureStore

ENV = "dev"  # local runs read and write the dev feature tables
EXPERIMENT_NAME = "{{ cookiecutter | derived("experiment_base_name") }}-local"
{%- if cookiecutter.include_models_in_unity_catalog != "yes" %}
MODEL_NAME = "{{ cookiecutter | derived("model_name") }}-local"
{%- endif %}


def write_feature_tables(store: FeatureStore, trips: DataFrame) -> list[str]:
    """Both feature tables over the whole sample; returns their names.

    A backfill, not the feature job's incremental run: the sample may have been replaced since
    the last run (with older trips, or another model's data), and it is small.
    """
    from features.feature_tables import FEATURE_TABLES
    from features.generate import generate_and_write_features

    return [generate_and_write_features(store, trips, table.module, ENV, backfill=True) for table in FEATURE_TABLES]


def use_local_experiment() -> None:
    """The local experiment, with its artifacts in ``<project root>/mlruns``."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        mlflow.create_experiment(EXPERIMENT_NAME, artifact_location=pipeline.ARTIFACT_ROOT.as_uri())
    mlflow.set_experiment(EXPERIMENT_NAME)


def prepare_mlflow() -> None:
    """MLflow's import and log levels, the local MLflow store and the training code's imports.

    Seconds of Python (importing MLflow, scikit-learn and MLflow's flavors; on a first run the
    store's schema migrations), so the pipeline runs it while Spark's JVM starts: run one after
    the other, the two took 5 s more of the 10,000-trip pipeline's time (benchmarks/README.md).
    """
    pipeline.quiet_library_output()
    pipeline.use_local_mlflow_store()
    importlib.import_module("features.training")


def run() -> None:
    sys.path.insert(0, str(pipeline.PROJECT_ROOT))
    with pipeline.local_spark(while_starting=prepare_mlflow) as spark:
        from fare_model.deployment import promote_to_champion
        from fare_model.registry import CHAMPION, resolve_alias
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
        from fare_model.unity_catalog import name_in, settings
{%- endif %}
        from features.local_store import LocalFeatureStore
        from features.scoring import score_trips
        from features.training import train_and_register
        from features.validation import validate_with_feature_store
        from steps.validation import RunMode
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

        MODEL_NAME = name_in(ENV, settings()["model"] + "_local")  # noqa: N806 - the other tracks' constant
{%- endif %}

        store = LocalFeatureStore(spark)
        with pipeline.step("features: compute and write the pickup and dropoff feature tables"):
            trips = spark.read.parquet(str(pipeline.SAMPLE_PATH)).cache()
            tables = write_feature_tables(store, trips)
        with pipeline.step("train: point-in-time training set, fit, log and register"):
            use_local_experiment()
            result = train_and_register(store, trips, ENV, MODEL_NAME)
        with pipeline.step("validate: fare_model.validation, scoring the held-out trips through the feature store"):
            trips.createOrReplaceTempView(pipeline.VALIDATION_VIEW)
            held_out = f"SELECT * FROM {pipeline.VALIDATION_VIEW}"
            outcome = validate_with_feature_store(
                spark, MODEL_NAME, result.model_version, held_out, RunMode.ENABLED, ENV
            )
        with pipeline.step(f"deploy: fare_model.deployment moves {CHAMPION}"):
            promote_to_champion(result.model_uri, MODEL_NAME)
        with pipeline.step(f"batch inference: the sample scored with the {CHAMPION} through the feature store"):
            champion_uri = resolve_alias(MODEL_NAME)
            saved = pipeline.save_predictions(pipeline.spark_to_pandas(score_trips(spark, champion_uri, trips)))
    training_metrics = ", ".join(f"{name} {value:.3f}" for name, value in result.metrics.items())
    pipeline.print_summary(
        {
            "Feature tables": f"{', '.join(tables)} (in {pipeline.shown_path(store.root)})",
            "Training run id": result.run_id,
            "Training metrics": f"held-out period (the most recent trips): {training_metrics}",
            "Registered model": result.model_uri,
            **pipeline.alias_lines(MODEL_NAME, CHAMPION, outcome.baseline_version, champion_uri),
        },
        outcome,
        validated_on="the most recent trips, held out from training",
        predictions=saved,
    )


if __name__ == "__main__":
    pipeline.run_as_command(run)
