"""The generated ML code: recipe configuration, notebooks, requirements, and (large) running it.

Fast tests read the generated files. Large tests run the generated project's own code in
the shared project venv (``tests.support.project_python``): its unit tests, every recipe
profile, the local pipeline end to end, and the sample data generator.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.local_pipeline_outputs import (
    LOCAL_PIPELINE_OUTPUTS,
    metric_line_problems,
    outputs_left_after_make_clean,
    read_local_pipeline_facts,
)
from tests.support.project_python import (  # noqa: F401 (fixtures)
    mlflow3_python,
    mlflow3_python_for,
    mlflow3_requirement_files,
    project_python,
    project_python_for,
    python_executable,
)
from tests.support.variants import MLFLOW3_VARIANTS, RECIPE_VARIANTS, SUPPORTED_VARIANTS, TEMPLATE_DIR, Variant

recipe_variants = pytest.mark.parametrize("variant", RECIPE_VARIANTS, ids=lambda v: v.id)
mlflow3_variants = pytest.mark.parametrize("variant", MLFLOW3_VARIANTS, ids=lambda v: v.id)
PROFILES = ["local", "databricks-dev", "databricks-test", "databricks-staging", "databricks-prod"]
NOTEBOOKS = ["ModelValidation", "TriggerModelDeploy", "BatchInference"]
PROJECT = "my-mlops-project"
PARENT_DIR = "/ml-projects/my-mlops-project"


def load_module(path: Path):
    """A generated project's module (``<project>/steps/utils.py``), importing the project's packages
    from its root as the project does; they are forgotten afterwards, so each project gets its own."""
    root = str(path.parents[1])
    sys.path.insert(0, root)
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(root)
        for name in [name for name in sys.modules if name.split(".")[0] in ("steps", "fare_model")]:
            del sys.modules[name]
    return module


def requirement_pins(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    pins = {}
    for line in lines:
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned exactly"
            pins[name.lower()] = version
    return pins


# ---------------------------------------------------------------- fast: generated files


@recipe_variants
def test_recipe_keeps_mlflow_jinja_for_every_profile_value(generated_project: Path) -> None:
    text = (generated_project / "recipe.yaml").read_text()
    assert "{{INGEST_CONFIG}}" in text
    assert f'TERRAFORM_OUTPUTS["{PROJECT}_experiment_name"]["value"]' in text
    assert f'TERRAFORM_OUTPUTS["{PROJECT}_model_name"]["value"]' in text


@recipe_variants
def test_recipe_configures_no_step_that_nothing_runs(generated_project: Path) -> None:
    """Batch inference scores with steps/predict.py; the recipe's own scoring steps would be dead config."""
    text = (generated_project / "recipe.yaml").read_text()
    steps = re.findall(r"^  (\w+):", text.split("\nsteps:\n")[1].split("\ncustom_metrics:")[0], re.MULTILINE)
    assert set(steps) == {"ingest", "split", "transform", "train", "evaluate", "register"}
    for profile in (generated_project / "profiles").glob("*.yaml"):
        text = profile.read_text()
        assert "INGEST_SCORING_CONFIG" not in text and "PREDICT_OUTPUT_CONFIG" not in text, profile.name


@recipe_variants
def test_recipe_splits_by_time(generated_project: Path) -> None:
    text = (generated_project / "recipe.yaml").read_text()
    assert "split_method: split_by_pickup_time" in text and "split_ratios" not in text


@recipe_variants
@pytest.mark.parametrize("env", ["staging", "prod"])
def test_deployed_profiles_include_outputs_from_the_project_root(generated_project: Path, env: str) -> None:
    text = (generated_project / "profiles" / f"databricks-{env}.yaml").read_text()
    assert f'{{% include "databricks-config/output/{env}.json" %}}' in text
    assert "from_json" not in text and "../" not in text


@recipe_variants
def test_notebook_model_names_match_what_the_test_profile_registers(generated_project: Path) -> None:
    utils = load_module(generated_project / "steps" / "utils.py")
    profile = yaml.safe_load((generated_project / "profiles" / "databricks-test.yaml").read_text())
    assert utils.get_model_name("test") == profile["model_registry"]["model_name"] == f"{PROJECT}-model-test"
    assert utils.get_experiment_name("test") == profile["experiment"]["name"] == f"{PARENT_DIR}/{PROJECT}-experiment-test"


@recipe_variants
def test_dev_profile_registers_the_names_train_writes_for_its_user(generated_project: Path) -> None:
    # The dev names carry the user (steps/dev_namespace.py), so the profile cannot fix them.
    text = (generated_project / "profiles" / "databricks-dev.yaml").read_text()
    assert '{% include "build/databricks-dev-names.json" %}' in text and "model_name" not in text
    train = (generated_project / "notebooks" / "Train.py").read_text()
    assert train.index("dev_namespace.enter(spark, env)") < train.index("write_dev_profile_names()") < train.index("Recipe(")


@recipe_variants
def test_utils_reads_terraform_outputs_relative_to_the_project(generated_project: Path, tmp_path: Path, monkeypatch) -> None:
    project = shutil.copytree(generated_project, tmp_path / "project")
    output_dir = project / "databricks-config" / "output"
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "prod.json").write_text(json.dumps({f"{PROJECT}_model_name": {"value": f"prod-{PROJECT}-model"}}))
    monkeypatch.chdir(tmp_path)
    utils = load_module(project / "steps" / "utils.py")
    assert utils.get_model_name("prod") == f"prod-{PROJECT}-model"


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_every_notebook_starts_with_the_databricks_header(generated_project: Path) -> None:
    notebooks = sorted((generated_project / "notebooks").glob("*.py"))
    assert {n.stem for n in notebooks} >= set(NOTEBOOKS)
    for notebook in notebooks:
        assert notebook.read_text().startswith("# Databricks notebook source\n"), notebook.name


# Folders whose code runs in the Databricks jobs (the notebooks and what they import).
JOB_CODE_FOLDERS = ("notebooks", "steps", "features", "fare_model")
CACHING = re.compile(r"\.(cache|persist)\(|\bCACHE\s+TABLE\b", re.IGNORECASE)


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_job_code_does_not_cache_dataframes(generated_project: Path) -> None:
    """Serverless compute, the Unity Catalog jobs' default, may refuse ``DataFrame.cache()``/``persist()``:
    DataFrame caching there is a preview that admins can switch off and that workspaces with the
    compliance security profile lack (docs.databricks.com/aws/en/compute/serverless/dataframe-cache)."""
    cached = [
        f"{path.relative_to(generated_project)}:{number}"
        for folder in JOB_CODE_FOLDERS
        for path in sorted((generated_project / folder).rglob("*.py"))
        if not path.name.endswith("_test.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CACHING.search(line.split("#", 1)[0])
    ]
    assert not cached, cached


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_model_validation_works_per_env_and_variant(variant: Variant, generated_project: Path) -> None:
    text = (generated_project / "notebooks" / "ModelValidation.py").read_text()
    assert "prod.json" not in text
    assert "mlflow.set_experiment(get_experiment_name(env))" in text
    if variant.mlflow3:
        assert "from fare_model.validation import validate_model_version" in text
        assert "from fare_model.batch_inference import resolve_alias, score_trips" in (
            generated_project / "notebooks" / "BatchInference.py"
        ).read_text()
        return
    batch_inference = (generated_project / "notebooks" / "BatchInference.py").read_text()
    if variant.feature_store:  # fare_model.validation, scoring through the feature store
        assert "from features.validation import validate_with_feature_store" in text
        imported = "from features.scoring import deferral_report, feature_store, score_trips, split_at_feature_freshness"
        assert imported in batch_inference
        assert "resolve_alias(get_model_name(env))" in batch_inference
        return
    assert "from steps.predict import score_trips" in text
    assert "from steps.predict import score_trips" in batch_inference


@recipe_variants
def test_batch_predictions_are_typed_as_the_model_predicts(generated_project: Path) -> None:
    """Spark scoring types the prediction as model_spec.prediction makes it (DOUBLE for the example
    regressor, the class's own type for a classifier: tests/test_model_swap.py runs both), never a
    fixed type: a classifier's classes written as DOUBLE or STRING would not compare to its label."""
    text = (generated_project / "steps" / "predict.py").read_text()
    assert "result_type = prediction_type_of_rows(" in text and "result_type=result_type" in text
    assert 'result_type="' not in text


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_requirements_are_pinned_and_databricks_safe(variant: Variant, generated_project: Path) -> None:
    requirements = requirement_pins(generated_project / "requirements.txt")
    test_requirements = requirement_pins(generated_project / "test-requirements.txt")
    mlflow_pin = r"2\.22\.\d+" if variant.ml_code == "mlflow_recipes" else r"3\.\d+\.\d+"
    assert re.fullmatch(mlflow_pin, requirements["mlflow"])
    assert {"scikit-learn", "pandas", "numpy", "pyarrow", "requests"} <= set(requirements)
    assert int(requirements["pandas"].split(".")[0]) < 3
    assert "pyspark" not in requirements
    assert "pyspark" in test_requirements and "pytest" in test_requirements


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_make_local_pipeline_runs_the_variants_entry_point(variant: Variant, generated_project: Path) -> None:
    makefile = (generated_project / "Makefile").read_text()
    module = {"feature_store": "feature_store", "mlflow_recipes": "recipe", "mlflow3": "mlflow3"}[variant.ml_code]
    assert f"$(VENV)/bin/python -m local_pipeline.{module}\n" in makefile
    assert "local_pipeline.recipe" not in makefile or not variant.feature_store


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_every_notebook_restarts_python_after_installing_packages(generated_project: Path) -> None:
    for notebook in sorted((generated_project / "notebooks").glob("*.py")):
        cells = [cell.strip() for cell in notebook.read_text().split("# COMMAND ----------")]
        installs = [index for index, cell in enumerate(cells) if "%pip install" in cell]
        assert installs, notebook.name
        for index in installs:
            code = [line for line in cells[index + 1].splitlines() if not line.startswith("#")]
            assert code == ["dbutils.library.restartPython()"], notebook.name


@pytest.mark.parametrize("variant", SUPPORTED_VARIANTS, ids=lambda v: v.id)
def test_model_deployment_runs_from_the_branch_of_the_environments_jobs(variant: Variant, generated_project: Path) -> None:
    text = (generated_project / "notebooks" / "TriggerModelDeploy.py").read_text()
    if variant.cicd_platform == "GitLab":
        # The branch of prod's jobs is stored in prod's secret scope by the CI/CD bootstrap.
        assert '"ref": ref' in text
        gitlab_bootstrap = (generated_project / ".mlops-setup-scripts/cicd/gitlab.tf").read_text()
        assert re.search(r'\bref\s*=\s*local\.deploy_branch\["prod"\]', gitlab_bootstrap)
    elif variant.cicd_platform == "GitHub Actions" and variant.mlflow3:
        # The training job passes its own branch to the git_branch widget.
        assert '"ref": git_branch' in text
        job = (generated_project / "databricks-config/modules/ml-resources/training-job.tf").read_text()
        assert "git_branch" in job
    elif variant.cicd_platform == "GitHub Actions":
        # The default answers: prod's jobs follow release (staging deploys in the notebook).
        assert 'git_branch = "release"' in text and '"ref": git_branch' in text
    elif variant.ml_code == "mlflow_recipes":
        assert "deploy(model_uri, env, expected_name=get_model_name(env))" in text
    else:  # both MLflow 3 tracks move the champion alias
        assert "promote_to_champion(model_uri, get_model_name(env))" in text


@recipe_variants
def test_developer_guide_uses_the_current_recipes_cli(generated_project: Path) -> None:
    guide = (generated_project / "docs" / "ml-developer-guide.md").read_text()
    assert "mlflow recipes run --profile local" in guide and "make local-pipeline" in guide
    assert "mlp run" not in guide


# ---------------------------------------------------------------- large: running the code


def run(command: list[str], cwd: Path, timeout: int = 900, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.mark.large
@recipe_variants
def test_project_unit_tests_pass(generated_project: Path, project_python: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    run([str(project_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)


LOAD_PROFILES = """
import json, sys
from mlflow.recipes.utils import get_recipe_config
root, profile = sys.argv[1], sys.argv[2]
config = get_recipe_config(root, profile)
print(json.dumps({"experiment": config["experiment"]["name"], "model": config["model_registry"]["model_name"]}))
"""


@pytest.mark.large
@recipe_variants
def test_recipe_loads_every_profile_from_another_directory(
    generated_project: Path, project_python: Path, tmp_path: Path
) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    output_dir = project / "databricks-config" / "output"
    output_dir.mkdir(parents=True, exist_ok=True)
    for env in ("staging", "prod"):
        outputs = {
            f"{PROJECT}_experiment_name": {"sensitive": False, "type": "string", "value": f"{PARENT_DIR}/{env}-{PROJECT}-experiment"},
            f"{PROJECT}_model_name": {"sensitive": False, "type": "string", "value": f"{env}-{PROJECT}-model"},
            f"{PROJECT}_training_job_id": {"sensitive": False, "type": "string", "value": "123"},
        }
        (output_dir / f"{env}.json").write_text(json.dumps(outputs, indent=2))
    # What notebooks/Train writes in dev before it loads the recipe (steps/dev_namespace.py).
    write_dev_names = (
        "from steps import dev_namespace, utils; "
        "dev_namespace.set_user('jane.doe@example.com'); utils.write_dev_profile_names()"
    )
    run([str(project_python), "-c", write_dev_names], cwd=project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    expected = {
        "local": (f"{PROJECT}-experiment-local", f"{PROJECT}-model-local"),
        "databricks-dev": (f"{PARENT_DIR}/{PROJECT}-experiment-dev-jane_doe_86e0b9", f"{PROJECT}-model-dev-jane_doe_86e0b9"),
        "databricks-test": (f"{PARENT_DIR}/{PROJECT}-experiment-test", f"{PROJECT}-model-test"),
        "databricks-staging": (f"{PARENT_DIR}/staging-{PROJECT}-experiment", f"staging-{PROJECT}-model"),
        "databricks-prod": (f"{PARENT_DIR}/prod-{PROJECT}-experiment", f"prod-{PROJECT}-model"),
    }
    for profile in PROFILES:
        for cwd in (elsewhere, project / "notebooks"):
            result = run([str(project_python), "-c", LOAD_PROFILES, str(project), profile], cwd=cwd)
            names = json.loads(result.stdout.strip().splitlines()[-1])
            assert (names["experiment"], names["model"]) == expected[profile], (profile, cwd)


# What a local pipeline prints for the example model, and for a swapped-in classifier (its
# thresholds and directions as tests/test_model_swap.py's churn package declares them).
FARE_SUMMARY = """\
Validation metrics: held-out trips, value <= threshold
                    root_mean_squared_error            3.1000 <= 10  ok
                    mean_absolute_error                2.0000 <= 6  ok
                    weighted_mean_squared_error       12.0000 <= 1e+06  ok
"""
CHURN_SUMMARY = """\
Validation metrics: held-out rows, value <= threshold for an error, >= for a score (as each line shows)
                    accuracy                           0.8100 >= 0.7  ok
                    missed_churners                 0.2000 <= 0.5  ok (deployed: 0.2500)
"""
CHURN_FACTS = {"thresholds": {"accuracy": 0.7, "missed_churners": 0.5},
               "greater_is_better": {"accuracy": True, "missed_churners": False}}


def test_local_pipeline_metric_lines_are_judged_by_the_projects_model_spec() -> None:
    """The end-to-end tests read the metric names and directions from the generated project's
    model_spec: a swapped-in classifier's summary passes unchanged (the fare names and ``<=`` lines
    were pinned), and the fare summary does not pass for it."""
    assert metric_line_problems(CHURN_SUMMARY, CHURN_FACTS) == []
    assert metric_line_problems(FARE_SUMMARY, CHURN_FACTS) == [
        "accuracy: no line in the summary", "missed_churners: no line in the summary",
        "mean_absolute_error: not a metric of model_spec.metrics.THRESHOLDS",
        "root_mean_squared_error: not a metric of model_spec.metrics.THRESHOLDS",
        "weighted_mean_squared_error: not a metric of model_spec.metrics.THRESHOLDS"]
    wrong_side = CHURN_SUMMARY.replace("0.8100 >= 0.7", "0.8100 <= 0.7")
    assert metric_line_problems(wrong_side, CHURN_FACTS) == [
        "accuracy: shown as <=, but GREATER_IS_BETTER is True"]
    failing = CHURN_SUMMARY.replace("0.8100 >= 0.7  ok", "0.6000 >= 0.7  FAILED")
    assert metric_line_problems(failing, CHURN_FACTS) == ["accuracy: 0.6 >= 0.7 FAILED"]


@pytest.mark.large
@recipe_variants
def test_local_pipeline_end_to_end(generated_project: Path, project_python: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    home = tmp_path / "home"
    home.mkdir()
    result = run([str(project_python), "-m", "local_pipeline.recipe"], cwd=project, env={**os.environ, "HOME": str(home)})
    out = result.stdout
    # One screen, nothing a user could act on left unexplained.
    shown = (result.stdout + result.stderr).splitlines()
    assert len(shown) <= 40 and not [line for line in shown if re.search(r"warn|deprecat", line, re.IGNORECASE)
                                     and "include_mlflow_recipes=no" not in line], "\n".join(shown)
    assert re.search(r"^    done in \d+\.\d s$", out, re.MULTILINE)
    mlflow_ui = re.search(r"^Browse the runs:\s+(\S+) ui ", out, re.MULTILINE).group(1)
    assert (project / mlflow_ui).is_file(), mlflow_ui
    # Nothing left outside the project, nor inside it where make clean and .gitignore do not reach.
    assert not (home / ".mlflow").exists() and not (project / "metadata").exists()
    assert re.search(r"Training run id:\s+[0-9a-f]{32}", out)
    assert "Registered model:" in out and f"models:/{PROJECT}-model-local/1" in out
    assert f"mlflow ui --backend-store-uri sqlite:///{project}/mlruns.db" in out
    facts = read_local_pipeline_facts(project_python, project)
    # Every metric of the project's model_spec (and the recipe's own, if any), on its side, passing.
    assert metric_line_problems(out, facts, extra_metrics=True) == []
    assert facts["prediction_rows"] == facts["sample_rows"] > 0
    assert facts["prediction_dtype"] == facts["expected_prediction_dtype"] and facts["null_predictions"] == 0
    assert facts["scored_quarantined_rows"] == 0
    assert facts["versions"] == [[f"{PROJECT}-model-local", "1"]]
    assert "Model Validation Status: PASSED" in facts["descriptions"][0]
    assert facts["validation_statuses"] == ["PASSED"]
    assert facts["prediction_model_versions"] == ["1"]

    assert not outputs_left_after_make_clean(project, (*LOCAL_PIPELINE_OUTPUTS, ".mlflow-recipes"))


@pytest.mark.large
@recipe_variants
def test_local_pipeline_failure_names_the_step(generated_project: Path, project_python: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    (project / "data" / "sample.parquet").write_bytes(b"not parquet")
    result = subprocess.run(
        [str(project_python), "-m", "local_pipeline.recipe"], cwd=project, capture_output=True, text=True, timeout=600
    )
    assert result.returncode != 0
    assert "Local pipeline FAILED: step 'train: MLflow Recipe on the local profile' failed" in result.stderr


COMPARE_SAMPLES = """
import sys
import pyarrow.parquet as pq
generated, committed = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
assert generated.schema.remove_metadata() == committed.schema.remove_metadata(), (generated.schema, committed.schema)
assert generated.equals(committed), "the committed sample is not the generator's output"
print([str(t) for t in committed.schema.types], committed.num_rows)
"""


@pytest.mark.large
def test_committed_sample_is_the_generators_output(project_python: Path, tmp_path: Path) -> None:
    generated = tmp_path / "sample.parquet"
    run([str(project_python), "scripts/generate_sample_data.py", "--output", str(generated)], cwd=TEMPLATE_DIR)
    committed = TEMPLATE_DIR / "{{cookiecutter.project_name}}" / "data" / "sample.parquet"
    out = run([str(project_python), "-c", COMPARE_SAMPLES, str(generated), str(committed)], cwd=tmp_path).stdout
    assert "['timestamp[us]', 'timestamp[us]', 'double', 'double', 'int32', 'int32'] 10000" in out


# Pythons besides the jobs' (PROJECT_TEST_PYTHON, 3.12), which every project suite already runs
# on. A covering list, one suite per extra interpreter: the lowest the README supports on the
# Recipes track, the newest on MLflow 3 (MLflow 2.22 has no 3.13 wheels of its pins). MLflow 3
# on the lowest Python is covered without a second install: its pins must have wheels for it
# (test_mlflow3_pins_have_wheels_for_the_lowest_python) and ruff checks the syntax against
# target-version py310.
OTHER_PYTHONS = ("3.10",)
MLFLOW3_PYTHONS = ("3.13",)


def interpreter_or_skip(version: str) -> str:
    """An interpreter of Python ``version`` (PATH or pyenv); skips the test, naming it, without one."""
    python = python_executable(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed (no working python{version} on PATH or in pyenv)")
    return python


@pytest.mark.large
@pytest.mark.parametrize("version", OTHER_PYTHONS)
def test_requirements_install_and_project_tests_pass_on_python(version: str, tmp_path: Path) -> None:
    python = interpreter_or_skip(version)
    venv_python = project_python_for(python, tmp_path / "requirements")
    from tests.support.generation import generate

    project = generate(tmp_path / "project")
    run([str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)


# ---------------------------------------------------------------- the MLflow 3 code (include_mlflow_recipes=no)


@mlflow3_variants
def test_mlflow3_notebooks_restart_python_after_installing(generated_project: Path) -> None:
    """Modules imported before ``%pip install`` keep their old versions until Python restarts."""
    for notebook in sorted((generated_project / "notebooks").glob("*.py")):
        text = notebook.read_text()
        assert "%pip install -r ../requirements.txt" in text, notebook.name
        assert text.index("dbutils.library.restartPython()") > text.index("%pip install"), notebook.name
        assert "toPandas()" not in text, notebook.name  # fare_model.data.to_pandas_bounded instead


@mlflow3_variants
def test_mlflow3_deployment_runs_on_the_jobs_own_branch(variant: Variant, generated_project: Path) -> None:
    text = (generated_project / "notebooks" / "TriggerModelDeploy.py").read_text()
    assert 'dbutils.widgets.text("git_branch"' in text
    if variant.github:
        assert '"ref": git_branch' in text and "{{" not in text
        workflow = (generated_project / ".github" / "workflows" / "deploy-model-prod.yml").read_text()
        assert 'python -m fare_model.deployment "$MODEL_URI" "prod"' in workflow
    elif variant.cicd_platform == "GitLab":
        assert '"ref": ref' in text and "{{" not in text
        jobs = (generated_project / ".gitlab" / "ci" / "deploy-model.gitlab-ci.yml").read_text()
        assert 'python -m fare_model.deployment "$MODEL_URI" "prod"' in jobs
    else:
        assert "promote_to_champion(model_uri, get_model_name(env))" in text


@pytest.mark.large
@mlflow3_variants
def test_mlflow3_project_tests_pass(generated_project: Path, mlflow3_python: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    result = run([str(mlflow3_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    passed = re.search(r"\b(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 40, result.stdout[-2000:]  # fare_model's and steps' tests ran


@pytest.mark.large
@mlflow3_variants
def test_mlflow3_local_pipeline_end_to_end(variant: Variant, generated_project: Path, mlflow3_python: Path, tmp_path: Path) -> None:
    project = shutil.copytree(generated_project, tmp_path / PROJECT)
    # With Unity Catalog, the three-level name in the dev catalog and the project's schema.
    schema = PROJECT.replace("-", "_")
    model = f"dev.{schema}.{schema}_model_local" if variant.unity_catalog else f"{PROJECT}-model-local"
    first = run([str(mlflow3_python), "-m", "local_pipeline.mlflow3"], cwd=project)
    assert re.search(r"Training run id:\s+[0-9a-f]{32}", first.stdout)
    assert "Registered model:" in first.stdout and f"models:/{model}/1" in first.stdout
    assert re.search(r"Baseline:\s+none yet", first.stdout)
    assert "deprecat" not in (first.stdout + first.stderr).lower()
    facts = read_local_pipeline_facts(mlflow3_python, project)
    assert metric_line_problems(first.stdout, facts) == []  # every metric of model_spec, on its side, passing
    # A second run validates against the first run's champion and then replaces it.
    second = run([str(mlflow3_python), "-m", "local_pipeline.mlflow3"], cwd=project)
    assert re.search(r"Baseline:\s+champion version 1", second.stdout)
    assert f"{model}@champion -> models:/{model}/2" in second.stdout
    # Each run adds its version's predictions, as batch inference adds to its table (issue 25).
    saved = re.search(r"Predictions:\s+data/predictions\.parquet \((\d+) rows added, (\d+) in all\)", second.stdout)
    assert saved, second.stdout
    facts = read_local_pipeline_facts(mlflow3_python, project)
    assert facts["prediction_rows"] == 2 * facts["sample_rows"] > 0
    assert (int(saved[1]), int(saved[2])) == (facts["sample_rows"], facts["prediction_rows"])
    assert facts["prediction_model_versions"] == ["1", "2"]
    assert facts["prediction_dtype"] == facts["expected_prediction_dtype"] and facts["null_predictions"] == 0
    assert facts["scored_quarantined_rows"] == 0
    assert {"model_version", "record_id", "scored_at"} <= set(facts["columns"])
    assert sorted(facts["versions"]) == [[model, "1"], [model, "2"]]
    assert not outputs_left_after_make_clean(project)


@pytest.mark.large
def test_mlflow3_pins_have_wheels_for_the_lowest_python(tmp_path: Path) -> None:
    """pip resolves the MLflow 3 tracks' pins to wheels for Python 3.10 (a dry run: nothing is
    installed). PySpark is left out: PyPI has only its source, which is pure Python."""
    pins = sorted({
        line.strip() for path in mlflow3_requirement_files(tmp_path / "projects") for line in path.read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-")) and not line.lower().startswith("pyspark")
    })
    assert any(pin.startswith("mlflow==3") for pin in pins), pins
    (tmp_path / "pins.txt").write_text("\n".join(pins) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--only-binary=:all:",
         "--python-version", OTHER_PYTHONS[0], "--target", str(tmp_path / "target"), "-r", str(tmp_path / "pins.txt")],
        capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.large
@pytest.mark.parametrize("version", MLFLOW3_PYTHONS)
def test_mlflow3_requirements_install_and_project_tests_pass_on_python(version: str, tmp_path: Path) -> None:
    python = interpreter_or_skip(version)
    venv_python = mlflow3_python_for(python, tmp_path / "requirements")  # the feature store's pins too
    from tests.support.generation import generate

    project = generate(tmp_path / "project", {"include_mlflow_recipes": "no"})
    run([str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    # The feature-store code's client (databricks-feature-engineering) imports on this Python and
    # takes the project's arguments; its Spark tests run once, in test_feature_store.py.
    feature_store = generate(tmp_path / "fs-project", {"include_feature_store": "yes"})
    test = "tests/features/test_databricks_store.py"
    run([str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=feature_store)
