"""The feature-store notebooks run as plain Python, with local stand-ins for the runtime.

``dbutils`` and ``spark`` are the stand-ins of ``tests/notebook_runtime.py`` (Delta paths
are read as parquet, Delta tables written as parquet files), and ``features.databricks_store``
is swapped for the local store, so the notebooks' own code (widgets, table naming, task
values, aliases) runs unchanged. The last test chains the training job's tasks as the
staging job runs them, then BatchInference.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrameWriter

from fare_model.deployment import promote_to_champion
from fare_model.registry import CHALLENGER, CHAMPION, VALIDATION_STATUS_TAG, version_with_alias
from features.feature_tables import FEATURE_TABLES
from features.local_store import ROOT_ENV_VAR, LocalFeatureStore
from features.scoring import split_at_feature_freshness
from features.time_windows import FEATURE_AVAILABILITY_LAG
from features.training import HELD_OUT_BEYOND_FEATURES_METRIC
from steps import utils
from tests.notebook_runtime import FakeDbutils, RuntimeSpark
from tests.notebook_runtime import run_notebook as run_notebook_source


@pytest.fixture
def local_runtime(spark, tmp_path, monkeypatch, trips):
    """Trips as a 'Delta' path and the local store in place of the Databricks one."""
    trips_path = tmp_path / "trips"
    trips.write.parquet(str(trips_path))
    store_root = tmp_path / "feature_store"
    monkeypatch.setenv(ROOT_ENV_VAR, str(store_root))  # where scoring off Databricks looks
    stand_in = types.ModuleType("features.databricks_store")
    stand_in.DatabricksFeatureStore = lambda runtime_spark: LocalFeatureStore(runtime_spark.session, store_root)
    monkeypatch.setitem(sys.modules, "features.databricks_store", stand_in)
    return types.SimpleNamespace(
        spark=RuntimeSpark(spark), trips_path=str(trips_path), store=LocalFeatureStore(spark, store_root)
    )


def run_notebook(name: str, dbutils: FakeDbutils, spark: RuntimeSpark) -> Any:
    """The value the notebook exits with (each of these notebooks ends with one)."""
    value = run_notebook_source(name, dbutils, spark=spark)
    assert value is not None, f"{name} ended without dbutils.notebook.exit"
    return value


def write_features(runtime, env: str) -> list[str]:
    names = []
    for table in FEATURE_TABLES:
        dbutils = FakeDbutils(
            {"env": env, "input_table_path": runtime.trips_path, "features_transform_module": table.module}
        )
        names.append(run_notebook("GenerateAndWriteFeatures", dbutils, runtime.spark))
    return names


def train(runtime, env: str, experiment: str, **widgets: str) -> tuple[str, FakeDbutils]:
    """Run TrainWithFeatureStore on the runtime's trips (and ``env``'s feature tables) into
    ``experiment``; the model URI it exits with and its ``dbutils`` (for the task values)."""
    dbutils = FakeDbutils(
        {"env": env, "training_data_path": runtime.trips_path, "experiment_name": experiment, **widgets}
    )
    return run_notebook("TrainWithFeatureStore", dbutils, runtime.spark), dbutils


def saving_tables_as_parquet(runtime, tmp_path, monkeypatch):
    """Where ``saveAsTable`` writes instead (parquet, one folder per table name, under
    ``tmp_path``): local Spark has no metastore; BatchInference reads back what it appended."""
    tables = tmp_path / "tables"
    monkeypatch.setattr(
        DataFrameWriter,
        "saveAsTable",
        lambda writer, name, *args, **kwargs: writer.format("parquet").save(str(tables / name)),
    )
    runtime.spark.saved_tables = tables
    return tables


@pytest.mark.parametrize("env", ["test", "prod"])
def test_feature_notebook_writes_the_env_table_of_its_module(local_runtime, env):
    names = write_features(local_runtime, env)
    assert names == [table.name(env) for table in FEATURE_TABLES]
    for name in names:
        rows, keys = local_runtime.store.read_table(name)
        assert rows.count() > 0
        assert keys["primary_keys"] == ["zip"]


def test_two_data_scientists_write_dev_feature_tables_of_their_own(local_runtime):
    written = {}
    for user in ("alice@example.com", "bob@example.com"):
        local_runtime.spark.user = user
        written[user] = write_features(local_runtime, "dev")
    alice, bob = written.values()
    assert not set(alice) & set(bob)
    assert all("alice" in name for name in alice) and all("bob" in name for name in bob)
    for name in alice + bob:
        assert local_runtime.store.read_table(name)[0].count() > 0
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    # Each run creates its user's schema in the dev catalog if it is missing.
    schemas = {name.rsplit(".", 1)[0] for name in alice + bob}
    assert set(local_runtime.spark.created_schemas) == schemas and len(schemas) == 2
{%- endif %}


def test_feature_notebook_honours_the_date_range(local_runtime):
    dbutils = FakeDbutils(
        {
            "env": "dev",
            "input_table_path": local_runtime.trips_path,
            "input_start_date": "2022-01-15",
            "input_end_date": "2022-01-16",
        }
    )
    name = run_notebook("GenerateAndWriteFeatures", dbutils, local_runtime.spark)
    rows, _ = local_runtime.store.read_table(name)
    window_ends = [row[0] for row in rows.selectExpr("tpep_pickup_datetime").collect()]
    assert min(window_ends).isoformat() > "2022-01-15" and max(window_ends).isoformat() <= "2022-01-16T01:00:00"


def test_training_notebook_registers_and_hands_over_the_model(mlflow_store, local_runtime, tmp_path):
    write_features(local_runtime, "test")
    experiment = "/fs-tests/train"
    mlflow.create_experiment(experiment, artifact_location=(tmp_path / "artifacts").as_uri())
    model_uri, dbutils = train(local_runtime, "test", experiment, model_name="fs-model")
    assert model_uri == "models:/fs-model/1"
    assert dbutils.task_values == {"model_uri": model_uri, "model_name": "fs-model", "model_version": "1"}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}


def test_training_notebook_registers_the_env_unity_catalog_model_by_default(mlflow_store, local_runtime, tmp_path):
    write_features(local_runtime, "test")
    experiment = "/fs-tests/train-uc"
    mlflow.create_experiment(experiment, artifact_location=(tmp_path / "artifacts").as_uri())
    model_uri, dbutils = train(local_runtime, "test", experiment)
    model_name = utils.get_model_name("test")  # catalog.schema.model in the test catalog
    assert model_name.count(".") == 2
    assert model_uri == f"models:/{model_name}/1"
    assert dbutils.task_values["model_name"] == model_name
{%- endif %}


def waiting_for_features(local_runtime, env: str) -> int:
    """Trips of the input whose lookups are newer than the feature tables' freshness (``split_at_feature_freshness``)."""
    trips = local_runtime.spark.session.read.parquet(local_runtime.trips_path)
    _, waiting = split_at_feature_freshness(local_runtime.store, trips, env)
    return waiting.count()


def test_the_staging_job_validates_the_trained_version_and_batch_inference_scores_the_champion(
    mlflow_store, local_runtime, tmp_path, monkeypatch
):
    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path / "output")
    (tmp_path / "output").mkdir()
    outputs = {
        "{{ cookiecutter.project_name }}_experiment_name": {"value": "/fs-tests/staging"},
        "{{ cookiecutter.project_name }}_model_name": {"value": "fs-model"},
    }
    (tmp_path / "output" / "staging.json").write_text(json.dumps(outputs))
    mlflow.create_experiment("/fs-tests/staging", artifact_location=(tmp_path / "artifacts").as_uri())
    write_features(local_runtime, "staging")
    model_uri, trained = train(local_runtime, "staging", "/fs-tests/staging", model_name="fs-model")
    local_runtime.spark.session.read.parquet(local_runtime.trips_path).createOrReplaceTempView("staging_trips")
    validation = FakeDbutils(
        {"env": "staging", "run_mode": "enabled", "validation_input": "SELECT * FROM staging_trips"},
        upstream={"Train": trained.task_values},
    )
    assert run_notebook("ModelValidation", validation, local_runtime.spark) == "passed"
    client = MlflowClient()
    assert client.get_model_version("fs-model", "1").tags[VALIDATION_STATUS_TAG] == "passed"
    assert version_with_alias(client, "fs-model", CHALLENGER) == "1"

    # What TriggerModelDeploy (or the CD job it starts) runs.
    promote_to_champion(model_uri, "fs-model")
    tables = saving_tables_as_parquet(local_runtime, tmp_path, monkeypatch)
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    # No output table: the predictions table of the staging catalog and the project's schema.
    scoring = FakeDbutils({"env": "staging", "input_table_name": "staging_trips"})
    output_table = utils.get_predictions_table("staging")
{%- else %}
    scoring = FakeDbutils({"env": "staging", "input_table_name": "staging_trips", "output_table_name": "predictions"})
    output_table = "predictions"
{%- endif %}
    assert run_notebook("BatchInference", scoring, local_runtime.spark) == output_table
    # A second run over the same input scores only trips no version has scored yet: none.
    assert run_notebook("BatchInference", scoring, local_runtime.spark) == output_table
    assert scoring.task_values == {"late_arrivals": 0}  # published for the run's page and alerts
    predictions = pd.read_parquet(tables / output_table)
    waiting = waiting_for_features(local_runtime, "staging")
    assert len(predictions) == local_runtime.spark.table("staging_trips").count() - waiting
    assert predictions["scoring_run_id"].nunique() == 1
    assert not predictions.duplicated(["record_id", "model_version"]).any()
    assert predictions["prediction"].notna().all() and set(predictions["model_version"]) == {"1"}
    assert version_with_alias(client, "fs-model", CHAMPION) == "1"


def test_trips_newer_than_the_features_are_neither_trained_on_nor_scored_until_their_features_exist(
    mlflow_store, local_runtime, tmp_path, monkeypatch, capsys
):
    """The feature job is late: its tables end on 2022-01-16 while the trips go on to its midnight.
    A missing feature row would read as "no trips in the window" (a count of 0): training refuses
    while no held-out trip has features and then leaves the trips without them out (and counts
    them), batch inference defers them without writing them, and the run after the feature job
    caught up scores them."""

    def write_features_until(end: str) -> None:
        widgets = {"env": "staging", "input_table_path": local_runtime.trips_path, "input_end_date": end}
        for table in FEATURE_TABLES:
            dbutils = FakeDbutils({**widgets, "features_transform_module": table.module})
            run_notebook("GenerateAndWriteFeatures", dbutils, local_runtime.spark)

    write_features_until("2022-01-16")
    mlflow.create_experiment("/fs-tests/late", artifact_location=(tmp_path / "artifacts").as_uri())
    # The held-out period (the newest tenth, from the 16th's afternoon) has no features: nothing to evaluate on.
    with pytest.raises(ValueError, match="run the feature job"):
        train(local_runtime, "staging", "/fs-tests/late", model_name="fs-model")
    write_features_until("2022-01-16 20:00")  # into the held-out period, still hours behind the trips
    model_uri, _ = train(local_runtime, "staging", "/fs-tests/late", model_name="fs-model")
    training_run = mlflow.get_run(MlflowClient().get_model_version("fs-model", "1").run_id)
    assert training_run.data.metrics[HELD_OUT_BEYOND_FEATURES_METRIC] > 0

    tables = saving_tables_as_parquet(local_runtime, tmp_path, monkeypatch)
    trips = local_runtime.spark.session.read.parquet(local_runtime.trips_path)
    trips.createOrReplaceTempView("staging_trips")
    output_table = "staging.fs.predictions"
    widgets = {"env": "staging", "model_uri": model_uri, "input_table_name": "staging_trips"}
    scoring = FakeDbutils({**widgets, "output_table_name": output_table})
    assert run_notebook("BatchInference", scoring, local_runtime.spark) == output_table
    first = pd.read_parquet(tables / output_table)
    deferred = trips.count() - len(first)
    assert 0 < len(first) and deferred > 0
    assert f"Deferred: {deferred} trips newer than the latest feature window" in capsys.readouterr().out
    # Scored trips found their feature rows: none of them reads a window after the tables' last
    # (20:00; a drop-off window is 30 minutes, read FEATURE_AVAILABILITY_LAG after it closed).
    read_until = pd.Timestamp("2022-01-16 20:30") + FEATURE_AVAILABILITY_LAG
    assert (pd.to_datetime(first["tpep_dropoff_datetime"]) < read_until).all()

    write_features(local_runtime, "staging")  # the feature job catches up
    assert run_notebook("BatchInference", scoring, local_runtime.spark) == output_table
    # The job that saw a trip wrote the windows it reads (FEATURE_AVAILABILITY_LAG): at most a trip
    # whose newest window holds no trip of any zip (so no row shows the table that fresh) still waits.
    waiting = waiting_for_features(local_runtime, "staging")
    assert waiting < deferred and f"Deferred: {waiting or 'none'}" in capsys.readouterr().out
    predictions = pd.read_parquet(tables / output_table)
    assert len(predictions) == trips.count() - waiting and predictions["scoring_run_id"].nunique() == 2
    assert not predictions.duplicated(["record_id", "model_version"]).any()
    assert predictions["prediction"].notna().all()


def test_two_ci_runs_write_read_and_drop_feature_tables_of_their_own(
    mlflow_store, local_runtime, tmp_path, monkeypatch
):
    """Two pull requests' integration tests at once (issue 25): each run's feature tasks write
    tables named after its CI run, which its Train, ModelValidation and BatchInference read, so
    the other run's feature code never changes the features this one trains and scores with;
    its last task drops them, and the other run's and the long-lived tables stay."""
    first, second = "7001_1", "7002-1"  # CI run ids as the platforms give them (any characters)
    tables = {}
    for run_id, end_date in ((first, ""), (second, "2022-01-16")):  # the second run's features differ
        tables[run_id] = []
        for table in FEATURE_TABLES:
            widgets = {"env": "test", "input_table_path": local_runtime.trips_path, "ci_run_id": run_id}
            dbutils = FakeDbutils({**widgets, "input_end_date": end_date, "features_transform_module": table.module})
            tables[run_id].append(run_notebook("GenerateAndWriteFeatures", dbutils, local_runtime.spark))
    assert tables[first] == [table.name("test", first) for table in FEATURE_TABLES]
    assert all(name.endswith("_ci_7001_1") for name in tables[first])
    assert all(name.endswith("_ci_7002_1") for name in tables[second])
    long_lived = [table.name("test") for table in FEATURE_TABLES]
    assert not set(tables[first]) & set(tables[second]) and not set(long_lived) & {*tables[first], *tables[second]}
    # The second run's narrower features did not overwrite the first run's.
    (pickup, *_) = FEATURE_TABLES
    first_freshness = local_runtime.store.freshness(tables[first][0], pickup.source_timestamp)
    assert first_freshness > local_runtime.store.freshness(tables[second][0], pickup.source_timestamp)

    mlflow.create_experiment("/fs-tests/ci", artifact_location=(tmp_path / "artifacts").as_uri())
    model_uri, trained = train(local_runtime, "test", "/fs-tests/ci", model_name="fs-model-ci", ci_run_id=first)
    logged = Model.load(mlflow.artifacts.download_artifacts(artifact_uri=model_uri)).metadata["feature_lookups"]
    assert [lookup["table_name"] for lookup in logged] == tables[first]  # scoring looks features up there
    local_runtime.spark.session.read.parquet(local_runtime.trips_path).createOrReplaceTempView("ci_trips")
    validation = FakeDbutils(
        {"env": "test", "run_mode": "enabled", "validation_input": "SELECT * FROM ci_trips", "ci_run_id": first},
        upstream={"Train": trained.task_values},
    )
    assert run_notebook("ModelValidation", validation, local_runtime.spark) == "passed"
    saving_tables_as_parquet(local_runtime, tmp_path, monkeypatch)
    output_table = {{ '"test.fs.integration_test_predictions_7001_1"' if cookiecutter.include_models_in_unity_catalog == "yes" else '"integration_test_predictions_7001_1"' }}
    scoring = FakeDbutils(
        {
            "env": "test",
            "model_uri": model_uri,
            "input_table_name": "ci_trips",
            "output_table_name": output_table,
            "ci_run_id": first,
        }
    )
    # In env test BatchInference fails unless it scored rows, and drops its own output table.
    assert run_notebook("BatchInference", scoring, local_runtime.spark) == output_table
    assert local_runtime.spark.dropped_tables == [output_table]

    # The run's last task: its tables go, the other run's stay.
    cleanup = FakeDbutils({"env": "test", "ci_run_id": first})
    assert run_notebook("DropCiFeatureTables", cleanup, local_runtime.spark) == ",".join(tables[first])
    for name in tables[first]:
        with pytest.raises(FileNotFoundError):
            local_runtime.store.read_table(name)
    assert all(local_runtime.store.read_table(name)[0].count() > 0 for name in tables[second])
    # Run again (a retried cleanup), it finds nothing left to drop.
    assert run_notebook("DropCiFeatureTables", cleanup, local_runtime.spark) == ""


def test_a_ci_run_id_outside_the_ci_environment_is_refused(local_runtime):
    """A scheduled staging job given a run id would write tables that nothing reads or drops."""
    dbutils = FakeDbutils({"env": "staging", "input_table_path": local_runtime.trips_path, "ci_run_id": "7001_1"})
    with pytest.raises(ValueError, match="ci_run_id '7001_1' is for env 'test'"):
        run_notebook("GenerateAndWriteFeatures", dbutils, local_runtime.spark)


def test_trigger_model_deploy_refuses_a_version_that_failed_validation(mlflow_store, tmp_path, monkeypatch):
    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path / "output")
    (tmp_path / "output").mkdir()
    outputs = {"{{ cookiecutter.project_name }}_model_name": {"value": "fs-model"}}
    (tmp_path / "output" / "staging.json").write_text(json.dumps(outputs))
    client = MlflowClient()
    client.create_registered_model("fs-model")
    client.create_model_version("fs-model", (tmp_path / "model").as_uri())
    client.set_model_version_tag("fs-model", "1", VALIDATION_STATUS_TAG, "failed")
    dbutils = FakeDbutils({"env": "staging"}, upstream={"Train": {"model_uri": "models:/fs-model/1"}})
    exit_value = run_notebook_source("TriggerModelDeploy", dbutils)
    assert "Not deploying models:/fs-model/1" in exit_value and "only versions that passed" in exit_value
    assert version_with_alias(client, "fs-model", CHAMPION) is None
