"""Train step of the recipe (recipe.yaml ``estimator_method``): the model's estimator, ``model_spec.estimator``."""

from __future__ import annotations

from model_spec.estimator import estimator_fn

__all__ = ["estimator_fn"]
