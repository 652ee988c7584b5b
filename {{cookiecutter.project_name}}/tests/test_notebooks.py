"""The notebooks keep Databricks' source format and pass their parameters on correctly.

Notebooks are executed here as plain Python with a stand-in for ``dbutils``.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import mlflow
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class NotebookExit(Exception):
    pass


class FakeDbutils:
    """The parts of Databricks' ``dbutils`` the notebooks use, fed from dictionaries."""

    def __init__(self, widgets: dict[str, str], task_values: dict[str, Any]) -> None:
        self.values = dict(widgets)
        self.declared: dict[str, str] = {}
        self.task_values = task_values
        self.widgets = self
        self.jobs = self
        self.taskValues = self
        self.notebook = self
        self.library = self

    def restartPython(self) -> None:  # noqa: N802 - dbutils' own name
        pass

    def dropdown(self, name: str, default: str, choices: list[str], label: str) -> None:
        assert default in choices
        self.declared[name] = default

    def text(self, name: str, default: str, label: str) -> None:
        self.declared[name] = default

    def get(self, *args: str, **kwargs: str) -> Any:
        if len(args) == 1:  # widgets.get(name)
            assert args[0] in self.declared, f"widget {args[0]} read before it is declared"
            return self.values.get(args[0], self.declared[args[0]])
        task, key = args
        assert task == "Train"
        return self.task_values[key]

    def exit(self, value: Any) -> None:
        raise NotebookExit(value)


def run_notebook(name: str, dbutils: FakeDbutils, monkeypatch: pytest.MonkeyPatch, **globals_: Any) -> None:
    monkeypatch.chdir(NOTEBOOKS)  # as on Databricks
    runpy.run_path(str(NOTEBOOKS / f"{name}.py"), init_globals={"dbutils": dbutils, **globals_})


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
                assert cells[index + 1] == "dbutils.library.restartPython()", notebook.name


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_validation_uses_the_env_and_mode_it_is_given(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steps import deploy, model_validation, utils

    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path)
    for name in ("staging", "prod"):
        output = {"value": f"/experiments/{name}"}
        (tmp_path / f"{name}.json").write_text(json.dumps({"{{ cookiecutter.project_name }}_experiment_name": output}))
    calls: dict[str, Any] = {}
    monkeypatch.setattr(mlflow, "set_experiment", lambda name: calls.setdefault("experiment", name))
    monkeypatch.setattr(model_validation, "run_model_validation", lambda *args, **kwargs: calls.update(kwargs))
    monkeypatch.setattr(deploy, "deployed_model_uri", lambda name, env: f"models:/{name}/deployed-in-{env}")
    task_values = {"model_uri": "models:/m/3", "model_name": "m", "model_version": "3"}
    dbutils = FakeDbutils({"env": env, "run_mode": "enabled"}, task_values)

    run_notebook("ModelValidation", dbutils, monkeypatch, spark="spark session")

    assert calls["experiment"] == f"/experiments/{env}"
    assert calls["run_mode"].value == "enabled"
    assert (calls["model_uri"], calls["model_name"], calls["model_version"]) == ("models:/m/3", "m", "3")
    assert calls["baseline_model_uri"] == f"models:/m/deployed-in-{env}"
{%- if cookiecutter.include_feature_store == "no" %}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_train_names_the_missing_terraform_outputs(env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from steps import utils

    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path / "output")
    dbutils = FakeDbutils({"env": env, "test_mode": "False"}, {})
    with pytest.raises(RuntimeError, match=rf"output/{env}\.json does not exist: deploy the databricks-config"):
        run_notebook("Train", dbutils, monkeypatch)
{%- endif %}
