"""The feature-store variant: its files, notebook interfaces, table naming, and (large) its
own tests and local pipeline run in the shared project venv."""

from __future__ import annotations

import py_compile
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.generation import TEST_ANSWERS
from tests.support.local_pipeline_outputs import (
    LOCAL_PIPELINE_OUTPUTS,
    metric_line_problems,
    outputs_left_after_make_clean,
    read_local_pipeline_facts,
)
from tests.support.project_python import mlflow3_python  # noqa: F401 (pytest fixture)
from tests.support.variants import FEATURE_STORE_VARIANTS, Variant

FEATURE_STORE_FILES = (
    "features/pickup_features.py",
    "features/dropoff_features.py",
    "features/feature_tables.py",
    "features/point_in_time.py",
    "features/training.py",
    "features/scoring.py",
    "features/stores.py",
    "features/local_store.py",
    "features/databricks_store.py",
    "tests/features/test_point_in_time.py",
    "features/pickup_features_test.py",
    "features/dropoff_features_test.py",
    "notebooks/GenerateAndWriteFeatures.py",
    "notebooks/TrainWithFeatureStore.py",
    "notebooks/DropCiFeatureTables.py",
    "local_pipeline/feature_store.py",
    "docs/ml-developer-guide-fs.md",
)
RECIPE_FILES = ("recipe.yaml", "profiles", "notebooks/Train.py", "steps/ingest.py", "steps/train.py", "local_pipeline/recipe.py")
# Widgets the jobs and CI pass (see the shared notebook interface).
NOTEBOOK_WIDGETS = {
    "notebooks/GenerateAndWriteFeatures.py": {
        "env",
        "input_table_path",
        "input_start_date",
        "input_end_date",
        "lookback_days",
        "backfill",
        "timestamp_column",
        "features_transform_module",
        "primary_keys",
        "ci_run_id",
    },
    "notebooks/TrainWithFeatureStore.py": {"env", "training_data_path", "experiment_name", "model_name", "ci_run_id"},
    "notebooks/DropCiFeatureTables.py": {"env", "ci_run_id"},
}
TABLE_DATABASE = "mymlopsproject_features"  # derived from TEST_ANSWERS' project name
TABLE_BASE_NAMES = ("trip_pickup_features", "trip_dropoff_features")
TABLE_NAMES_MODULE = "features/feature_tables.py"


def widgets(notebook: str) -> set[str]:
    return set(re.findall(r"dbutils\.widgets\.(?:text|dropdown|combobox|multiselect)\(\s*\"([^\"]+)\"", notebook))


@pytest.mark.parametrize("path", FEATURE_STORE_FILES)
def test_feature_store_files_exist_only_with_the_feature_store(variant: Variant, generated_project: Path, path: str):
    assert (generated_project / path).exists() == variant.feature_store


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
@pytest.mark.parametrize("path", RECIPE_FILES)
def test_no_mlflow_recipes_file_in_a_feature_store_project(generated_project: Path, path: str):
    assert not (generated_project / path).exists()


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_notebooks_are_databricks_sources_with_the_contract_widgets(generated_project: Path):
    for path, expected in NOTEBOOK_WIDGETS.items():
        text = (generated_project / path).read_text()
        assert text.startswith("# Databricks notebook source\n"), path
        assert widgets(text) == expected, path


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_training_notebook_hands_the_model_to_the_next_tasks(generated_project: Path):
    text = (generated_project / "notebooks/TrainWithFeatureStore.py").read_text()
    task_values = set(re.findall(r"dbutils\.jobs\.taskValues\.set\(\"([^\"]+)\"", text))
    assert task_values == {"model_uri", "model_name", "model_version"}
    assert "dbutils.notebook.exit(result.model_uri)" in text


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_training_defaults_are_the_dev_names(variant: Variant, generated_project: Path):
    """Defaults must be what the rest of the project calls the experiment and model of ``env``:
    empty widgets, which the notebook fills from steps/utils.py after it has taken the user's dev
    namespace (steps/dev_namespace.py), never a name spelled out in the notebook."""
    text = (generated_project / "notebooks/TrainWithFeatureStore.py").read_text()
    project = TEST_ANSWERS["project_name"]
    assert f"{project}-experiment-dev" not in text and f"{project}-model-dev" not in text
    for widget, lookup in (("experiment_name", "get_experiment_name"), ("model_name", "get_model_name")):
        assert f'dbutils.widgets.text("{widget}", "",' in text
        assert f'{widget} = dbutils.widgets.get("{widget}") or {lookup}(env)' in text
        assert text.index("dev_namespace.enter(spark, env)") < text.index(f"{lookup}(env)")


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_feature_table_names_are_derived_in_one_module(generated_project: Path):
    """The original's writer and trainer each spelled table names, and disagreed. (With Unity
    Catalog the catalog and schema come from databricks-config/unity-catalog.json instead of a
    database.)"""
    spelled_out = [
        str(path.relative_to(generated_project))
        for path in generated_project.rglob("*")
        if path.is_file()
        and path.suffix not in {".md", ".parquet"}
        and path.relative_to(generated_project).parts[0] != "tests"
        and any(name in path.read_text() for name in (TABLE_DATABASE, *TABLE_BASE_NAMES))
    ]
    assert spelled_out == [TABLE_NAMES_MODULE]


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS[:1], ids=lambda v: v.id)
def test_two_projects_never_share_a_feature_database(variant: Variant, tmp_path: Path):
    """Issue 13: the feature tables' database is named after the project."""
    from tests.support.generation import generate_variant

    databases = set()
    for name in ("fares-one", "fares-two"):
        project = generate_variant(tmp_path / name, variant, project_name=name)
        text = (project / TABLE_NAMES_MODULE).read_text()
        databases.add(re.search(r'^DATABASE = "([^"]+)"', text, re.MULTILINE)[1])
    assert databases == {"faresone_features", "farestwo_features"}


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_feature_store_python_compiles(generated_project: Path, tmp_path: Path):
    for path in FEATURE_STORE_FILES:
        if path.endswith(".py"):
            py_compile.compile(str(generated_project / path), cfile=str(tmp_path / "out.pyc"), doraise=True)


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_pyspark_is_a_local_test_dependency_only(generated_project: Path):
    """Databricks notebooks %pip install requirements.txt; a pyspark there would replace the runtime's."""
    requirements = (generated_project / "requirements.txt").read_text().lower()
    test_requirements = (generated_project / "test-requirements.txt").read_text().lower()
    assert not re.search(r"^\s*pyspark\b", requirements, re.MULTILINE)
    assert re.search(r"^pyspark==4\.\d+\.\d+$", test_requirements, re.MULTILINE)


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS[:1], ids=lambda v: v.id)
def test_mlflow3_and_the_feature_engineering_client_are_pinned(generated_project: Path):
    """The workspace Feature Store client comes from databricks-feature-engineering, not the deprecated package."""
    requirements = (generated_project / "requirements.txt").read_text().lower()
    assert re.search(r"^mlflow==3\.\d+\.\d+$", requirements, re.MULTILINE)
    assert re.search(r"^databricks-feature-engineering==\d+\.\d+\.\d+$", requirements, re.MULTILINE)
    assert "databricks-feature-store==" not in requirements


# --- large: the generated project's own code in the shared project venv -------------------------


def writable_copy(generated_project: Path, tmp_path: Path) -> Path:
    copy = tmp_path / generated_project.name
    shutil.copytree(generated_project, copy)
    return copy


def run(python: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # The timeout only guards against a hung Spark; on a busy 2-core machine a run takes many minutes.
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=3600)


@pytest.mark.large
@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_generated_project_tests_pass(generated_project: Path, mlflow3_python: Path, tmp_path: Path):
    project = writable_copy(generated_project, tmp_path)
    result = run(mlflow3_python, ["-m", "pytest", "-v", "-p", "no:cacheprovider"], cwd=project)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    feature_tests = [line for line in result.stdout.splitlines() if line.startswith(("tests/features/", "features/"))]
    assert feature_tests and all(" PASSED" in line for line in feature_tests), "\n".join(feature_tests)
    assert len(feature_tests) >= 20


@pytest.mark.large
@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_local_feature_store_pipeline_registers_and_scores_every_trip(
    variant: Variant, generated_project: Path, mlflow3_python: Path, tmp_path: Path
):
    project = writable_copy(generated_project, tmp_path)
    pipeline = run(mlflow3_python, ["-m", "local_pipeline.feature_store"], cwd=project)
    assert pipeline.returncode == 0, pipeline.stdout[-6000:] + pipeline.stderr[-6000:]
    for line in ("Training run id:", "Registered model:", "Validation metrics", "Predictions:"):
        assert line in pipeline.stdout
    # With Unity Catalog, the three-level name in the dev catalog and the project's schema.
    schema = TEST_ANSWERS["project_name"].replace("-", "_")
    model_name = f"dev.{schema}.{schema}_model_local" if variant.unity_catalog else f"{TEST_ANSWERS['project_name']}-model-local"
    assert re.search(rf"Alias:\s+{re.escape(model_name)}@champion -> models:/{re.escape(model_name)}/1", pipeline.stdout)
    assert "deprecat" not in (pipeline.stdout + pipeline.stderr).lower()

    facts = read_local_pipeline_facts(mlflow3_python, project)
    # Every metric of the project's model_spec, on its side, passing.
    assert metric_line_problems(pipeline.stdout, facts) == []
    assert facts["versions"] == [[model_name, "1"]]
    assert facts["prediction_dtype"] == facts["expected_prediction_dtype"]
    assert facts["prediction_rows"] == facts["sample_rows"] > 0
    # Every trip is kept: the sample's few trips that break the input contract unscored, with
    # their reason (steps/row_checks.py), every other trip with a prediction.
    assert facts["null_predictions"] == facts["scored_quarantined_rows"] == 0
    assert 0 < facts["quarantined_rows"] < facts["sample_rows"] / 100
    assert facts["columns"] == [
        *facts["sample_columns"], "prediction", "quarantine_reason", "model_version", "record_id", "scored_at"
    ]
    assert facts["mlflow3_validation_statuses"] == ["passed"] and facts["prediction_model_versions"] == ["1"]
    assert facts["aliases"] == {model_name: {"champion": "1"}}
    # Each table is a folder named after it; with Unity Catalog, catalog.schema.table in the dev
    # catalog (no suffix), else the dev tables of the project's database.
    tables = sorted(path.name for path in (project / "local_feature_store").iterdir())
    if variant.unity_catalog:
        assert tables == sorted(f"dev.{schema}.{name}" for name in TABLE_BASE_NAMES)
    else:
        assert tables == sorted(f"{TABLE_DATABASE}.{name}_dev" for name in TABLE_BASE_NAMES)

    assert not outputs_left_after_make_clean(project, (*LOCAL_PIPELINE_OUTPUTS, "local_feature_store"))


@pytest.mark.large
@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS[:1], ids=lambda v: v.id)
def test_local_pipeline_failure_names_the_step(generated_project: Path, mlflow3_python: Path, tmp_path: Path):
    project = writable_copy(generated_project, tmp_path)
    (project / "data" / "sample.parquet").write_bytes(b"not parquet")
    pipeline = run(mlflow3_python, ["-m", "local_pipeline.feature_store"], cwd=project)
    assert pipeline.returncode != 0
    assert "step 'features:" in pipeline.stderr
