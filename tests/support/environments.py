"""The deploy environments as the tests expect them, read from ``hooks/environments.py``.

Tests of the deploy jobs name environments by what they do, not by name, so that a fork that adds
a row (stack-customization.md, task D: a ``qa`` between staging and prod) runs its own suite
unchanged: ``DEPLOY`` in order of promotion, the ``PULL_REQUEST`` ones (unprotected: planned and
tested by pull requests, applied on pushes; the first runs the CI integration test) and the
``PROTECTED`` ones (planned into a plan file and applied after an approval, from deployed branches).
"""

from __future__ import annotations

from hooks.environments import ENVIRONMENTS, names

DEPLOY: tuple[str, ...] = names("deploy")
PULL_REQUEST: tuple[str, ...] = tuple(env.name for env in ENVIRONMENTS if env.role == "deploy" and not env.protected)
PROTECTED: tuple[str, ...] = tuple(env.name for env in ENVIRONMENTS if env.role == "deploy" and env.protected)
# The environment of the CI integration test's workspace and of the first apply.
FIRST = DEPLOY[0]


def host_answer(env: str) -> str:
    """The prompt whose answer is ``env``'s workspace (``Environment.host_answer``)."""
    (answer,) = [row.host_answer for row in ENVIRONMENTS if row.name == env]
    return answer


def deployment_steps() -> list[tuple[str, str]]:
    """The Terraform deployment's jobs in order, as ``(kind, environment)``: an unprotected
    environment is applied (``apply``), a protected one planned into a plan file (``plan``) and
    then applied after its approval, each environment after the one before it:
    ``[("apply", "staging"), ("plan", "prod"), ("apply", "prod")]`` for the template's table."""
    return [(kind, env) for env in DEPLOY for kind in (("plan", "apply") if env in PROTECTED else ("apply",))]
