"""Transform step of the recipe (recipe.yaml ``transformer_method``): the model's feature pipeline.

The feature code is the model's, ``model_spec.features``. The recipe pickles the fitted
transformer with cloudpickle, which would store only a reference to
``model_spec.features.calculate_features``: a process that imports the repository first
(every notebook, ModelValidation scoring the deployed version) would then score an old model
with today's feature code. That module is therefore registered to be pickled *by value*: the
model carries the code it was trained with.
"""

from __future__ import annotations

import cloudpickle

import model_spec.features
from model_spec.features import transformer_fn

cloudpickle.register_pickle_by_value(model_spec.features)

__all__ = ["transformer_fn"]
