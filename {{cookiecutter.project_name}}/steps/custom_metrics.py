"""Custom metrics the recipe computes next to its built-in ones (see ``custom_metrics`` in recipe.yaml).

The function is the model's (``model_spec.metrics``), so that the recipe's evaluate step and
the ModelValidation notebook compute it identically.
"""

from __future__ import annotations

from model_spec.metrics import weighted_mean_squared_error

__all__ = ["weighted_mean_squared_error"]
