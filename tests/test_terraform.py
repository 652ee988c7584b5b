"""The Terraform of every variant: formatted, self-consistent, fed by the answers, and
its state backends pointing at exactly what the bootstrap creates.

Providers cannot be downloaded here, so instead of ``terraform validate`` the reference
checker in ``tests/support/terraform_refs.py`` resolves every name offline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.generation import TEST_ANSWERS, generate
from tests.support.terraform_refs import load_module, parse_file, problems_in_tree, unquote
from tests.support.variants import SUPPORTED_VARIANTS, Variant

TERRAFORM_TREES = ("databricks-config", ".mlops-setup-scripts")
ML_RESOURCES = "databricks-config/modules/ml-resources"
CONTRACT_OUTPUTS = ("experiment_name", "experiment_id", "model_name", "training_job_id", "batch_inference_job_id")
NODE_TYPES = {"aws": "i3.xlarge", "azure": "Standard_D4ds_v5", "gcp": "n2-highmem-4"}
NYC_TAXI_TABLE = "delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`"


def strip_expression(value: str) -> str:
    """'"text"' -> 'text' and '${expr}' -> 'expr', as python-hcl2 writes values."""
    value = unquote(value)
    return value[2:-1] if value.startswith("${") and value.endswith("}") else value


def blocks(module_dir: Path, block_type: str) -> list[dict]:
    return load_module(module_dir).blocks.get(block_type, [])


def labelled(bodies: list[dict]) -> dict[str, dict]:
    return {unquote(k): v for body in bodies for k, v in body.items() if not k.startswith("__")}


def resources_of_type(module_dir: Path, resource_type: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for body in blocks(module_dir, "resource"):
        for type_label, named in body.items():
            if unquote(type_label) == resource_type:
                found.update(labelled([named]))
    return found


def locals_of(module_dir: Path) -> dict:
    return load_module(module_dir).locals


def backend(provider_tf: Path) -> tuple[str, dict[str, str]]:
    """(backend type, settings) of the ``terraform`` block in ``provider_tf``."""
    (terraform,) = parse_file(provider_tf)["terraform"]
    (backend_block,) = terraform["backend"]
    ((kind, settings),) = [(unquote(k), v) for k, v in backend_block.items() if not k.startswith("__")]
    return kind, {k: strip_expression(str(v)) for k, v in settings.items() if not k.startswith("__")}


# --- formatting and references ------------------------------------------------------------------


@pytest.mark.parametrize("tree", TERRAFORM_TREES)
def test_terraform_files_are_formatted(generated_project: Path, tree: str) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform binary is not on PATH, so `terraform fmt` cannot run; install Terraform >= 1.11")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", tree], cwd=generated_project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tree", TERRAFORM_TREES)
def test_every_reference_and_module_call_resolves(generated_project: Path, tree: str) -> None:
    root = generated_project / tree
    assert list(root.rglob("*.tf")), f"no Terraform files under {tree}"
    assert problems_in_tree(root) == []


def test_reference_checker_catches_broken_configs(tmp_path: Path) -> None:
    """The checker is only worth its green result if it can go red."""
    child = tmp_path / "child"
    child.mkdir()
    (child / "variables.tf").write_text('variable "needed" {\n  type = string\n}\n')
    (child / "outputs.tf").write_text('output "name" {\n  value = var.needed\n}\n')
    (tmp_path / "main.tf").write_text(
        'locals {\n  a = "x"\n}\n'
        'module "child" {\n  source = "./child"\n  unknown = local.b\n}\n'
        'resource "databricks_job" "job" {\n  name = "${var.missing}-${module.child.nope}"\n'
        "  description = data.databricks_current_user.me.user_name\n}\n"
        'resource "databricks_permissions" "p" {\n  job_id   = databricks_job.other.id\n'
        "  provider = databricks.staging\n}\n"
    )
    problems = problems_in_tree(tmp_path)
    expected = [
        "var.missing is not declared",
        "local.b is not defined",
        "module.child.nope: that module has no such output",
        "data.databricks_current_user.me is not declared",
        "resource databricks_job.other is not declared",
        "provider databricks.staging is not configured",
        "passes undeclared variable 'unknown'",
        "misses required variable 'needed'",
    ]
    assert [e for e in expected if not any(e in p for p in problems)] == []
    assert not any("databricks_job.job" in p for p in problems)


# --- the ML resources -----------------------------------------------------------------------------


def test_locals_state_the_answers_literally(generated_project: Path) -> None:
    for env, branch in (("staging", "main"), ("prod", "release")):
        text = (generated_project / "databricks-config" / env / "locals.tf").read_text()
        assert 'mlflow_experiment_parent_dir = "/ml-projects/my-mlops-project"' in text
        assert 'read_user_group = "ml-team"' in text
        assert f'git_branch = "{branch}"' in text
        assert f'env = "{env}"' in text
    staging_host = TEST_ANSWERS["databricks_staging_workspace_host"]
    prod_host = TEST_ANSWERS["databricks_prod_workspace_host"]
    assert f'workspace_host = "{staging_host}"' in (generated_project / "databricks-config/staging/locals.tf").read_text()
    assert f'workspace_host = "{prod_host}"' in (generated_project / "databricks-config/prod/locals.tf").read_text()


@pytest.mark.parametrize(
    ("answer", "written"),
    [(None, "/my-mlops-project"), ("/Users/someone@example.com/mlops/", "/Users/someone@example.com/mlops")],
    ids=["default", "trailing-slash"],
)
def test_parent_dir_reaches_locals_normalised(tmp_path: Path, answer: str | None, written: str) -> None:
    answers = {"cloud": "aws", "cicd_platform": "GitHub Actions"}
    if answer is not None:
        answers["mlflow_experiment_parent_dir"] = answer
    project = generate(tmp_path, answers)
    for env in ("staging", "prod"):
        assert f'mlflow_experiment_parent_dir = "{written}"' in (project / f"databricks-config/{env}/locals.tf").read_text()


def flatten(value, path=()):
    """Leaf values of a parsed file keyed by their path, without the parser's comment entries."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("__"):
                yield from flatten(item, path + (unquote(key),))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, path + (index,))
    else:
        yield path, value


# The only settings allowed to differ between databricks-config/staging and prod.
ENVIRONMENT_SETTINGS = {
    ("locals.tf", "locals", 0, "env"),
    ("locals.tf", "locals", 0, "git_branch"),
    ("locals.tf", "locals", 0, "workspace_host"),
    ("provider.tf", "terraform", 0, "backend", 0, "azurerm", "key"),
    ("provider.tf", "terraform", 0, "backend", 0, "s3", "key"),
    ("provider.tf", "terraform", 0, "backend", 0, "gcs", "prefix"),
}


def test_staging_and_prod_differ_only_in_environment_values(generated_project: Path) -> None:
    staging, prod = (generated_project / "databricks-config" / env for env in ("staging", "prod"))
    names = sorted(p.name for p in staging.glob("*.tf"))
    assert names == sorted(p.name for p in prod.glob("*.tf"))
    differing = {}
    for name in names:
        staging_values = dict(flatten(parse_file(staging / name)))
        prod_values = dict(flatten(parse_file(prod / name)))
        for path in staging_values.keys() | prod_values.keys():
            if staging_values.get(path) != prod_values.get(path):
                differing[(name, *path)] = (staging_values.get(path), prod_values.get(path))
    assert set(differing) - ENVIRONMENT_SETTINGS == set()
    assert differing[("locals.tf", "locals", 0, "env")] == ('"staging"', '"prod"')
    assert differing[("locals.tf", "locals", 0, "git_branch")] == ('"main"', '"release"')


def test_environments_call_the_shared_module_and_expose_the_contract_outputs(generated_project: Path) -> None:
    for env in ("staging", "prod"):
        root = generated_project / "databricks-config" / env
        module = load_module(root)
        assert {name: unquote(call["source"]) for name, call in module.module_calls.items()} == {
            "ml_resources": "../modules/ml-resources"
        }
        assert module.outputs == {f"my-mlops-project_{name}" for name in CONTRACT_OUTPUTS}


def tasks_of(job: dict) -> dict[str, dict]:
    return {unquote(task["task_key"]): task for task in job.get("task", [])}


def notebook(task: dict) -> tuple[str, dict[str, str]]:
    (notebook_task,) = task["notebook_task"]
    parameters = {k: strip_expression(str(v)) for k, v in notebook_task.get("base_parameters", {}).items()}
    return unquote(notebook_task["notebook_path"]), parameters


def test_training_job_trains_validates_then_deploys(variant: Variant, generated_project: Path) -> None:
    job = resources_of_type(generated_project / ML_RESOURCES, "databricks_job")["model_training_job"]
    tasks = tasks_of(job)
    assert list(tasks) == ["Train", "ModelValidation", "TriggerModelDeploy"]
    assert unquote(tasks["ModelValidation"]["depends_on"][0]["task_key"]) == "Train"
    assert unquote(tasks["TriggerModelDeploy"]["depends_on"][0]["task_key"]) == "ModelValidation"
    train_path, train_parameters = notebook(tasks["Train"])
    assert train_path == ("notebooks/TrainWithFeatureStore" if variant.feature_store else "notebooks/Train")
    assert train_parameters["env"] == "var.env"
    assert notebook(tasks["ModelValidation"]) == ("notebooks/ModelValidation", {"env": "var.env", "run_mode": "dry_run"})
    assert notebook(tasks["TriggerModelDeploy"]) == ("notebooks/TriggerModelDeploy", {"env": "var.env"})


def test_batch_inference_job_reads_the_sample_table_and_writes_predictions(generated_project: Path) -> None:
    job = resources_of_type(generated_project / ML_RESOURCES, "databricks_job")["batch_inference_job"]
    assert notebook(tasks_of(job)["BatchInference"]) == (
        "notebooks/BatchInference",
        {"env": "var.env", "input_table_name": NYC_TAXI_TABLE, "output_table_name": "mymlopsproject_predictions"},
    )


def test_feature_table_job_exists_only_with_the_feature_store(variant: Variant, generated_project: Path) -> None:
    jobs = resources_of_type(generated_project / ML_RESOURCES, "databricks_job")
    assert ("write_feature_table_job" in jobs) == variant.feature_store
    if variant.feature_store:
        # Its tasks come from a dynamic block over local.feature_tasks.
        feature_tasks = locals_of(generated_project / ML_RESOURCES)["feature_tasks"]
        assert set(feature_tasks) == {"PickupFeatures", "DropoffFeatures"}
        (task,) = jobs["write_feature_table_job"]["dynamic"][0]["\"task\""]["content"]
        path, parameters = notebook(task)
        assert path == "notebooks/GenerateAndWriteFeatures"
        assert "output_table_name" not in parameters and parameters["env"] == "var.env"


def test_jobs_use_the_lts_runtime_the_cloud_node_type_and_the_environment_branch(
    variant: Variant, generated_project: Path
) -> None:
    module_dir = generated_project / ML_RESOURCES
    cluster = locals_of(module_dir)["job_cluster"]
    assert unquote(cluster["spark_version"]) == "15.4.x-cpu-ml-scala2.12"
    assert unquote(cluster["node_type_id"]) == NODE_TYPES[variant.cloud]
    assert unquote(locals_of(module_dir)["git_provider"]) == ("gitHub" if variant.github else "azureDevOpsServices")
    for name, job in resources_of_type(module_dir, "databricks_job").items():
        assert "new_cluster" not in job and "notebook_task" not in job, f"{name} uses the legacy single-task format"
        (git_source,) = job["git_source"]
        assert strip_expression(git_source["branch"]) == "var.git_branch"


def test_jobs_run_notebooks_that_exist(variant: Variant, generated_project: Path) -> None:
    """What the jobs' lifecycle postconditions check at apply time, checked at generation time."""
    module_dir = generated_project / ML_RESOURCES
    paths = re.findall(r'notebook_path\s*=\s*"([^"]+)"', "".join(p.read_text() for p in module_dir.glob("*.tf")))
    assert paths and [p for p in paths if not (generated_project / f"{p}.py").is_file()] == []


def test_read_group_gets_read_access_to_every_resource(variant: Variant, generated_project: Path) -> None:
    module_dir = generated_project / ML_RESOURCES
    permissions = resources_of_type(module_dir, "databricks_permissions")
    targets = {name: next(k for k in body if k.endswith("_id")) for name, body in permissions.items()}
    granted_jobs = {strip_expression(p["job_id"]) for p in permissions.values() if "job_id" in p}
    jobs = resources_of_type(module_dir, "databricks_job")
    assert granted_jobs == {f"databricks_job.{name}.id" for name in jobs}
    assert sorted(targets.values()).count("experiment_id") == 1 and "registered_model_id" in targets.values()
    for body in permissions.values():
        (grant,) = body["access_control"]
        assert strip_expression(grant["group_name"]) == "var.read_user_group"
        assert unquote(grant["permission_level"]) in ("CAN_VIEW", "CAN_READ")


# --- state storage: backends and bootstrap agree ----------------------------------------------------


def bootstrap_state_storage(project: Path, cloud: str) -> dict[str, dict[str, str]]:
    """What .mlops-setup-scripts/terraform creates, as backend settings per state ('ml_resources', 'cicd_setup')."""
    folder = project / ".mlops-setup-scripts" / "terraform"
    values = {k: v for k, v in locals_of(folder).items()}
    if cloud == "aws":
        buckets = resources_of_type(folder, "aws_s3_bucket")["terraform_state"]
        assert strip_expression(buckets["for_each"]) == "local.state_buckets"
        assert strip_expression(buckets["bucket"]) == "each.value"
        for kind in ("aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
                     "aws_s3_bucket_public_access_block"):
            assert strip_expression(resources_of_type(folder, kind)["terraform_state"]["for_each"]) == (
                "aws_s3_bucket.terraform_state"
            ), f"{kind} must cover every state bucket"
        region = unquote(values["region"])
        return {state: {"bucket": unquote(name), "region": region} for state, name in values["state_buckets"].items()}
    if cloud == "azure":
        group = resources_of_type(folder, "azurerm_resource_group")["tfstate"]
        account = resources_of_type(folder, "azurerm_storage_account")["tfstate"]
        containers = resources_of_type(folder, "azurerm_storage_container")["tfstate"]
        assert strip_expression(group["name"]) == "local.resource_group_name"
        assert strip_expression(account["name"]) == "local.storage_account_name"
        assert strip_expression(containers["for_each"]) == "local.containers"
        assert strip_expression(containers["name"]) == "each.value"
        assert account["allow_nested_items_to_be_public"] is False
        common = {
            "resource_group_name": unquote(values["resource_group_name"]),
            "storage_account_name": unquote(values["storage_account_name"]),
        }
        return {state: {**common, "container_name": unquote(c)} for state, c in values["containers"].items()}
    buckets = resources_of_type(folder, "google_storage_bucket")["terraform_state"]
    assert strip_expression(buckets["for_each"]) == "local.state_buckets"
    assert strip_expression(buckets["name"]) == "each.value"
    assert buckets["versioning"][0]["enabled"] is True
    return {state: {"bucket": unquote(name)} for state, name in values["state_buckets"].items()}


def backends(project: Path) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "staging": backend(project / "databricks-config/staging/provider.tf"),
        "prod": backend(project / "databricks-config/prod/provider.tf"),
        "cicd": backend(project / ".mlops-setup-scripts/cicd/provider.tf"),
    }


BACKEND_TYPES = {"aws": "s3", "azure": "azurerm", "gcp": "gcs"}
STATE_OF = {"staging": "ml_resources", "prod": "ml_resources", "cicd": "cicd_setup"}


def assert_backends_match_bootstrap(project: Path, cloud: str) -> None:
    created = bootstrap_state_storage(project, cloud)
    keys = set()
    for name, (kind, settings) in backends(project).items():
        assert kind == BACKEND_TYPES[cloud], name
        expected = created[STATE_OF[name]]
        assert {k: settings.get(k) for k in expected} == expected, name
        keys.add(settings.get("key") or settings.get("prefix"))
        if cloud == "aws":
            assert settings["use_lockfile"] == "True" and "dynamodb_table" not in settings
    assert len(keys) == 3, "every state needs its own key or prefix"


def test_backends_use_the_storage_the_bootstrap_creates(variant: Variant, generated_project: Path) -> None:
    assert_backends_match_bootstrap(generated_project, variant.cloud)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_names_fit_cloud_rules_for_an_awkward_project_name(tmp_path: Path, cloud: str) -> None:
    """Upper case, underscores and 40 characters: the original truncated in one place only."""
    project = generate(tmp_path, {"project_name": "_Very_Long_MLOps_Project_Name_0123456789", "cloud": cloud})
    assert_backends_match_bootstrap(project, cloud)
    created = bootstrap_state_storage(project, cloud)
    for settings in created.values():
        if cloud == "azure":
            assert re.fullmatch(r"[a-z0-9]{3,24}", settings["storage_account_name"])
        else:
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", settings["bucket"])
    if cloud == "gcp":
        account = unquote(locals_of(project / ".mlops-setup-scripts/terraform")["ci_service_account_id"])
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account)


def test_aws_ci_user_may_use_both_state_buckets(tmp_path: Path) -> None:
    project = generate(tmp_path, {"cloud": "aws"})
    text = (project / ".mlops-setup-scripts/terraform/main-aws.tf").read_text()
    policy = re.search(r'data "aws_iam_policy_document" "manage_terraform_state" \{(.*?)\n\}', text, re.DOTALL)
    assert policy is not None
    assert policy.group(1).count("for bucket in aws_s3_bucket.terraform_state") == 2


# --- CI/CD credentials: outputs and docs agree ---------------------------------------------------------


def output_names(folder: Path) -> set[str]:
    return load_module(folder).outputs


# The CI/CD bootstrap outputs only the (public) client ids: federation needs no secret.
CICD_OUTPUTS = {"STAGING_DATABRICKS_CLIENT_ID", "PROD_DATABRICKS_CLIENT_ID"}
EXPECTED_SECRETS = {
    "aws": ({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, CICD_OUTPUTS),
    "gcp": ({"GOOGLE_CREDENTIALS"}, CICD_OUTPUTS),
    "azure": ({"ARM_ACCESS_KEY"}, CICD_OUTPUTS),
}


def test_bootstrap_outputs_are_the_documented_secrets(variant: Variant, generated_project: Path) -> None:
    state_secrets, workspace_secrets = EXPECTED_SECRETS[variant.cloud]
    assert output_names(generated_project / ".mlops-setup-scripts/terraform") == state_secrets
    assert output_names(generated_project / ".mlops-setup-scripts/cicd") == workspace_secrets
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert [name for name in state_secrets | workspace_secrets if name not in guide] == []


def test_azure_devops_variable_group_is_documented(variant: Variant, generated_project: Path) -> None:
    setup = generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf"
    assert setup.exists() == (not variant.github)
    if variant.github:
        return
    names = set(re.findall(r'name\s*=\s*"([A-Za-z]+)"\n', setup.read_text()))
    assert "databricksClientId" in names
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert [name for name in names if name not in guide] == []


# --- bootstrap.py ------------------------------------------------------------------------------------


def import_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bootstrap_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TERRAFORM_OUTPUT = json.dumps(
    {
        "TOKEN": {"sensitive": True, "type": "string", "value": "s3cr3t"},
        "A_ID": {"sensitive": False, "type": "string", "value": "id-1"},
    }
)


@pytest.mark.parametrize("folder", ["terraform", "cicd"])
def test_bootstrap_writes_flat_outputs_privately(generated_project: Path, tmp_path: Path, folder: str) -> None:
    module = import_script(generated_project / ".mlops-setup-scripts" / folder / "bootstrap.py")
    secrets = tmp_path / "secrets.json"
    secrets.write_text("stale, world-readable content that is longer than the new one" * 10)
    secrets.chmod(0o644)
    module.write_formatted_terraform_output(TERRAFORM_OUTPUT.encode(), secrets)
    assert json.loads(secrets.read_text()) == {"A_ID": "id-1", "TOKEN": "s3cr3t"}
    assert secrets.read_text() == '{\n  "A_ID": "id-1",\n  "TOKEN": "s3cr3t"\n}\n'
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.json"
    module.write_formatted_terraform_output("{}", fresh)
    assert json.loads(fresh.read_text()) == {} and stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_bootstrap_secrets_files_are_the_documented_ones(generated_project: Path) -> None:
    terraform = import_script(generated_project / ".mlops-setup-scripts/terraform/bootstrap.py")
    cicd = import_script(generated_project / ".mlops-setup-scripts/cicd/bootstrap.py")
    assert terraform.SECRETS_FILE == Path.home() / ".my-mlops-project-cicd-terraform-secrets.json"
    assert cicd.SECRETS_FILE == Path.home() / ".my-mlops-project-cicd-service-principal-secrets.json"
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert terraform.SECRETS_FILE.name in guide and cicd.SECRETS_FILE.name in guide


FAKE_TERRAFORM = """#!/bin/sh
echo "$PWD $*" >> "$TERRAFORM_LOG"
if [ "$1" = output ]; then echo '{"KEY": {"sensitive": true, "type": "string", "value": "v"}}'; fi
"""


@pytest.mark.parametrize("folder", ["terraform", "cicd"])
def test_bootstrap_script_applies_with_the_given_arguments(generated_project: Path, tmp_path: Path, folder: str) -> None:
    """Run the script as the guide says, from another folder, with a stand-in terraform on PATH."""
    scripts = tmp_path / "project" / ".mlops-setup-scripts"
    shutil.copytree(generated_project / ".mlops-setup-scripts", scripts)
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    home.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    log = tmp_path / "terraform.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home), "TERRAFORM_LOG": str(log),
           "TF_VAR_git_token": "abc", "TF_VAR_deploy_trigger_token": "def"}
    subprocess.run(
        [sys.executable, str(scripts / folder / "bootstrap.py"), "-replace=x.y"],
        cwd=tmp_path, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )
    module_dir = (scripts / folder).resolve()
    assert log.read_text().splitlines() == [
        f"{module_dir} init",
        f"{module_dir} apply -replace=x.y",
        f"{module_dir} output -json",
    ]
    (secrets,) = home.glob(".my-mlops-project-cicd-*-secrets.json")
    assert json.loads(secrets.read_text()) == {"KEY": "v"}
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


def test_supported_variants_cover_every_cloud() -> None:
    assert {v.cloud for v in SUPPORTED_VARIANTS} == {"aws", "azure", "gcp"}
