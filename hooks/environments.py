"""The project's environments, defined once: every file that names an environment reads this table.

Three roles:

- ``dev``: a data scientist's own runs in the development workspace; no Terraform, no CI/CD.
- ``ci``: the CI integration test (``test``); its names are fixed in the code, it runs on the
  workspace of the first deploy environment.
- ``deploy``: environments with a Terraform folder ``databricks-config/<name>/`` (copied from
  ``templates/terraform/environment-*.tf`` by the post-generation hook), a state key, a CI/CD
  service principal with its federation policy and secrets, and deploy stages in CI/CD.
  Their order is the order of promotion: a model reaches each one after the one before.

Adding an environment is one ``Environment`` row here (plus, for a workspace of its own, a host
prompt in ``cookiecutter.json``); ``tests/test_environments.py`` adds a ``qa`` row in a copy of
the template and checks that every generated artefact knows it.

This module must stay import-light: it runs inside every generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

ROLES = ("dev", "ci", "deploy")


@dataclass(frozen=True)
class Environment:
    """One row of ``ENVIRONMENTS``.

    ``host_answer`` and ``branch_answer`` name the prompts (``cookiecutter.json``) whose answers
    are the environment's workspace URL and the git branch its jobs run; ``protected`` marks an
    environment that pull requests never reach: its jobs wait for a human approval, only the
    deployed branches may sign in as its service principal, and only its workspace holds the
    secret that starts a deployment. An unprotected deploy environment is planned and tested by
    pull requests (Terraform plan, integration test).

    ``reviewers`` (protected environments only) names who approves the environment's jobs: the
    CI/CD bootstrap's variables ``<reviewers>_reviewer_team_ids`` and ``<reviewers>_reviewer_user_ids``
    (GitHub Actions' environment reviewers). None: the environment's own name, so each protected
    environment has reviewers of its own; another protected environment's name shares its reviewers.
    """

    name: str
    role: str
    host_answer: Optional[str] = None
    branch_answer: Optional[str] = None
    protected: bool = False
    reviewers: Optional[str] = None

    @property
    def reviewer_variables(self) -> Optional[str]:
        """The prefix of the bootstrap's reviewer variables of a protected environment
        (``reviewers``, else its name); None for an unprotected one, whose jobs need no approval."""
        return (self.reviewers or self.name) if self.protected else None

    @property
    def catalog_key(self) -> str:
        """The private answer that names the environment's Unity Catalog catalog (``_uc_<name>_catalog``)."""
        return f"_uc_{self.name}_catalog"

    @property
    def state_key(self) -> str:
        """The key of the environment's Terraform state (deploy environments only)."""
        return f"{self.name}.terraform.tfstate"


ENVIRONMENTS = (
    Environment("dev", "dev"),
    Environment("test", "ci", host_answer="databricks_staging_workspace_host"),
    Environment("staging", "deploy", host_answer="databricks_staging_workspace_host", branch_answer="default_branch"),
    Environment("prod", "deploy", host_answer="databricks_prod_workspace_host", branch_answer="release_branch",
                protected=True),
)


def names(role: Optional[str] = None) -> tuple[str, ...]:
    """The names of the environments of ``role`` (one of ``ROLES``; None: all), in table order."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown environment role {role!r}; known: {', '.join(ROLES)}")
    return tuple(env.name for env in ENVIRONMENTS if role is None or env.role == role)


def catalog_defaults() -> dict[str, str]:
    """``_uc_<name>_catalog`` -> default catalog (the environment's name), for every environment."""
    return {env.catalog_key: env.name for env in ENVIRONMENTS}
