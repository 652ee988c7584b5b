"""Names of the MLflow resources each environment uses, and where deployed models live.

Staging and prod names are created by Terraform (databricks-config/); CI/CD saves its
outputs to ``databricks-config/output/<env>.json``, which is read relative to the project
root so that notebooks, CI and local runs work from any working directory. Dev and test
names are fixed here{% if cookiecutter | derived("ml_code") == "mlflow_recipes" %} and are what the databricks-dev and databricks-test recipe
profiles register{% else %}: dev is a data scientist's runs, test the CI integration test's{% endif %}; dev names carry
the name of the user who runs the notebook unless the team shares one dev namespace
(``steps/dev_namespace.py``).
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

Models and tables live in Unity Catalog: dev and test names are built from
``databricks-config/unity-catalog.json`` (catalog per environment, the project's schema),
the file Terraform creates the staging and prod schema, model and grants from.
{%- endif %}
"""

from __future__ import annotations

import json
from pathlib import Path

from steps.dev_namespace import dev_user

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TERRAFORM_OUTPUT_DIR = PROJECT_ROOT / "databricks-config" / "output"
EXPERIMENT_PARENT_DIR = "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}"
MODEL_BASE_NAME = "{{ cookiecutter | derived("model_name") }}"
EXPERIMENT_BASE_NAME = "{{ cookiecutter | derived("experiment_base_name") }}"
TERRAFORM_ENVS = ({% for env in cookiecutter | environments("deploy") %}"{{ env.name }}"{{ ", " if not loop.last else ("," if loop.length == 1) }}{% endfor %})
FIXED_NAME_ENVS = ({% for env in cookiecutter | environments if env.role != "deploy" %}"{{ env.name }}"{{ ", " if not loop.last else ("," if loop.length == 1) }}{% endfor %})
{%- if cookiecutter | derived("mlflow_major_version") == "2" %}

# Registry stage that serves each environment's batch inference, see
# {{ "mlflow/model-registry.html#transition-a-model-stage" | generate_doc_link(cookiecutter.cloud) }}
_DEPLOYED_STAGE = {{ "{" }}{% for env in cookiecutter | environments %}"{{ env.name }}": "{{ "Production" if env.protected else "Staging" }}"{{ ", " if not loop.last }}{% endfor %}{{ "}" }}
{%- endif %}


def _check_env(env: str) -> None:
    if env not in TERRAFORM_ENVS + FIXED_NAME_ENVS:
        raise ValueError(f"Unknown environment {env!r}; expected one of {', '.join(FIXED_NAME_ENVS + TERRAFORM_ENVS)}")


def _env_part(env: str) -> str:
    """``env`` as fixed names carry it: ``dev-<user>`` in a data scientist's own namespace
    (steps/dev_namespace.py), else ``env`` itself."""
    user = dev_user(env)
    return f"{env}-{user}" if user else env
{%- if cookiecutter | derived("mlflow_major_version") == "2" %}


def get_deployed_model_stage_for_env(env: str) -> str:
    """The model registry stage that ``env`` deploys to and batch-scores with."""
    _check_env(env)
    return _DEPLOYED_STAGE[env]
{%- endif %}
{%- if cookiecutter | derived("ml_code") == "mlflow_recipes" %}


# What profiles/databricks-dev.yaml includes: the dev experiment and model of the user who runs
# notebooks/Train (recipe profiles are YAML, so they take the names from here through a file).
DEV_PROFILE_NAMES = PROJECT_ROOT / "build" / "databricks-dev-names.json"


def write_dev_profile_names() -> Path:
    """Write ``DEV_PROFILE_NAMES`` for the databricks-dev profile: ``{"experiment_name": ..., "model_name": ...}``.

    notebooks/Train calls it (after ``steps.dev_namespace.enter``) before it loads the recipe, so
    the profile registers exactly what ``get_model_name("dev")`` and ``get_experiment_name("dev")``
    name. Returns the file's path.
    """
    DEV_PROFILE_NAMES.parent.mkdir(parents=True, exist_ok=True)
    names = {"experiment_name": get_experiment_name("dev"), "model_name": get_model_name("dev")}
    DEV_PROFILE_NAMES.write_text(json.dumps(names) + "\n")
    return DEV_PROFILE_NAMES
{%- endif %}


def terraform_output(env: str, key: str) -> str:
    """The value of Terraform output ``key`` for ``env``, from ``databricks-config/output/<env>.json``."""
    path = TERRAFORM_OUTPUT_DIR / f"{env}.json"
    if not path.is_file():
        raise RuntimeError(
            f"{path} does not exist: deploy the databricks-config resources to {env} first "
            "(the Terraform CD workflow commits this file)."
        )
    outputs = json.loads(path.read_text())
    if key not in outputs:
        raise RuntimeError(f"{path} has no output {key!r}; re-run the Terraform deployment for {env}.")
    return outputs[key]["value"]


def get_model_name(env: str) -> str:
    """The registered model name in ``env`` (test is the CI integration test's model)."""
    _check_env(env)
    if env in FIXED_NAME_ENVS:
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
        # catalog.schema.model in the environment's own catalog (dev and test have one each);
        # in dev the schema is the user's own (steps/dev_namespace.py).
        from fare_model.unity_catalog import name_in, settings

        return name_in(env, settings()["model"])
{%- else %}
        return f"{MODEL_BASE_NAME}-{_env_part(env)}"
{%- endif %}
    return terraform_output(env, "{{ cookiecutter.project_name }}_model_name")
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}


def get_predictions_table(env: str) -> str:
    """The Unity Catalog table batch inference writes in ``env``: ``catalog.schema.predictions``."""
    _check_env(env)
    from fare_model.unity_catalog import name_in, settings

    return name_in(env, settings()["predictions_table"])
{%- endif %}


def get_experiment_name(env: str) -> str:
    """The MLflow experiment path in ``env``."""
    _check_env(env)
    if env in FIXED_NAME_ENVS:
        return f"{EXPERIMENT_PARENT_DIR}/{EXPERIMENT_BASE_NAME}-{_env_part(env)}"
    return terraform_output(env, "{{ cookiecutter.project_name }}_experiment_name")
