"""The whole MLflow Recipes pipeline on this machine: ``make local-pipeline``.

1. train: the recipe on the ``local`` profile (ingest, split, transform, train, evaluate,
   register) against the MLflow store in the project root;
2. validate: the ModelValidation logic on the registered version, scoring the sample's
   held-out period (the recipe's test split) with Spark (``enabled`` mode: failing
   thresholds stop the run);
3. batch inference: the BatchInference logic on the whole sample, written to
   ``data/predictions.parquet`` (kept across runs, per record and model version).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Iterator

import local_pipeline as pipeline
from steps.model_version import RegisteredVersion

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from steps.model_validation import ScoreTrips
    from steps.validation import ValidationResult

PROFILE = "local"
# MLflow Recipes' step outputs (ingested data, fitted transformer, cards); by default
# they go to ~/.mlflow/recipes/, outside the project where `make clean` cannot reach.
RECIPE_EXECUTION_DIR = pipeline.PROJECT_ROOT / ".mlflow-recipes"
RECIPES_DEPRECATION_NOTE = (
    "Note: MLflow Recipes is deprecated upstream (MLflow 3 removed it). A project generated "
    "with include_mlflow_recipes=no trains without it."
)


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

    progress = sys.stdout  # the steps' timings stay visible when Recipe.run's own output is hidden

    def run_steps(
        execution_directory_path: str, rule_name: str, extra_env: dict[str, str], recipe_steps: list[BaseStep]
    ) -> None:
        names = [recipe_step.name for recipe_step in recipe_steps]
        previous_env = {name: os.environ.get(name) for name in extra_env}
        os.environ.update(extra_env)
        try:
            for recipe_step in recipe_steps[: names.index(rule_name) + 1]:
                output_directory = execution._get_step_output_directory_path(execution_directory_path, recipe_step.name)
                started = time.monotonic()
                try:
                    recipe_step.run(output_directory=output_directory)
                except Exception:  # noqa: BLE001 - recorded as the step's FAILED state, which Recipe.run reports
                    return
                print(
                    f"    recipe step {recipe_step.name:<10} {time.monotonic() - started:5.1f} s",
                    file=progress,
                    flush=True,
                )
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


def train() -> RegisteredVersion:
    """Run the recipe up to ``register``, record the version's training cutoff as notebooks/Train does,
    and collect what the next steps need."""
    from mlflow.recipes import Recipe

    from steps.split import recipe_held_out_cutoff
    from steps.validation import record_training_cutoff

    print(RECIPES_DEPRECATION_NOTE)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="MLflow Recipes is deprecated", category=FutureWarning)
        recipe = Recipe(profile=PROFILE)
    if not pipeline.LOCAL_STORE.exists():  # cached step outputs would refer to runs of a deleted store
        recipe.clean()
    with recipe_steps_in_this_process(), contextlib.redirect_stdout(io.StringIO()):
        # Recipe.run prints its step graph and each card's location; the steps' timings
        # are printed above (to the real stdout) and failures raise below.
        recipe.run("register")
    _remove_empty_default_store()
    version = recipe.get_artifact("registered_model_version")
    if version is None:
        raise RuntimeError("the recipe registered no model version (see the evaluate step's validation criteria)")
    record_training_cutoff(version.name, str(version.version), recipe_held_out_cutoff(recipe))
    run = recipe.get_artifact("run")
    return RegisteredVersion(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_name=version.name,
        model_version=str(version.version),
    )


def _remove_empty_default_store() -> None:
    """Remove the empty ``metadata/mlflow`` folder Recipes creates for a store this profile does not use."""
    for folder in (pipeline.PROJECT_ROOT / "metadata" / "mlflow", pipeline.PROJECT_ROOT / "metadata"):
        with contextlib.suppress(OSError):  # not empty, or already gone: leave it
            folder.rmdir()


def run() -> None:
    # MLflow Recipes finds recipe.yaml and resolves the local profile's relative paths
    # from the working directory.
    os.chdir(pipeline.PROJECT_ROOT)
    sys.path.insert(0, str(pipeline.PROJECT_ROOT))
    import mlflow

    from steps.predict import score_trips

    # Logging a model normally re-imports it in a subprocess to infer its pip requirements,
    # several seconds each time the recipe logs a model. Locally the model is only served
    # from this venv, so a zero timeout makes MLflow record its default requirements at once.
    os.environ.setdefault("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "0")
    os.environ.setdefault("MLFLOW_RECIPES_EXECUTION_DIRECTORY", str(RECIPE_EXECUTION_DIR))
    pipeline.quiet_library_output()
    pipeline.use_local_mlflow_store()
    # The requirements fallback is deliberate: hide the warning MLflow gives for each model it logs.
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    with pipeline.step("train: MLflow Recipe on the local profile"):
        model = train()
    mlflow.set_experiment(experiment_id=model.experiment_id)  # validation runs beside the training run
    with pipeline.local_spark() as spark:
        sample = spark.read.parquet(str(pipeline.SAMPLE_PATH))
        with pipeline.step("validate: ModelValidation on the registered version"):
            result = validate_registered_model(spark, score_trips, sample, model.model_uri)
        with pipeline.step("batch inference: BatchInference on the sample"):
            saved = batch_inference(spark, score_trips, model.model_uri, sample)
    pipeline.print_summary(
        {"Training run id": model.run_id, "Registered model": model.model_uri},
        result,
        validated_on="the most recent trips, held out from training",
        predictions=saved,
    )


def validate_registered_model(
    spark: SparkSession, score_trips: ScoreTrips, trips: DataFrame, model_uri: str
) -> ValidationResult:
    """ModelValidation in ``enabled`` mode: score the held-out period of ``trips`` with ``model_uri``.

    ``trips`` carry their true ``fare_amount``; ModelValidation keeps those from the version's
    training cutoff to at most ``HELD_OUT_DAYS`` days after it, the period training left out
    (``steps/trips.py``). ``model_uri`` is
    ``models:/<name>/<version>``.
    Failing thresholds raise ``ModelValidationFailed``. The report, which ModelValidation
    prints in a notebook, is returned for the summary instead.
    """
    from steps.model_validation import run_model_validation
    from steps.validation import RunMode

    _, model_name, model_version = model_uri.split("/")
    trips.createOrReplaceTempView(pipeline.VALIDATION_VIEW)
    with contextlib.redirect_stdout(io.StringIO()):
        return run_model_validation(
            spark,
            score_trips,
            model_uri=model_uri,
            model_name=model_name,
            model_version=model_version,
            validation_input=f"SELECT * FROM {pipeline.VALIDATION_VIEW}",
            run_mode=RunMode.ENABLED,
        )


def batch_inference(
    spark: SparkSession, score_trips: ScoreTrips, model_uri: str, trips: DataFrame
) -> pipeline.SavedPredictions:
    """BatchInference: score ``trips`` and add the predictions, each beside the model version that
    made it, to ``data/predictions.parquet`` (``pipeline.save_predictions``)."""
    from steps.batch_inference import score_with_version

    return pipeline.save_predictions(pipeline.spark_to_pandas(score_with_version(spark, score_trips, model_uri, trips)))


if __name__ == "__main__":
    pipeline.run_as_command(run)
