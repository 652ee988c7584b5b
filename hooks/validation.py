"""Rules that the answers to the template's prompts must follow.

Each rule is a small pure function that takes the answer(s) it judges and returns
``None`` when they are fine, or a message that names the parameter, quotes the
rejected value and shows a valid example. ``find_problems`` runs every rule over a
cookiecutter context; the prompt-time filter in ``local_extensions.py`` and the
pre-generation hook both call it, so the rules live in exactly one place.

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Optional
from urllib.parse import urlparse

from hooks.variants import unsupported_reason

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
        f"project_name '{project_name}' contains {', '.join(map(repr, bad))}; only letters, digits, "
        "'-' and '_' are allowed, for example 'my-mlops-project'."
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
    if not parent_dir.startswith("/") or parent_dir.strip("/"):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is the workspace root; use a folder of the project's "
        "own, for example '/my-mlops-project'."
    )


def check_parent_dir_outside_repos(parent_dir: str) -> Problem:
    """MLflow experiments cannot be created inside Databricks Repos folders."""
    normalised = parent_dir.rstrip("/")
    if normalised != "/Repos" and not normalised.startswith("/Repos/"):
        return None
    return (
        f"mlflow_experiment_parent_dir '{parent_dir}' is inside /Repos, where MLflow experiments cannot be "
        "created; use for example '/my-mlops-project'."
    )


def check_parent_dir_not_users_root_or_home(parent_dir: str) -> Problem:
    """'/Users' and a user's home folder itself are not places a service principal may manage."""
    segments = parent_dir.rstrip("/").split("/")[1:]
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


def check_host(parameter: str, url: str) -> Problem:
    """Workspace hosts are HTTPS URLs with a real host name (what a browser shows is fine)."""
    example = "https://adb-1234567890123456.7.azuredatabricks.net"
    if not url.startswith("https://"):
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
    if group.strip() and not _GROUP_FORBIDDEN.search(group):
        return None
    return (
        f"read_user_group '{group}' must be a non-empty workspace group name without quotes, backslashes, "
        "'$', '%', braces or line breaks, for example 'users' or 'ml-team'."
    )


def check_supported_combination(cloud: str, cicd_platform: str, include_feature_store: str) -> Problem:
    """Refuse a combination of choices that the template cannot generate end to end yet."""
    reason = unsupported_reason(cloud, cicd_platform, include_feature_store)
    if reason is None:
        return None
    return (
        f"the combination cloud='{cloud}', cicd_platform='{cicd_platform}', include_feature_store="
        f"'{include_feature_store}' is not supported: {reason}"
    )


def check_yes_or_no(parameter: str, answer: str) -> Problem:
    """Text prompts that stand for a switch take exactly ``yes`` or ``no``.

    ``include_mlflow_recipes`` is a text prompt, not a choice, because its default depends
    on earlier answers: cookiecutter checks an override of a choice variable against the
    list as written, before rendering, so a rendered choice list would refuse every override.
    """
    if answer in ("yes", "no"):
        return None
    return f"{parameter} '{answer}' must be 'yes' or 'no', for example '{parameter}=no'."


def check_mlflow_recipes_without_feature_store(include_feature_store: str, include_mlflow_recipes: str) -> Problem:
    """The feature-store code replaces the MLflow Recipes code: a project holds one or the other."""
    if not (include_feature_store == "yes" and include_mlflow_recipes == "yes"):
        return None
    return (
        "the combination include_feature_store='yes', include_mlflow_recipes='yes' is not supported: the "
        "feature-store code replaces the MLflow Recipes code. Supported: include_mlflow_recipes='no' with the "
        "feature store, for example 'include_feature_store=yes include_mlflow_recipes=no'."
    )


_Rule = Callable[[Mapping[str, str]], Problem]

RULES: tuple[_Rule, ...] = (
    lambda a: check_project_name_forbidden_characters(a["project_name"]),
    lambda a: check_project_name_characters(a["project_name"]),
    lambda a: check_project_name_alphanumeric_length(a["project_name"]),
    lambda a: check_project_name_length(a["project_name"]),
    lambda a: check_parent_dir_is_absolute(a["mlflow_experiment_parent_dir"]),
    lambda a: check_parent_dir_is_not_root(a["mlflow_experiment_parent_dir"]),
    lambda a: check_parent_dir_outside_repos(a["mlflow_experiment_parent_dir"]),
    lambda a: check_parent_dir_not_users_root_or_home(a["mlflow_experiment_parent_dir"]),
    lambda a: check_parent_dir_characters(a["mlflow_experiment_parent_dir"]),
    lambda a: check_parent_dir_segments(a["mlflow_experiment_parent_dir"]),
    lambda a: check_host("databricks_staging_workspace_host", a["databricks_staging_workspace_host"]),
    lambda a: check_host("databricks_prod_workspace_host", a["databricks_prod_workspace_host"]),
    lambda a: check_branch_name("default_branch", a["default_branch"]),
    lambda a: check_branch_name("release_branch", a["release_branch"]),
    lambda a: check_read_user_group(a["read_user_group"]),
    lambda a: check_supported_combination(a["cloud"], a["cicd_platform"], a["include_feature_store"]),
    lambda a: check_yes_or_no("include_mlflow_recipes", a.get("include_mlflow_recipes", "yes")),
    lambda a: check_mlflow_recipes_without_feature_store(
        a["include_feature_store"], a.get("include_mlflow_recipes", "no")
    ),
)


def find_problems(answers: Mapping[str, str], cookiecutter_version: str) -> list[str]:
    """Every problem with the answers, in prompt order; empty when generation may go ahead."""
    problems = [check_cookiecutter_version(cookiecutter_version)]
    problems += [rule(answers) for rule in RULES]
    return [p for p in problems if p]


def format_problems(problems: list[str]) -> str:
    """One message for the user, one line per problem."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"Cannot generate the project; please fix these answers:\n{lines}"
