"""Values derived from the answers, computed where the template uses them.

Cookiecutter stores its private ``__`` variables in replay files and in cruft's
``.cruft.json`` as they were rendered the first time, so an edited replay (a new
``project_name`` or ``cloud``) would keep the old model name or node type. The template
therefore never stores a derived value: every file asks ``derived_value(answers, name)``
through the ``derived`` Jinja filter, so what is generated always follows the answers it
is generated from.

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlparse

from .environments import ENVIRONMENTS, catalog_defaults, names

# Job cluster node types: a general-purpose type with local NVMe/SSD disk on each cloud,
# comparable in size (4 vCPUs; see the reference's node types).
NODE_TYPE_IDS = {"azure": "Standard_D4ds_v5", "aws": "i3.xlarge", "gcp": "n2-highmem-4"}
# The compute of the project's jobs, per ML code. Classic job clusters run the LTS ML runtime
# whose Spark and MLflow fit the code; serverless jobs (Unity Catalog projects only) run a
# pinned serverless environment version. tests/test_runtime.py holds the table with Python,
# Spark and key packages of each, their sources, and checks that requirements, Terraform and
# the project's test Python agree with it.
CLASSIC_SPARK_VERSIONS = {
    "mlflow_recipes": "16.4.x-cpu-ml-scala2.12",  # Spark 3.5: MLflow 2.22 (Recipes) needs Spark 3
    "mlflow3": "17.3.x-cpu-ml-scala2.13",  # Spark 4.0
    "feature_store": "17.3.x-cpu-ml-scala2.13",
}
SERVERLESS_ENVIRONMENT_VERSION = "4"  # Python 3.12, Databricks Connect 17.3 (Spark 4.0)
# The keys the original template (and the Azure DevOps Terraform provider) uses for a platform.
CICD_PLATFORM_KEYS = {"GitHub Actions": "gitHub", "Azure DevOps": "azureDevOpsServices", "GitLab": "gitLab"}
# Account console of each cloud's Databricks accounts: account-level APIs such as service
# principal federation policies live there (Databricks account API docs).
ACCOUNT_HOSTS = {
    "aws": "https://accounts.cloud.databricks.com",
    "azure": "https://accounts.azuredatabricks.net",
    "gcp": "https://accounts.gcp.databricks.com",
}


def host_of(url: str) -> str:
    """``scheme://hostname`` of a URL, dropping path, query, fragment and port.

    Users often paste a URL from their browser, such as
    ``https://adb-1.2.azuredatabricks.net/?o=123#job/1/run/2``. A value that is not a
    URL at all is returned unchanged, for the validation rules to report.
    """
    try:
        parsed = urlparse(url.strip())
        return f"{parsed.scheme}://{parsed.hostname or ''}"
    except ValueError:
        return url


def strip_trailing_slash(path: str) -> str:
    """'/a/b/' -> '/a/b'. The bare root is kept so that validation can reject it."""
    return path.rstrip("/") or path


def default_include_mlflow_recipes(answers: Mapping[str, str]) -> str:
    """The default answer to ``include_mlflow_recipes``: ``yes`` only where Recipes code can exist.

    MLflow Recipes (removed in MLflow 3) stays the default of the projects it always
    generated: those without the feature store and without Unity Catalog (Recipes cannot
    register to Unity Catalog). A context from before the Unity Catalog prompt has no answer
    to it: ``no``.
    """
    without_uc = answers.get("include_models_in_unity_catalog", "no") == "no"
    return "yes" if answers["include_feature_store"] == "no" and without_uc else "no"


# Unity Catalog names a project uses: private values of cookiecutter.json (``_uc_*``, which a
# ``--config-file`` can override). A context from before they existed gets these defaults; an
# empty ``_uc_schema`` means "derived from the project name" (uc_schema below).
# The catalog of each environment defaults to its name (hooks/environments.py).
UC_DEFAULTS = {
    **catalog_defaults(),
    "_uc_schema": "",
    "_uc_read_group": "account users",
}


# The private answers (keys starting with "_") that a project keeps through cruft's diff and update
# like its prompted answers (local_extensions.carry_private_answers); other private keys, such as
# the template's release, follow the template.
PRIVATE_ANSWERS = tuple(UC_DEFAULTS)


def uc_setting(answers: Mapping[str, str], key: str) -> str:
    """The private Unity Catalog value ``key`` (a key of ``UC_DEFAULTS``) of the answers."""
    return answers.get(key) or UC_DEFAULTS[key]


def environments(answers: Mapping[str, Any], role: Optional[str] = None) -> list[dict[str, Any]]:
    """The environments of ``role`` (``dev``, ``ci`` or ``deploy``; None: all) of
    ``hooks/environments.py``, in table order, with their values for ``answers``, as plain dicts
    for Jinja: ``name``, ``role``, ``host`` (the workspace URL reduced by ``host_of``, or None),
    ``branch`` (the answer its jobs check out, or None), ``branch_answer`` (that answer's name),
    ``protected``, ``reviewers`` (the prefix of its reviewer variables, ``Environment.reviewer_variables``),
    ``catalog`` (its Unity Catalog catalog), ``catalog_key`` (the ``_uc_*_catalog`` answer naming it) and ``state_key``
    (its Terraform state key). Raises ``ValueError`` for an unknown role."""
    return [
        {
            "name": env.name,
            "role": env.role,
            "host": host_of(answers[env.host_answer]) if env.host_answer else None,
            "branch": answers[env.branch_answer] if env.branch_answer else None,
            "branch_answer": env.branch_answer,
            "protected": env.protected,
            "reviewers": env.reviewer_variables,
            "catalog": uc_setting(answers, env.catalog_key),
            "catalog_key": env.catalog_key,
            "state_key": env.state_key,
        }
        for env in ENVIRONMENTS
        if env.name in names(role)
    ]


def uc_schema(answers: Mapping[str, str]) -> str:
    """The project's schema in every catalog: ``_uc_schema``, else the project name in lower
    case with ``-`` replaced by ``_`` (Unity Catalog stores names in lower case; ``_`` needs no
    quoting in SQL)."""
    return answers.get("_uc_schema") or answers["project_name"].replace("-", "_").lower()


def ml_code(answers: Mapping[str, str]) -> str:
    """Which ML code the project holds: ``mlflow_recipes``, ``feature_store`` or ``mlflow3``.

    A project generated before ``include_mlflow_recipes`` existed (a replay, cruft's
    ``.cruft.json``) has no answer to it and gets that answer's default.
    """
    if answers["include_feature_store"] == "yes":
        return "feature_store"
    recipes = answers.get("include_mlflow_recipes") or default_include_mlflow_recipes(answers)
    return "mlflow_recipes" if recipes == "yes" else "mlflow3"


_DERIVATIONS: dict[str, Callable[[Mapping[str, str]], str]] = {
    "project_name_alphanumeric": lambda a: re.sub(r"[^A-Za-z0-9]", "", a["project_name"]),
    # Six hex digits that tell apart projects whose names a cloud's naming rules would merge
    # ("My_Project" and "my-project" both become "my-project"; long names get truncated).
    "project_name_digest": lambda a: hashlib.sha256(a["project_name"].encode()).hexdigest()[:6],
    "model_name": lambda a: f"{a['project_name']}-model",
    "experiment_base_name": lambda a: f"{a['project_name']}-experiment",
    "node_type_id": lambda a: NODE_TYPE_IDS[a["cloud"]],
    "classic_spark_version": lambda a: CLASSIC_SPARK_VERSIONS[ml_code(a)],
    "serverless_environment_version": lambda a: SERVERLESS_ENVIRONMENT_VERSION,
    # Serverless compute requires Unity Catalog: only Unity Catalog projects default to it.
    "default_job_compute": lambda a: "serverless" if a.get("include_models_in_unity_catalog", "no") == "yes" else "classic",
    "cicd_platform_key": lambda a: CICD_PLATFORM_KEYS[a["cicd_platform"]],
    "mlflow_experiment_parent_dir": lambda a: strip_trailing_slash(a["mlflow_experiment_parent_dir"]),
    "staging_host": lambda a: host_of(a["databricks_staging_workspace_host"]),
    "prod_host": lambda a: host_of(a["databricks_prod_workspace_host"]),
    "default_include_mlflow_recipes": default_include_mlflow_recipes,
    "ml_code": ml_code,
    # MLflow major version of the ML code: 2 only for the MLflow Recipes track (Recipes were
    # removed in MLflow 3). MLflow 3 code deploys with registry aliases, MLflow 2 with stages.
    "mlflow_major_version": lambda a: "2" if ml_code(a) == "mlflow_recipes" else "3",
    # The ML developer guide of the project's ML code, a file name under docs/.
    "ml_developer_guide": lambda a: {
        "mlflow_recipes": "ml-developer-guide.md",
        "feature_store": "ml-developer-guide-fs.md",
        "mlflow3": "ml-developer-guide-mlflow3.md",
    }[ml_code(a)],
    # Database (schema) of the feature tables: named after the project, so that two projects
    # in one workspace never write each other's tables. Hive lower-cases it anyway.
    "feature_store_database": lambda a: re.sub(r"[^A-Za-z0-9]", "", a["project_name"]).lower() + "_features",
    "account_host": lambda a: ACCOUNT_HOSTS[a["cloud"]],
    # Unity Catalog (include_models_in_unity_catalog=yes): catalogs per environment, the
    # project's schema, the model's last name part, and the account group that reads them.
    # uc_<env>_catalog for every environment, added below. Dev runs (a data scientist's notebooks
    # and jobs in the development workspace) get a catalog of their own: in staging's they would
    # overwrite staging's predictions, and data scientists cannot create models there. Terraform
    # does not manage it (docs/mlops-setup.md).
    "uc_schema": uc_schema,
    "uc_model_name": lambda a: a["project_name"].replace("-", "_").lower() + "_model",
    "uc_read_group": lambda a: uc_setting(a, "_uc_read_group"),
}
_DERIVATIONS.update(
    {f"uc_{env.name}_catalog": functools.partial(uc_setting, key=env.catalog_key) for env in ENVIRONMENTS}
)


def service_principal_group(answers: Mapping[str, str], environment: str) -> str:
    """Name of the account group of one deploy environment's CI/CD service principal.

    One group per environment, assigned only to that environment's workspace: staging's
    principal runs pull-request code, so it must share no group (and no grant) with prod's.
    """
    return f"{answers['project_name']}-{environment}-service-principals"


# <env>_service_principal_group for every deploy environment.
_DERIVATIONS.update(
    {
        f"{env.name}_service_principal_group": functools.partial(service_principal_group, environment=env.name)
        for env in ENVIRONMENTS
        if env.role == "deploy"
    }
)
DERIVED_NAMES = tuple(_DERIVATIONS)


def derived_value(answers: Mapping[str, str], name: str) -> str:
    """The value ``name`` (one of ``DERIVED_NAMES``) computed from the prompt answers.

    Raises ``KeyError`` naming the unknown value, so a typo in a template fails loudly
    instead of rendering an empty string.
    """
    try:
        derive = _DERIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown derived value {name!r}; known: {', '.join(DERIVED_NAMES)}") from None
    return derive(answers)
