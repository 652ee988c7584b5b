import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from steps.deploy import DeploymentRefused, deploy, parse_model_version_uri
from steps.utils import get_model_name
from steps.validation import VALIDATION_STATUS_TAG

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def register(name: str, status: str = None) -> str:
    """Register a model version of ``name``; with ``status``, as if ModelValidation had judged it."""
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(DummyRegressor().fit([[0.0]], [1.0]), "model", registered_model_name=name)
    if status is not None:
        MlflowClient().set_model_version_tag(name, info.registered_model_version, VALIDATION_STATUS_TAG, status)
    return f"models:/{name}/{info.registered_model_version}"


def stage_of(name: str, version: str) -> str:
    return MlflowClient().get_model_version(name, version).current_stage


def test_uri_must_name_a_version() -> None:
    assert parse_model_version_uri("models:/my-model/12") == ("my-model", "12")
    with pytest.raises(ValueError, match="models:/<name>/<version>"):
        parse_model_version_uri("models:/my-model/Production")


def test_deploy_moves_the_version_and_archives_the_previous_one(mlflow_store: str) -> None:
    first, second = register("fares", "PASSED"), register("fares", "DISABLED")
    assert deploy(first, "prod") == "Production"
    deploy(second, "prod")
    assert stage_of("fares", "2") == "Production"
    assert stage_of("fares", "1") == "Archived"


@pytest.mark.parametrize("status", [None, "FAILED"])
def test_a_version_without_a_passing_validation_is_refused_unless_forced(mlflow_store: str, status) -> None:
    uri = register("fares", status)
    with pytest.raises(DeploymentRefused, match="no passing validation"):
        deploy(uri, "prod")
    assert stage_of("fares", "1") == "None"
    deploy(uri, "prod", force=True)
    assert stage_of("fares", "1") == "Production"


def test_an_older_version_than_the_deployed_one_is_refused_unless_forced(mlflow_store: str) -> None:
    older, newer = register("fares", "PASSED"), register("fares", "PASSED")
    deploy(newer, "staging")
    with pytest.raises(DeploymentRefused, match="older than the deployed version 2"):
        deploy(older, "staging")
    deploy(older, "staging", force=True)
    assert stage_of("fares", "1") == "Staging"


def test_another_models_version_is_refused_unless_forced(mlflow_store: str) -> None:
    uri = register("someone-elses-model", "PASSED")
    with pytest.raises(DeploymentRefused, match="not this environment's model fares"):
        deploy(uri, "staging", expected_name="fares")
    deploy(uri, "staging", expected_name="fares", force=True)


def run_command_line(mlflow_store: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "steps/deploy.py", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"MLFLOW_TRACKING_URI": mlflow_store, "PATH": ""},
    )


def test_command_line_from_the_project_root(mlflow_store: str) -> None:
    name = get_model_name("test")
    unvalidated, validated = register(name), register(name, "PASSED")
    refused = run_command_line(mlflow_store, unvalidated, "test")
    assert refused.returncode != 0 and "no passing validation" in refused.stderr
    assert run_command_line(mlflow_store, validated, "test").returncode == 0
    assert stage_of(name, "2") == "Staging"
    assert run_command_line(mlflow_store, unvalidated, "test", "--force").returncode == 0
    assert stage_of(name, "1") == "Staging"
