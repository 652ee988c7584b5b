import re
from pathlib import Path

import pytest

from features.feature_tables import (
{%- if cookiecutter.include_models_in_unity_catalog != "yes" %}
    DATABASE,
{%- endif %}
    ENVIRONMENTS,
    FEATURE_TABLES,
    PICKUP_FEATURES,
    feature_lookups,
    table_for_module,
)
from features.generate import generate_and_write_features


class RecordingStore:
    """Records which tables a writer writes, without Spark work."""

    def __init__(self):
        self.written = []

    def table_exists(self, name):
        return False

    def write_table(self, name, features, primary_keys, timestamp_key):
        self.written.append(name)
        self.keys = (primary_keys, timestamp_key)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_training_reads_the_tables_the_feature_job_writes(env, monkeypatch):
    store = RecordingStore()
    monkeypatch.setattr("features.generate.compute_features", lambda *args: None)
    for table in FEATURE_TABLES:
        generate_and_write_features(store, None, table.module, env)
    assert sorted(store.written) == sorted(lookup.table_name for lookup in feature_lookups(env))


def test_the_timestamp_column_comes_from_the_table_definition(monkeypatch):
    store = RecordingStore()
    monkeypatch.setattr("features.generate.compute_features", lambda *args: None)
    generate_and_write_features(store, None, "dropoff_features", "dev")
    assert store.keys == (["zip"], "tpep_dropoff_datetime")
    with pytest.raises(ValueError, match="leave timestamp_column empty"):
        generate_and_write_features(store, None, "dropoff_features", "dev", timestamp_column="tpep_pickup_datetime")
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}


def test_tables_live_in_their_env_catalog_and_the_project_schema():
    from fare_model.unity_catalog import settings

    names = settings()
    schema = names["schema"]
    for env in ENVIRONMENTS:
        assert PICKUP_FEATURES.name(env) == f"{names['catalogs'][env]}.{schema}.trip_pickup_features"
{%- else %}


def test_prod_tables_have_no_suffix_and_others_name_their_env():
    assert DATABASE == "{{ cookiecutter | derived("feature_store_database") }}"
    assert PICKUP_FEATURES.name("prod") == f"{DATABASE}.trip_pickup_features"
    assert PICKUP_FEATURES.name("staging") == f"{DATABASE}.trip_pickup_features_staging"
    assert PICKUP_FEATURES.name("test") == f"{DATABASE}.trip_pickup_features_test"
    assert PICKUP_FEATURES.name("dev") == f"{DATABASE}.trip_pickup_features_dev"
{%- endif %}


def test_every_environment_has_its_own_tables():
    names = [lookup.table_name for env in ENVIRONMENTS for lookup in feature_lookups(env)]
    assert len(names) == len(set(names)) == len(ENVIRONMENTS) * len(FEATURE_TABLES)


def test_unknown_environment_and_module_are_refused():
    with pytest.raises(ValueError, match="unknown environment"):
        PICKUP_FEATURES.name("production")
    with pytest.raises(ValueError, match="no feature table"):
        table_for_module("weather_features")


def test_lookups_use_trip_columns_and_the_table_features():
    lookup = {lookup.table_name: lookup for lookup in feature_lookups("prod")}[PICKUP_FEATURES.name("prod")]
    assert lookup.lookup_key == "pickup_zip"
    assert lookup.timestamp_lookup_key == "rounded_pickup_datetime"
    assert lookup.feature_names == ("mean_fare_window_1h_pickup_zip", "count_trips_window_1h_pickup_zip")


# Terraform and the notebook's dropdown cannot import the table list; these tests keep
# them in step with it (the CI integration-test script imports it at run time).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FEATURE_JOB = PROJECT_ROOT / "databricks-config/modules/ml-resources/write-feature-table-job.tf"
FEATURE_NOTEBOOK = PROJECT_ROOT / "notebooks/GenerateAndWriteFeatures.py"


def test_the_feature_job_has_one_task_per_table():
    tasks = re.findall(r'(\w+)\s*=\s*\{\s*features_transform_module\s*=\s*"(\w+)"', FEATURE_JOB.read_text())
    assert sorted(tasks) == sorted((table.job_task_key, table.module) for table in FEATURE_TABLES), (
        f"feature_tasks in {FEATURE_JOB.relative_to(PROJECT_ROOT)} must list every table of features/feature_tables.py"
    )


def test_the_feature_notebook_offers_every_table_module():
    (choices,) = re.findall(
        r'dropdown\(\s*"features_transform_module",\s*"\w+",\s*\[([^\]]*)\]', FEATURE_NOTEBOOK.read_text()
    )
    assert re.findall(r'"(\w+)"', choices) == [table.module for table in FEATURE_TABLES]
