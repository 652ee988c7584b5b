import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from steps.deploy import deploy, parse_model_version_uri

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def register(name: str) -> str:
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(DummyRegressor().fit([[0.0]], [1.0]), "model", registered_model_name=name)
    return f"models:/{name}/{info.registered_model_version}"


def test_uri_must_name_a_version() -> None:
    assert parse_model_version_uri("models:/my-model/12") == ("my-model", "12")
    with pytest.raises(ValueError, match="models:/<name>/<version>"):
        parse_model_version_uri("models:/my-model/Production")


def test_deploy_moves_the_version_and_archives_the_previous_one(mlflow_store: str) -> None:
    first, second = register("fares"), register("fares")
    assert deploy(first, "prod") == "Production"
    deploy(second, "prod")
    client = MlflowClient()
    assert client.get_model_version("fares", "2").current_stage == "Production"
    assert client.get_model_version("fares", "1").current_stage == "Archived"


def test_command_line_from_the_project_root(mlflow_store: str) -> None:
    uri = register("fares")
    result = subprocess.run(
        [sys.executable, "steps/deploy.py", uri, "staging"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"MLFLOW_TRACKING_URI": mlflow_store, "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert MlflowClient().get_model_version("fares", "1").current_stage == "Staging"
