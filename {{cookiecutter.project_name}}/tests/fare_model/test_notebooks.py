"""The four job notebooks run as plain Python, one after the other, as the staging jobs chain them.

``dbutils`` and ``spark`` are the stand-ins of ``tests/notebook_runtime.py``: Terraform's
outputs name the staging experiment and model, the training table is the test slice of
trips, Delta tables are written as parquet files, and the MLflow store is this test's own,
holding version 1 of the model already (the ``trained`` fixture). Task values flow from
Train to the next tasks as the jobs pass them.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

Unity Catalog's registry does not exist here: ``use_unity_catalog_registry`` (the seam in
fare_model/unity_catalog.py) is replaced by a recorder, so the tests prove that every task
switches to it before touching the registry, and keep the local store.
{%- endif %}
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrameWriter
from sklearn.dummy import DummyRegressor

{% if cookiecutter.include_models_in_unity_catalog == "yes" -%}
from fare_model import unity_catalog
{% endif -%}
from fare_model.registry import CHALLENGER, CHAMPION, VALIDATION_STATUS_TAG, version_with_alias
from fare_model.training import TrainedModel
from steps import utils
from steps.predictions import NothingScored
from tests.notebook_runtime import FakeDbutils, RuntimeSpark, run_notebook

ENV = "staging"
MODEL_NAME = "fares"  # the model of the trained fixture (tests/fare_model/conftest.py)
EXPERIMENT_NAME = "/Shared/fares-staging"
# The table notebooks/Train.py trains on.
TRAINING_TABLE = "delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`"
TRIPS_VIEW = "staging_trips"
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
PREDICTIONS_TABLE = "staging.fares.predictions"
{%- else %}
PREDICTIONS_TABLE = "staging_predictions"
{%- endif %}
{%- if cookiecutter | derived("cicd_platform_key") in ("gitHub", "gitLab") %}
# Only the prod workspace holds a deploy trigger (.mlops-setup-scripts/cicd): staging deploys itself.
SCOPE = "prod-{{ cookiecutter.project_name }}-cd-credentials"
{%- endif %}
{%- if cookiecutter | derived("cicd_platform_key") == "gitHub" %}
CD_SECRETS = {(SCOPE, "github_repo"): "acme/fares", (SCOPE, "token"): "a-token"}
{%- elif cookiecutter | derived("cicd_platform_key") == "gitLab" %}
CD_SECRETS = {
    (SCOPE, "gitlab_api_url"): "https://gitlab.example.com/api/v4",
    (SCOPE, "gitlab_project_id"): "42",
    (SCOPE, "ref"): "{{ cookiecutter.release_branch }}",
    (SCOPE, "token"): "a-trigger-token",
}
{%- endif %}


@pytest.fixture
def workspace(spark, trips: pd.DataFrame, trained: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The staging workspace, locally: its Terraform outputs, experiment, trips and Delta tables."""
    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path / "output")
    (tmp_path / "output").mkdir()
    outputs = {
        "{{ cookiecutter.project_name }}_experiment_name": {"value": EXPERIMENT_NAME},
        "{{ cookiecutter.project_name }}_model_name": {"value": MODEL_NAME},
    }
    (tmp_path / "output" / f"{ENV}.json").write_text(json.dumps(outputs))
    mlflow.create_experiment(EXPERIMENT_NAME, artifact_location=(tmp_path / "artifacts").as_uri())
    frame = spark.createDataFrame(trips)
    frame.createOrReplaceTempView(TRIPS_VIEW)
    tables = tmp_path / "tables"
    # Delta's saveAsTable, as parquet files in the test's folder.
    monkeypatch.setattr(
        DataFrameWriter,
        "saveAsTable",
        lambda writer, name, *args, **kwargs: writer.format("parquet").save(str(tables / name)),
    )
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    registry_switches: list[str] = []
    monkeypatch.setattr(unity_catalog, "use_unity_catalog_registry", lambda: registry_switches.append("databricks-uc"))
    return types.SimpleNamespace(
        spark=RuntimeSpark(spark, {TRAINING_TABLE: frame}, saved_tables=tables),
        tables=tables,
        registry_switches=registry_switches,
    )
{%- else %}
    spark = RuntimeSpark(spark, {TRAINING_TABLE: frame}, saved_tables=tables)
    return types.SimpleNamespace(spark=spark, tables=tables)
{%- endif %}


def train(workspace) -> FakeDbutils:
    dbutils = FakeDbutils({"env": ENV})
    assert run_notebook("Train", dbutils, spark=workspace.spark) == dbutils.task_values["model_uri"]
    return dbutils


def validate(workspace, train_values: dict[str, Any], run_mode: str = "enabled") -> str:
    dbutils = FakeDbutils(
        {"env": ENV, "run_mode": run_mode, "validation_input": f"SELECT * FROM {TRIPS_VIEW}"},
        upstream={"Train": train_values},
    )
    return run_notebook("ModelValidation", dbutils, spark=workspace.spark)


def deploy(monkeypatch: pytest.MonkeyPatch, train_values: dict[str, Any], env: str = ENV) -> Any:
    """TriggerModelDeploy in `env`{% if cookiecutter | derived("cicd_platform_key") in ("gitHub", "gitLab") %} (prod: then what the CD job it triggers runs){% endif %}; returns the notebook's exit value."""
{%- if cookiecutter | derived("cicd_platform_key") in ("gitHub", "gitLab") %}
    import requests

    from fare_model import deployment

    requests_made: list[dict[str, Any]] = []

    def post(url: str, **kwargs: Any) -> Any:
        requests_made.append({"url": url, **kwargs})
        return types.SimpleNamespace(ok=True, status_code=201, text="", json=lambda: {"web_url": f"{url}/1"})

    monkeypatch.setattr(requests, "post", post)
    # Staging's job gets no secrets: it must deploy without any.
    secrets = CD_SECRETS if env == "prod" else {}
{%- if cookiecutter | derived("cicd_platform_key") == "gitHub" %}
    # Prod's job runs from the release branch and passes it on.
    widgets = {"env": env, "git_branch": "{{ cookiecutter.release_branch }}"} if env == "prod" else {"env": env}
{%- else %}
    widgets = {"env": env}
{%- endif %}
    dbutils = FakeDbutils(widgets, upstream={"Train": train_values}, secrets=secrets)
    exit_value = run_notebook("TriggerModelDeploy", dbutils)
    if env == "prod" and exit_value is None:  # the CD job's command, with the model URI the notebook sent
        (request,) = requests_made
{%- if cookiecutter | derived("cicd_platform_key") == "gitHub" %}
        assert request["url"].endswith("/repos/acme/fares/actions/workflows/deploy-model-prod.yml/dispatches")
        assert request["json"]["ref"] == "{{ cookiecutter.release_branch }}"
        deployment.main([request["json"]["inputs"]["modelUri"], env])
{%- else %}
        assert request["url"] == "https://gitlab.example.com/api/v4/projects/42/trigger/pipeline"
        assert request["data"]["ref"] == "{{ cookiecutter.release_branch }}"
        deployment.main([request["data"]["variables[MODEL_URI]"], env])
{%- endif %}
    else:
        assert requests_made == []
    return exit_value
{%- else %}
    return run_notebook("TriggerModelDeploy", FakeDbutils({"env": env}, upstream={"Train": train_values}))
{%- endif %}


def test_the_staging_job_trains_validates_deploys_and_scores(workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    client = MlflowClient()
    trained = train(workspace).task_values
    assert trained == {"model_uri": f"models:/{MODEL_NAME}/2", "model_name": MODEL_NAME, "model_version": "2"}
    training_run = mlflow.get_run(client.get_model_version(MODEL_NAME, "2").run_id)
    assert training_run.info.experiment_id == client.get_experiment_by_name(EXPERIMENT_NAME).experiment_id

    assert validate(workspace, trained) == "passed"
    assert client.get_model_version(MODEL_NAME, "2").tags[VALIDATION_STATUS_TAG] == "passed"
    assert version_with_alias(client, MODEL_NAME, CHALLENGER) == "2"

    assert deploy(monkeypatch, trained) is None
    assert version_with_alias(client, MODEL_NAME, CHAMPION) == "2"
    assert version_with_alias(client, MODEL_NAME, CHALLENGER) is None

    dbutils = FakeDbutils({"env": ENV, "input_table_name": TRIPS_VIEW, "output_table_name": PREDICTIONS_TABLE})
    assert run_notebook("BatchInference", dbutils, spark=workspace.spark) == PREDICTIONS_TABLE
    # A second run over the same input scores only trips no version has scored yet: none.
    assert run_notebook("BatchInference", dbutils, spark=workspace.spark) == PREDICTIONS_TABLE
    assert dbutils.task_values == {"late_arrivals": 0}  # published for the run's page and alerts
    predictions = pd.read_parquet(workspace.tables / PREDICTIONS_TABLE)
    assert len(predictions) == workspace.spark.table(TRIPS_VIEW).count()
    assert predictions["scoring_run_id"].nunique() == 1
    assert not predictions.duplicated(["record_id", "model_version"]).any()
    assert predictions["prediction"].dtype == "float64" and predictions["prediction"].notna().all()
    assert set(predictions["model_version"]) == {"2"}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    # Train, ModelValidation, TriggerModelDeploy and BatchInference twice.
    assert len(workspace.registry_switches) == 5
{%- endif %}


def test_each_ci_run_scores_into_a_table_of_its_own_that_it_drops(workspace, capsys: pytest.CaptureFixture) -> None:
    """BatchInference as the CI integration test runs it (env test, the CI run's own table, see
    submit_integration_test.py): every run scores the fixed trips anew, drops its table at the
    end, and fails (still dropping the table) when it scored nothing."""
    trips = workspace.spark.table(TRIPS_VIEW).count()

    def integration_test(ci_run: str, input_table: str = TRIPS_VIEW) -> str:
        table = f"test.fares.integration_test_predictions_{ci_run}"
        widgets = {"env": "test", "model_uri": f"models:/{MODEL_NAME}/1", "input_table_name": input_table}
        dbutils = FakeDbutils({**widgets, "output_table_name": table})
        assert run_notebook("BatchInference", dbutils, spark=workspace.spark) == table
        return table

    for ci_run in ("101_1", "102_1"):
        table = integration_test(ci_run)
        assert f"0 of {trips} rows quarantined" in capsys.readouterr().out
        assert not (workspace.tables / table).exists() and workspace.spark.dropped_tables[-1] == table
    workspace.spark.table(TRIPS_VIEW).limit(0).createOrReplaceTempView("no_trips")
    with pytest.raises(NothingScored):
        integration_test("103_1", "no_trips")
    assert workspace.spark.dropped_tables[-1] == "test.fares.integration_test_predictions_103_1"
    assert not (workspace.tables / "test.fares.integration_test_predictions_103_1").exists()
    # A mistyped output table (the staging one) is refused before anything is written or dropped.
    widgets = {"env": "test", "model_uri": f"models:/{MODEL_NAME}/1", "input_table_name": TRIPS_VIEW}
    with pytest.raises(ValueError, match="not a CI run's own predictions table"):
        mistyped = FakeDbutils({**widgets, "output_table_name": "staging.fares.predictions"})
        run_notebook("BatchInference", mistyped, spark=workspace.spark)
    assert "staging.fares.predictions" not in workspace.spark.dropped_tables
    assert not (workspace.tables / "staging.fares.predictions").exists()


def test_two_data_scientists_train_in_dev_into_models_and_experiments_of_their_own(workspace, tmp_path: Path) -> None:
    from steps import dev_namespace

    trained = {}
    for user in ("alice@example.com", "bob@example.com"):
        dev_namespace.set_user(user)
        expected = (utils.get_model_name("dev"), utils.get_experiment_name("dev"))
        mlflow.create_experiment(expected[1], artifact_location=(tmp_path / user).as_uri())
        dev_namespace.set_user(None)
        workspace.spark.user = user
        dbutils = FakeDbutils({"env": "dev"})
        run_notebook("Train", dbutils, spark=workspace.spark)
        run = mlflow.get_run(MlflowClient().get_model_version(dbutils.task_values["model_name"], "1").run_id)
        trained[user] = (dbutils.task_values["model_name"], mlflow.get_experiment(run.info.experiment_id).name)
        assert trained[user] == expected
    (alice_model, alice_experiment), (bob_model, bob_experiment) = trained.values()
    assert alice_model != bob_model and alice_experiment != bob_experiment
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    assert workspace.spark.created_schemas == [alice_model.rsplit(".", 1)[0], bob_model.rsplit(".", 1)[0]]
{%- endif %}


def test_a_version_that_fails_validation_in_dry_run_is_not_deployed(
    workspace, register_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = register_model(DummyRegressor(strategy="constant", constant=100.0).fit([[0]] * 2, [0.0, 1.0]))
    train_values = {"model_uri": f"models:/{MODEL_NAME}/{version}", "model_name": MODEL_NAME, "model_version": version}

    assert validate(workspace, train_values, run_mode="dry_run") == "failed"
    assert version_with_alias(MlflowClient(), MODEL_NAME, CHALLENGER) is None
    assert "only versions that passed ModelValidation" in deploy(monkeypatch, train_values)
    assert version_with_alias(MlflowClient(), MODEL_NAME, CHAMPION) is None


def test_the_prod_job_deploys_a_validated_version(workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """{% if cookiecutter | derived("cicd_platform_key") in ("gitHub", "gitLab") %}Through the CD job it starts with the prod-only trigger.{% else %}Through the gated Azure DevOps pipeline, which the notebook names.{% endif %}"""
    # Prod's own Terraform outputs; the same model name keeps the test's single registry.
    (utils.TERRAFORM_OUTPUT_DIR / "prod.json").write_text(
        json.dumps({"{{ cookiecutter.project_name }}_model_name": {"value": MODEL_NAME}})
    )
    trained = train(workspace).task_values
    assert validate(workspace, trained) == "passed"

{%- if cookiecutter | derived("cicd_platform_key") == "azureDevOpsServices" %}
    # Prod's deployment waits for its approvers: the notebook names the model for the gated pipeline.
    message = deploy(monkeypatch, trained, env="prod")
    assert message.startswith(f"{trained['model_uri']} awaits approval"), message
{%- else %}
    assert deploy(monkeypatch, trained, env="prod") is None
    assert version_with_alias(MlflowClient(), MODEL_NAME, CHAMPION) == trained["model_version"]
{%- endif %}


@pytest.mark.parametrize("notebook", ["ModelValidation", "TriggerModelDeploy"])
def test_the_tasks_after_train_say_when_they_run_without_it(workspace, notebook: str) -> None:
    with pytest.raises(AssertionError, match="after the Train task"):
        run_notebook(notebook, FakeDbutils({"env": ENV}), spark=workspace.spark)
