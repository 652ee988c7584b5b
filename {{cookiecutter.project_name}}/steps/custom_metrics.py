"""Custom metrics the recipe computes next to its built-in ones (see ``custom_metrics`` in recipe.yaml).

The function lives in ``steps.validation`` so that the recipe's evaluate step and the
ModelValidation notebook compute it identically.
"""

from __future__ import annotations

from steps.validation import weighted_mean_squared_error

__all__ = ["weighted_mean_squared_error"]
