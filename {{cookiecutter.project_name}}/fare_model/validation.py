{%- set plain = cookiecutter | derived("ml_code") == "mlflow3" -%}
"""Validate a registered model version before it may serve: the body of notebooks/ModelValidation.

The candidate scores held-out trips (trips training did not see, cleaned as in training),
and MLflow 3's ``mlflow.models.evaluate`` computes the metrics from its predictions and the
true labels (the model's ``compute_metrics``, ``model_spec/metrics.py``). Who scores is the caller's choice (a ``Scorer``): ``mlflow.pyfunc`` for the
plain MLflow 3 models ({% if plain %}the default, {% endif %}``fare_model.batch_inference.score_pandas``), the
feature store's ``score_batch`` for models logged with feature lookups, which pyfunc
cannot feed (``features/validation.py``). Each metric must stay
within its fixed threshold (``model_spec/metrics.py``, on the side ``GREATER_IS_BETTER`` says)
and, when the registry already has a ``champion``, must not be worse than the champion's on the
same trips by more than ``BASELINE_MARGIN``. ``mlflow.validate_evaluation_results`` applies the resulting
``MetricThreshold``s. The outcome is recorded on the version as tags; a version that passed
becomes the ``challenger``, which deployment promotes to ``champion``.

Run modes (``steps.validation.RunMode``):

* ``disabled``: no evaluation; the version is tagged ``disabled`` and marked challenger, so
  deployment knows validation was switched off on purpose;
* ``dry_run``: evaluate and record; a failed version is not marked challenger and
  deployment refuses it, but this task does not fail;
* ``enabled``: as ``dry_run``, and a failure also fails this task.

An error while scoring is a failure in every mode: it is recorded and raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import mlflow
import pandas as pd
from mlflow.models import EvaluationMetric, MetricThreshold, make_metric
from mlflow.models.evaluation.validation import ModelValidationFailedException
from mlflow.tracking import MlflowClient

from fare_model.registry import (
    CHALLENGER,
    CHAMPION,
    VALIDATION_RUN_TAG,
    VALIDATION_STATUS_TAG,
    ValidationStatus,
    model_version_uri,
    version_with_alias,
)
from model_spec.data import LABEL, TASK
from model_spec.metrics import GREATER_IS_BETTER, THRESHOLDS, compute_metrics
from model_spec.prediction import PREDICTION_COLUMN
from steps.validation import ModelValidationFailed, RunMode, metric_limit, within_limit

# A candidate may be at most 5 % worse than the champion on each metric: retraining on
# fresher data should not be blocked by noise, but a real regression must be. Each release
# could use up the margin again (5 % compounds), so the limit is also never above the fixed
# ``THRESHOLDS`` (model_spec/metrics.py), a floor set from the sample's achieved errors that no
# release moves.
BASELINE_MARGIN = 0.05
# MLflow's evaluator for the model's task (``model_spec.data.TASK``).
MODEL_TYPES = {"regression": "regressor", "classification": "classifier"}

Scorer = Callable[[str, Any], pd.DataFrame]
"""``(model URI, held-out trips) -> scored trips``: a pandas DataFrame with the true label
(``model_spec.data.LABEL``) and the ``PREDICTION_COLUMN`` (``model_spec.prediction``) per trip. The held-out trips are
whatever the scorer takes (pandas for pyfunc scoring, a Spark DataFrame for the feature
store's); the model URI names one version (``models:/<name>/<version>``)."""


def model_metrics() -> list[EvaluationMetric]:
    """The model's metrics (``model_spec.metrics``) as MLflow metrics, one per threshold.

    Each is ``compute_metrics`` read at its name, in its ``GREATER_IS_BETTER`` direction; a
    metric named as one of MLflow's built-in metrics (``root_mean_squared_error``) replaces it,
    so every track judges by the package's definition alone.
    """

    def metric(name: str) -> EvaluationMetric:
        def eval_fn(predictions: pd.Series, targets: pd.Series, metrics: dict) -> float:
            return compute_metrics(predictions, targets)[name]

        return make_metric(eval_fn=eval_fn, greater_is_better=GREATER_IS_BETTER[name], name=name)

    return [metric(name) for name in THRESHOLDS]


@dataclass(frozen=True)
class ValidationOutcome:
    """Metrics of a candidate version, the limits it was held to and the verdict."""

    model_name: str
    model_version: str
    status: ValidationStatus
    metrics: dict[str, float] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    baseline_version: Optional[str] = None
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    run_id: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.status is not ValidationStatus.FAILED

    @property
    def failures(self) -> list[str]:
        return [
            name
            for name, limit in self.limits.items()
            if not within_limit(self.metrics.get(name), limit, GREATER_IS_BETTER[name])
        ]

    def report(self) -> str:
        """One line per metric: value, limit, where the limit comes from, and the verdict."""
        if self.status is ValidationStatus.DISABLED:
            return "validation disabled (run_mode=disabled)"
        lines = []
        for name, limit in self.limits.items():
            value = self.metrics.get(name, math.nan)
            verdict = "FAILED" if name in self.failures else "ok"
            better = GREATER_IS_BETTER[name]
            sign, bound = ("-", ">=") if better else ("+", "<=")
            source = (
                f"{CHAMPION} v{self.baseline_version} {self.baseline_metrics[name]:.4f} {sign} {BASELINE_MARGIN * 100:g} %"
                if name in self.baseline_metrics and limit != THRESHOLDS[name]
                else "threshold"
            )
            lines.append(f"{name:<30} {value:10.4f} {bound} {limit:.4f}  {verdict}  ({source})")
        return "\n".join(lines)


def metric_limits(
    baseline_metrics: Optional[dict[str, float]] = None,
    thresholds: dict[str, float] = THRESHOLDS,
    margin: float = BASELINE_MARGIN,
) -> dict[str, float]:
    """The worst passing value of each metric: its threshold, tightened by the champion's (``metric_limit``).

    Which way is worse is the model's ``GREATER_IS_BETTER``. ``baseline_metrics`` are the
    champion's metrics on the same trips, or None when there is no champion.
    """
    baseline_metrics = baseline_metrics or {}
    return {
        name: metric_limit(threshold, baseline_metrics.get(name), margin, GREATER_IS_BETTER[name])
        for name, threshold in thresholds.items()
    }
{%- if plain %}


def score_with_pyfunc(model_uri: str, held_out: pd.DataFrame) -> pd.DataFrame:
    """The default ``Scorer``: ``held_out`` (pandas) scored in this process through ``mlflow.pyfunc``."""
    from fare_model.batch_inference import score_pandas

    return score_pandas(model_uri, held_out)


def evaluate_version(
    model_uri: str, held_out: Any, score: Scorer = score_with_pyfunc
) -> mlflow.models.EvaluationResult:
{%- else %}


def evaluate_version(model_uri: str, held_out: Any, score: Scorer) -> mlflow.models.EvaluationResult:
{%- endif %}
    """``mlflow.models.evaluate`` of the predictions ``score`` makes with ``model_uri`` on ``held_out``.

    Evaluates a static dataset (``predictions=``, no ``model=``): MLflow's metrics of the
    model's task and the model's own (``model_metrics``), logged to the active run. Raises
    ``ValueError`` when no trip was scored, and whatever ``score`` raises.
    """
    scored = score(model_uri, held_out)
    if scored.empty:
        raise ValueError(f"No held-out trip to validate {model_uri} on")
    data = scored[[LABEL, PREDICTION_COLUMN]]
    return mlflow.models.evaluate(
        # A regressor's values as floats (Spark may hand decimals); a classifier's classes as they are.
        data=data.astype("float64") if TASK == "regression" else data,
        predictions=PREDICTION_COLUMN,
        targets=LABEL,
        model_type=MODEL_TYPES[TASK],
        extra_metrics=model_metrics(),
        evaluator_config={"log_model_explainability": False},
    )


def _record(client: MlflowClient, name: str, version: str, status: ValidationStatus, run_id: Optional[str]) -> None:
    client.set_model_version_tag(name, version, VALIDATION_STATUS_TAG, status.value)
    if run_id:
        client.set_model_version_tag(name, version, VALIDATION_RUN_TAG, run_id)
    if status is not ValidationStatus.FAILED and _not_older_than_challenger(client, name, version):
        client.set_registered_model_alias(name, CHALLENGER, version)


def _not_older_than_challenger(client: MlflowClient, name: str, version: str) -> bool:
    """Whether ``version`` may take the ``challenger`` alias: no version holds it, or an older or the same one.

    ``challenger`` is the latest version that passed (``fare_model.registry``): re-validating
    an older version (a re-run, a manual check) records its verdict but never moves the alias back.
    """
    current = version_with_alias(client, name, CHALLENGER)
    return current is None or int(version) >= int(current)


def validate_model_version(
    model_name: str,
    model_version: str,
    held_out: Optional[Any],
    run_mode: RunMode,
    margin: float = BASELINE_MARGIN,
{%- if plain %}
    score: Scorer = score_with_pyfunc,
{%- else %}
    *,
    score: Scorer,
{%- endif %}
) -> ValidationOutcome:
    """Judge a registered version on ``held_out`` trips and record the outcome on it.

    ``score`` scores the candidate and the champion on ``held_out`` (see ``Scorer``{% if plain %}; the
    default takes pandas trips{% endif %}). ``held_out`` may be None only when ``run_mode`` is
    ``disabled``. Metrics of the
    candidate (and of the champion, in a nested run) are logged to a new run in the
    active experiment. Raises ``ModelValidationFailed`` when the version fails in
    ``enabled`` mode, and re-raises any error from scoring in every mode after recording
    the version as failed.
    """
    client = MlflowClient()
    if run_mode is RunMode.DISABLED:
        _record(client, model_name, model_version, ValidationStatus.DISABLED, run_id=None)
        return ValidationOutcome(model_name, model_version, ValidationStatus.DISABLED)
    if held_out is None:
        raise ValueError(f"run_mode {run_mode.value} needs held-out trips to validate on")

    champion = version_with_alias(client, model_name, CHAMPION)
    baseline = champion if champion not in (None, model_version) else None
    with mlflow.start_run(run_name=f"validate {model_name} version {model_version}") as run:
        mlflow.log_params(
            {
                "model_uri": model_version_uri(model_name, model_version),
                "run_mode": run_mode.value,
                "baseline_version": baseline or "none",
                "baseline_margin": margin,
            }
        )
        try:
            candidate = evaluate_version(model_version_uri(model_name, model_version), held_out, score)
            baseline_metrics: dict[str, float] = {}
            if baseline is not None:
                with mlflow.start_run(run_name=f"baseline {CHAMPION} version {baseline}", nested=True):
                    baseline_uri = model_version_uri(model_name, baseline)
                    baseline_metrics = dict(evaluate_version(baseline_uri, held_out, score).metrics)
        except Exception:
            _record(client, model_name, model_version, ValidationStatus.FAILED, run.info.run_id)
            raise
        limits = metric_limits(baseline_metrics, margin=margin)
        try:
            mlflow.validate_evaluation_results(
                validation_thresholds={
                    name: MetricThreshold(threshold=limit, greater_is_better=GREATER_IS_BETTER[name])
                    for name, limit in limits.items()
                },
                candidate_result=candidate,
            )
            status = ValidationStatus.PASSED
        except ModelValidationFailedException:
            status = ValidationStatus.FAILED
        outcome = ValidationOutcome(
            model_name=model_name,
            model_version=model_version,
            status=status,
            metrics={name: float(candidate.metrics[name]) for name in limits if name in candidate.metrics},
            limits=limits,
            baseline_version=baseline,
            baseline_metrics={name: float(baseline_metrics[name]) for name in limits if name in baseline_metrics},
            run_id=run.info.run_id,
        )
        mlflow.log_text(outcome.report(), "validation_report.txt")
        mlflow.set_tag(VALIDATION_STATUS_TAG, status.value)
    _record(client, model_name, model_version, status, run.info.run_id)
    if status is ValidationStatus.FAILED and run_mode is RunMode.ENABLED:
        raise ModelValidationFailed(f"Model validation failed for {', '.join(outcome.failures)}:\n{outcome.report()}")
    return outcome
