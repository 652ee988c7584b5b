"""The whole MLflow Recipes pipeline on this machine: ``make local-pipeline``.

1. train: the recipe on the ``local`` profile (ingest, split, transform, train, evaluate,
   register) against the MLflow store in the project root;
2. validate: the ModelValidation logic on the registered version, scoring the sample's
   held-out period (the recipe's test split) with Spark (``enabled`` mode: failing
   thresholds stop the run);
3. batch inference: the BatchInference logic on the whole sample, written to
   ``data/predictions.parquet``.

It ends with a summary (run id, metrics against thresholds, model version, predictions,
the ``mlflow ui`` command). A failing step exits non-zero with the step's name and cause.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from typing import Iterator

from local_pipeline import (
    LOCAL_STORE,
    PREDICTIONS_PATH,
    PROJECT_ROOT,
    SAMPLE_PATH,
    local_spark,
    mlflow_ui_command,
    print_summary,
    run_as_command,
    step,
    use_local_mlflow_store,
)

PROFILE = "local"
VALIDATION_VIEW = "local_validation_trips"


@dataclass(frozen=True)
class TrainedModel:
    run_id: str
    experiment_id: str
    model_name: str
    model_version: str

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}/{self.model_version}"


@contextlib.contextmanager
def recipe_steps_in_this_process() -> Iterator[None]:
    """Make ``Recipe.run`` execute its steps in this Python process instead of through ``make``.

    MLflow Recipes normally runs every step as ``make`` -> ``python -c ...``, so each of the
    six steps pays for importing MLflow, pandas and scikit-learn again: about half of a
    one-minute local run. Here only the hand-off to ``make`` is swapped (a private function
    of MLflow 2.22, pinned in requirements.txt; MLflow 3 has no Recipes to change it); the
    execution folder, step configurations, step states, cards and the error report for a
    failed step stay MLflow's own. Every step up to the target runs each time (no make-style
    cache), which is what a fresh local run wants. ``mlflow recipes run`` is not affected.
    """
    from mlflow.recipes.step import BaseStep
    from mlflow.recipes.utils import execution

    def run_steps(
        execution_directory_path: str, rule_name: str, extra_env: dict[str, str], recipe_steps: list[BaseStep]
    ) -> None:
        names = [recipe_step.name for recipe_step in recipe_steps]
        previous_env = {name: os.environ.get(name) for name in extra_env}
        os.environ.update(extra_env)
        try:
            for recipe_step in recipe_steps[: names.index(rule_name) + 1]:
                print(f"Run MLflow Recipe step: {recipe_step.name}", flush=True)
                output_directory = execution._get_step_output_directory_path(execution_directory_path, recipe_step.name)
                try:
                    recipe_step.run(output_directory=output_directory)
                except Exception:  # noqa: BLE001 - recorded as the step's FAILED state, which Recipe.run reports
                    return
        finally:
            for name, value in previous_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    run_make = execution._run_make
    execution._run_make = run_steps
    try:
        yield
    finally:
        execution._run_make = run_make


def train() -> TrainedModel:
    """Run the recipe up to ``register`` and collect what the next steps need."""
    from mlflow.recipes import Recipe

    recipe = Recipe(profile=PROFILE)
    if not LOCAL_STORE.exists():  # cached step outputs would refer to runs of a deleted store
        recipe.clean()
    with recipe_steps_in_this_process():
        recipe.run("register")
    version = recipe.get_artifact("registered_model_version")
    if version is None:
        raise RuntimeError("the recipe registered no model version (see the evaluate step's validation criteria)")
    run = recipe.get_artifact("run")
    return TrainedModel(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_name=version.name,
        model_version=str(version.version),
    )


def validate(spark: "pyspark.sql.SparkSession", model: TrainedModel) -> "steps.validation.ValidationResult":  # noqa: F821
    """ModelValidation in ``enabled`` mode on the sample, of which it scores the held-out period."""
    import mlflow

    from steps.model_validation import run_model_validation
    from steps.predict import score_trips
    from steps.validation import RunMode

    spark.read.parquet(str(SAMPLE_PATH)).createOrReplaceTempView(VALIDATION_VIEW)
    mlflow.set_experiment(experiment_id=model.experiment_id)
    return run_model_validation(
        spark,
        score_trips,
        model_uri=model.model_uri,
        model_name=model.model_name,
        model_version=model.model_version,
        validation_input=f"SELECT * FROM {VALIDATION_VIEW}",
        run_mode=RunMode.ENABLED,
    )


def batch_inference(spark: "pyspark.sql.SparkSession", model_uri: str) -> int:  # noqa: F821
    """Score every sample trip into ``data/predictions.parquet``; returns the row count."""
    from steps.batch_inference import score_with_version
    from steps.predict import score_trips

    predictions = score_with_version(spark, score_trips, model_uri, spark.read.parquet(str(SAMPLE_PATH))).toPandas()
    if PREDICTIONS_PATH.is_dir():  # left by the recipe's own predict step, which writes with Spark
        shutil.rmtree(PREDICTIONS_PATH)
    predictions.to_parquet(PREDICTIONS_PATH, index=False)
    return len(predictions)


def run() -> None:
    # MLflow Recipes finds recipe.yaml and resolves the local profile's relative paths
    # from the working directory.
    os.chdir(PROJECT_ROOT)
    sys.path.insert(0, str(PROJECT_ROOT))
    # Logging a model normally re-imports it in a subprocess to infer its pip requirements,
    # several seconds each time the recipe logs a model. Locally the model is only served
    # from this venv, so a zero timeout makes MLflow record its default requirements at once.
    os.environ.setdefault("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "0")
    use_local_mlflow_store()
    # The fallback is deliberate, so hide the warning MLflow gives for each model it logs
    # (after MLflow's import, which resets the levels of its loggers).
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    with step("train: MLflow Recipe on the local profile"):
        model = train()
    with local_spark() as spark:
        with step("validate: ModelValidation on the registered version"):
            result = validate(spark, model)
        with step("batch inference: BatchInference on the sample"):
            rows = batch_inference(spark, model.model_uri)
    metrics = "\n".join("  " + line for line in result.report().splitlines())
    print_summary(
        {
            "Training run id": model.run_id,
            "Registered model": f"{model.model_uri} (name {model.model_name}, version {model.model_version})",
            "Validation metrics (held-out test split, value <= threshold)": "\n" + metrics,
            "Predictions": f"{PREDICTIONS_PATH} ({rows} rows)",
            "Browse the runs": mlflow_ui_command(),
        }
    )


if __name__ == "__main__":
    run_as_command(run)
