{%- set recipes = cookiecutter | derived("ml_code") == "mlflow_recipes" -%}
"""Model validation: how a candidate is judged against the model's thresholds and the baseline.

The metrics and thresholds are the model's (``model_spec.metrics``).
{% if cookiecutter | derived("mlflow_major_version") == "2" %}
Used by ``notebooks/ModelValidation`` on Databricks and by the local pipeline, so that both
judge a model the same way (the recipe's evaluate step applies the same thresholds). A candidate passes when
every metric is within its threshold and, when a model is already deployed, no metric is
worse than the deployed model's on the same trips by more than ``MAX_REGRESSION`` (the
original stack's baseline comparison). The verdict is a model-version tag that deployment
checks (``steps/deploy.py``). The metric and verdict functions are pure;
``record_in_model_version`` is the only one writing to MLflow.
{%- else %}
``fare_model/validation.py`` holds candidates to these thresholds with MLflow's
``evaluate`` (the model's metrics are its extra metrics) and to the ``champion``'s
metrics; the run modes mean the same on every track. The verdict and where it is recorded
are ``fare_model/validation.py``'s and ``fare_model/registry.py``'s.
{%- endif %}
"""

from __future__ import annotations

import enum
{%- if recipes %}
from dataclasses import dataclass, field
{%- endif %}
from typing import Optional
{%- if recipes %}

import pandas as pd
from mlflow.tracking import MlflowClient

from model_spec.metrics import GREATER_IS_BETTER, THRESHOLDS, compute_metrics
{%- endif %}


class RunMode(enum.Enum):
    """How ModelValidation acts: skip, report only, or report and block deployment on failure."""

    DISABLED = "disabled"
    DRY_RUN = "dry_run"
    ENABLED = "enabled"

    @classmethod
    def parse(cls, value: str) -> "RunMode":
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(mode.value for mode in cls)
            raise ValueError(f"Unknown run_mode {value!r}; choose one of: {choices}") from None


class ModelValidationFailed(Exception):
    """Raised in ``enabled`` mode, and whenever the model cannot be scored, so the job stops."""


def metric_limit(threshold: float, baseline: Optional[float], margin: float, greater_is_better: bool) -> float:
    """The worst passing value of a metric: its fixed ``threshold``, tightened by the deployed model's ``baseline``.

    Lower is better (``greater_is_better`` False, an error): the lower of the threshold and the
    baseline plus ``margin`` (a fraction: 0.05 is 5 %). Higher is better: the higher of the
    threshold and the baseline minus ``margin``. ``baseline`` None (nothing deployed) leaves the
    threshold. The direction is the model's (``model_spec.metrics.GREATER_IS_BETTER``); the
    margin assumes a metric that is not negative. Raises ``ValueError`` for a NaN ``baseline``:
    ``min``/``max`` would drop it silently and the candidate would skip the comparison.
    """
    if baseline is None:
        return threshold
    if baseline != baseline:  # NaN
        raise ValueError("the deployed model's metric is NaN: it cannot be compared with (score it again)")
    if greater_is_better:
        return max(threshold, baseline * (1.0 - margin))
    return min(threshold, baseline * (1.0 + margin))


def within_limit(value: Optional[float], limit: float, greater_is_better: bool) -> bool:
    """Whether ``value`` passes ``limit`` in the metric's direction; a missing value (None, NaN) fails."""
    if value is None or value != value:
        return False
    return value >= limit if greater_is_better else value <= limit
{%- if recipes %}


# Largest relative increase of a metric over the deployed model's that still passes: 0.05
# lets a candidate be up to 5% worse (noise between training runs), never more. Releases may
# compound it; ``THRESHOLDS`` bound where that can lead, since the limit is the lower of the two.
MAX_REGRESSION = 0.05
# Model-version tag holding the verdict; deployment refuses versions without a passing one.
VALIDATION_STATUS_TAG = "model_validation_status"
# Model-version tag holding the first pickup time training held out (``steps.trips.holdout_cutoff_of``
# of the trips the recipe split): ModelValidation scores the trips from it on. The MLflow 3 tracks
# use the same tag name and value format (``fare_model/registry.py``).
TRAINING_CUTOFF_TAG = "training_cutoff"


class ValidationStatus(str, enum.Enum):
    """Value of the ``VALIDATION_STATUS_TAG`` tag; DISABLED means a run explicitly skipped validation."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class ValidationResult:
    """Metrics of one model version against the thresholds and, if any, the deployed model's.

    Which way each metric is better is ``greater_is_better``'s (the model's
    ``GREATER_IS_BETTER``). ``baseline`` holds the deployed model's metrics on the same trips;
    empty when nothing is deployed yet.
    """

    metrics: dict[str, float]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(THRESHOLDS))
    baseline: dict[str, float] = field(default_factory=dict)
    max_regression: float = MAX_REGRESSION
    greater_is_better: dict[str, bool] = field(default_factory=lambda: dict(GREATER_IS_BETTER))

    def limit(self, name: str) -> float:
        """The worst passing value of metric ``name``: its threshold, tightened by the baseline (``metric_limit``)."""
        better = self.greater_is_better[name]
        return metric_limit(self.thresholds[name], self.baseline.get(name), self.max_regression, better)

    @property
    def failures(self) -> list[str]:
        """Metrics on the wrong side of their limit (a metric missing from ``metrics`` fails too)."""
        return [
            name
            for name in self.thresholds
            if not within_limit(self.metrics.get(name), self.limit(name), self.greater_is_better[name])
        ]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def status(self) -> ValidationStatus:
        return ValidationStatus.PASSED if self.passed else ValidationStatus.FAILED

    def report(self) -> str:
        """One line per metric, e.g. ``root_mean_squared_error  2.914 <= 10 ok (deployed: 3.010)``."""
        lines = []
        for name in self.thresholds:
            value = self.metrics.get(name, float("nan"))
            verdict = "FAILED" if name in self.failures else "ok"
            deployed = f" (deployed: {self.baseline[name]:.4f})" if name in self.baseline else ""
            bound = ">=" if self.greater_is_better[name] else "<="
            lines.append(f"{name:<30} {value:10.4f} {bound} {self.limit(name):g}  {verdict}{deployed}")
        return "\n".join(lines)


def validate(
    predictions: pd.Series,
    targets: pd.Series,
    thresholds: dict[str, float] = THRESHOLDS,
    baseline: Optional[dict[str, float]] = None,
) -> ValidationResult:
    """Metrics of ``predictions`` against ``targets``, judged by ``thresholds`` and the ``baseline`` metrics."""
    return ValidationResult(
        metrics=compute_metrics(predictions, targets), thresholds=dict(thresholds), baseline=dict(baseline or {})
    )


def enforce(result: ValidationResult, run_mode: RunMode) -> None:
    """Raise in ``enabled`` mode when the model failed; other modes only report."""
    if run_mode is RunMode.ENABLED and not result.passed:
        raise ModelValidationFailed(f"Model validation failed for {', '.join(result.failures)}:\n{result.report()}")


def description_with_result(description: str, status: ValidationStatus, details: str) -> str:
    """The model version description with this validation's status appended below a rule."""
    entry = f"Model Validation Status: {status.value}\nValidation Details: {details}"
    return f"{description.rstrip()}\n\n---\n\n{entry}" if description.strip() else entry


def record_training_cutoff(model_name: str, model_version: str, cutoff: str) -> None:
    """Tag the version with ``cutoff`` (``yyyy-MM-dd HH:mm:ss``), the start of the period its training held out."""
    MlflowClient().set_model_version_tag(model_name, model_version, TRAINING_CUTOFF_TAG, cutoff)


def training_cutoff(model_name: str, model_version: str) -> str:
    """The version's ``TRAINING_CUTOFF_TAG``, which ``notebooks/Train`` records after the recipe registers it.

    Raises ``ValueError`` for a version without one (registered some other way), rather
    than re-deriving a held-out period that might overlap the trips it was trained on.
    """
    cutoff = MlflowClient().get_model_version(model_name, model_version).tags.get(TRAINING_CUTOFF_TAG)
    if not cutoff:
        raise ValueError(
            f"Version {model_version} of {model_name} has no {TRAINING_CUTOFF_TAG!r} tag: register models with "
            "notebooks/Train (or record_training_cutoff) so that validation knows which trips training did not see"
        )
    return cutoff


def record_in_model_version(model_name: str, model_version: str, status: ValidationStatus, details: str) -> None:
    """Set the version's ``VALIDATION_STATUS_TAG`` tag and append the status to its description.

    The tag is what deployment checks; the description is for people browsing the registry.
    """
    client = MlflowClient()
    client.set_model_version_tag(model_name, model_version, VALIDATION_STATUS_TAG, status.value)
    current = client.get_model_version(model_name, model_version).description or ""
    client.update_model_version(
        model_name, model_version, description=description_with_result(current, status, details)
    )
{%- endif %}
