"""What the MLflow 3 modules agree on in the model registry: aliases, tags and URIs.

Aliases replace the deprecated registry stages: ``challenger`` is the latest version that
passed validation, ``champion`` the one batch inference serves. Tags on a model version
carry facts the next task needs: the training cutoff (so validation holds out the right
trips) and the validation status (so deployment can refuse an unvalidated version).
"""

from __future__ import annotations

import enum
import re
from typing import Optional

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
TRAINING_CUTOFF_TAG = "training_cutoff"
VALIDATION_STATUS_TAG = "validation_status"
VALIDATION_RUN_TAG = "validation_run_id"

_MODEL_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


class ValidationStatus(str, enum.Enum):
    """Outcome of ModelValidation recorded on a model version (tag ``validation_status``)."""

    PASSED = "passed"
    FAILED = "failed"
    DISABLED = "disabled"  # validation was switched off on purpose (run_mode=disabled)


def model_version_uri(name: str, version: str) -> str:
    return f"models:/{name}/{version}"


def parse_model_version_uri(model_uri: str) -> tuple[str, str]:
    """Name and version of ``models:/<name>/<version>``; alias and stage URIs are refused.

    Raises ``ValueError`` with an example, because deployment must name one exact version.
    """
    match = _MODEL_VERSION_URI.match(model_uri)
    if match is None:
        raise ValueError(f"Expected a model version URI such as models:/my-model/3, got {model_uri!r}")
    return match["name"], match["version"]


def version_with_alias(client: MlflowClient, name: str, alias: str) -> Optional[str]:
    """The version of ``name`` that holds ``alias``, or None when no version (or no model) does."""
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as error:
        if error.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return None
        raise
    version = aliases.get(alias)
    return None if version is None else str(version)


def resolve_alias(model_name: str, alias: str = CHAMPION) -> str:
    """``models:/<name>/<version>`` of the version that holds ``alias`` now.

    Batch inference resolves the alias once, so a deployment while it runs cannot mix two
    models. Raises ``mlflow.exceptions.MlflowException`` when no version holds it (nothing
    deployed yet).
    """
    version = MlflowClient().get_model_version_by_alias(model_name, alias).version
    return model_version_uri(model_name, str(version))


_MODEL_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_-]+)$")


def pinned_version_uri(model_uri: str) -> str:
    """``model_uri`` as ``models:/<name>/<version>``: an alias URI (``models:/<name>@champion``) is resolved now.

    So that predictions record the version number that made them, never the alias. Raises
    ``ValueError`` with an example for any other URI (a stage, a run), and
    ``mlflow.exceptions.MlflowException`` when no version holds the alias.
    """
    alias = _MODEL_ALIAS_URI.match(model_uri)
    if alias is not None:
        return resolve_alias(alias["name"], alias["alias"])
    name, version = parse_model_version_uri(model_uri)
    return model_version_uri(name, version)


def training_cutoff(client: MlflowClient, name: str, version: str) -> pd.Timestamp:
    """The first pickup time training held out, from the version's ``training_cutoff`` tag.

    Raises ``ValueError`` for a version that was not registered by ``fare_model.training``.
    """
    value = client.get_model_version(name, version).tags.get(TRAINING_CUTOFF_TAG)
    if not value:
        raise ValueError(
            f"Version {version} of {name} has no {TRAINING_CUTOFF_TAG!r} tag: register models with "
            "fare_model.training so that validation knows which trips training did not see"
        )
    return pd.Timestamp(value)


def validation_status(client: MlflowClient, name: str, version: str) -> Optional[ValidationStatus]:
    """The recorded validation outcome of a version, or None when it was never validated."""
    value = client.get_model_version(name, version).tags.get(VALIDATION_STATUS_TAG)
    return ValidationStatus(value) if value in {s.value for s in ValidationStatus} else None
