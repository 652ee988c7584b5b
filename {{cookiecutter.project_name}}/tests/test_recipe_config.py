"""The recipe's configuration: every profile loads and names the resources its environment uses."""

from __future__ import annotations

from pathlib import Path

from mlflow.recipes.utils import get_recipe_config

from steps import utils
from steps.validation import THRESHOLDS

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_local_profile_uses_the_sample_and_a_store_in_the_project() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    assert config["steps"]["ingest"]["location"] == "./data/sample.parquet"
    assert config["experiment"]["tracking_uri"] == "sqlite:///mlruns.db"
    assert config["target_col"] == "fare_amount"


def test_dev_and_test_profiles_register_the_names_the_notebooks_look_up() -> None:
    for env in ("dev", "test"):
        config = get_recipe_config(str(PROJECT_ROOT), f"databricks-{env}")
        assert config["model_registry"]["model_name"] == utils.get_model_name(env)
        assert config["experiment"]["name"] == utils.get_experiment_name(env)


def test_databricks_profiles_bound_what_the_recipe_collects_to_the_newest_trips() -> None:
    # The recipe's steps work on pandas in the driver's memory: the ingest query bounds the rows.
    for env in ("dev", "test", "staging", "prod"):
        text = (PROJECT_ROOT / "profiles" / f"databricks-{env}.yaml").read_text()
        assert "ORDER BY tpep_pickup_datetime DESC LIMIT 2000000" in text, env
    config = get_recipe_config(str(PROJECT_ROOT), "databricks-dev")
    assert config["steps"]["ingest"]["sql"].endswith("ORDER BY tpep_pickup_datetime DESC LIMIT 2000000")


def test_validation_criteria_are_the_model_validation_thresholds() -> None:
    config = get_recipe_config(str(PROJECT_ROOT), "local")
    criteria = {item["metric"]: item["threshold"] for item in config["steps"]["evaluate"]["validation_criteria"]}
    assert criteria == THRESHOLDS
