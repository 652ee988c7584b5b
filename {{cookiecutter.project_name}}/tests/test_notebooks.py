"""The notebooks keep Databricks' source format and pass their parameters on correctly.

Notebooks are executed here as plain Python with the stand-ins of ``tests/notebook_runtime.py``.
"""

from __future__ import annotations
{% if cookiecutter.include_feature_store == "no" %}
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mlflow
import pytest

from steps.utils import TERRAFORM_ENVS
from tests.notebook_runtime import NOTEBOOKS, FakeDbutils, run_notebook
{%- else %}
from tests.notebook_runtime import NOTEBOOKS
{%- endif %}


def test_every_notebook_is_in_databricks_source_format() -> None:
    notebooks = sorted(NOTEBOOKS.glob("*.py"))
    assert notebooks
    for notebook in notebooks:
        assert notebook.read_text().startswith("# Databricks notebook source\n"), notebook.name


def test_every_notebook_that_installs_packages_restarts_python_right_after() -> None:
    for notebook in sorted(NOTEBOOKS.glob("*.py")):
        cells = [cell.strip() for cell in notebook.read_text().split("# COMMAND ----------")]
        for index, cell in enumerate(cells):
            if cell.startswith("# MAGIC %pip install"):
                *comments, restart = cells[index + 1].splitlines()  # why, then the restart itself
                assert restart == "dbutils.library.restartPython()", notebook.name
                assert all(line.startswith("#") for line in comments), notebook.name


def test_every_notebook_that_trains_validates_or_scores_reads_the_clock_in_utc() -> None:
    """Spark hands pandas (toPandas, the model's pandas UDF) clock times in the session time zone:
    a cluster in another zone gave the model other pickup hours at scoring than at training, and
    read the UTC training cutoff as another instant (second ML review)."""
    pinned = 'spark.conf.set("spark.sql.session.timeZone", "UTC")'
    names = ("Train", "TrainWithFeatureStore", "ModelValidation", "BatchInference")
    notebooks = [NOTEBOOKS / f"{name}.py" for name in names]
    assert [n.name for n in notebooks if n.exists() and pinned not in n.read_text()] == []
{%- if cookiecutter.include_feature_store == "no" %}


@pytest.mark.parametrize("env", TERRAFORM_ENVS)
def test_model_validation_uses_the_env_and_mode_it_is_given(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steps import deploy, model_validation, utils

    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path)
    for name in TERRAFORM_ENVS:
        output = {"value": f"/experiments/{name}"}
        (tmp_path / f"{name}.json").write_text(json.dumps({"{{ cookiecutter.project_name }}_experiment_name": output}))
    calls: dict[str, Any] = {}
    monkeypatch.setattr(mlflow, "set_experiment", lambda name: calls.setdefault("experiment", name))
    monkeypatch.setattr(model_validation, "run_model_validation", lambda *args, **kwargs: calls.update(kwargs))
    monkeypatch.setattr(deploy, "deployed_model_uri", lambda name, env: f"models:/{name}/deployed-in-{env}")
    task_values = {"model_uri": "models:/m/3", "model_name": "m", "model_version": "3"}
    dbutils = FakeDbutils({"env": env, "run_mode": "enabled"}, upstream={"Train": task_values})

    conf: dict[str, str] = {}
    run_notebook("ModelValidation", dbutils, spark=SimpleNamespace(conf=SimpleNamespace(set=conf.__setitem__)))

    assert conf == {"spark.sql.session.timeZone": "UTC"}

    assert calls["experiment"] == f"/experiments/{env}"
    assert calls["run_mode"].value == "enabled"
    assert (calls["model_uri"], calls["model_name"], calls["model_version"]) == ("models:/m/3", "m", "3")
    assert calls["baseline_model_uri"] == f"models:/m/deployed-in-{env}"


@pytest.mark.parametrize("env", TERRAFORM_ENVS)
def test_train_names_the_missing_terraform_outputs(env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from steps import utils

    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path / "output")
    dbutils = FakeDbutils({"env": env, "test_mode": "False"})
    with pytest.raises(RuntimeError, match=rf"output/{env}\.json does not exist: deploy the databricks-config"):
        run_notebook("Train", dbutils)


def test_train_runs_the_recipe_in_utc_whatever_the_clusters_time_zone(spark, monkeypatch: pytest.MonkeyPatch) -> None:
    """The split's cutoff comes from the recipe's pandas clock times, which Spark renders in the
    session time zone; the ``training_cutoff`` tag must be their UTC reading (``steps.trips``)."""
    import mlflow.recipes

    class RecipeCreated(Exception):
        pass

    def recipe(profile: str) -> None:
        raise RecipeCreated(spark.conf.get("spark.sql.session.timeZone"), os.environ["TZ"])

    monkeypatch.setattr(mlflow.recipes, "Recipe", recipe)
    # The recipe's steps run in processes of their own, with sessions of their own: the zone
    # reaches them through the environment they inherit.
    monkeypatch.setenv("TZ", "America/New_York")
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        with pytest.raises(RecipeCreated) as created:
            run_notebook("Train", FakeDbutils({"env": "dev", "test_mode": "True"}), spark=spark)
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)
    assert created.value.args == ("UTC", "UTC")
{%- endif %}
