"""The Terraform of every variant: formatted, self-consistent, fed by the answers, and
its state backends pointing at exactly what the bootstrap creates.

Providers cannot be downloaded here, so instead of ``terraform validate`` the reference
checker in ``tests/support/terraform_refs.py`` resolves every name offline.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hooks import validation
from hooks.derived import CLASSIC_SPARK_VERSIONS
from hooks.environments import names as environment_names
from tests.support import checkov, provider_schemas, shared_names
from tests.support.generation import TEST_HOSTS, answers_for, generate, generate_variant
from tests.support.stand_in_terraform import run_bootstrap
from tests.support.provider_schemas import constraint_problems, load_schemas, schema_problems, typed_blocks
from tests.support.terraform_folders import TerraformFolder, distinct_terraform_folders
from tests.support.terraform_refs import load_module, module_folders, parse_file, problems_in_tree, unquote
from tests.support.variants import AZURE_DEVOPS_VARIANTS, FEATURE_STORE_VARIANTS, RECIPE_VARIANTS, SUPPORTED_VARIANTS, Variant, \
    choices

TERRAFORM_TREES = ("databricks-config", ".mlops-setup-scripts")
ML_RESOURCES = "databricks-config/modules/ml-resources"
CONTRACT_OUTPUTS = ("experiment_name", "experiment_id", "model_name", "training_job_id", "batch_inference_job_id")
NODE_TYPES = {"aws": "i3.xlarge", "azure": "Standard_D4ds_v5", "gcp": "n2-highmem-4"}


def input_table(project: Path) -> str:
    """The table the project's jobs read by default: ``model_spec.data.DATABRICKS_INPUT_PATH`` as
    a Delta path (the example's NYC taxi dataset; a swapped model's own, stack-customization.md C)."""
    tree = ast.parse((project / "model_spec" / "data.py").read_text())
    (path,) = [ast.literal_eval(node.value) for node in tree.body
               if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DATABRICKS_INPUT_PATH"]]
    return f"delta.`dbfs:{path}`"


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


@pytest.fixture(scope="module")
def terraform_folders(
    _generated_projects: dict[Variant, Path], tmp_path_factory: pytest.TempPathFactory
) -> list[TerraformFolder]:
    """Every Terraform module folder of every supported variant, once per distinct content."""
    for variant in SUPPORTED_VARIANTS:
        if variant not in _generated_projects:
            _generated_projects[variant] = generate_variant(tmp_path_factory.mktemp(variant.id), variant)
    return distinct_terraform_folders({v.id: _generated_projects[v] for v in SUPPORTED_VARIANTS})


def schemas_for(folders: list[Path]) -> dict:
    """Provider schemas of the resource and data types used in ``folders``, or a skip without npm."""
    try:
        return load_schemas({(b.kind, b.type_name) for folder in folders for b in typed_blocks(folder)})
    except provider_schemas.NodeMissing as missing:
        pytest.skip(str(missing))


@pytest.mark.large
def test_every_block_matches_the_provider_schema(terraform_folders: list[TerraformFolder]) -> None:
    schemas = schemas_for([f.path for f in terraform_folders])
    problems = [f"{f.id}: {p}" for f in terraform_folders for p in schema_problems(f.path, schemas)]
    assert problems == []
    unchecked = {b.type_name.split("_")[0] for f in terraform_folders for b in typed_blocks(f.path)} - {
        key.split(".")[1].split("_")[0] for key in schemas
    }
    assert unchecked <= set(provider_schemas.WITHOUT_SCHEMA), f"no schema source for {unchecked}"


@pytest.mark.large
def test_required_providers_admit_the_checked_provider_versions(terraform_folders: list[TerraformFolder]) -> None:
    schemas_for([])  # installs the packages that name the versions
    problems = [f"{f.id}: {p}" for f in terraform_folders for p in constraint_problems(f.path)]
    assert problems == []
    constrained = {
        provider for f in terraform_folders for _, provider, _ in provider_schemas.required_provider_constraints(f.path)
    }
    assert constrained >= {"databricks", "aws", "azurerm", "azuread", "google"}


@pytest.mark.large
def test_checkov_finds_nothing_unexplained(terraform_folders: list[TerraformFolder], tmp_path: Path) -> None:
    """checkov's Terraform policies pass, or are skipped next to the resource with a reason."""
    failed, skipped = checkov.scan([f.path for f in terraform_folders], tmp_path)
    assert [finding.describe() for finding in failed] == []
    unexplained = [f.describe() for f in skipped if len(f.suppress_comment.split()) < 5]
    assert unexplained == [], "every `# checkov:skip=ID: reason` needs a reason a reviewer can judge"


# Each kind of mistake the schema check exists for, in a config that has only that mistake.
BROKEN_CONFIGS = {
    "misspelt argument": (
        'resource "databricks_job" "j" {\n  nmae = "x"\n}\n',
        'resource "databricks_job" "j": unknown argument or block \'nmae\': rename it to \'name\'',
    ),
    "argument at the wrong nesting level": (
        'resource "databricks_job" "j" {\n  task {\n    task_key = "t"\n    notebook_path = "n"\n  }\n}\n',
        '"j" > task: unknown argument or block \'notebook_path\'',
    ),
    "block written as an attribute": (
        'resource "databricks_job" "j" {\n  schedule = {\n    quartz_cron_expression = "0 0 9 * * ?"\n'
        '    timezone_id = "UTC"\n  }\n}\n',
        "'schedule' is a nested block: write it as `schedule { ... }`",
    ),
    "attribute written as a block": (
        'resource "databricks_job" "j" {\n  tags {\n    team = "ml"\n  }\n}\n',
        "'tags' is an argument, not a block: write it as `tags = { ... }`",
    ),
    "missing required argument": (
        'resource "databricks_job" "j" {\n  task {\n    notebook_task {\n      source = "GIT"\n    }\n  }\n}\n',
        "task > notebook_task: required argument 'notebook_path' is missing: add `notebook_path = ...`",
    ),
    "missing required argument of a data source": (
        'data "databricks_group" "g" {}\n',
        'data "databricks_group" "g": required argument \'display_name\' is missing',
    ),
    "missing required block": (
        'resource "databricks_default_namespace_setting" "s" {}\n',
        "required block 'namespace' is missing: add `namespace { ... }`",
    ),
    "computed-only attribute set": (
        'data "databricks_current_user" "me" {\n  user_name = "x"\n}\n',
        "unknown argument or block 'user_name'",
    ),
    "argument the provider removed": (
        'resource "databricks_mlflow_model" "m" {\n  name = "m"\n  tags {\n    key = "k"\n    value = "v"\n  }\n'
        '  registered_model_id = "x"\n  latest_versions = []\n}\n',
        "unknown argument or block 'latest_versions'",
    ),
    "wrong block in a dynamic block": (
        'resource "databricks_job" "j" {\n  dynamic "tsk" {\n    for_each = {}\n    content {}\n  }\n}\n',
        'dynamic "tsk" generates a block the schema does not have here: rename it to \'task\'',
    ),
    "deprecated argument": (
        'resource "databricks_mlflow_experiment" "e" {\n  name = "/x"\n  description = "d"\n}\n',
        "'description' is deprecated: Remove the description attribute",
    ),
    "deprecated argument in a nested block": (
        'resource "databricks_cluster" "c" {\n  spark_version = "x"\n  library {\n    egg = "dbfs:/a.egg"\n  }\n}\n',
        "> library: 'egg' is deprecated",
    ),
    "misspelt argument of a provider without a cdktf package (azuredevops)": (
        'resource "azuredevops_variable_group" "g" {\n  project_id = "p"\n  allow_acess = true\n'
        '  variable {\n    name = "n"\n  }\n}\n',
        "unknown argument or block 'allow_acess': rename it to 'allow_access'",
    ),
    "missing required block (azuredevops)": (
        'resource "azuredevops_build_definition" "b" {\n  project_id = "p"\n}\n',
        "required block 'repository' is missing",
    ),
    "unknown resource type": (
        'resource "databricks_jobs" "j" {}\n',
        "the provider has no resource type 'databricks_jobs'",
    ),
}


@pytest.mark.large
@pytest.mark.parametrize("mistake", list(BROKEN_CONFIGS))
def test_schema_check_catches(tmp_path: Path, mistake: str) -> None:
    """The schema check is only worth its green result if it goes red on each kind of mistake."""
    config, finding = BROKEN_CONFIGS[mistake]
    (tmp_path / "main.tf").write_text(config)
    problems = schema_problems(tmp_path, schemas_for([tmp_path]))
    assert [p for p in problems if finding in p] != [], problems
    assert all(p.startswith(f"{tmp_path.name}/main.tf: ") for p in problems)


@pytest.mark.large
def test_schema_check_accepts_a_correct_config(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "databricks_job" "j" {\n  name = "n"\n  task {\n    task_key = "t"\n'
        '    notebook_task {\n      notebook_path = "nb"\n      base_parameters = { env = "x" }\n    }\n  }\n'
        '  dynamic "task" {\n    for_each = {}\n    content {\n      task_key = task.key\n    }\n  }\n'
        '  lifecycle {\n    prevent_destroy = true\n  }\n}\n'
    )
    assert schema_problems(tmp_path, schemas_for([tmp_path])) == []


@pytest.mark.large
def test_schema_check_knows_the_terraform_names_of_pulumi_lists(tmp_path: Path) -> None:
    """azuredevops comes from Pulumi, which pluralizes list names: Terraform's singular passes,
    a misspelling of it does not."""
    override = (
        'resource "azuredevops_build_definition" "b" {\n  project_id = "p"\n  ci_trigger {\n    override {\n'
        '      branch_filter {\n        include = ["refs/heads/main"]\n      }\n'
        '      path_filter {\n        {key} = ["/databricks-config"]\n      }\n    }\n  }\n'
        '  repository {\n    repo_id   = "r"\n    repo_type = "TfsGit"\n    yml_path  = "a.yml"\n  }\n}\n'
    )
    (tmp_path / "main.tf").write_text(override.replace("{key}", "include"))
    assert schema_problems(tmp_path, schemas_for([tmp_path])) == []
    (tmp_path / "main.tf").write_text(override.replace("{key}", "inclde"))
    (problem,) = schema_problems(tmp_path, schemas_for([tmp_path]))
    assert "path_filter" in problem and "unknown argument or block 'inclde'" in problem


@pytest.mark.large
def test_constraint_check_catches_a_version_it_excludes(tmp_path: Path) -> None:
    schemas_for([])
    (tmp_path / "versions.tf").write_text(
        'terraform {\n  required_providers {\n    databricks = {\n      source  = "databricks/databricks"\n'
        '      version = ">= 1.50, < 1.60"\n    }\n  }\n}\n'
    )
    (problem,) = constraint_problems(tmp_path)
    assert "versions.tf: required_providers.databricks" in problem and "widen the constraint" in problem


@pytest.mark.parametrize(
    ("constraint", "version", "admitted"),
    [
        (">= 1.50, < 2.0", "1.99.0", True),
        (">= 5.0, < 7.0", "7.1.0", False),
        ("~> 4.9", "4.55.0", True),
        ("~> 4.9", "5.0.0", False),
        ("~> 4.9.0", "4.10.0", False),
        ("1.2.3", "1.2.3", True),
        ("!= 1.2.3", "1.2.3", False),
    ],
)
def test_version_constraints_follow_terraform_rules(constraint: str, version: str, admitted: bool) -> None:
    assert provider_schemas.admits(constraint, version) is admitted


# --- the ML resources -----------------------------------------------------------------------------


def test_locals_state_the_answers_literally(variant: Variant, generated_project: Path) -> None:
    for env, branch in (("staging", "main"), ("prod", "release")):
        text = (generated_project / "databricks-config" / env / "locals.tf").read_text()
        assert 'mlflow_experiment_parent_dir = "/ml-projects/my-mlops-project"' in text
        assert 'read_user_group = "ml-team"' in text
        assert f'git_branch = "{branch}"' in text
        assert f'env = "{env}"' in text
    staging_host, prod_host = TEST_HOSTS[variant.cloud]
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
    if variant.feature_store:  # with Unity Catalog, catalog.schema.model of the registered model
        assert train_parameters["model_name"] == "local.model_name"
    # A failing version fails the run (and alerts) instead of leaving a green run that deployed nothing.
    assert notebook(tasks["ModelValidation"]) == ("notebooks/ModelValidation", {"env": "var.env", "run_mode": "enabled"})
    # The MLflow 3 code dispatches the deployment on the branch the job runs from.
    deploy_parameters = {"env": "var.env", "git_branch": "var.git_branch"} if variant.mlflow3 else {"env": "var.env"}
    assert notebook(tasks["TriggerModelDeploy"]) == ("notebooks/TriggerModelDeploy", deploy_parameters)


def test_batch_inference_job_reads_the_sample_table_and_writes_predictions(
    variant: Variant, generated_project: Path
) -> None:
    job = resources_of_type(generated_project / ML_RESOURCES, "databricks_job")["batch_inference_job"]
    # With Unity Catalog, catalog.schema.predictions of the environment (unity-catalog.tf).
    table = "local.predictions_table" if variant.unity_catalog else "${var.env}_mymlopsproject_predictions"
    assert notebook(tasks_of(job)["BatchInference"]) == (
        "notebooks/BatchInference",
        {"env": "var.env", "input_table_name": input_table(generated_project), "output_table_name": table},
    )


def test_feature_table_job_exists_only_with_the_feature_store(variant: Variant, generated_project: Path) -> None:
    jobs = resources_of_type(generated_project / ML_RESOURCES, "databricks_job")
    assert ("write_feature_table_job" in jobs) == variant.feature_store
    if variant.feature_store:
        # Its tasks come from a dynamic block over local.feature_tasks.
        feature_tasks = locals_of(generated_project / ML_RESOURCES)["feature_tasks"]
        assert set(feature_tasks) == {"PickupFeatures", "DropoffFeatures"}
        # (Unity Catalog jobs also have dynamic environment and job_cluster blocks.)
        (dynamic_task,) = [block['"task"'] for block in jobs["write_feature_table_job"]["dynamic"] if '"task"' in block]
        (task,) = dynamic_task["content"]
        path, parameters = notebook(task)
        assert path == "notebooks/GenerateAndWriteFeatures"
        assert "output_table_name" not in parameters and parameters["env"] == "var.env"


def test_jobs_use_the_lts_runtime_the_cloud_node_type_and_the_environment_branch(
    variant: Variant, generated_project: Path
) -> None:
    module_dir = generated_project / ML_RESOURCES
    cluster = locals_of(module_dir)["job_cluster"]
    assert unquote(cluster["spark_version"]) == CLASSIC_SPARK_VERSIONS[variant.ml_code]
    assert unquote(cluster["node_type_id"]) == NODE_TYPES[variant.cloud]
    git_providers = {"GitHub Actions": "gitHub", "Azure DevOps": "azureDevOpsServices", "GitLab": "gitLab"}
    assert unquote(locals_of(module_dir)["git_provider"]) == git_providers[variant.cicd_platform]
    for name, job in resources_of_type(module_dir, "databricks_job").items():
        assert "new_cluster" not in job and "notebook_task" not in job, f"{name} uses the legacy single-task format"
        (git_source,) = job["git_source"]
        assert strip_expression(git_source["branch"]) == "var.git_branch"


def test_jobs_run_notebooks_that_exist(variant: Variant, generated_project: Path) -> None:
    """What the jobs' lifecycle postconditions check at apply time, checked at generation time."""
    module_dir = generated_project / ML_RESOURCES
    paths = re.findall(r'notebook_path\s*=\s*"([^"]+)"', "".join(p.read_text() for p in module_dir.glob("*.tf")))
    assert paths and [p for p in paths if not (generated_project / f"{p}.py").is_file()] == []


# `local.serverless ? A : B`, as the Unity Catalog jobs pick their compute (job_compute).
COMPUTE_CHOICE = re.compile(r"^var\.serverless \? (.+) : (.+)$")


def on_compute(expression: str, serverless: bool, module_locals: dict) -> Any:
    """``expression`` of a job as Terraform evaluates it with job_compute "serverless" (``serverless``)
    or "classic": the branch of ``var.serverless ? A : B``, ``null`` -> None, ``local.X`` -> its
    value (unquoted), ``[a, b]`` -> a list of those, anything else as written."""
    text = strip_expression(expression)
    choice = COMPUTE_CHOICE.match(text)
    if choice:
        text = choice.group(1 if serverless else 2).strip()
    if text == "null":
        return None
    if text.startswith("[") and text.endswith("]"):
        return [on_compute(f"${{{item.strip()}}}", serverless, module_locals) for item in text[1:-1].split(",") if item.strip()]
    if text.startswith("local."):
        value = module_locals[text.removeprefix("local.")]
        return unquote(value) if isinstance(value, str) else value
    return text


def compute_keys(job: dict, block: str, key: str, serverless: bool, module_locals: dict) -> list[str]:
    """The ``key`` of every ``block`` (environment, job_cluster) a job defines, static or dynamic."""
    keys = [on_compute(body[key], serverless, module_locals) for body in job.get(block, [])]
    for dynamic in job.get("dynamic", []):
        for label, body in dynamic.items():
            if unquote(label) == block:
                (content,) = body["content"]
                copies = on_compute(body["for_each"], serverless, module_locals)
                keys += [on_compute(content[key], serverless, module_locals)] * len(copies)
    return keys


def all_tasks(job: dict) -> list[dict]:
    """The job's task blocks, and the content of a dynamic "task" block (one per feature table)."""
    dynamic = [body["content"][0] for d in job.get("dynamic", []) for label, body in d.items() if unquote(label) == "task"]
    return [*job.get("task", []), *dynamic]


@pytest.mark.parametrize("serverless", [True, False], ids=["serverless", "classic"])
def test_every_task_runs_on_compute_its_job_defines(variant: Variant, generated_project: Path, serverless: bool) -> None:
    """With each value of job_compute, every task names exactly one compute that its job defines,
    and the job defines nothing that no task uses: on serverless the job's environment (pinned
    environment version and requirements.txt; a notebook task that names it runs in it instead of
    the notebook's own environment, Jobs API 2.2 jobs/create "environments"), on classic the job
    cluster. Without Unity Catalog job_compute does not exist and every task runs on the cluster."""
    module_dir = generated_project / ML_RESOURCES
    module_locals = locals_of(module_dir)
    serverless = serverless and variant.unity_catalog
    for name, job in resources_of_type(module_dir, "databricks_job").items():
        environments = compute_keys(job, "environment", "environment_key", serverless, module_locals)
        clusters = compute_keys(job, "job_cluster", "job_cluster_key", serverless, module_locals)
        used = {"environment": [], "job_cluster": []}
        for task in all_tasks(job):
            environment = on_compute(task.get("environment_key", "null"), serverless, module_locals)
            cluster = on_compute(task.get("job_cluster_key", "null"), serverless, module_locals)
            assert "new_cluster" not in task and "existing_cluster_id" not in task, name
            if serverless:
                assert cluster is None and environment in environments, (name, task["task_key"], environment, environments)
                used["environment"].append(environment)
            else:
                assert environment is None and cluster in clusters, (name, task["task_key"], cluster, clusters)
                used["job_cluster"].append(cluster)
        assert sorted(set(environments)) == sorted(environments) == sorted(set(used["environment"])), name
        assert sorted(set(clusters)) == sorted(clusters) == sorted(set(used["job_cluster"])), name
        assert (environments == []) == (not serverless), name


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform binary is not on PATH")
@pytest.mark.parametrize("variant", [v for v in SUPPORTED_VARIANTS if v.unity_catalog][:1], ids=lambda v: v.id)
def test_only_jobs_of_the_applied_branch_install_its_requirements(variant: Variant, generated_project: Path, tmp_path: Path) -> None:
    """Issue 22 trial, M6: Terraform CD applies both environments from the default branch, so the
    serverless environment's dependencies are that branch's requirements.txt. Staging runs that
    code; prod runs the release branch's, so its environment has none and its notebooks install
    their own checkout's requirements.txt. `terraform console` evaluates the module's
    `environment` local for each environment's git_branch."""
    answers = variant.answers()
    module_dir = (generated_project / ML_RESOURCES).resolve()
    text = (module_dir / "locals.tf").read_text()
    (environment,) = re.findall(r"^  environment = \{\n.*?^  \}$", text, re.MULTILINE | re.DOTALL)
    (tmp_path / "main.tf").write_text(
        'variable "git_branch" {}\nlocals {\n' + environment.replace("${path.module}", str(module_dir)) + "\n}\n"
    )
    requirements = [
        line.split("#")[0].strip() for line in (generated_project / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    for env, branch in (("staging", answers.get("default_branch", "main")), ("prod", answers.get("release_branch", "release"))):
        env_branch = re.search(r'git_branch\s*=\s*"([^"]+)"', (generated_project / f"databricks-config/{env}/locals.tf").read_text())
        assert env_branch and env_branch.group(1) == branch, env
        result = subprocess.run(
            ["terraform", "console", "-var", f"git_branch={branch}"], cwd=tmp_path,
            input="jsonencode(local.environment.dependencies)", capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        dependencies = json.loads(json.loads(result.stdout))
        assert dependencies == (requirements if env == "staging" else None), env


def test_read_group_gets_read_access_to_every_resource(variant: Variant, generated_project: Path) -> None:
    module_dir = generated_project / ML_RESOURCES
    permissions = resources_of_type(module_dir, "databricks_permissions")
    targets = {name: next(k for k in body if k.endswith("_id")) for name, body in permissions.items()}
    granted_jobs = {strip_expression(p["job_id"]) for p in permissions.values() if "job_id" in p}
    jobs = resources_of_type(module_dir, "databricks_job")
    assert granted_jobs == {f"databricks_job.{name}.id" for name in jobs}
    assert sorted(targets.values()).count("experiment_id") == 1
    # The workspace registry's model has permissions; a Unity Catalog model gets grants on its schema.
    assert ("registered_model_id" in targets.values()) is not variant.unity_catalog
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
        # What the inline checkov skips on aws_s3_bucket.terraform_state point to.
        for kind in ("aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
                     "aws_s3_bucket_public_access_block", "aws_s3_bucket_lifecycle_configuration",
                     "aws_s3_bucket_policy"):
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


# --- CI/CD credentials: outputs and docs agree ---------------------------------------------------------


def output_names(folder: Path) -> set[str]:
    return load_module(folder).outputs


# The CI/CD bootstrap outputs only the (public) client ids: federation needs no secret. The state
# bootstrap outputs nothing: it creates no key (tests/test_state_access.py).
CICD_OUTPUTS = {f"{env.upper()}_DATABRICKS_CLIENT_ID" for env in environment_names("deploy")}


def test_bootstrap_outputs_are_the_documented_secrets(variant: Variant, generated_project: Path) -> None:
    assert output_names(generated_project / ".mlops-setup-scripts/terraform") == set()
    assert output_names(generated_project / ".mlops-setup-scripts/cicd") == CICD_OUTPUTS
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert [name for name in CICD_OUTPUTS if name not in guide] == []


# Other platforms' projects have no azure-devops.tf (hooks/pruning.py's OWNERS, tests/test_pruning.py).
@pytest.mark.parametrize("variant", AZURE_DEVOPS_VARIANTS, ids=lambda v: v.id)
def test_azure_devops_variable_group_is_documented(variant: Variant, generated_project: Path) -> None:
    setup = generated_project / ".mlops-setup-scripts/cicd/azure-devops.tf"
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


def test_bootstrap_writes_flat_outputs_privately(generated_project: Path, tmp_path: Path) -> None:
    module = import_script(generated_project / ".mlops-setup-scripts/cicd/bootstrap.py")
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
    assert not hasattr(terraform, "SECRETS_FILE"), "the state bootstrap creates no credential to save"
    assert cicd.SECRETS_FILE == Path.home() / ".my-mlops-project-cicd-service-principal-secrets.json"
    guide = (generated_project / "docs/mlops-setup.md").read_text()
    assert cicd.SECRETS_FILE.name in guide and "terraform-secrets" not in guide


@pytest.mark.parametrize("folder", ["terraform", "cicd"])
def test_bootstrap_script_applies_with_the_given_arguments(generated_project: Path, tmp_path: Path, folder: str) -> None:
    """Run the script as the guide says, from another folder, with a stand-in terraform on PATH."""
    run = run_bootstrap(generated_project, tmp_path, f"{folder}/bootstrap.py", "-replace=x.y")
    module_dir = (run.scripts / folder).resolve()
    saves_outputs = folder == "cicd"  # the state bootstrap has no outputs: it creates no credential
    assert run.calls == [
        f"{module_dir} init",
        f"{module_dir} apply -replace=x.y",
        *([f"{module_dir} output -json"] if saves_outputs else []),
    ]
    written = list(run.home.glob(".my-mlops-project-*.json"))
    assert [p.name for p in written] == ([".my-mlops-project-cicd-service-principal-secrets.json"] if saves_outputs else [])
    for secrets in written:
        assert json.loads(secrets.read_text()) == {"KEY": "v"}
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


def test_supported_variants_cover_every_cloud() -> None:
    assert {v.cloud for v in SUPPORTED_VARIANTS} == set(choices("cloud"))


# --- names two projects could share ----------------------------------------------------------------

# Pairs of valid project names that must not share a name anywhere: plainly different ones; ones
# that cloud naming rules (lower case, '_' to '-') would merge; long ones that only differ past
# the cut-off of the shortest cloud name (Azure storage accounts keep 17 letters or digits).
DIFFERENT_NAMES = ("churn-forecast", "fraud_score")
MERGED_BY_CLOUD_RULES = {
    "differing in case and separator": ("Fraud_Score", "fraud-score"),
    "sharing a long prefix": ("customer-lifetime-value-model-a", "customer-lifetime-value-model-b"),
}


@pytest.fixture(scope="module")
def project_pairs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two projects with DIFFERENT_NAMES per variant, generated once for the tests below."""
    return {}


def two_projects(root: Path, variant: Variant, names: tuple[str, str]) -> tuple[Path, Path]:
    first, second = (
        generate_variant(root / str(i), variant, project_name=name, mlflow_experiment_parent_dir="/ml-projects/shared-folder")
        for i, name in enumerate(names)
    )
    return first, second


def different_projects(pairs: dict, variant: Variant, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if variant not in pairs:
        pairs[variant] = two_projects(tmp_path_factory.mktemp(f"pair-{variant.id}"), variant, DIFFERENT_NAMES)
    return pairs[variant]


def assert_share_no_terraform_name(first: Path, second: Path, only: str = "") -> None:
    """No name of ``first`` (of a kind starting with ``only``) is a name of ``second``.

    Table names compare case-insensitively, as Databricks resolves them."""
    names = [shared_names.workspace_and_cloud_names(project) for project in (first, second)]
    kinds = {kind for kind, _ in names[0]}
    assert {"job", "model", "experiment", "table"} <= kinds
    assert any(kind.startswith("state ") for kind in kinds)
    compared = [
        {name.lower() if kind == "table" else name for kind, name in found if kind.startswith(only)} for found in names
    ]
    assert compared[0] & compared[1] == set()


def test_two_projects_share_no_resource_or_state_name(
    variant: Variant, project_pairs: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Jobs, experiments (even in one parent folder), models, prediction tables, secret scopes,
    service principals and state storage of two projects in one workspace and account differ."""
    assert_share_no_terraform_name(*different_projects(project_pairs, variant, tmp_path_factory))


@pytest.mark.parametrize("pair", list(MERGED_BY_CLOUD_RULES))
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_state_storage_names_cloud_rules_would_merge_stay_apart(tmp_path: Path, cloud: str, pair: str) -> None:
    """Bucket, storage account and service account names get the project name's digest where
    lower-casing, '_' to '-' or truncation would give two projects the same name."""
    variant = Variant(cloud, "GitHub Actions", "yes")
    assert_share_no_terraform_name(*two_projects(tmp_path, variant, MERGED_BY_CLOUD_RULES[pair]), only="state ")


@pytest.mark.parametrize("variant", FEATURE_STORE_VARIANTS, ids=lambda v: v.id)
def test_two_projects_share_no_feature_table(
    variant: Variant, project_pairs: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Feature tables and their schema, as the ML code names them (the prediction tables are
    Terraform's and compared above)."""
    first, second = different_projects(project_pairs, variant, tmp_path_factory)
    tables = [shared_names.ml_table_names(project) for project in (first, second)]
    assert tables[0] and {name.lower() for _, name in tables[0]} & {name.lower() for _, name in tables[1]} == set()
    schemas = [{name.rsplit(".", 1)[0] for kind, name in t if kind == "feature table"} for t in tables]
    assert schemas[0] and schemas[0] & schemas[1] == set(), "feature tables of two projects share a schema"


# --- identifiers built from answers ----------------------------------------------------------------

# What Terraform accepts as a block label that names something (output, variable, resource, module)
# or as a local value: a letter or underscore, then letters, digits, underscores and dashes.
TERRAFORM_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def declared_identifiers(folder: Path) -> set[str]:
    module = load_module(folder)
    return (
        set(module.variables) | set(module.locals) | module.outputs | set(module.module_calls)
        | {name for _, name in module.resources | module.data}
    )


@pytest.mark.parametrize(
    "project_name",
    ["abc", "A1b-", "Mixed_Case-Name9", "x_-_yz", "z" + "-9" * 19 + "9", "Abc__"],
)
def test_identifiers_built_from_the_project_name_are_valid(tmp_path: Path, project_name: str) -> None:
    """Output names carry the project name (a contract point); every name the validation
    accepts (they start with a letter) must still make a valid Terraform identifier."""
    # aws + GitHub Actions + Recipes, or what a specialised fork offers.
    variant = next((v for v in RECIPE_VARIANTS if (v.cloud, v.cicd_platform) == ("aws", "GitHub Actions")),
                   SUPPORTED_VARIANTS[0])
    answers = {**answers_for(variant), "project_name": project_name}
    assert validation.find_problems({**answers, "default_branch": "main", "release_branch": "release"}, "2.7.1") == []
    project = generate(tmp_path, answers)
    folders = [f for tree in TERRAFORM_TREES for f in module_folders(project / tree)]
    invalid = {
        f"{folder.relative_to(project)}: {name}"
        for folder in folders for name in declared_identifiers(folder) if not TERRAFORM_IDENTIFIER.fullmatch(name)
    }
    assert invalid == set()
    assert f"{project_name}_model_name" in load_module(project / "databricks-config/staging").outputs
