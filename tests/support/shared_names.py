"""Names a generated project gives to things another project could also name, read from its files.

Two projects deployed to one workspace (or one cloud account) must not write to each
other's jobs, experiments, models, tables or Terraform state. ``workspace_and_cloud_names``
collects, from a generated project, every such name that its Terraform and CI/CD bootstrap
create; ``ml_table_names`` the tables its ML code writes. Each name is resolved for staging
and prod as Terraform would (``var.env``, ``local.name_prefix``, ``each.key`` over the
environments), and tagged with what it names, e.g. ``("job", "staging-proj-batch-inference-job")``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hooks.environments import names as environment_names
from tests.support.terraform_refs import load_module, unquote

ENVIRONMENTS = environment_names("deploy")
ML_RESOURCES = "databricks-config/modules/ml-resources"

Name = tuple[str, str]  # (what it names, the name)


def _resources(folder: Path, resource_type: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for body in load_module(folder).blocks.get("resource", []):
        for type_label, named in body.items():
            if unquote(type_label) == resource_type:
                found.update({unquote(k): v for k, v in named.items() if not k.startswith("__")})
    return found


def _resolve(value: object, env: str, extra: dict[str, str]) -> str:
    """A Terraform string with the interpolations the template uses in names, resolved for ``env``."""
    text = unquote(str(value))
    replacements = {"local.name_prefix": f"{env}-", "var.env": env, "each.key": env, **extra}
    resolved = re.sub(r"\$\{([^}]+)\}", lambda m: replacements.get(m.group(1).strip(), m.group(0)), text)
    if "${" in resolved or resolved.startswith(("var.", "local.")):
        raise ValueError(f"cannot resolve {text!r} for {env}: add its interpolation to shared_names._resolve")
    return resolved


def _locals(folder: Path) -> dict:
    return load_module(folder).locals


def workspace_and_cloud_names(project: Path) -> set[Name]:
    """What the project's Terraform names in the workspaces and the cloud account, per environment."""
    names: set[Name] = set()
    module = project / ML_RESOURCES
    ml_locals = _locals(module)
    # With Unity Catalog, the model and the predictions table take their names from this file.
    unity_catalog_file = project / "databricks-config" / "unity-catalog.json"
    unity_catalog = json.loads(unity_catalog_file.read_text()) if unity_catalog_file.exists() else None
    for env in ENVIRONMENTS:
        parent = _resolve(_locals(project / "databricks-config" / env)["mlflow_experiment_parent_dir"], env, {})
        extra = {"var.mlflow_experiment_parent_dir": parent}
        if unity_catalog:
            schema = f"{unity_catalog['catalogs'][env]}.{unity_catalog['schema']}"
            names.add(("model", f"{schema}.{unity_catalog['model']}"))
            extra["local.predictions_table"] = f"{schema}.{unity_catalog['predictions_table']}"
        else:
            names.add(("model", _resolve(ml_locals["model_name"], env, extra)))
        names.add(("experiment", _resolve(ml_locals["experiment_name"], env, extra)))
        for job in _resources(module, "databricks_job").values():
            names.add(("job", _resolve(job["name"], env, extra)))
            for task in job.get("task", []):
                for notebook_task in task.get("notebook_task", []):
                    table = notebook_task.get("base_parameters", {}).get("output_table_name")
                    if table is not None:
                        names.add(("table", _resolve(table, env, extra)))
    cicd = project / ".mlops-setup-scripts" / "cicd"
    for env in ENVIRONMENTS:
        for call in load_module(cicd).module_calls.values():
            for key in ("display_name", "group_name", "git_username"):
                if key in call:
                    names.add((f"cicd {key}", _resolve(call[key], env, {})))
        for scope in _resources(cicd / "common", "databricks_secret_scope").values():
            names.add(("secret scope", _resolve(scope["name"], env, {})))
        for application in _resources(cicd, "azuread_application").values():
            names.add(("Entra ID application", _resolve(application["display_name"], env, {})))
        for group in _resources(cicd, "azuredevops_variable_group").values():
            names.add(("Azure DevOps variable group", _resolve(group["name"], env, {})))
    bootstrap = _locals(project / ".mlops-setup-scripts" / "terraform")
    for key in ("state_buckets", "containers"):
        names.update((f"state {key}", unquote(v)) for v in bootstrap.get(key, {}).values() if key != "containers")
    for key in ("resource_group_name", "storage_account_name"):
        if key in bootstrap:
            names.add((f"state {key}", unquote(bootstrap[key])))
    return names


_ML_TABLES_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from features import feature_tables
names = sorted({table.name(env) for table in feature_tables.FEATURE_TABLES for env in json.loads(sys.argv[2])})
print(json.dumps(names))
"""


def ml_table_names(project: Path) -> set[Name]:
    """Feature tables (with their schema) the ML code writes in the deploy environments, read from
    ``features/feature_tables.py``; and the batch scoring tables of the MLflow Recipes profiles."""
    names: set[Name] = set()
    if (project / "features" / "feature_tables.py").exists():
        result = subprocess.run(
            [sys.executable, "-c", _ML_TABLES_SCRIPT, str(project), json.dumps(ENVIRONMENTS)], capture_output=True, text=True, check=True
        )
        names.update(("feature table", name) for name in json.loads(result.stdout))
    for profile in sorted((project / "profiles").glob("databricks-*.yaml")):
        output = re.search(r'PREDICT_OUTPUT_CONFIG:(?:\n .*)*?\n  location:\s*"([^"]+)"', profile.read_text())
        if output:
            names.add(("scoring table", output.group(1)))
    return names
