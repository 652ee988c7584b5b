{%- set uc = cookiecutter.include_models_in_unity_catalog == "yes" -%}
{%- if uc -%}
"""The Databricks side of the seam, against a stand-in for the Unity Catalog Feature Engineering client.
{%- else -%}
"""The Databricks side of the seam, against a stand-in for the workspace Feature Store client.
{%- endif %}

The real client (``databricks-feature-engineering``) installs anywhere but works only on
Databricks; these tests check what the project hands it, and that every call fits the
signatures of the installed client.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from datetime import timedelta

import pytest

from features.feature_tables import feature_lookups
{%- if uc %}

CLIENT_MODULE, CLIENT_CLASS = "databricks.feature_engineering", "FeatureEngineeringClient"
{%- else %}

CLIENT_MODULE, CLIENT_CLASS = "databricks.feature_store", "FeatureStoreClient"
{%- endif %}


class FakeClientLookup:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class FakeClient:
    def __init__(self, **kwargs):
        self.init_kwargs = kwargs
        self.calls = []

    def __getattr__(self, method):
        return lambda **kwargs: self.calls.append((method, kwargs))


class FakeSpark:
    def __init__(self, existing_tables):
        self.existing_tables = existing_tables
        self.sql_statements = []
        self.catalog = types.SimpleNamespace(tableExists=lambda name: name in self.existing_tables)

    def sql(self, statement):
        self.sql_statements.append(statement)


@pytest.fixture
def databricks_store(monkeypatch):
    """features.databricks_store imported with a fake client module (``CLIENT_MODULE``)."""
    client_module = types.ModuleType(CLIENT_MODULE)
    client_module.FeatureLookup = FakeClientLookup
    setattr(client_module, CLIENT_CLASS, FakeClient)
    monkeypatch.setitem(sys.modules, "databricks", types.ModuleType("databricks"))
    monkeypatch.setitem(sys.modules, CLIENT_MODULE, client_module)
    monkeypatch.delitem(sys.modules, "features.databricks_store", raising=False)
    yield importlib.import_module("features.databricks_store")
    sys.modules.pop("features.databricks_store", None)
{%- if uc %}


def test_new_table_is_created_as_a_time_series_table_in_the_existing_schema(databricks_store):
    spark = FakeSpark(existing_tables=set())
    store = databricks_store.DatabricksFeatureStore(spark)
    store.write_table("staging.schema.pickup", "FEATURES", ["zip"], "tpep_pickup_datetime")
    assert spark.sql_statements == []  # Terraform creates the schema; the jobs may not
    ((method, kwargs),) = store.client.calls
    assert method == "create_table"
    # Unity Catalog: the timeseries column is one of the primary keys.
    assert kwargs["primary_keys"] == ["zip", "tpep_pickup_datetime"]
    assert kwargs["timeseries_column"] == "tpep_pickup_datetime"
    assert kwargs["df"] == "FEATURES"


def test_the_client_registers_in_unity_catalog(databricks_store):
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables=set()))
    assert store.client.init_kwargs == {"model_registry_uri": "databricks-uc"}


def test_models_are_logged_with_a_signature_and_an_input_example(databricks_store):
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables=set()))
    store.log_model("MODEL", "TRAINING_SET", "model", "staging.schema.fares", ["sklearn.SomeType"])
    ((method, kwargs),) = store.client.calls
    assert method == "log_model"
    assert kwargs["registered_model_name"] == "staging.schema.fares"
    assert kwargs["training_set"] == "TRAINING_SET"  # the client derives the signature from it
    assert kwargs["infer_input_example"] is True
    assert "signature" not in kwargs
{%- else %}


def test_new_table_is_created_with_its_keys_in_its_database(databricks_store):
    spark = FakeSpark(existing_tables=set())
    store = databricks_store.DatabricksFeatureStore(spark)
    store.write_table("db.pickup", "FEATURES", ["zip"], "tpep_pickup_datetime")
    assert spark.sql_statements == ["CREATE DATABASE IF NOT EXISTS db"]
    ((method, kwargs),) = store.client.calls
    assert method == "create_table"
    assert kwargs["primary_keys"] == ["zip"] and kwargs["timestamp_keys"] == ["tpep_pickup_datetime"]
    assert kwargs["df"] == "FEATURES"
{%- endif %}


def test_existing_table_is_merged_into(databricks_store):
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables={"db.pickup"}))
    assert store.table_exists("db.pickup") and not store.table_exists("db.dropoff")
    store.write_table("db.pickup", "FEATURES", ["zip"], "tpep_pickup_datetime")
    assert store.client.calls == [("write_table", {"name": "db.pickup", "df": "FEATURES", "mode": "merge"})]


def test_lookups_are_handed_to_the_client_with_the_env_tables(databricks_store):
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables=set()))
    store.create_training_set("TRIPS", feature_lookups("staging"), "fare_amount", ["rounded_pickup_datetime"])
    ((method, kwargs),) = store.client.calls
    assert method == "create_training_set"
    assert [lookup.kwargs for lookup in kwargs["feature_lookups"]] == [
        {
            "table_name": lookup.table_name,
            "feature_names": list(lookup.feature_names),
            "lookup_key": [lookup.lookup_key],
            "timestamp_lookup_key": lookup.timestamp_lookup_key,
            "lookback_window": timedelta(seconds=lookup.lookback_seconds),
        }
        for lookup in feature_lookups("staging")
    ]
{%- if uc %}
    from fare_model.unity_catalog import settings

    catalog = settings()["catalogs"]["staging"]
    assert all(lookup.kwargs["table_name"].startswith(f"{catalog}.") for lookup in kwargs["feature_lookups"])
{%- else %}
    assert all(lookup.kwargs["table_name"].endswith("_staging") for lookup in kwargs["feature_lookups"])
{%- endif %}


def test_a_ci_run_table_is_dropped_through_the_client_only_when_it_exists(databricks_store):
    """The client refuses to drop a missing table: a CI run whose feature task failed before
    writing still ends its cleanup task without an error."""
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables={"db.pickup_test_ci_7"}))
    assert store.drop_table("db.pickup_test_ci_7") is True
    assert store.drop_table("db.dropoff_test_ci_7") is False
    assert store.client.calls == [("drop_table", {"name": "db.pickup_test_ci_7"})]


def test_scoring_asks_the_client_for_predictions_of_the_type_given(databricks_store):
    """DOUBLE for a regressor's value, the label's type (e.g. BIGINT) for a classifier's class."""
    store = databricks_store.DatabricksFeatureStore(FakeSpark(existing_tables=set()))
    store.score_batch("models:/m/1", "TRIPS", "double")
    store.score_batch("models:/m/2", "TRIPS", "bigint")
    assert store.client.calls == [
        ("score_batch", {"model_uri": "models:/m/1", "df": "TRIPS", "result_type": "double"}),
        ("score_batch", {"model_uri": "models:/m/2", "df": "TRIPS", "result_type": "bigint"}),
    ]


def test_the_store_follows_the_runtime(databricks_store, monkeypatch):
    from features.scoring import feature_store

    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    assert type(feature_store(FakeSpark(set()))).__name__ == "DatabricksFeatureStore"
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION")
    assert type(feature_store(FakeSpark(set()))).__name__ == "LocalFeatureStore"


@pytest.fixture(scope="module")
def client_signatures():
    """Signatures of the installed client's methods and lookups (imported before the fake replaces it)."""
    client_module = importlib.import_module(CLIENT_MODULE)
    client = getattr(client_module, CLIENT_CLASS)
    methods = ("create_table", "write_table", "drop_table", "create_training_set", "log_model", "score_batch")
    return {
        **{method: inspect.signature(getattr(client, method)) for method in methods},
        "__init__": inspect.signature(client),
        "FeatureLookup": inspect.signature(client_module.FeatureLookup),
    }


def test_every_call_fits_the_installed_client(client_signatures, databricks_store):
    new, existing = FakeSpark(existing_tables=set()), FakeSpark(existing_tables={"db.pickup"})
    stores = [databricks_store.DatabricksFeatureStore(spark) for spark in (new, existing)]
    for store in stores:
        store.write_table("db.pickup", "FEATURES", ["zip"], "tpep_pickup_datetime")
    store = stores[0]
    store.create_training_set("TRIPS", feature_lookups("staging"), "fare_amount", ["rounded_pickup_datetime"])
    store.log_model("MODEL", "TRAINING_SET", "model", "fares", ["sklearn.ensemble.SomeType"])
    store.score_batch("models:/fares/1", "TRIPS", "double")
    stores[1].drop_table("db.pickup")
    calls = stores[1].client.calls + store.client.calls
    assert {method for method, _ in calls} == set(client_signatures) - {"FeatureLookup", "__init__"}
    for method, kwargs in calls:
        client_signatures[method].bind("client", **kwargs)  # raises TypeError for an unknown argument
    client_signatures["__init__"].bind(**store.client.init_kwargs)
    (lookups,) = [kwargs["feature_lookups"] for method, kwargs in calls if method == "create_training_set"]
    for lookup in lookups:
        client_signatures["FeatureLookup"].bind(**lookup.kwargs)
