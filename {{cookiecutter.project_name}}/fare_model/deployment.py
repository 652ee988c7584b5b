"""Deploy a model version: move the ``champion`` alias to it.

``notebooks/TriggerModelDeploy`` and CD call it after ModelValidation; run it by hand from
the project root (``MLFLOW_TRACKING_URI=databricks`` to reach a workspace)::

    python -m fare_model.deployment models:/<model name>/<version> <dev|staging|prod> [--force]

It refuses, unless ``--force`` is given, a version of another model than the
environment's, a version without a passing validation (a version whose validation was
explicitly disabled is accepted), and a version older than the current champion (a
retried or late deployment must not roll production back by accident).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from mlflow.tracking import MlflowClient

from fare_model.registry import (
    CHALLENGER,
    CHAMPION,
    ValidationStatus,
    parse_model_version_uri,
    validation_status,
    version_with_alias,
)

DEPLOYABLE = (ValidationStatus.PASSED, ValidationStatus.DISABLED)


class DeploymentRefused(Exception):
    """The version may not become champion; the message says why and how to override."""


def reasons_to_refuse(client: MlflowClient, model_uri: str, expected_model_name: str) -> list[str]:
    """Every reason ``model_uri`` may not become ``expected_model_name``'s champion (empty: none)."""
    name, version = parse_model_version_uri(model_uri)
    if name != expected_model_name:
        return [f"{model_uri} is a version of {name!r}, not of this environment's model {expected_model_name!r}"]
    reasons = []
    status = validation_status(client, name, version)
    if status not in DEPLOYABLE:
        found = status.value if status else "no validation result"
        reasons.append(f"version {version} has {found}; only versions that passed ModelValidation are deployed")
    champion = version_with_alias(client, name, CHAMPION)
    if champion is not None and int(version) < int(champion):
        reasons.append(f"version {version} is older than the current {CHAMPION}, version {champion}")
    return reasons


def promote_to_champion(model_uri: str, expected_model_name: str, force: bool = False) -> str:
    """Point ``champion`` at the version of ``model_uri``; returns that version.

    The ``challenger`` alias is removed when it marked this version. Raises
    ``DeploymentRefused`` (see ``reasons_to_refuse``) unless ``force`` is set, and
    ``ValueError`` for a URI that does not name one version.
    """
    client = MlflowClient()
    name, version = parse_model_version_uri(model_uri)
    reasons = reasons_to_refuse(client, model_uri, expected_model_name)
    if reasons and not force:
        raise DeploymentRefused(f"Not deploying {model_uri}: " + "; ".join(reasons) + " (use --force to override)")
    client.set_registered_model_alias(name, CHAMPION, version)
    if version_with_alias(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)
    print(f"Deployed {model_uri}: {name}@{CHAMPION} is version {version}" + (" (forced)" if reasons else ""))
    return version


def main(argv: Optional[Sequence[str]] = None) -> None:
    from steps.utils import get_model_name

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_uri", help="models:/<model name>/<version>")
    parser.add_argument("env", choices={{ cookiecutter | environment_names("dev", "deploy") | tojson }}, help="environment whose champion to set")
    parser.add_argument("--force", action="store_true", help="deploy despite the refusals listed above")
    args = parser.parse_args(argv)
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    from fare_model.unity_catalog import use_unity_catalog_registry

    use_unity_catalog_registry()
{%- endif %}
    try:
        promote_to_champion(args.model_uri, get_model_name(args.env), force=args.force)
    except (DeploymentRefused, ValueError) as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from error


if __name__ == "__main__":
    main()
