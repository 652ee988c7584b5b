"""Generate projects from the template the way the tests need them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from cookiecutter.main import cookiecutter

from hooks.environments import ENVIRONMENTS
from scripts import required_answers

from tests.support.variants import FIXED_ANSWERS, TEMPLATE_DIR, Variant, choices

# Workspace hosts of each cloud that look like real workspaces, so that tests can tell them from
# defaults: a host in another cloud's domain is refused.
TEST_HOSTS = {
    "azure": ("https://adb-3214.67.azuredatabricks.net", "https://adb-345.89.azuredatabricks.net"),
    "aws": ("https://dbc-3214-67.cloud.databricks.com", "https://dbc-345-89.cloud.databricks.com"),
    "gcp": ("https://3214.67.gcp.databricks.com", "https://345.89.gcp.databricks.com"),
}
# A further host prompt of a fork's environment table (a qa row's databricks_qa_workspace_host)
# gets a workspace of its own in the same cloud, the index-th of these.
_EXTRA_HOST_PATTERNS = {
    "azure": "https://adb-4{index}56.78.azuredatabricks.net",
    "aws": "https://dbc-4{index}56-78.cloud.databricks.com",
    "gcp": "https://4{index}56.78.gcp.databricks.com",
}


def hosts_for(cloud: str) -> dict[str, str]:
    """A test answer for every workspace host prompt of the environment table (hooks/environments.py).

    Staging's and prod's prompts get ``cloud``'s ``TEST_HOSTS``; any other host prompt of a fork's
    rows gets a distinct host of the same cloud, so a fork that adds a row edits no test helper.
    """
    staging, prod = TEST_HOSTS[cloud]
    hosts = {"databricks_staging_workspace_host": staging, "databricks_prod_workspace_host": prod}
    extra = dict.fromkeys(env.host_answer for env in ENVIRONMENTS if env.host_answer and env.host_answer not in hosts)
    for index, prompt in enumerate(extra):
        hosts[prompt] = _EXTRA_HOST_PATTERNS[cloud].format(index=index)
    return hosts


# The answers tests give when they name no variant: those of the template's default cloud (the
# first choice, or the fixed answer of a specialised fork).
DEFAULT_CLOUD = choices("cloud")[0]
TEST_ANSWERS = {
    "project_name": "my-mlops-project",
    **hosts_for(DEFAULT_CLOUD),
    "mlflow_experiment_parent_dir": "/ml-projects/my-mlops-project",
    "read_user_group": "ml-team",
}
# Prompts whose default the template refuses (a fork's required prompt): their example values
# (EXAMPLES in hooks/validation.py; scripts/required_answers.py), which make demo passes too.
REQUIRED_ANSWERS = required_answers.for_repo(TEMPLATE_DIR, TEST_ANSWERS)
TEST_ANSWERS.update(REQUIRED_ANSWERS)


def generate(output_dir: Path, extra_context: Optional[dict[str, str]] = None, **kwargs) -> Path:
    """Run cookiecutter without prompts and return the generated project folder.

    Prompts without a valid default (a fork's required ``cluster_policy_id``) get their example
    value (``REQUIRED_ANSWERS``) unless ``extra_context`` or the config file answers them."""
    context = {**REQUIRED_ANSWERS, **(extra_context or {})}
    if kwargs.get("config_file") or kwargs.get("replay"):
        context = dict(extra_context or {})
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(output_dir),
            extra_context=context,
            **kwargs,
        )
    )




def answers_for(variant: Variant) -> dict[str, str]:
    """The test answers for ``variant``: ``TEST_ANSWERS`` with the variant's choices and its cloud's hosts."""
    answers = {**TEST_ANSWERS, **variant.answers(), **hosts_for(variant.cloud)}
    return {name: value for name, value in answers.items() if name not in FIXED_ANSWERS}


def generate_variant(output_dir: Path, variant: Variant, **answers: str) -> Path:
    """Generate ``variant`` with the test answers (overridable) into ``output_dir``."""
    return generate(output_dir, {**answers_for(variant), **answers})


def generate_recording_replay(folder: Path, answers: dict[str, str]) -> tuple[Path, dict]:
    """Generate into ``folder / "first"`` with a user config of its own that keeps cookiecutter's
    replay file under ``folder``; return that config file and the replay's content."""
    import json

    config = folder / "config.yaml"
    config.write_text(f"replay_dir: {folder / 'replay'}\ncookiecutters_dir: {folder / 'cc'}\n")
    generate(folder / "first", answers, config_file=str(config))
    return config, json.loads(next((folder / "replay").glob("*.json")).read_text())
