import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from fare_model.deployment import DeploymentRefused, promote_to_champion
from fare_model.registry import CHALLENGER, CHAMPION, VALIDATION_STATUS_TAG, ValidationStatus, version_with_alias
from fare_model.training import TrainedModel

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def mark(version: str, status: ValidationStatus, name: str = "fares") -> None:
    client = MlflowClient()
    client.set_model_version_tag(name, version, VALIDATION_STATUS_TAG, status.value)
    if status is ValidationStatus.PASSED:
        client.set_registered_model_alias(name, CHALLENGER, version)


@pytest.fixture
def second(trained: TrainedModel, register_model) -> str:
    """Version 2 of ``fares``."""
    return register_model(DummyRegressor().fit([[0.0]], [10.0]))


def test_a_validated_version_becomes_champion_and_stops_being_challenger(trained: TrainedModel) -> None:
    mark("1", ValidationStatus.PASSED)
    assert promote_to_champion("models:/fares/1", "fares") == "1"
    client = MlflowClient()
    assert version_with_alias(client, "fares", CHAMPION) == "1"
    assert version_with_alias(client, "fares", CHALLENGER) is None


def test_a_version_whose_validation_was_disabled_may_be_deployed(trained: TrainedModel) -> None:
    mark("1", ValidationStatus.DISABLED)
    assert promote_to_champion("models:/fares/1", "fares") == "1"
    assert version_with_alias(MlflowClient(), "fares", CHAMPION) == "1"


@pytest.mark.parametrize("status", [None, ValidationStatus.FAILED])
def test_an_unvalidated_or_failed_version_is_refused(trained: TrainedModel, status) -> None:
    if status:
        mark("1", status)
    with pytest.raises(DeploymentRefused, match="only versions that passed ModelValidation"):
        promote_to_champion("models:/fares/1", "fares")
    assert version_with_alias(MlflowClient(), "fares", CHAMPION) is None


def test_an_older_version_than_the_champion_is_refused_unless_forced(second: str) -> None:
    mark("1", ValidationStatus.PASSED)
    mark("2", ValidationStatus.PASSED)
    promote_to_champion("models:/fares/2", "fares")
    with pytest.raises(DeploymentRefused, match="older than the current champion, version 2"):
        promote_to_champion("models:/fares/1", "fares")
    promote_to_champion("models:/fares/1", "fares", force=True)  # a deliberate rollback
    assert version_with_alias(MlflowClient(), "fares", CHAMPION) == "1"


def test_another_models_version_is_refused(trained: TrainedModel) -> None:
    mark("1", ValidationStatus.PASSED)
    with pytest.raises(DeploymentRefused, match="not of this environment's model 'prod-fares'"):
        promote_to_champion("models:/fares/1", "prod-fares")


def test_an_alias_uri_is_not_a_version() -> None:
    with pytest.raises(ValueError, match="models:/my-model/3"):
        promote_to_champion("models:/fares@champion", "fares")


def test_command_line_refuses_with_the_reason_and_deploys_when_valid(mlflow_store: str) -> None:
    from steps.utils import get_model_name

    name = get_model_name("dev")
    with mlflow.start_run():
        mlflow.sklearn.log_model(DummyRegressor().fit([[0.0]], [10.0]), name="model", registered_model_name=name)
    command = [sys.executable, "-m", "fare_model.deployment", f"models:/{name}/1", "dev"]
    env = {"MLFLOW_TRACKING_URI": mlflow_store, "PATH": ""}
    refused = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    assert refused.returncode == 1 and "no validation result" in refused.stderr
    mark("1", ValidationStatus.PASSED, name)
    deployed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert version_with_alias(MlflowClient(), name, CHAMPION) == "1"
