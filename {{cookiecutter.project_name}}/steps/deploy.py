"""Promote a registered model version to the stage its environment serves from.

CD runs it from the project root, with ``MLFLOW_TRACKING_URI=databricks``::

    python steps/deploy.py "models:/<model name>/<version>" <staging|prod> [--force]

Deployment is a gate, not a copy: it refuses a version whose validation did not pass
(the ``model_validation_status`` tag ModelValidation sets; DISABLED passes, because a
person chose to skip validation), a version older than the one deployed (a retried or
manual run must not roll production back by accident), and a version of another model
than the environment's. ``--force`` overrides all three, for a deliberate rollback.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

if __package__ in (None, ""):  # run as a script: make ``steps`` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlflow.entities.model_registry import ModelVersion  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from steps.utils import get_deployed_model_stage_for_env, get_model_name  # noqa: E402
from steps.validation import VALIDATION_STATUS_TAG, ValidationStatus  # noqa: E402

_MODEL_VERSION_URI = re.compile(r"^models:/(?P<name>[^/]+)/(?P<version>\d+)$")
DEPLOYABLE_STATUSES = (ValidationStatus.PASSED.value, ValidationStatus.DISABLED.value)


class DeploymentRefused(Exception):
    """The version may not be deployed without ``--force``; the message says why."""


def parse_model_version_uri(model_uri: str) -> tuple[str, str]:
    """Name and version of a ``models:/<name>/<version>`` URI (stage or alias URIs are refused)."""
    match = _MODEL_VERSION_URI.match(model_uri)
    if match is None:
        raise ValueError(f"Expected a model version URI like models:/<name>/<version>, got {model_uri!r}")
    return match["name"], match["version"]


def deployed_version(name: str, env: str, client: Optional[MlflowClient] = None) -> Optional[ModelVersion]:
    """The version of ``name`` that ``env`` serves now (the newest in its stage), or None."""
    client = client or MlflowClient()
    stage = get_deployed_model_stage_for_env(env)
    in_stage = client.search_model_versions(f"name='{name}'")
    candidates = [version for version in in_stage if version.current_stage == stage]
    return max(candidates, key=lambda version: int(version.version), default=None)


def deployed_model_uri(name: str, env: str) -> Optional[str]:
    """``models:/<name>/<version>`` of the version ``env`` serves now (ModelValidation's baseline), or None."""
    deployed = deployed_version(name, env)
    return None if deployed is None else f"models:/{name}/{deployed.version}"


def refusal(candidate: ModelVersion, deployed: Optional[ModelVersion], expected_name: Optional[str]) -> Optional[str]:
    """Why ``candidate`` may not replace ``deployed``, or None when it may (the gate's rules)."""
    if expected_name is not None and candidate.name != expected_name:
        return f"{candidate.name} is not this environment's model {expected_name}"
    status = (candidate.tags or {}).get(VALIDATION_STATUS_TAG)
    if status not in DEPLOYABLE_STATUSES:
        return f"version {candidate.version} has no passing validation ({VALIDATION_STATUS_TAG}={status})"
    if deployed is not None and int(candidate.version) < int(deployed.version):
        return f"version {candidate.version} is older than the deployed version {deployed.version}"
    return None


def deploy(model_uri: str, env: str, force: bool = False, expected_name: Optional[str] = None) -> str:
    """Move the model version to ``env``'s stage, archiving the versions that held it; returns the stage.

    Raises ``DeploymentRefused`` when a rule of ``refusal`` fails and ``force`` is False.
    """
    name, version = parse_model_version_uri(model_uri)
    stage = get_deployed_model_stage_for_env(env)
    client = MlflowClient()
    candidate = client.get_model_version(name, version)
    reason = refusal(candidate, deployed_version(name, env, client), expected_name)
    if reason is not None:
        if not force:
            raise DeploymentRefused(f"Not deploying {model_uri} to {env}: {reason}. Pass --force to deploy anyway.")
        print(f"Deploying {model_uri} to {env} although {reason} (--force)")
    if candidate.current_stage != stage:
        client.transition_model_version_stage(name, version, stage, archive_existing_versions=True)
    print(f"Deployed {model_uri} to {env}: version {version} of {name} is in stage {stage}")
    return stage


def main(argv: list[str]) -> None:
    force = "--force" in argv
    args = [arg for arg in argv if arg != "--force"]
    if len(args) != 2:
        raise SystemExit(f"usage: python steps/deploy.py <model_uri> <env> [--force]\n{__doc__}")
    model_uri, env = args
    try:
        deploy(model_uri, env, force=force, expected_name=get_model_name(env))
    except DeploymentRefused as refused:
        raise SystemExit(str(refused)) from None


if __name__ == "__main__":
    main(sys.argv[1:])
