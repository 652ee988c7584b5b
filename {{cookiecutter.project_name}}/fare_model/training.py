"""Train the taxi-fare model and register it: the body of notebooks/Train.

The model is one scikit-learn pipeline, the feature transformer of ``model_spec/features.py``
(logged with the model under a name of its own, ``fare_model.model_code``) followed by the
estimator of ``model_spec/estimator.py``, so that scoring takes the raw trip
columns everywhere (batch inference, serving, validation). It is logged with MLflow 3's
``mlflow.sklearn.log_model(name=...)`` with a signature and an input example; the
training trips are recorded as the run's input dataset, and the version gets the
training cutoff as a tag so that validation holds out exactly the trips training did not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from fare_model.data import (
    TARGET,
    TIME_COLUMN,
    clean_trips,
    in_canonical_order,
    integer_schema_hint_ignored,
    split_by_time,
)
from fare_model.model_code import BundledCode, bundled_feature_code
from fare_model.registry import TRAINING_CUTOFF_TAG
from model_spec.estimator import estimator_fn
from model_spec.metrics import compute_metrics
from model_spec.prediction import prediction_column
from steps.model_version import RegisteredVersion

MODEL_NAME_IN_RUN = "model"
_INPUT_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class TrainedModel(RegisteredVersion):
    """A registered model version and the facts about its training that the next job tasks need."""

    training_cutoff: pd.Timestamp
    training_rows: int
    held_out_rows: int


def build_model(code: BundledCode | None = None) -> Pipeline:
    """The unfitted model: raw trip columns in, the model's prediction (a fare in dollars) out.

    Its feature stage comes from ``code`` (default: ``model_spec/features.py`` under its bundled,
    content-addressed name, see ``fare_model.model_code``), so the logged model never loads
    the repository's ``model_spec.features``.
    """
    if code is None:
        with bundled_feature_code() as code:
            return build_model(code)
    return Pipeline([("features", code.module.transformer_fn()), ("estimator", estimator_fn())])


def _pip_requirements() -> list[str]:
    """The versions this process runs: what the model needs to load, stated instead of inferred.

    MLflow would otherwise re-import the model in a subprocess to guess them, which takes
    seconds per model and warns when it times out.
    """
    return [
        f"mlflow=={mlflow.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
    ]


def _input_example(features: pd.DataFrame) -> pd.DataFrame:
    """A few training rows, integer columns (the zip codes) declared as 64-bit integers (``long``).

    MLflow casts int32 up to ``long`` but refuses int64 for a ``double`` or ``integer`` column,
    and Spark and the feature store (``features/local_store.py``) give zip codes as ``long``.
    A missing zip code is a bad row that scoring quarantines before the model sees it
    (``steps/row_checks.py``), so the signature need not admit NaN.
    """
    example = features.head(_INPUT_EXAMPLE_ROWS)
    integers = example.select_dtypes("integer").columns
    return example.astype({column: "int64" for column in integers})


def _trusted_types(model: Pipeline) -> list[str]:
    """The project's own functions inside the pipeline, which MLflow's skops format must be told to trust.

    MLflow 3 saves scikit-learn models with skops, which loads only types it knows to be
    safe; the feature functions of ``model_spec/features.py`` are ours, so we vouch for them.
    """
    # Every FunctionTransformer nested anywhere in the feature stage (a Pipeline, a ColumnTransformer or one alone).
    features = model.named_steps["features"]
    steps = [features, *features.get_params(deep=True).values()]
    functions = []
    for step in steps:
        if isinstance(step, FunctionTransformer):
            functions += [f for f in (step.func, step.inverse_func, step.feature_names_out) if callable(f)]
    return sorted({f"{f.__module__}.{f.__qualname__}" for f in functions})


def train_and_register(
    trips: pd.DataFrame, model_name: str, source: str, window_max_rows: int | None = None
) -> TrainedModel:
    """Clean ``trips``, fit the model on all but the most recent trips, log and register it.

    ``source`` names where the trips came from (a table or file), recorded with the
    dataset; ``window_max_rows`` is the bound of the training window the trips were read
    with (``fare_model.data.newest_trips``), logged with the window's first pickup time so
    that a run shows which trips it could see. The trips are put in canonical order first
    (``fare_model.data.in_canonical_order``): any permutation of them gives the same model.
    Held-out errors are logged to the training run for information only: the decision is
    ModelValidation's. Raises ``ValueError`` when the trips cannot be split.
    """
    trips = in_canonical_order(trips)
    split = split_by_time(clean_trips(trips))
    features, target = split.train.drop(columns=[TARGET]), split.train[TARGET]
    held_out_features = split.held_out.drop(columns=[TARGET])

    with bundled_feature_code() as code, mlflow.start_run(run_name="train") as run:
        model = build_model(code).fit(features, target)
        held_out_predictions = prediction_column(model, held_out_features)
        with integer_schema_hint_ignored():
            mlflow.log_input(mlflow.data.from_pandas(split.train, targets=TARGET, name=source), context="training")
        mlflow.log_params(
            {
                "training_data": source,
                "estimator": type(model.named_steps["estimator"]).__name__,
                "training_cutoff": split.cutoff.isoformat(),
                "training_rows": len(split.train),
                "held_out_rows": len(split.held_out),
                "training_window_max_rows": window_max_rows if window_max_rows is not None else "unbounded",
                "training_window_start": pd.Timestamp(trips[TIME_COLUMN].min()).isoformat(),
            }
        )
        # The model's own metrics (``model_spec.metrics``), for information: the decision is ModelValidation's.
        held_out_metrics = compute_metrics(held_out_predictions, split.held_out[TARGET])
        mlflow.log_metrics({f"held_out_{name}": value for name, value in held_out_metrics.items()})
        example = _input_example(features)
        with integer_schema_hint_ignored():  # the integer columns are deliberate (see _input_example)
            signature = infer_signature(example, model.predict(example))
        info = mlflow.sklearn.log_model(
            model,
            name=MODEL_NAME_IN_RUN,
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(),
            code_paths=[str(code.path)],
            skops_trusted_types=_trusted_types(model),
            registered_model_name=model_name,
        )
    version = str(info.registered_model_version)
    MlflowClient().set_model_version_tag(model_name, version, TRAINING_CUTOFF_TAG, split.cutoff.isoformat())
    return TrainedModel(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_name=model_name,
        model_version=version,
        training_cutoff=split.cutoff,
        training_rows=len(split.train),
        held_out_rows=len(split.held_out),
    )
