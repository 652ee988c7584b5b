"""The Terraform folder of each deploy environment, ``databricks-config/<env>/``, written after generation.

Cookiecutter renders each template file once and cannot repeat a folder per row of a table, so the
project template holds one set of per-environment files, ``databricks-config/_environment/``, which
cookiecutter copies unrendered (``_copy_without_render`` in ``cookiecutter.json``). The
post-generation hook renders that set once per deploy environment of ``hooks/environments.py``,
with the same Jinja environment cookiecutter renders files with (its ``StrictEnvironment``, the
template's filters, ``templates/`` for includes), then deletes it. The files only include the
shared sources in ``templates/terraform/environment-*.tf``; they see ``tf_env`` (the environment's
name) and ``environment`` (its row resolved for the answers, ``hooks.derived.environments``).

A single file that exists once per deploy environment, such as a GitHub Actions deployment workflow
or an MLflow Recipes profile, works the same way: ``PER_ENVIRONMENT_FILES`` names its source, whose
name holds ``_environment`` where the generated names hold the environment's
(``deploy-model-staging.yml``, ``databricks-prod.yaml``, ...). Cookiecutter renders it first: its
Jinja for the hook sits in a ``{% raw %}`` block. It sees ``deploy_env`` (the name) and
``environment``. Its source may be pruned (another CI/CD platform or ML code track).
``PER_PROTECTED_ENVIRONMENT_FILES`` are the same for the protected deploy environments only (those
that deploy models behind an approval, such as Azure DevOps' model deployment pipeline).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Mapping

from .derived import environments
from .environments import ENVIRONMENTS, names
from .fixed_answers import with_fixed_answers

SOURCE = Path("databricks-config") / "_environment"
PLACEHOLDER = "_environment"
PER_ENVIRONMENT_FILES = (
    ".github/workflows/deploy-model-_environment.yml",  # GitHub Actions: the model deployment workflow
    "profiles/databricks-_environment.yaml",  # MLflow Recipes: the recipe profile of the environment's jobs
)
PER_PROTECTED_ENVIRONMENT_FILES = (
    ".azure/devops-pipelines/deploy-model-_environment.yml",  # Azure DevOps: the approved model deployment pipeline
)


def generated_paths(relative: str) -> list[str]:
    """The paths that the project template's file ``relative`` (a POSIX path relative to
    ``{{cookiecutter.project_name}}/``) has in a generated project: itself, or for a file of
    ``SOURCE`` or of ``PER_ENVIRONMENT_FILES`` one path per deploy environment
    (``databricks-config/staging/main.tf``, ``.github/workflows/deploy-model-staging.yml``, ...), for
    a file of ``PER_PROTECTED_ENVIRONMENT_FILES`` one per protected deploy environment."""
    if relative in PER_ENVIRONMENT_FILES:
        return [relative.replace(PLACEHOLDER, env) for env in names("deploy")]
    if relative in PER_PROTECTED_ENVIRONMENT_FILES:
        return [relative.replace(PLACEHOLDER, env.name) for env in ENVIRONMENTS if env.role == "deploy" and env.protected]
    path = Path(relative)
    if SOURCE not in path.parents:
        return [relative]
    return [(SOURCE.parent / env / path.relative_to(SOURCE)).as_posix() for env in names("deploy")]


def write_environment_folders(project: Path, template: Path, answers: Mapping[str, Any]) -> list[Path]:
    """Render ``project``/``SOURCE`` into ``databricks-config/<env>/`` for every deploy environment
    and delete ``SOURCE``, render each file of ``PER_ENVIRONMENT_FILES`` that the project holds once
    per deploy environment (``PER_PROTECTED_ENVIRONMENT_FILES``: per protected one) and delete it;
    return the folders written. ``template`` is the template's root (its
    ``templates/`` folder serves includes), ``answers`` the cookiecutter context of the run.

    Raises ``FileNotFoundError`` when ``SOURCE`` is missing (the hook runs once per generation)."""
    from cookiecutter.environment import StrictEnvironment
    from jinja2 import FileSystemLoader

    source = project / SOURCE
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is missing: the project template must hold {SOURCE}")
    jinja = StrictEnvironment(context={"cookiecutter": dict(answers)}, keep_trailing_newline=True,
                              **answers.get("_jinja2_env_vars", {}))
    jinja.loader = FileSystemLoader(str(template / "templates"))
    folders = []
    for environment in environments(with_fixed_answers(answers), "deploy"):
        folder = source.parent / environment["name"]
        folder.mkdir(exist_ok=True)
        for file in sorted(source.iterdir()):
            text = jinja.from_string(file.read_text()).render(
                cookiecutter=answers, tf_env=environment["name"], environment=environment)
            (folder / file.name).write_text(text)
            shutil.copymode(file, folder / file.name)
        folders.append(folder)
        for relative in PER_ENVIRONMENT_FILES + (PER_PROTECTED_ENVIRONMENT_FILES if environment["protected"] else ()):
            file = project / relative
            if file.is_file():
                target = file.with_name(file.name.replace(PLACEHOLDER, environment["name"]))
                target.write_text(jinja.from_string(file.read_text()).render(
                    cookiecutter=answers, deploy_env=environment["name"], environment=environment))
                shutil.copymode(file, target)
    shutil.rmtree(source)
    for relative in PER_ENVIRONMENT_FILES + PER_PROTECTED_ENVIRONMENT_FILES:
        (project / relative).unlink(missing_ok=True)
    return folders
