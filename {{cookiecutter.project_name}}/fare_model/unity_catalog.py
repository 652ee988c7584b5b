"""The seam between the ML code and Unity Catalog: everything that only a workspace can do.

Unity Catalog names every model and table ``<catalog>.<schema>.<name>``. Which catalog and
schema each environment uses is stated once, in ``databricks-config/unity-catalog.json``
(Terraform creates the schema, the registered model and the grants from the same file). On
Databricks the jobs call ``use_unity_catalog_registry`` before they touch the registry and
``write_table`` to save predictions; on this machine the local pipeline and the tests keep
the embedded MLflow store (three-level names and aliases work there too) and parquet files,
so nothing here needs a workspace to be tested: the unit tests check what it hands over.

Names need only the standard library (MLflow is imported where the registry is set), so the
CI script and ``features/feature_tables.py`` can build them without the ML dependencies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from steps.predictions import ScoringWindow

# MLflow's registry URI of Unity Catalog: models are registered under three-level names and
# served by alias (MLflow 3 on Databricks defaults to it; the jobs say so explicitly).
REGISTRY_URI = "databricks-uc"
SETTINGS_PATH = Path(__file__).resolve().parents[1] / "databricks-config" / "unity-catalog.json"
_NAME_PART = re.compile(r"[a-z0-9_]+")


def settings() -> dict:
    """The contents of ``databricks-config/unity-catalog.json``: ``catalogs`` (environment ->
    catalog), ``schema``, ``model``, ``predictions_table`` and ``read_group``."""
    return json.loads(SETTINGS_PATH.read_text())


def three_level_name(catalog: str, schema: str, name: str) -> str:
    """``catalog.schema.name``, each part checked so that it needs no quoting in SQL.

    Raises ``ValueError`` naming the part that is not lower-case letters, digits and '_'.
    """
    for kind, part in (("catalog", catalog), ("schema", schema), ("name", name)):
        _check_part(kind, part)
    return f"{catalog}.{schema}.{name}"


def _check_part(kind: str, part: str) -> None:
    if not _NAME_PART.fullmatch(part):
        raise ValueError(f"Unity Catalog {kind} {part!r} must be lower-case letters, digits and '_'")


def schema_in(env: str) -> str:
    """``catalog.schema`` that ``env``'s models and tables live in.

    The project's schema in the environment's catalog; in dev, by default, the schema of the
    user who runs the notebook, ``<schema>_<user>`` (``steps.dev_namespace``), so that data
    scientists never overwrite each other's models and tables. Raises ``ValueError`` for an
    unknown environment.
    """
    from steps.dev_namespace import dev_user

    names = settings()
    if env not in names["catalogs"]:
        raise ValueError(f"Unknown environment {env!r}; expected one of {', '.join(names['catalogs'])}")
    user = dev_user(env)
    catalog, schema = names["catalogs"][env], f"{names['schema']}_{user}" if user else names["schema"]
    _check_part("catalog", catalog)
    _check_part("schema", schema)
    return f"{catalog}.{schema}"


def name_in(env: str, name: str) -> str:
    """The three-level name of the object ``name`` in ``env``'s schema (``schema_in``)."""
    return three_level_name(*schema_in(env).split("."), name)


def create_schema_statement(env: str) -> str:
    """SQL that creates ``env``'s schema when it is missing (dev runs create their own; Terraform
    creates the staging and prod schemas, and the CI principal's test schema exists already)."""
    return f"CREATE SCHEMA IF NOT EXISTS {schema_in(env)}"


def use_unity_catalog_registry() -> None:
    """Register and load models in Unity Catalog whenever tracking goes to Databricks (the jobs, CD).

    Any other tracking URI (the local pipeline, the tests, the deployment command run against
    a local store) keeps the registry of its own store.
    """
    import mlflow

    if mlflow.get_tracking_uri().startswith("databricks"):
        mlflow.set_registry_uri(REGISTRY_URI)


def write_table(predictions: DataFrame, table_name: str, window: Optional[ScoringWindow] = None) -> str:
    """Append ``predictions`` to the Delta table ``table_name`` (``catalog.schema.table``); return the run id.

    Earlier runs' rows stay (``steps.predictions``: keyed by record, model version and run);
    ``window`` is the run's ``ScoringWindow``, the part of the table the write compares with.
    The job's principal needs USE CATALOG, USE SCHEMA, CREATE TABLE and MODIFY (Terraform
    grants them). Raises ``ValueError`` for a name that is not three checked parts.
    """
    from steps.predictions import append_predictions

    parts = table_name.split(".")
    if len(parts) != 3:
        raise ValueError(f"Expected a three-level table name such as staging.my_schema.predictions, got {table_name!r}")
    return append_predictions(predictions, three_level_name(*parts), window=window)
