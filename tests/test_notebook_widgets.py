"""The notebooks' widgets agree with each other: a model trained in an environment can be validated there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.variants import SUPPORTED_VARIANTS, Variant

# The first supported variant of each ML track: the notebooks differ per track only.
ONE_PER_TRACK = list({(v.ml_code, v.unity_catalog): v for v in reversed(SUPPORTED_VARIANTS)}.values())


@pytest.fixture(params=ONE_PER_TRACK, ids=[v.id for v in ONE_PER_TRACK])
def variant(request: pytest.FixtureRequest) -> Variant:
    return request.param


def dropdown_choices(notebook: Path, widget: str) -> list[str]:
    """The choices of the ``dbutils.widgets.dropdown`` named ``widget`` in ``notebook``."""
    for node in ast.walk(ast.parse(notebook.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "dropdown"
            and node.args
            and ast.literal_eval(node.args[0]) == widget
        ):
            return ast.literal_eval(node.args[2])
    raise AssertionError(f"{notebook.name} declares no dropdown {widget!r}")


def test_model_validation_offers_every_environment_training_does(generated_project: Path) -> None:
    notebooks = generated_project / "notebooks"
    train = next(p for name in ("Train.py", "TrainWithFeatureStore.py") if (p := notebooks / name).exists())
    validation = dropdown_choices(notebooks / "ModelValidation.py", "env")
    assert set(dropdown_choices(train, "env")) <= set(validation)


def test_batch_inference_offers_every_environment_training_does(variant: Variant, generated_project: Path) -> None:
    """A model trained in dev (a data scientist's own run) can be scored in dev too (MLflow 3: by alias).

    The Recipes track serves registry stages, which dev has none of, so its BatchInference has no dev.
    """
    if variant.ml_code == "mlflow_recipes":
        pytest.skip("MLflow Recipes: dev has no registry stage to score from")
    notebooks = generated_project / "notebooks"
    train = next(p for name in ("Train.py", "TrainWithFeatureStore.py") if (p := notebooks / name).exists())
    assert set(dropdown_choices(train, "env")) <= set(dropdown_choices(notebooks / "BatchInference.py", "env"))
