"""The recipe's configuration: every profile loads and names the resources its environment uses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow.recipes.utils import get_recipe_config
from pyspark.sql import functions as F

from model_spec.data import LABEL, SAMPLE_PATH, TASK, TIME_COLUMN
from model_spec.metrics import GREATER_IS_BETTER, THRESHOLDS
from steps import dev_namespace, utils
from steps.predictions import record_id

TEST_SAMPLE = Path(__file__).resolve().parent / "test_sample.parquet"

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_local_profile_uses_the_sample_and_a_store_in_the_project() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    assert config["steps"]["ingest"]["location"] == f"./{SAMPLE_PATH.as_posix()}", (
        "profiles/local.yaml reads model_spec's sample"
    )
    assert config["experiment"]["tracking_uri"] == "sqlite:///mlruns.db"
    assert config["target_col"] == LABEL, "recipe.yaml's target_col is model_spec.data.LABEL"
    assert config["recipe"] == f"{TASK}/v1", "recipe.yaml's template is the recipe of model_spec.data.TASK"


@pytest.fixture
def dev_profile_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where notebooks/Train writes the dev names, here a file of the test's own."""
    names = tmp_path / "build" / "databricks-dev-names.json"
    monkeypatch.setattr(utils, "DEV_PROFILE_NAMES", names)
    return names


def dev_config(names: Path) -> dict:
    """The databricks-dev profile's configuration, read in a copy of the recipe whose root holds ``names``."""
    root = names.parents[1]
    shutil.copyfile(PROJECT_ROOT / "recipe.yaml", root / "recipe.yaml")
    shutil.copytree(PROJECT_ROOT / "profiles", root / "profiles", dirs_exist_ok=True)
    return get_recipe_config(str(root), "databricks-dev")


def test_test_profile_registers_the_names_the_notebooks_look_up() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "databricks-test")
    assert config["model_registry"]["model_name"] == utils.get_model_name("test")
    assert config["experiment"]["name"] == utils.get_experiment_name("test")


def test_dev_profile_registers_the_model_and_experiment_of_the_user_who_runs_train(dev_profile_names: Path) -> None:
    registered = {}
    for user in ("alice@example.com", "bob@example.com"):
        dev_namespace.set_user(user)
        utils.write_dev_profile_names()
        config = dev_config(dev_profile_names)
        assert config["model_registry"]["model_name"] == utils.get_model_name("dev")
        assert config["experiment"]["name"] == utils.get_experiment_name("dev")
        registered[user] = config["model_registry"]["model_name"]
    for user in ("alice@example.com", "bob@example.com"):
        assert registered[user].endswith(f"-dev-{dev_namespace.short_name(user)}")
    assert registered["alice@example.com"] != registered["bob@example.com"]


def test_databricks_profiles_bound_what_the_recipe_collects_to_the_newest_trips(dev_profile_names: Path) -> None:
    # The recipe's steps work on pandas in the driver's memory: the ingest query bounds the rows.
    for env in utils.FIXED_NAME_ENVS + utils.TERRAFORM_ENVS:
        text = (PROJECT_ROOT / "profiles" / f"databricks-{env}.yaml").read_text()
        assert "ORDER BY tpep_pickup_datetime DESC," in text and "LIMIT 2000000" in text, env
    utils.write_dev_profile_names()
    config = dev_config(utils.DEV_PROFILE_NAMES)
    assert "ORDER BY tpep_pickup_datetime DESC," in config["steps"]["ingest"]["sql"]
    assert config["steps"]["ingest"]["sql"].endswith("LIMIT 2000000")


def test_the_databricks_ingest_keeps_the_same_trips_when_pickup_times_tie(spark, dev_profile_names: Path) -> None:
    """The profiles' query runs here on the test trips (its table and LIMIT swapped for a view and a
    bound inside a day): many trips share the pickup time at the bound, and whatever order the
    table returns them in, the query keeps the ones the MLflow 3 track's window keeps (newest
    first, then the record id of ``steps.predictions`` and the fare)."""
    utils.write_dev_profile_names()
    sql = dev_config(utils.DEV_PROFILE_NAMES)["steps"]["ingest"]["sql"]
    trips = pd.read_parquet(TEST_SAMPLE)
    daily = trips.assign(**{TIME_COLUMN: trips[TIME_COLUMN].dt.floor("D")})
    newest_days = daily[TIME_COLUMN].drop_duplicates().nlargest(3)
    bound = int((daily[TIME_COLUMN] > newest_days.iloc[2]).sum()) + 3  # three trips into the third day
    query = re.sub(r"LIMIT \d+$", f"LIMIT {bound}", re.sub(r"FROM delta\.`[^`]+`", "FROM trips", sql))
    kept = []
    for order in (daily, daily.iloc[::-1], daily.sample(frac=1.0, random_state=11)):
        spark.createDataFrame(order).repartition(3).createOrReplaceTempView("trips")
        kept.append(sorted(map(tuple, spark.sql(query).toPandas().itertuples(index=False))))
    frame = spark.createDataFrame(daily)
    ids = record_id(frame.columns)
    expected = frame.orderBy(F.col(TIME_COLUMN).desc(), ids, F.col(LABEL).asc_nulls_last()).limit(bound).toPandas()
    assert kept[0] == kept[1] == kept[2] == sorted(map(tuple, expected.itertuples(index=False)))


def test_validation_criteria_are_the_model_validation_thresholds() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    criteria = {item["metric"]: item["threshold"] for item in config["steps"]["evaluate"]["validation_criteria"]}
    assert criteria == THRESHOLDS


def test_the_registered_model_predicts_one_value_per_row() -> None:
    """A recipe classifier's model otherwise returns a score per class, which batch inference
    and ModelValidation refuse (``model_spec.prediction``): the predicted class is its prediction."""
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    assert config["steps"]["train"].get("predict_scores_for_all_classes") is False


def test_the_custom_metrics_are_better_the_way_the_model_says() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    directions = {item["name"]: item["greater_is_better"] for item in config.get("custom_metrics", [])}
    assert directions == {name: GREATER_IS_BETTER[name] for name in directions}, (
        "recipe.yaml's custom_metrics greater_is_better must be model_spec.metrics.GREATER_IS_BETTER"
    )
