"""The feature-store notebooks run as plain Python, with local stand-ins for the runtime.

``dbutils`` is faked, Delta paths are read as parquet, and ``features.databricks_store``
is swapped for the local store, so the notebooks' own code (widgets, table naming, task
values) runs unchanged.
"""

from __future__ import annotations

import runpy
import sys
import types
from pathlib import Path
from typing import Any

import mlflow
import pytest

from features.feature_tables import FEATURE_TABLES
from features.local_store import LocalFeatureStore

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


class NotebookExit(Exception):
    pass


class FakeDbutils:
    """The parts of ``dbutils`` these notebooks use: widgets, task values, exit, restart."""

    def __init__(self, **widget_values: str) -> None:
        self.values = widget_values
        self.declared: dict[str, str] = {}
        self.task_values: dict[str, Any] = {}
        self.widgets = types.SimpleNamespace(text=self._declare, dropdown=self._declare, get=self._get)
        self.jobs = types.SimpleNamespace(taskValues=types.SimpleNamespace(set=self.task_values.__setitem__))
        self.notebook = types.SimpleNamespace(exit=self._exit)
        self.library = types.SimpleNamespace(restartPython=lambda: None)

    def _declare(self, name: str, default: str, *choices_and_label: Any) -> None:
        if len(choices_and_label) == 2:
            assert default in choices_and_label[0], f"default of {name} is not one of its choices"
        self.declared[name] = default

    def _get(self, name: str) -> str:
        assert name in self.declared, f"widget {name} read before it is declared"
        return self.values.get(name, self.declared[name])

    @staticmethod
    def _exit(value: Any) -> None:
        raise NotebookExit(value)


class RuntimeSpark:
    """The runtime's ``spark``, reading Delta paths as parquet."""

    def __init__(self, spark) -> None:
        self.session = spark
        self.read = types.SimpleNamespace(format=lambda _: types.SimpleNamespace(load=spark.read.parquet))


@pytest.fixture
def local_runtime(spark, tmp_path, monkeypatch, trips):
    """Trips as a 'Delta' path and the local store in place of the Databricks one."""
    trips_path = tmp_path / "trips"
    trips.write.parquet(str(trips_path))
    store_root = tmp_path / "feature_store"
    stand_in = types.ModuleType("features.databricks_store")
    stand_in.DatabricksFeatureStore = lambda runtime_spark: LocalFeatureStore(runtime_spark.session, store_root)
    monkeypatch.setitem(sys.modules, "features.databricks_store", stand_in)
    monkeypatch.chdir(NOTEBOOKS)  # as on Databricks
    return types.SimpleNamespace(
        spark=RuntimeSpark(spark), trips_path=str(trips_path), store=LocalFeatureStore(spark, store_root)
    )


def run_notebook(name: str, dbutils: FakeDbutils, spark: RuntimeSpark) -> Any:
    with pytest.raises(NotebookExit) as exited:
        runpy.run_path(str(NOTEBOOKS / f"{name}.py"), init_globals={"dbutils": dbutils, "spark": spark})
    return exited.value.args[0]


def write_features(runtime, env: str) -> list[str]:
    names = []
    for table in FEATURE_TABLES:
        dbutils = FakeDbutils(
            env=env,
            input_table_path=runtime.trips_path,
            features_transform_module=table.module,
        )
        names.append(run_notebook("GenerateAndWriteFeatures", dbutils, runtime.spark))
    return names


@pytest.mark.parametrize("env", ["test", "prod"])
def test_feature_notebook_writes_the_env_table_of_its_module(local_runtime, env):
    names = write_features(local_runtime, env)
    assert names == [table.name(env) for table in FEATURE_TABLES]
    for name in names:
        rows, keys = local_runtime.store.read_table(name)
        assert rows.count() > 0
        assert keys["primary_keys"] == ["zip"]


def test_feature_notebook_honours_the_date_range(local_runtime):
    dbutils = FakeDbutils(
        env="dev",
        input_table_path=local_runtime.trips_path,
        input_start_date="2022-01-15",
        input_end_date="2022-01-16",
    )
    name = run_notebook("GenerateAndWriteFeatures", dbutils, local_runtime.spark)
    rows, _ = local_runtime.store.read_table(name)
    window_ends = [row[0] for row in rows.selectExpr("tpep_pickup_datetime").collect()]
    assert min(window_ends).isoformat() > "2022-01-15" and max(window_ends).isoformat() <= "2022-01-16T01:00:00"


def test_training_notebook_registers_and_hands_over_the_model(mlflow_store, local_runtime, tmp_path):
    write_features(local_runtime, "test")
    experiment = "/fs-tests/train"
    mlflow.create_experiment(experiment, artifact_location=(tmp_path / "artifacts").as_uri())
    dbutils = FakeDbutils(
        env="test", training_data_path=local_runtime.trips_path, experiment_name=experiment, model_name="fs-model"
    )
    model_uri = run_notebook("TrainWithFeatureStore", dbutils, local_runtime.spark)
    assert model_uri == "models:/fs-model/1"
    assert dbutils.task_values == {"model_uri": model_uri, "model_name": "fs-model", "model_version": "1"}
