"""Integration test: train, validate and batch-score with this commit's notebooks on staging, and wait.

CI runs it after the unit tests pass, from the project root:

    python <this script> --git-url <repository URL> --git-commit <commit SHA> [--run-url-output FILE] [--ci-run-id ID]

It submits one multi-task run whose notebooks Databricks checks out from the repository
at that commit (``git_source``), so the workspace needs no copy of the code. The client
signs in from the environment like every Databricks tool: in CI with workload identity
federation (DATABRICKS_HOST, DATABRICKS_AUTH_TYPE, DATABRICKS_CLIENT_ID; the SDK exchanges
the job's OIDC token for a Databricks token), or any other login the SDK supports. The exit code is 0 only when every task succeeded; the run page link is
printed as soon as the run exists, and appended as ``run_url=<link>`` to the
``--run-url-output`` file (the format of GitHub Actions step outputs).

Batch inference scores only trips its output table does not hold yet, and the test data is
fixed: so each CI run scores into a table of its own (``predictions_table``, named after the
CI run), BatchInference (``env=test``) fails when it scored no row and drops that table at
the end, even when it fails.
{%- if cookiecutter.include_feature_store == "yes" %}

So are the feature tables: the run's feature tasks write tables of its own, named after the CI
run (``ci_run_id``, through the project's one naming rule, ``features/feature_tables.py``), which
its Train, ModelValidation and BatchInference tasks read; its last task, DropFeatureTables, runs
whatever the others' outcome (``run_if: ALL_DONE``) and drops them. Concurrent pull requests,
and a pull request next to the staging job, never overwrite the features another run uses.
{%- endif %}
"""

from __future__ import annotations

import argparse
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
import json
{%- endif %}
import os
import re
import sys
from datetime import timedelta
{%- if cookiecutter.include_feature_store == "yes" or cookiecutter.include_models_in_unity_catalog == "yes" %}
from pathlib import Path
{%- endif %}
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit, urlunsplit

from databricks.sdk import WorkspaceClient
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
from databricks.sdk.errors import NotFound, ResourceConflict
{%- endif %}
from databricks.sdk.service import jobs

PROJECT = "{{ cookiecutter.project_name }}"
RUN_NAME = f"{PROJECT} integration test"
GIT_PROVIDER = "{{ cookiecutter | derived("cicd_platform_key") }}"
READ_USER_GROUP = "{{ cookiecutter.read_user_group }}"
TAXI_TRIPS = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
# The trips validation and batch inference read (the same table training reads).
TAXI_TRIPS_TABLE = f"delta.`dbfs:{TAXI_TRIPS}`"
{%- set platform = cookiecutter | derived("cicd_platform_key") %}
# The variables by which the CI platform identifies this CI run (and its attempt): they name the
# run's own predictions {{ "and feature tables" if cookiecutter.include_feature_store == "yes" else "table" }}. Outside CI the {{ "names end in " if cookiecutter.include_feature_store == "yes" else "table is ..." }}_manual.
{%- if platform == "gitHub" %}
CI_RUN_ID_VARIABLES = ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT")
{%- elif platform == "azureDevOpsServices" %}
CI_RUN_ID_VARIABLES = ("BUILD_BUILDID", "SYSTEM_JOBATTEMPT")
{%- else %}
CI_RUN_ID_VARIABLES = ("CI_JOB_ID",)
{%- endif %}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# Each CI run's predictions table: in the test catalog's project schema (databricks-config/unity-catalog.json).
PREDICTIONS_TABLE_PREFIX = "integration_test_predictions_"
{%- else %}
# Each CI run's predictions table, in the default database.
PREDICTIONS_TABLE_PREFIX = "{{ cookiecutter | derived("project_name_alphanumeric") }}_integration_test_predictions_"
{%- endif %}
# Databricks fills in the model version the Train task registered (a dynamic value reference).
TRAINED_MODEL_URI = "{% raw %}{{tasks.Train.values.model_uri}}{% endraw %}"
# Databricks cancels the run after this; CI waits a little longer for the final state.
RUN_TIMEOUT = timedelta(minutes=50)
WAIT_TIMEOUT = RUN_TIMEOUT + timedelta(minutes=10)

{%- if cookiecutter.include_feature_store == "yes" or cookiecutter.include_models_in_unity_catalog == "yes" %}
PROJECT_ROOT = Path(__file__).resolve().parents[3]  # <ci folder>/<subfolder>/scripts/<this>
{%- endif %}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# The compute of the tasks, as the Terraform jobs use it (databricks-config: job_compute):
# "serverless" runs every task in one serverless environment: a pinned environment version
# with the project's requirements.txt as its dependencies, which replaces a notebook's own
# environment because each task names it (Jobs API 2.2, "environments"). "classic" runs each
# task on a single-node job cluster, for workspaces without serverless compute.
COMPUTE = "serverless"
ENVIRONMENT_KEY = "project"
ENVIRONMENT_VERSION = "{{ cookiecutter | derived("serverless_environment_version") }}"
# The Unity Catalog names the notebooks use (the test catalog, the project's schema).
UNITY_CATALOG_SETTINGS = PROJECT_ROOT / "databricks-config" / "unity-catalog.json"
{%- endif %}

{%- import "compute_policy.jinja" as compute_policy with context %}

# The cluster policy and cost tags of the company, as every Terraform job cluster uses them (None: no policy).
CLUSTER_POLICY_ID: Optional[str] = {{ compute_policy.python(compute_policy.cluster_policy_id) }}
COST_TAGS: dict[str, str] = {{ compute_policy.python(compute_policy.cost_tags) }}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# The serverless budget policy of the run on serverless compute, as the Terraform jobs use it (None: none).
BUDGET_POLICY_ID: Optional[str] = {{ compute_policy.python(compute_policy.budget_policy_id) }}
{%- endif %}

# A single-node cluster of the LTS ML runtime the Terraform jobs' clusters use is enough for the test data.
CLUSTER: dict[str, Any] = {
    "spark_version": "{{ cookiecutter | derived("classic_spark_version") }}",
    "node_type_id": "{{ cookiecutter | derived("node_type_id") }}",
    "num_workers": 0,
    "spark_conf": {
        "spark.databricks.cluster.profile": "singleNode",
        "spark.master": "local[*, 4]",
    },
    "custom_tags": {**COST_TAGS, "ResourceClass": "SingleNode", "project": PROJECT, "environment": "test"},
}


def new_cluster() -> dict[str, Any]:
    """The test cluster of a task, under the company's cluster policy when there is one."""
    return {**CLUSTER, "policy_id": CLUSTER_POLICY_ID} if CLUSTER_POLICY_ID else dict(CLUSTER)


def notebook_task(
{%- if cookiecutter.include_feature_store == "yes" %}
    task_key: str,
    notebook: str,
    parameters: dict[str, str],
    depends_on: tuple[str, ...] = (),
    run_if: Optional[str] = None,
{%- else %}
    task_key: str, notebook: str, parameters: dict[str, str], depends_on: tuple[str, ...] = ()
{%- endif %}
) -> dict[str, Any]:
    """A task running ``notebook`` (path from the repository root, without .py) on the test compute{% if cookiecutter.include_feature_store == "yes" %}
    (after ``depends_on`` when they all succeeded, or as ``run_if``, a Jobs API condition, says){% endif %}."""
    task: dict[str, Any] = {
        "task_key": task_key,
        "notebook_task": {"notebook_path": notebook, "base_parameters": parameters, "source": "GIT"},
    }
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    if COMPUTE == "serverless":
        task["environment_key"] = ENVIRONMENT_KEY
    else:
        task["new_cluster"] = new_cluster()
{%- else %}
    task["new_cluster"] = new_cluster()
{%- endif %}
    if depends_on:
        task["depends_on"] = [{"task_key": key} for key in depends_on]
{%- if cookiecutter.include_feature_store == "yes" %}
    if run_if:
        task["run_if"] = run_if
{%- endif %}
    return task


{% if cookiecutter.include_models_in_unity_catalog == "yes" -%}
def project_requirements(project_root: Path = PROJECT_ROOT) -> list[str]:
    """The pip requirements of ``requirements.txt`` in ``project_root``, without comments and blank lines.

    The serverless environment installs them before any task starts, as the Terraform jobs'
    environment does (databricks-config/modules/ml-resources/locals.tf reads the same file).
    """
    lines = (line.split("#", 1)[0].strip() for line in (project_root / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


def environments() -> list[dict[str, Any]]:
    """The run's serverless environment (``[]`` on classic compute)."""
    if COMPUTE != "serverless":
        return []
    spec = {"environment_version": ENVIRONMENT_VERSION, "dependencies": project_requirements()}
    return [{"environment_key": ENVIRONMENT_KEY, "spec": spec}]


{% endif -%}
def ci_run_id(environ: Mapping[str, str] = os.environ) -> str:
    """This CI run's id: the values of ``CI_RUN_ID_VARIABLES`` in ``environ`` joined by '_' ("manual" when unset)."""
    return "_".join(environ[name] for name in CI_RUN_ID_VARIABLES if environ.get(name)) or "manual"


def predictions_table(run_id: str) -> str:
    """The table BatchInference scores into in CI run ``run_id`` (any text; other characters than
    letters, digits and '_' become '_').

    One table per CI run: into a fixed one, every run after the first would find the fixed test
    trips scored already and score nothing. BatchInference (``env=test``) drops it at the end.
    """
    name = PREDICTIONS_TABLE_PREFIX + re.sub(r"[^a-z0-9_]", "_", run_id.lower())
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    settings = json.loads(UNITY_CATALOG_SETTINGS.read_text())
    return f"{settings['catalogs']['test']}.{settings['schema']}.{name}"
{%- else %}
    return name
{%- endif %}


def validate_and_score(run_id: str) -> list[dict[str, Any]]:
    """Validate the trained version (``enabled``: a failing model fails the test), then batch-score
    with it into CI run ``run_id``'s own table (``predictions_table``){% if cookiecutter.include_feature_store == "yes" %},
    both on the run's own feature tables{% endif %}."""
    validation = notebook_task(
        "ModelValidation",
        "notebooks/ModelValidation",
{%- if cookiecutter.include_feature_store == "yes" %}
        {
            "env": "test",
            "run_mode": "enabled",
            "validation_input": f"SELECT * FROM {TAXI_TRIPS_TABLE}",
            "ci_run_id": run_id,
        },
{%- else %}
        {"env": "test", "run_mode": "enabled", "validation_input": f"SELECT * FROM {TAXI_TRIPS_TABLE}"},
{%- endif %}
        depends_on=("Train",),
    )
    inference = notebook_task(
        "BatchInference",
        "notebooks/BatchInference",
        {
            "env": "test",
            "model_uri": TRAINED_MODEL_URI,
            "input_table_name": TAXI_TRIPS_TABLE,
            "output_table_name": predictions_table(run_id),
{%- if cookiecutter.include_feature_store == "yes" %}
            "ci_run_id": run_id,
{%- endif %}
        },
        depends_on=("ModelValidation",),
    )
    return [validation, inference]


{% if cookiecutter.include_feature_store == "yes" -%}
def feature_tables() -> tuple[Any, ...]:
    """The project's feature tables (features/feature_tables.py: the one list, read at run time)."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from features.feature_tables import FEATURE_TABLES

    return FEATURE_TABLES


def run_feature_tables(run_id: str) -> list[str]:
    """The feature tables of CI run ``run_id``, as its notebooks name them (``FeatureTable.name``
    with ``env=test`` and the run id: the project's one naming rule)."""
    return [table.name("test", run_id) for table in feature_tables()]


{% endif -%}
def tasks(run_id: str) -> list[dict[str, Any]]:
{%- if cookiecutter.include_feature_store == "yes" %}
    """Write CI run ``run_id``'s feature tables, train on them into the test experiment and model,
    validate, score, and drop the tables whatever happened.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

    ``env=test`` makes the notebooks use the test catalog (the staging jobs' tables are never
    touched) and ``ci_run_id`` the feature tables of this CI run (``run_feature_tables``).
{%- else %}

    ``env=test`` keeps the notebooks off the staging jobs' tables and ``ci_run_id`` gives this
    CI run feature tables of its own (``run_feature_tables``).
{%- endif %}

    The cleanup task runs after every other task, also when one failed, was skipped or was
    cancelled (``ALL_DONE``). Databricks judges a run by its leaf tasks, here the cleanup alone
    (a failed Train under a successful cleanup is ``SUCCESS_WITH_FAILURES``), so the test's
    verdict comes from every task's result (``failed_tasks``), never the run's.
    """
    features = [
        notebook_task(
            table.job_task_key,
            "notebooks/GenerateAndWriteFeatures",
            {
                "env": "test",
                "input_table_path": TAXI_TRIPS,
                "input_start_date": "",
                "input_end_date": "",
                "features_transform_module": table.module,
                "ci_run_id": run_id,
            },
        )
        for table in feature_tables()
    ]
    train = notebook_task(
        "Train",
        "notebooks/TrainWithFeatureStore",
        {
            "env": "test",
            "training_data_path": TAXI_TRIPS,
            "experiment_name": "{{ cookiecutter | derived("mlflow_experiment_parent_dir") }}/{{ cookiecutter | derived("experiment_base_name") }}-test",
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
            # Empty: the test catalog's model (steps/utils.py, from databricks-config/unity-catalog.json).
            "model_name": "",
{%- else %}
            "model_name": "{{ cookiecutter | derived("model_name") }}-test",
{%- endif %}
            "ci_run_id": run_id,
        },
        depends_on=tuple(task["task_key"] for task in features),
    )
    work = [*features, train, *validate_and_score(run_id)]
    cleanup = notebook_task(
        "DropFeatureTables",
        "notebooks/DropCiFeatureTables",
        {"env": "test", "ci_run_id": run_id},
        depends_on=tuple(task["task_key"] for task in work),
        run_if="ALL_DONE",
    )
    return [*work, cleanup]
{%- else %}
    """Train {{ "with the MLflow recipe" if cookiecutter | derived("ml_code") == "mlflow_recipes" else "with fare_model.training" }} in test mode (the test experiment and model, not staging's), validate, score."""
    train = notebook_task("Train", "notebooks/Train", {"env": {{ (cookiecutter | environment_names("deploy"))[0] | tojson }}, "test_mode": "True"})
    return [train, *validate_and_score(run_id)]
{%- endif %}


{% if cookiecutter.include_models_in_unity_catalog == "yes" -%}
def ensure_test_schema(client: WorkspaceClient, settings_path: Path = UNITY_CATALOG_SETTINGS) -> str:
    """Create the project's schema in the test catalog unless it exists; return ``catalog.schema``.

    The schema belongs to this test, not to Terraform (databricks-config creates the staging and
    prod schemas only): the first run creates it, as the staging service principal, which then
    owns it, so the test passes before the first ``terraform apply`` (docs/mlops-setup.md,
    step 5). It needs ``USE CATALOG`` and ``CREATE SCHEMA`` on the test catalog, an admin's grant.
    Raises the SDK's error, with the names and the grant to check, when the schema cannot be made.
    """
    settings = json.loads(settings_path.read_text())
    catalog, schema = settings["catalogs"]["test"], settings["schema"]
    full_name = f"{catalog}.{schema}"
    try:
        client.schemas.get(full_name)
    except NotFound:
        try:
            client.schemas.create(name=schema, catalog_name=catalog, comment="Schema of the integration test.")
            print(f"Created the schema {full_name} for the integration test.", flush=True)
        except ResourceConflict:  # another run created it meanwhile
            client.schemas.get(full_name)
        except NotFound as error:
            raise RuntimeError(
                f"Cannot create {full_name}: the catalog {catalog} must exist and the staging service principal "
                "needs USE CATALOG and CREATE SCHEMA on it (docs/mlops-setup.md, Unity Catalog: before the first apply)"
            ) from error
    return full_name


def on_dedicated_clusters(request: dict[str, Any], user_name: str) -> dict[str, Any]:
    """``request`` with every task's cluster dedicated to ``user_name`` (the submitting principal).

    Unity Catalog is reachable only from clusters in a Unity Catalog access mode; the ML
    runtime needs the dedicated (single user) one, as the Terraform jobs' clusters use.
    Serverless tasks have no cluster and are returned unchanged.
    """
    dedicated = {"data_security_mode": "SINGLE_USER", "single_user_name": user_name}
    tasks = [
        {**task, "new_cluster": {**task["new_cluster"], **dedicated}} if "new_cluster" in task else task
        for task in request["tasks"]
    ]
    return {**request, "tasks": tasks}


{% endif -%}
def without_credentials(url: str) -> str:
    """The repository URL without a user name (Azure DevOps puts ``<org>@`` in front of the host)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or parts.netloc))


def submit_request(git_url: str, git_commit: str, run_id: Optional[str] = None) -> dict[str, Any]:
    """Body of the Jobs API ``runs/submit`` request for the integration test of ``git_commit`` in
    CI run ``run_id`` (default: ``ci_run_id()``)."""
    return {
        "run_name": RUN_NAME,
        "tasks": tasks(run_id or ci_run_id()),
        "git_source": {"git_url": without_credentials(git_url), "git_provider": GIT_PROVIDER, "git_commit": git_commit},
        "access_control_list": [{"group_name": READ_USER_GROUP, "permission_level": "CAN_VIEW"}],
        "timeout_seconds": int(RUN_TIMEOUT.total_seconds()),
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
        "environments": environments(),
        # The SDK leaves an unset field out of the body: so does this request.
        **({"budget_policy_id": BUDGET_POLICY_ID} if COMPUTE == "serverless" and BUDGET_POLICY_ID else {}),
{%- endif %}
    }


def run_and_wait(client: WorkspaceClient, request: dict[str, Any], on_started: Callable[[str], None]) -> jobs.Run:
    """Submit ``request`` through the SDK's typed API, report the run page, and wait for the end."""
    waiter = client.jobs.submit(
        run_name=request["run_name"],
        tasks=[jobs.SubmitTask.from_dict(task) for task in request["tasks"]],
        git_source=jobs.GitSource.from_dict(request["git_source"]),
        access_control_list=[jobs.JobAccessControlRequest.from_dict(entry) for entry in request["access_control_list"]],
        timeout_seconds=request["timeout_seconds"],
        environments=[jobs.JobEnvironment.from_dict(spec) for spec in request.get("environments", [])] or None,
        budget_policy_id=request.get("budget_policy_id"),
    )
    on_started(client.jobs.get_run(waiter.run_id).run_page_url or f"run {waiter.run_id}")
    return waiter.result(timeout=WAIT_TIMEOUT)


def failed_tasks(run: jobs.Run) -> list[str]:
    """``task_key: state`` of every task that did not succeed (all of them when the run has no task list)."""
    outcome = [(task.task_key, task.state) for task in run.tasks or []] or [("run", run.state)]
    return [
        f"{key}: {state.result_state.value if state and state.result_state else 'no result'}"
        f"{' (' + state.state_message + ')' if state and state.state_message else ''}"
        for key, state in outcome
        if not (state and state.result_state == jobs.RunResultState.SUCCESS)
    ]


def main(argv: Optional[list[str]] = None, client: Optional[WorkspaceClient] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-url", required=True, help="HTTPS URL of this repository")
    parser.add_argument("--git-commit", required=True, help="commit whose notebooks are tested")
    parser.add_argument("--run-url-output", help="file to append 'run_url=<run page link>' to")
    default = " and ".join(CI_RUN_ID_VARIABLES)
    parser.add_argument("--ci-run-id", help=f"id naming the run's {{ "predictions and feature tables" if cookiecutter.include_feature_store == "yes" else "predictions table" }} (default: {default})")
    args = parser.parse_args(argv)

    def report(url: str) -> None:
        print(f"Integration test run: {url}", flush=True)
        if args.run_url_output:
            with open(args.run_url_output, "a") as output:
                output.write(f"run_url={url}\n")

    client = client or WorkspaceClient()
    run_id = args.ci_run_id or ci_run_id()
    request = submit_request(args.git_url, args.git_commit, run_id)
    print(f"Batch inference scores into {predictions_table(run_id)}, dropped at the end.", flush=True)
{%- if cookiecutter.include_feature_store == "yes" %}
    print(f"Feature tables of this run: {', '.join(run_feature_tables(run_id))}, dropped at the end.", flush=True)
{%- endif %}
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    ensure_test_schema(client)
    if COMPUTE == "classic":
        request = on_dedicated_clusters(request, client.current_user.me().user_name)
{%- endif %}
    run = run_and_wait(client, request, report)
    failures = failed_tasks(run)
    for failure in failures:
        print(f"Failed: {failure}", file=sys.stderr)
    print("Integration test passed." if not failures else "Integration test failed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
