import json
from pathlib import Path

import pytest

from steps import utils


@pytest.fixture
def terraform_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path)
    outputs = {
        "{{ cookiecutter.project_name }}_experiment_name": {"sensitive": False, "type": "string", "value": "/exp/staging"},
        "{{ cookiecutter.project_name }}_model_name": {"sensitive": False, "type": "string", "value": "staging-model"},
    }
    (tmp_path / "staging.json").write_text(json.dumps(outputs))
    return tmp_path


def test_output_dir_is_under_the_project_root_not_the_working_directory() -> None:
    assert utils.TERRAFORM_OUTPUT_DIR == Path(__file__).resolve().parents[1] / "databricks-config" / "output"


def test_staging_names_come_from_terraform_outputs(terraform_outputs: Path) -> None:
    assert utils.get_model_name("staging") == "staging-model"
    assert utils.get_experiment_name("staging") == "/exp/staging"


def test_missing_outputs_file_says_to_deploy_first(terraform_outputs: Path) -> None:
    with pytest.raises(RuntimeError, match="deploy the databricks-config resources to prod"):
        utils.get_model_name("prod")


def test_missing_output_key_is_named(terraform_outputs: Path) -> None:
    (terraform_outputs / "staging.json").write_text("{}")
    with pytest.raises(RuntimeError, match="_model_name"):
        utils.get_model_name("staging")
{%- if cookiecutter | derived("mlflow_major_version") == "2" %}


@pytest.mark.parametrize("env, stage", [("dev", "Staging"), ("staging", "Staging"), ("prod", "Production")])
def test_deployed_stage_per_env(env: str, stage: str) -> None:
    assert utils.get_deployed_model_stage_for_env(env) == stage
{%- endif %}


def test_unknown_env_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown environment"):
        utils.get_model_name("production")
