"""Promote a registered model version to the stage its environment serves from.

CD runs it from the project root, with ``MLFLOW_TRACKING_URI=databricks``::

    python steps/deploy.py "models:/<model name>/<version>" <staging|prod>
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``steps`` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlflow.tracking import MlflowClient  # noqa: E402

from steps.utils import get_deployed_model_stage_for_env  # noqa: E402

_MODEL_VERSION_URI = re.compile(r"^models:/(?P<name>[^/]+)/(?P<version>\d+)$")


def parse_model_version_uri(model_uri: str) -> tuple[str, str]:
    """Name and version of a ``models:/<name>/<version>`` URI (stage or alias URIs are refused)."""
    match = _MODEL_VERSION_URI.match(model_uri)
    if match is None:
        raise ValueError(f"Expected a model version URI like models:/<name>/<version>, got {model_uri!r}")
    return match["name"], match["version"]


def deploy(model_uri: str, env: str) -> str:
    """Move the model version to ``env``'s stage, archiving the versions that held it; returns the stage."""
    name, version = parse_model_version_uri(model_uri)
    stage = get_deployed_model_stage_for_env(env)
    client = MlflowClient()
    if client.get_model_version(name, version).current_stage != stage:
        client.transition_model_version_stage(name, version, stage, archive_existing_versions=True)
    print(f"Deployed {model_uri} to {env}: version {version} of {name} is in stage {stage}")
    return stage


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(f"usage: python steps/deploy.py <model_uri> <env>\n{__doc__}")
    deploy(*argv)


if __name__ == "__main__":
    main(sys.argv[1:])
