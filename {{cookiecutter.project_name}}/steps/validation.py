"""Model validation: metrics of a candidate model and the thresholds it must meet.

Used by the recipe (the custom metric), by ``notebooks/ModelValidation`` on Databricks and
by the local pipeline, so that all three judge a model the same way. The metric and
threshold functions are pure; ``record_in_model_version`` is the only one writing to MLflow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

# Maximum allowed value of each metric (all are errors in dollars or squared dollars).
# recipe.yaml's evaluate.validation_criteria uses the same numbers; a test keeps them equal.
THRESHOLDS: dict[str, float] = {
    "root_mean_squared_error": 10.0,
    "mean_absolute_error": 5.0,
    "weighted_mean_squared_error": 20.0,
}
# Fares below a dollar would give single trips enormous weight.
_MIN_WEIGHT_FARE = 1.0


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
    """Raised in ``enabled`` mode so that the job stops before the model is deployed."""


def weighted_mean_squared_error(predictions: pd.Series, targets: pd.Series) -> float:
    """Squared error weighted by 1 / fare, so that a $5 miss on a $7 trip counts more than on a $70 one.

    The weight comes from the true fare (not the prediction), so every candidate model is
    judged with the same weights, and it is capped for fares under a dollar.
    """
    targets = np.asarray(targets, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    weights = 1.0 / np.maximum(np.abs(targets), _MIN_WEIGHT_FARE)
    return float(np.average((predictions - targets) ** 2, weights=weights))


def compute_metrics(predictions: pd.Series, targets: pd.Series) -> dict[str, float]:
    """Every metric that has a threshold, computed on the same rows."""
    errors = np.asarray(predictions, dtype=float) - np.asarray(targets, dtype=float)
    if errors.size == 0:
        raise ValueError("No rows to validate the model on")
    return {
        "root_mean_squared_error": float(np.sqrt(np.mean(errors**2))),
        "mean_absolute_error": float(np.mean(np.abs(errors))),
        "weighted_mean_squared_error": weighted_mean_squared_error(predictions, targets),
    }


@dataclass(frozen=True)
class ValidationResult:
    """Metrics of one model version against the thresholds."""

    metrics: dict[str, float]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(THRESHOLDS))

    @property
    def failures(self) -> list[str]:
        """Metrics above their threshold (a metric missing from ``metrics`` fails too)."""
        return [
            name
            for name, maximum in self.thresholds.items()
            if not (name in self.metrics and self.metrics[name] <= maximum)
        ]

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        """One line per metric, e.g. ``root_mean_squared_error  2.914 <= 10 ok``."""
        lines = []
        for name, maximum in self.thresholds.items():
            value = self.metrics.get(name, float("nan"))
            verdict = "FAILED" if name in self.failures else "ok"
            lines.append(f"{name:<30} {value:10.4f} <= {maximum:g}  {verdict}")
        return "\n".join(lines)


def validate(predictions: pd.Series, targets: pd.Series, thresholds: dict[str, float] = THRESHOLDS) -> ValidationResult:
    """Metrics of ``predictions`` against ``targets``, judged by ``thresholds``."""
    return ValidationResult(metrics=compute_metrics(predictions, targets), thresholds=dict(thresholds))


def enforce(result: ValidationResult, run_mode: RunMode) -> None:
    """Raise in ``enabled`` mode when the model failed; other modes only report."""
    if run_mode is RunMode.ENABLED and not result.passed:
        raise ModelValidationFailed(f"Model validation failed for {', '.join(result.failures)}:\n{result.report()}")


def description_with_result(description: str, passed: bool, details: str) -> str:
    """The model version description with this validation's status appended below a rule."""
    status = "SUCCESS" if passed else "FAILURE"
    entry = f"Model Validation Status: {status}\nValidation Details: {details}"
    return f"{description.rstrip()}\n\n---\n\n{entry}" if description.strip() else entry


def record_in_model_version(model_name: str, model_version: str, passed: bool, details: str) -> None:
    """Append the validation status to the registered model version's description."""
    client = MlflowClient()
    current = client.get_model_version(model_name, model_version).description or ""
    client.update_model_version(
        model_name, model_version, description=description_with_result(current, passed, details)
    )
