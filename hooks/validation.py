"""Rules that the answers to the template's prompts must follow.

Each rule is a small pure function that takes the answer(s) it judges and returns
``None`` when they are fine, or a message that names the parameter, quotes the
rejected value and shows a valid example. ``RULES`` lists the refusals (a broken or
dangerous project) and ``WARNINGS`` the answers that are legal but probably a mistake,
each with the prompts it reads. ``find_problems`` runs every rule over a cookiecutter
context; the checks in ``local_extensions.py`` (at prompt time and before the project
folder exists) and the pre-generation hook all call it, so the rules live in exactly
one place. ``find_warnings`` feeds the one summary the post-generation hook prints.

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Optional
from urllib.parse import urlparse

from .environments import ENVIRONMENTS, ROLES, catalog_defaults
from .fixed_answers import check_fixed_answers, fixed_answers, with_fixed_answers
from .pruning import TEST_PROJECT_NAME
from .variants import unsupported_match

MIN_COOKIECUTTER_VERSION = (2, 6, 0)

Problem = Optional[str]

_FORBIDDEN_PROJECT_NAME_CHARACTERS = {" ": "a space", "/": "'/'", "\\": "'\\'", ".": "'.'"}
# Longest name for which every derived cloud resource name (e.g. the S3 bucket
# "<name>-cicd-setup-tfstate", at most 63 characters) stays within its cloud's limit.
MAX_PROJECT_NAME_LENGTH = 40
_PROJECT_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_PARENT_DIR_CHARACTERS = re.compile(r"[A-Za-z0-9_.@+/-]+")
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_BRANCH_CHARACTERS = re.compile(r"[A-Za-z0-9._/-]+")
_GROUP_FORBIDDEN = re.compile(r'["\\$%{}\n\r\t]')


def _parse_version(version: str) -> tuple[int, ...]:
    """Read the leading numeric parts of a version string (``2.1.1.dev0`` -> (2, 1, 1))."""
    parts = []
    for piece in version.split(".")[:3]:
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def check_cookiecutter_version(installed: str) -> Problem:
    """The template uses ``__prompts__`` and private rendered variables of cookiecutter 2.6+."""
    if _parse_version(installed) >= MIN_COOKIECUTTER_VERSION:
        return None
    wanted = ".".join(map(str, MIN_COOKIECUTTER_VERSION))
    return (
        f"cookiecutter {installed} is too old for this template: it needs cookiecutter>={wanted}. "
        f"Upgrade with: pip install 'cookiecutter>={wanted}'"
    )


def check_project_name_forbidden_characters(project_name: str) -> Problem:
    """Spaces, slashes and dots would split or break folder, job and model names."""
    found = [label for char, label in _FORBIDDEN_PROJECT_NAME_CHARACTERS.items() if char in project_name]
    if not found:
        return None
    return (
        f"project_name '{project_name}' contains {', '.join(found)}, which is not allowed. "
        "Use letters, digits, '-' and '_', for example 'my-mlops-project'."
    )


def check_project_name_characters(project_name: str) -> Problem:
    """Only letters, digits, '-' and '_' are safe in Terraform, YAML, cloud and MLflow names.

    Characters that ``check_project_name_forbidden_characters`` already reports are left to it.
    """
    bad = sorted(
        {c for c in project_name if not _PROJECT_NAME_CHARACTERS.fullmatch(c)}
        - set(_FORBIDDEN_PROJECT_NAME_CHARACTERS)
    )
    if not bad:
        return None
    return (
        f"project_name '{project_name}' contains {', '.join(map(repr, bad))}; only ASCII letters (a-z, A-Z), "
        "digits, '-' and '_' are allowed, for example 'my-mlops-project'."
    )


def check_project_name_alphanumeric_length(project_name: str) -> Problem:
    """Storage-account style names keep only the alphanumeric characters: at least 3 are needed."""
    alphanumeric = re.sub(r"[^A-Za-z0-9]", "", project_name)
    if len(alphanumeric) >= 3:
        return None
    return (
        f"project_name '{project_name}' has {len(alphanumeric)} alphanumeric character(s); at least 3 are "
        "needed because cloud storage names keep only letters and digits. Example: 'my-mlops-project'."
    )


def check_project_name_length(project_name: str) -> Problem:
    """Derived bucket and storage names must stay within cloud length limits."""
    if len(project_name) <= MAX_PROJECT_NAME_LENGTH:
        return None
    return (
        f"project_name '{project_name}' is {len(project_name)} characters long; at most "
        f"{MAX_PROJECT_NAME_LENGTH} are allowed so that derived bucket names fit cloud limits. "
        "Example: 'my-mlops-project'."
    )


def check_parent_dir_is_absolute(parent_dir: str) -> Problem:
    """Workspace paths are absolute."""
    if parent_dir.startswith("/"):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' must be an absolute workspace path starting with '/', "
        "for example '/my-mlops-project' or '/Users/someone@example.com/my-mlops-project'."
    )


def check_parent_dir_is_not_root(parent_dir: str) -> Problem:
    """The workspace root is shared by everyone; experiments need a folder of their own."""
    if not parent_dir.startswith("/") or _without_workspace_prefix(parent_dir).strip("/"):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is the workspace root; use a folder of the project's "
        "own, for example '/my-mlops-project'."
    )


def check_parent_dir_outside_repos(parent_dir: str) -> Problem:
    """MLflow experiments cannot be created under /Repos, where Databricks keeps Git folders (formerly Repos)."""
    normalised = _without_workspace_prefix(parent_dir).rstrip("/")
    if normalised != "/Repos" and not normalised.startswith("/Repos/"):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is inside /Repos (the Git folders), where MLflow "
        "experiments cannot be created; use for example '/my-mlops-project'."
    )


def check_parent_dir_not_users_root_or_home(parent_dir: str) -> Problem:
    """'/Users' and a user's home folder itself are not places a service principal may manage."""
    segments = _without_workspace_prefix(parent_dir).rstrip("/").split("/")[1:]
    if not segments or segments[0] != "Users" or len(segments) > 2:
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is '/Users' or a user's home folder; use a folder "
        "below it, for example '/Users/someone@example.com/my-mlops-project', or '/my-mlops-project'."
    )


def check_parent_dir_characters(parent_dir: str) -> Problem:
    """Keep the path safe to write into Terraform, YAML and shell without quoting surprises."""
    if _PARENT_DIR_CHARACTERS.fullmatch(parent_dir):
        return None
    bad = sorted({c for c in parent_dir if not _PARENT_DIR_CHARACTERS.fullmatch(c)}) or ["nothing"]
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' contains {', '.join(map(repr, bad))}; only letters, "
        "digits and '/', '-', '_', '.', '@', '+' are allowed, for example '/ml-projects/my-mlops-project'."
    )


def check_parent_dir_segments(parent_dir: str) -> Problem:
    """Empty, '.' and '..' segments make the real folder differ from what the checks above saw."""
    segments = parent_dir.rstrip("/").split("/")[1:]
    if all(segment not in ("", ".", "..") for segment in segments):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' has an empty, '.' or '..' path segment; write the "
        "folder plainly, for example '/ml-projects/my-mlops-project'."
    )


def check_host(parameter: str, url: str, cloud: str = "azure") -> Problem:
    """Workspace hosts are HTTPS URLs with a real host name (what a browser shows is fine; the scheme
    and host name in any case, as ``hooks.derived.host_of`` lower-cases both)."""
    example = EXAMPLE_HOSTS.get(cloud, EXAMPLE_HOSTS["azure"])
    if url[:8].lower() != "https://":
        return f"{parameter} '{url}' must start with 'https://', for example '{example}'."
    try:
        hostname = urlparse(url).hostname or ""
    except ValueError:
        hostname = ""
    if _HOSTNAME.fullmatch(hostname) and "." in hostname:
        return None
    return f"{parameter} '{url}' has no valid host name after 'https://', for example '{example}'."


def check_branch_name(parameter: str, branch: str) -> Problem:
    """Branch names end up in YAML triggers, shell commands and Terraform job definitions."""
    ok = (
        _BRANCH_CHARACTERS.fullmatch(branch) is not None
        and ".." not in branch
        and "//" not in branch
        and not branch.startswith(("-", "/", "."))
        and not branch.endswith(("/", ".", ".lock"))
    )
    if ok:
        return None
    return f"{parameter} '{branch}' is not a valid git branch name, for example 'main' or 'release'."


def check_read_user_group(group: str) -> Problem:
    """The group name is written into Terraform strings and CI job definitions."""
    if group.strip() and group == group.strip() and not _GROUP_FORBIDDEN.search(group):
        return None
    if group.strip() and not _GROUP_FORBIDDEN.search(group):
        return (
            f"read_user_group '{group}' starts or ends with whitespace, which no workspace group name has; "
            f"write it without, for example '{group.strip()}'."
        )
    return (
        f"read_user_group '{group}' must be a non-empty workspace group name without quotes, backslashes, "
        "'$', '%', braces or line breaks, for example 'users' or 'ml-team'."
    )


def check_supported_combination(
    cloud: str, cicd_platform: str, include_feature_store: str, include_models_in_unity_catalog: str
) -> Problem:
    """Refuse a combination of choices that the template cannot generate end to end yet (hooks/variants.py).

    The message names only the answers the refused pattern fixes (its wildcards are not the problem).
    """
    match = unsupported_match(cloud, cicd_platform, include_feature_store, include_models_in_unity_catalog)
    if match is None:
        return None
    fixed, reason = match
    named = ", ".join(f"{name}='{value}'" for name, value in fixed.items())
    return f"the combination {named} is not supported: {reason}"


# --- rules added for answers given through config files, replays and cruft contexts ---------

# Known Databricks workspace domains of each cloud (commercial, government and China regions).
# One example workspace URL per cloud, the only one every message shows (a real workspace's shape:
# Azure's adb-<workspace id>.<n>, AWS's dbc-<id>, GCP's <workspace id>.<n>).
EXAMPLE_HOSTS = {
    "azure": "https://adb-1234567890123456.7.azuredatabricks.net",
    "aws": "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com",
    "gcp": "https://1234567890123456.7.gcp.databricks.com",
}
CLOUD_DOMAINS = {
    "azure": ("azuredatabricks.net", "databricks.azure.us", "databricks.azure.cn"),
    "aws": ("cloud.databricks.com", "cloud.databricks.us", "cloud.databricks.mil"),
    "gcp": ("gcp.databricks.com",),
}
# The example hosts that cookiecutter.json offers as defaults; a project keeps them only by mistake.
PLACEHOLDER_HOSTS = (
    "adb-xxxx.xx.azuredatabricks.net",
    "your-staging-workspace.cloud.databricks.com",
    "your-prod-workspace.cloud.databricks.com",
    "your-staging-workspace.gcp.databricks.com",
    "your-prod-workspace.gcp.databricks.com",
)
# Folders that every workspace user shares: databricks_permissions on the parent folder is
# authoritative, so Terraform would replace everybody's access to them with the project's.
SHARED_FOLDERS = ("/Shared",)
_YAML_TYPE_NAMES = {bool: "a YAML boolean", type(None): "empty (YAML null)", int: "a YAML number", float: "a YAML number"}


# A valid value of each parameter, for messages that cannot echo a corrected answer.
EXAMPLES = {
    "project_name": "my-mlops-project",
    "cloud": "azure",
    "cicd_platform": "GitHub Actions",
    "mlflow_experiment_parent_dir": "/my-mlops-project",
    "databricks_staging_workspace_host": EXAMPLE_HOSTS["azure"],
    "databricks_prod_workspace_host": EXAMPLE_HOSTS["azure"],
    "default_branch": "main",
    "release_branch": "release",
    "read_user_group": "users",
    # _uc_<env>_catalog: ml_<env>, for every environment of hooks/environments.py.
    **{env.catalog_key: f"ml_{env.name}" for env in ENVIRONMENTS},
    "_uc_schema": "fare_model",
    "_uc_read_group": "account users",
}


def examples_for(answers: Mapping[str, object]) -> dict[str, object]:
    """``EXAMPLES`` made valid for ``answers`` (a cookiecutter context, a fork's ``_fixed_answers``
    included): the cloud and workspace hosts are those of the answered cloud, so that a fork fixed
    to one cloud never suggests another cloud's host, which it would refuse."""
    cloud = with_fixed_answers(answers).get("cloud")
    if not isinstance(cloud, str) or cloud not in EXAMPLE_HOSTS:
        return dict(EXAMPLES)
    return {**EXAMPLES, "cloud": cloud, "databricks_staging_workspace_host": EXAMPLE_HOSTS[cloud],
            "databricks_prod_workspace_host": EXAMPLE_HOSTS[cloud]}


def check_answer_is_text(parameter: str, value: object, examples: Mapping[str, object] = EXAMPLES) -> Problem:
    """Every prompt takes text; YAML config files turn unquoted ``no``, ``on``, ``null`` into other types.

    Cookiecutter passes booleans and null from a ``--config-file`` to the template unchanged,
    where they would crash string handling; the fix is to quote the value in the YAML file.
    The example is a valid value of ``parameter`` (``examples``: ``examples_for`` the answers); a switch without one gets
    ``yes``/``no``. A boolean is not echoed: YAML has already lost whether it was ``off`` or ``no``.
    """
    if isinstance(value, str):
        return None
    if isinstance(value, bool):
        shown = f"{parameter} is a YAML boolean (an unquoted yes, no, on, off, true or false)"
        fallback = "yes" if value else "no"
    else:
        kind = _YAML_TYPE_NAMES.get(type(value), f"a {type(value).__name__}")
        shown = f"{parameter} {value!r} is {kind}"
        fallback = "<your value>" if value is None else str(value)
    example = examples.get(parameter, fallback)
    return (
        f"{shown}, not text: put the value in quotes, for example {parameter}: \"{example}\" in a YAML "
        f"config file, or {{\"{parameter}\": \"{example}\"}} in cruft update --variables-to-update."
    )


def private_names(answers: Mapping[str, object]) -> list[str]:
    """The template's private Unity Catalog settings among ``answers`` (``_uc_*``: set in a config
    file's ``default_context`` or as ``key=value``, never prompted)."""
    return [name for name in answers if name.startswith("_uc_")]


def check_project_name_starts_with_letter(project_name: str) -> Problem:
    """Terraform identifiers (the contract outputs ``<project_name>_experiment_name``) start with a
    letter or '_'. The original's test-harness name is exempt: its projects are only read, never applied.
    """
    if not project_name or project_name[0].isascii() and (project_name[0].isalpha() or project_name[0] == "_") \
            or project_name == TEST_PROJECT_NAME:
        return None
    return (
        f"project_name '{project_name}' starts with '{project_name[0]}'; it must start with an ASCII letter (or '_') "
        "because it names Terraform outputs, for example 'my-mlops-project'."
    )


def check_parent_dir_not_shared_folder(parent_dir: str) -> Problem:
    """The CI/CD Terraform sets the parent folder's permissions authoritatively (databricks_permissions),
    which would take a shared folder such as '/Shared' away from every other user."""
    normalised = _without_workspace_prefix(parent_dir).rstrip("/")
    if normalised not in SHARED_FOLDERS:
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is a folder all users share; Terraform would replace "
        "its permissions with the project's. Use a folder of the project's own, for example "
        "'/Shared/my-mlops-project' or '/my-mlops-project'."
    )


def _without_workspace_prefix(path: str) -> str:
    """'/Workspace/Users/x' -> '/Users/x': the workspace file system's alias of the same folder."""
    if path == "/Workspace" or path.startswith("/Workspace/"):
        return path[len("/Workspace"):] or "/"
    return path


def _hostname(url: str) -> str:
    try:
        return (urlparse(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _cloud_of_host(hostname: str) -> Optional[str]:
    for cloud, domains in CLOUD_DOMAINS.items():
        if any(hostname == d or hostname.endswith("." + d) for d in domains):
            return cloud
    return None


def check_host_matches_cloud(parameter: str, url: str, cloud: str, fixed_names: str = "") -> Problem:
    """A host in another cloud's Databricks domain would get the wrong authentication, node types
    and state backend. Hosts outside every known domain (private DNS) are left to a warning.

    ``fixed_names``: the space-separated names of a fork's ``_fixed_answers`` (hooks/fixed_answers.py);
    when it names ``cloud``, the fork offers no other cloud and the message does not suggest one."""
    host_cloud = _cloud_of_host(_hostname(url))
    if host_cloud is None or host_cloud == cloud or cloud not in CLOUD_DOMAINS:
        return None
    other = "" if "cloud" in fixed_names.split() else f", or answer cloud='{host_cloud}'"
    return (
        f"{parameter} '{url}' is a workspace on {host_cloud} but cloud is '{cloud}'; use a workspace of the "
        f"chosen cloud, for example '{EXAMPLE_HOSTS[cloud]}'{other}."
    )


def check_config_answers_applied(config_answers: Mapping[str, object], answers: Mapping[str, object]) -> Problem:
    """Every answer of a config file's ``default_context`` reached the context (``answers``).

    cookiecutter applies ``default_context`` in file order and, at the first value it cannot use for
    a choice (``cloud: AWS``, an unquoted ``yes``), stops with only a warning, so that key and every
    later one silently take their defaults. ``config_answers`` must leave out names that the
    command line overrides. The first dropped key is the one cookiecutter could not use.
    """
    dropped = [name for name, value in config_answers.items() if name in answers and answers[name] != value]
    if not dropped:
        return None
    first = dropped[0]
    later = f", and so ignored the later {', '.join(dropped[1:])}" if dropped[1:] else ""
    example = examples_for(answers).get(first, "<one of the choices>")
    return (
        f"{first} {config_answers[first]!r} in your config file's default_context is not a value cookiecutter can use "
        f"for it (it then uses the default{later}). Spell choices exactly as listed and quote every value, "
        f"for example {first}: \"{example}\", then run the same command again."
    )


def unknown_names(names: list[str], known: Mapping[str, object]) -> list[str]:
    """The ``names`` given as ``name=value`` on the command line that the template does not have
    (cookiecutter ignores those silently, so a typo such as ``projectname`` goes unnoticed)."""
    return [name for name in names if name not in known]


# --- warnings: legal answers that are probably a mistake ---------------------------------------


def warn_host_is_placeholder(parameter: str, url: str) -> Problem:
    """The default hosts are examples; a project deployed with them fails at the first CI run."""
    if _hostname(url) not in PLACEHOLDER_HOSTS:
        return None
    return (
        f"{parameter} '{url}' is the example host; regenerate (or replace it in the generated files) with "
        "your workspace's URL, as your browser shows it on the workspace's start page."
    )


def warn_host_outside_known_domains(parameter: str, url: str, cloud: str) -> Problem:
    """A host in no known Databricks domain is legal (private DNS) but usually a typo."""
    hostname = _hostname(url)
    if not hostname or _cloud_of_host(hostname) is not None or cloud not in CLOUD_DOMAINS:
        return None
    return (
        f"{parameter} '{url}' is not in a Databricks domain of {cloud} ({', '.join(CLOUD_DOMAINS[cloud])}); "
        f"check it, for example '{EXAMPLE_HOSTS[cloud]}'."
    )


def warn_same_default_and_release_branch(default_branch: str, release_branch: str) -> Problem:
    """Equal branches make every merge deploy to staging and production at once."""
    if default_branch != release_branch:
        return None
    return (
        f"default_branch '{default_branch}' equals release_branch '{release_branch}': every merge goes to "
        "staging and production at once. Usually they differ, for example 'main' and 'release'."
    )


# Text prompts that stand for a switch, and the spellings each side accepts (any case).
YES_NO_PROMPTS = ("include_mlflow_recipes",)
_YES = ("yes", "y", "true", "on", "1")
_NO = ("no", "n", "false", "off", "0")


def yes_or_no(answer: str) -> Optional[str]:
    """``yes`` or ``no`` for the usual spellings of either (``Yes``, ``y``, ``true``, ``off``, ...),
    else None. The template normalises such answers before anything reads them."""
    word = answer.strip().lower()
    return "yes" if word in _YES else "no" if word in _NO else None


def check_yes_or_no(parameter: str, answer: str) -> Problem:
    """Text prompts that stand for a switch take ``yes`` or ``no`` in a usual spelling (``yes_or_no``).

    ``include_mlflow_recipes`` is a text prompt, not a choice, because its default depends
    on earlier answers: cookiecutter checks an override of a choice variable against the
    list as written, before rendering, so a rendered choice list would refuse every override.
    """
    if yes_or_no(answer) is not None:
        return None
    return f"{parameter} '{answer}' must be 'yes' or 'no', for example '{parameter}=no'."


def _refuse_mlflow_recipes_with(parameter: str, answer: str, include_mlflow_recipes: str, reason: str,
                                supported: str) -> Problem:
    """The message for MLflow Recipes together with ``parameter='yes'``, or ``None`` for any other pair.

    ``reason`` says why the two exclude each other; ``supported`` what works instead, after
    "include_mlflow_recipes='no'"."""
    if not (answer == "yes" and include_mlflow_recipes == "yes"):
        return None
    return (
        f"the combination {parameter}='yes', include_mlflow_recipes='yes' is not supported: {reason}. Supported: "
        f"include_mlflow_recipes='no' {supported}, for example '{parameter}=yes include_mlflow_recipes=no'."
    )


def check_mlflow_recipes_without_feature_store(include_feature_store: str, include_mlflow_recipes: str) -> Problem:
    """The feature-store code replaces the MLflow Recipes code: a project holds one or the other."""
    return _refuse_mlflow_recipes_with(
        "include_feature_store", include_feature_store, include_mlflow_recipes,
        "the feature-store code replaces the MLflow Recipes code", "with the feature store",
    )


def check_mlflow_recipes_without_unity_catalog(include_models_in_unity_catalog: str, include_mlflow_recipes: str) -> Problem:
    """MLflow Recipes (MLflow 2) registers to the workspace model registry only, never to Unity Catalog."""
    return _refuse_mlflow_recipes_with(
        "include_models_in_unity_catalog", include_models_in_unity_catalog, include_mlflow_recipes,
        "MLflow Recipes cannot register models in Unity Catalog", "(the plain MLflow 3 code) with Unity Catalog",
    )


_UC_IDENTIFIER = re.compile(r"[a-z0-9_]{1,255}")


def check_uc_identifier(parameter: str, name: str) -> Problem:
    """``parameter`` is a ``_uc_*`` key of ``EXAMPLES``; ``name`` its value.

    Catalog and schema names go unquoted into three-level names (``catalog.schema.model``),
    Spark table names and Terraform. Unity Catalog stores names in lower case and allows at
    most 255 characters; lower-case letters, digits and '_' need no quoting anywhere."""
    if _UC_IDENTIFIER.fullmatch(name):
        return None
    return (
        f"{parameter} '{name}' is not a Unity Catalog name this template can use: only lower-case letters, "
        f"digits and '_', 1 to 255 characters. {parameter} is not prompted: give it where you gave this value, "
        f"for example {parameter}=\"{EXAMPLES[parameter]}\" on the command line, {parameter}: \"{EXAMPLES[parameter]}\" "
        f"in a config file's default_context, or {{\"{parameter}\": \"{EXAMPLES[parameter]}\"}} in cruft update "
        f"--variables-to-update."
    )


def check_uc_catalogs_differ(deploy_catalogs: Mapping[str, str]) -> Problem:
    """``deploy_catalogs``: ``_uc_<env>_catalog`` -> catalog of every deploy environment, in order of
    promotion (hooks/environments.py). The deploy environments name their model and tables alike
    inside their catalogs: in one catalog, a deployment to the earlier environment would move the
    later one's model aliases and overwrite its predictions. The first pair that shares one is reported."""
    keys = list(deploy_catalogs)
    for later_index, later in enumerate(keys):
        for earlier in keys[:later_index]:
            catalog = deploy_catalogs[later]
            if deploy_catalogs[earlier] == catalog:
                earlier_env, later_env = _env_of(earlier), _env_of(later)
                return (
                    f"{later} '{catalog}' equals {earlier} '{catalog}': {earlier_env} would overwrite {later_env}'s "
                    f"model aliases and predictions. Use two catalogs, for example '{earlier_env}' and '{later_env}'."
                )
    return None


def check_uc_test_catalog_differs(test_catalog: str, deploy_catalogs: Mapping[str, str]) -> Problem:
    """The CI integration test registers the model and moves its aliases in the test catalog: in a
    deploy environment's catalog (``deploy_catalogs``: ``_uc_<env>_catalog`` -> catalog) it would
    move the aliases that that environment's jobs serve."""
    shared = [key for key, catalog in deploy_catalogs.items() if catalog == test_catalog]
    if not shared:
        return None
    return (
        f"_uc_test_catalog '{test_catalog}' equals {' and '.join(shared)} '{test_catalog}': CI would register test "
        "models and move the model aliases that the deployed jobs use. Use a catalog of its own, for example 'test'."
    )


def check_uc_dev_catalog_differs(dev_catalog: str, other_catalogs: Mapping[str, str]) -> Problem:
    """Dev runs keep the model and table names of the other environments (``other_catalogs``:
    ``_uc_<env>_catalog`` -> catalog): in a shared catalog they would overwrite that environment's
    predictions and model versions (the dev catalog is granted to data scientists, the others to
    the project's service principals)."""
    shared = [key for key, catalog in other_catalogs.items() if catalog == dev_catalog]
    if not shared:
        return None
    return (
        f"_uc_dev_catalog '{dev_catalog}' equals {' and '.join(shared)}: dev runs would overwrite that "
        "environment's model versions and predictions. Give dev a catalog of its own, for example "
        '_uc_dev_catalog: "dev".'
    )


def _env_of(catalog_key: str) -> str:
    """``_uc_<env>_catalog`` -> ``<env>``."""
    return catalog_key.removeprefix("_uc_").removesuffix("_catalog")


def check_uc_schema(schema: str) -> Problem:
    """``_uc_schema`` may be empty: the schema is then derived from the project name (hooks/derived.py)."""
    return None if schema == "" else check_uc_identifier("_uc_schema", schema)


def check_uc_read_group(group: str) -> Problem:
    """The account group written into Terraform grants, like ``read_user_group``, and quoted with
    backticks in SQL (``GRANT ... TO `account users```), so a backtick cannot be part of it."""
    if group.strip() and group == group.strip() and not _GROUP_FORBIDDEN.search(group) and "`" not in group:
        return None
    return (
        f"_uc_read_group '{group}' must be an account group name without surrounding whitespace, quotes, "
        "backticks, backslashes, '$', '%', braces or line breaks, for example 'account users'."
    )


# --- running the rules ---------------------------------------------------------------------------

_RuleCheck = Callable[..., Problem]
# (parameters the rule reads, in order; the rule). A rule runs only when all its parameters are
# present and text: missing ones belong to forks that drop a prompt, non-text ones are reported
# by check_answer_is_text.
Rule = tuple[tuple[str, ...], _RuleCheck]
_STAGING, _PROD = "databricks_staging_workspace_host", "databricks_prod_workspace_host"
_PARENT_DIR = "mlflow_experiment_parent_dir"
# Added to the answers by find_problems: the names of a fork's fixed answers, space-separated
# (rules must not offer another value of a prompt the fork fixed).
_FIXED_NAMES = "_fixed_names"


def _named(check: Callable[..., Problem], parameter: str) -> _RuleCheck:
    return lambda *values: check(parameter, *values)


def _catalog_keys(*roles: str) -> tuple[str, ...]:
    """The ``_uc_<env>_catalog`` keys of the environments of ``roles`` (hooks/environments.py), in table order."""
    return tuple(env.catalog_key for env in ENVIRONMENTS if env.role in roles)


def _catalogs_rule(keys: tuple[str, ...], check: Callable[..., Problem], first_alone: bool = False) -> Rule:
    """A rule over the catalogs ``keys``, passed to ``check`` as one mapping key -> catalog (with
    ``first_alone``: the first catalog, then a mapping of the others)."""
    if first_alone:
        return keys, lambda first, *others: check(first, dict(zip(keys[1:], others)))
    return keys, lambda *catalogs: check(dict(zip(keys, catalogs)))


RULES: tuple[Rule, ...] = (
    (("project_name",), check_project_name_forbidden_characters),
    (("project_name",), check_project_name_characters),
    (("project_name",), check_project_name_alphanumeric_length),
    (("project_name",), check_project_name_length),
    (("project_name",), check_project_name_starts_with_letter),
    ((_PARENT_DIR,), check_parent_dir_is_absolute),
    ((_PARENT_DIR,), check_parent_dir_is_not_root),
    ((_PARENT_DIR,), check_parent_dir_outside_repos),
    ((_PARENT_DIR,), check_parent_dir_not_users_root_or_home),
    ((_PARENT_DIR,), check_parent_dir_characters),
    ((_PARENT_DIR,), check_parent_dir_segments),
    ((_PARENT_DIR,), check_parent_dir_not_shared_folder),
    ((_STAGING, "cloud"), _named(check_host, _STAGING)),
    ((_PROD, "cloud"), _named(check_host, _PROD)),
    ((_STAGING, "cloud", _FIXED_NAMES), _named(check_host_matches_cloud, _STAGING)),
    ((_PROD, "cloud", _FIXED_NAMES), _named(check_host_matches_cloud, _PROD)),
    (("default_branch",), _named(check_branch_name, "default_branch")),
    (("release_branch",), _named(check_branch_name, "release_branch")),
    (("read_user_group",), check_read_user_group),
    (("cloud", "cicd_platform", "include_feature_store", "include_models_in_unity_catalog"),
     check_supported_combination),
    (("include_mlflow_recipes",), _named(check_yes_or_no, "include_mlflow_recipes")),
    (("include_feature_store", "include_mlflow_recipes"), check_mlflow_recipes_without_feature_store),
    (("include_models_in_unity_catalog", "include_mlflow_recipes"), check_mlflow_recipes_without_unity_catalog),
    # Every environment's catalog (hooks/environments.py) is a valid name and its own.
    *(((key,), _named(check_uc_identifier, key)) for key in _catalog_keys(*ROLES)),
    _catalogs_rule(_catalog_keys("deploy"), check_uc_catalogs_differ),
    *(_catalogs_rule((key, *_catalog_keys("deploy")), check_uc_test_catalog_differs, first_alone=True)
      for key in _catalog_keys("ci")),
    *(_catalogs_rule((key, *_catalog_keys("ci", "deploy")), check_uc_dev_catalog_differs, first_alone=True)
      for key in _catalog_keys("dev")),
    (("_uc_schema",), check_uc_schema),
    (("_uc_read_group",), check_uc_read_group),
)

WARNINGS: tuple[Rule, ...] = (
    ((_STAGING,), _named(warn_host_is_placeholder, _STAGING)),
    ((_PROD,), _named(warn_host_is_placeholder, _PROD)),
    ((_STAGING, "cloud"), _named(warn_host_outside_known_domains, _STAGING)),
    ((_PROD, "cloud"), _named(warn_host_outside_known_domains, _PROD)),
    (("default_branch", "release_branch"), warn_same_default_and_release_branch),
)


def prompt_names(answers: Mapping[str, object]) -> list[str]:
    """The prompts' names in the order of the answers (cookiecutter's private ``_`` keys left out)."""
    return [name for name in answers if not name.startswith("_")]


def _run(rules: tuple[Rule, ...], answers: Mapping[str, object]) -> list[str]:
    problems = []
    for parameters, check in rules:
        values = [answers.get(p) for p in parameters]
        if all(p in answers and isinstance(v, str) for p, v in zip(parameters, values)):
            problems.append(check(*values))
    return [p for p in problems if p]


def find_problems(answers: Mapping[str, object], cookiecutter_version: str) -> list[str]:
    """Every problem with the answers, in prompt order; empty when generation may go ahead.

    ``answers`` is a cookiecutter context (prompt name -> answer; ``_`` keys are ignored). Every
    prompt, including ones a fork adds, must hold text; the rules in ``RULES`` judge the rest.
    """
    problems = [check_cookiecutter_version(cookiecutter_version), check_fixed_answers(answers)]
    examples = examples_for(answers)
    fixed_names = " ".join(fixed_answers(answers))
    # A catalog that cookiecutter.json does not list (a fork's new environment) has its default.
    answers = with_fixed_answers(answers)
    answers = {**answers, **{key: catalog for key, catalog in catalog_defaults().items() if key not in answers}}
    problems += [check_answer_is_text(name, answers[name], examples)
                 for name in prompt_names(answers) + private_names(answers)]
    problems = [p for p in problems if p] + _run(RULES, {**answers, _FIXED_NAMES: fixed_names})
    order = {name: i for i, name in enumerate(prompt_names(answers) + private_names(answers))}
    return sorted(problems, key=lambda p: order.get(p.split(" ", 1)[0], len(order)))


def find_warnings(answers: Mapping[str, object]) -> list[str]:
    """Legal answers that are probably a mistake (see ``WARNINGS``); shown once after generation."""
    return _run(WARNINGS, with_fixed_answers(answers))


def problem_parameters(problems: list[str], answers: Mapping[str, object]) -> set[str]:
    """The prompts and ``_uc_*`` settings that ``problems`` name (each message starts with the parameter's name)."""
    names = set(prompt_names(answers) + private_names(answers))
    found = {p.split(" ", 1)[0] for p in problems} & names
    for p in problems:  # the combination rule names its parameters as name='value'
        found |= {name for name in names if f"{name}='{answers[name]}'" in p}
    return found


def _as_answer_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def render_default(default: object, answers: Mapping[str, object]) -> Optional[str]:
    """What cookiecutter's ``default`` (a value of ``cookiecutter.json``) becomes with ``answers``.

    A choice list's default is its first entry; text is rendered as cookiecutter renders it
    (Jinja, with the template's ``derived`` filter). None when it cannot be rendered, for example
    because an answer it reads is itself refused.
    """
    if isinstance(default, list):
        return str(default[0]) if default else None
    if not isinstance(default, str):
        return None
    from jinja2 import Environment, StrictUndefined

    from .derived import derived_value

    environment = Environment(undefined=StrictUndefined)
    environment.filters["derived"] = lambda context, name: derived_value(with_fixed_answers(context), name)
    environment.filters["checked_so_far"] = lambda answers: ""
    try:
        return environment.from_string(default).render(cookiecutter=answers)
    except Exception:  # noqa: BLE001 - any failure means "not the default"
        return None


def given_names(answers: Mapping[str, object], defaults: Mapping[str, object]) -> list[str]:
    """The prompts and ``_uc_*`` settings whose answer is not what ``defaults`` (``cookiecutter.json``)
    would give with the other answers: what the user chose, as opposed to what was derived."""
    return [
        name for name in prompt_names(answers) + private_names(answers)
        if name not in defaults or render_default(defaults[name], answers) != answers[name]
    ]


def retry_command(template: str, answers: Mapping[str, object], bad: set[str],
                  defaults: Optional[Mapping[str, object]] = None, output_dir: Optional[str] = None) -> str:
    """A shell command that generates again with the same answers, one per line, the ``bad`` ones
    marked with an inline shell comment (`` `# <- fix` ``, which the shell expands to nothing).

    With ``defaults`` (``cookiecutter.json``), answers equal to their default are left out, so
    values derived from a refused answer (the experiment folder from ``project_name``) follow the
    fixed one; ``_uc_*`` settings are kept when changed, so the command needs no config file.
    """
    import shlex

    names = given_names(answers, defaults) if defaults is not None else prompt_names(answers)
    names = [n for n in prompt_names(answers) + private_names(answers) if n in names or n in bad]
    lines = [f"cookiecutter {shlex.quote(template)} --no-input"]
    if output_dir:
        lines[0] += f" --output-dir {shlex.quote(output_dir)}"
    for name in names:
        marker = " `# <- fix`" if name in bad else ""
        lines.append(f"  {shlex.quote(f'{name}={_as_answer_text(answers[name])}')}{marker}")
    return " \\\n".join(lines)


def without_derived_problems(problems: list[str], answers: Mapping[str, object],
                             defaults: Mapping[str, object]) -> list[str]:
    """``problems`` without those of answers the user did not give (their value is the default
    ``defaults`` derive from other answers, e.g. the experiment folder from ``project_name``) while
    a given answer is refused too: fixing that one fixes them."""
    given = set(given_names(answers, defaults))
    bad = {p.split(" ", 1)[0] for p in problems}
    if not bad & given:
        return problems
    return [p for p in problems if p.split(" ", 1)[0] in given or p.split(" ", 1)[0] not in answers]


def format_problems(problems: list[str], answers: Optional[Mapping[str, object]] = None,
                    template: Optional[str] = None, defaults: Optional[Mapping[str, object]] = None,
                    output_dir: Optional[str] = None) -> str:
    """One message for the user, one line per problem, then (with ``answers`` and ``template``)
    a command that repeats the answers (those that differ from ``defaults``, when given) with
    the refused ones marked, and ``--output-dir`` when the user gave one."""
    if answers is not None and defaults is not None:
        problems = without_derived_problems(problems, answers, defaults)
    lines = "\n".join(f"  - {p}" for p in problems)
    message = f"Cannot generate the project; please fix these answers:\n{lines}"
    if answers is not None and template:
        command = retry_command(template, answers, problem_parameters(problems, answers), defaults, output_dir)
        if defaults is not None:
            message += "\nThe command below repeats every answer that differs from its default (config-file ones included)."
        message += f"\nFix the answers marked '<- fix' and run again:\n{command}"
    return message


def cruft_retry_hint(subcommand: str, bad: set[str], answers: Optional[Mapping[str, object]] = None) -> str:
    """How to run cruft again with valid values for ``bad`` (each shown with an example from
    ``examples_for(answers)``); ``subcommand`` is cruft's (``create``, ``update``, ``check``, ``diff``)."""
    import json
    import shlex

    examples = examples_for(answers or {})
    values = shlex.quote(json.dumps({name: examples.get(name, "<valid value>") for name in sorted(bad)}))
    if subcommand == "create":
        return f"Run cruft again with valid values, for example:\ncruft create <template> --no-input --extra-context {values}"
    if subcommand == "update":
        return f"Run cruft again with valid values, for example:\ncruft update --variables-to-update {values}"
    return (
        "The answers recorded in .cruft.json are refused by the template: set valid values with, for example,\n"
        f"cruft update --variables-to-update {values}"
    )


def format_warnings(warnings: list[str]) -> str:
    """One summary of every warning, for stderr after generation."""
    lines = "\n".join(f"  - {w}" for w in warnings)
    return f"Generated, but please check these answers:\n{lines}"
