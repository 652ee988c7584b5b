"""The one definition of the feature tables: names per environment and how trips look them up.

The writer (GenerateAndWriteFeatures), the trainer (TrainWithFeatureStore), the local
pipeline and the CI integration test (its scripts/submit_integration_test.py) all take
the tables from here, so they always agree. In the original stack the training notebook
read unsuffixed tables while staging and the CI test wrote ``_staging``/``_test`` ones.
Terraform cannot read Python: the write-feature-table job's ``feature_tasks`` repeats the
modules, and tests/features/test_feature_tables.py fails until the two agree.

A CI integration run writes and reads feature tables of its own (``FeatureTable.name`` with a
``ci_run_id``, named after the CI platform's run), so concurrent pull requests, and a pull
request next to the staging job, never overwrite the features another run trains, validates
or scores with; the run drops them at its end (notebooks/DropCiFeatureTables). Scheduled
jobs pass no run id and keep the long-lived tables.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

The tables are Unity Catalog tables, ``<catalog>.<schema>.<table>``, in the environment's
catalog and the project's schema (databricks-config/unity-catalog.json, read through
``fare_model.unity_catalog``).
{%- endif %}

Standard library only: the CI script imports this module without the ML dependencies.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}

from fare_model.unity_catalog import name_in

{% else %}

from steps.dev_namespace import dev_user

# Named after the project (hooks/derived.py: feature_store_database), so two projects in
# one workspace never share feature tables.
DATABASE = "{{ cookiecutter | derived("feature_store_database") }}"
{% endif -%}
ENVIRONMENTS = ({{ cookiecutter | environment_names("dev", "ci", "deploy") | map("tojson") | join(", ") }})
PRIMARY_KEY = "zip"
# The environment of the CI integration test: the only one whose tables may belong to one CI run.
CI_ENV = {{ (cookiecutter | environment_names("ci"))[0] | tojson }}
_NOT_NAME_CHARACTERS = re.compile(r"[^a-z0-9_]")


def ci_run_part(ci_run_id: str) -> str:
    """The part of a table name that names CI run ``ci_run_id``: ``"7001-2"`` -> ``"ci_7001_2"``.

    Lower-cased, every character other than letters, digits and '_' made '_', so that the
    name needs no quoting in a Hive or Unity Catalog table name (the rule the predictions
    table of a CI run follows, ``submit_integration_test.py``). Raises ``ValueError`` for an
    empty id.
    """
    if not ci_run_id:
        raise ValueError("ci_run_id must not be empty; the CI platform's run id, e.g. 7001_1")
    return "ci_" + _NOT_NAME_CHARACTERS.sub("_", ci_run_id.lower())


@dataclass(frozen=True)
class FeatureTable:
    """A feature table and the trip columns that look rows up in it.

    ``module`` is the features/ module that computes the table, ``source_timestamp``
    the trip column the module windows over (it also names the table's timestamp
    key), ``lookup_key`` the trip column matched against the table's ``zip``, and
    ``rounding_minutes`` the step to which a trip's time, less the availability lag, is
    rounded down before the point-in-time lookup (the table's window slide;
    ``features.point_in_time.lookup_time``).
    """

    base_name: str
    module: str
    source_timestamp: str
    lookup_key: str
    rounding_minutes: int
    feature_names: tuple[str, ...]

    @property
    def lookback_seconds(self) -> int:
        """How far before a trip's rounded time a feature row may be stamped and still count.

        Rows are stamped every ``rounding_minutes``, so this admits only the row of the
        window ending exactly at the trip's rounded time: a quiet window (no row) means no
        trips, never the counts of the last busy window, however old. (One second short of
        a slide, because the Databricks client treats a zero look-back as none.)
        """
        return self.rounding_minutes * 60 - 1

    @property
    def job_task_key(self) -> str:
        """Key of the task that writes this table, in the feature job and the CI test: ``PickupFeatures``."""
        return "".join(part.capitalize() for part in self.module.split("_"))

    @property
    def timestamp_lookup_key(self) -> str:
        """Trip column holding the time the point-in-time lookup reads at (``features.point_in_time.lookup_time``)."""
        return "rounded_" + self.source_timestamp.removeprefix("tpep_")

    def name(self, env: str, ci_run_id: str = "") -> str:
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
        """Full table name in ``env``: ``<env's catalog>.<schema>.<base_name>``.

        Every environment, dev included, has a catalog of its own, so the names need no suffix;
        in dev the schema is the user's own (``steps/dev_namespace.py``). With ``ci_run_id``
        (only in the CI environment), the table of that CI run: ``<base_name>_ci_<run>``
        (``ci_run_part``) in the same schema. Raises ``ValueError`` for an unknown environment,
        or a ``ci_run_id`` outside the CI environment.
        """
        _check(env, ci_run_id)
        return name_in(env, f"{self.base_name}_{ci_run_part(ci_run_id)}" if ci_run_id else self.base_name)
{%- else %}
        """Full table name in ``env``: prod has no suffix, other environments ``_<env>``; dev
        ``_dev_<user>`` in a data scientist's own namespace (``steps/dev_namespace.py``). With
        ``ci_run_id`` (only in the CI environment), the table of that CI run:
        ``<base_name>_<env>_ci_<run>`` (``ci_run_part``). Raises ``ValueError`` for an unknown
        environment, or a ``ci_run_id`` outside the CI environment."""
        _check(env, ci_run_id)
        user = dev_user(env)
        suffix = "" if env == {{ (cookiecutter | environment_names("deploy"))[-1] | tojson }} else f"_{env}_{user}" if user else f"_{env}"
        if ci_run_id:
            suffix += f"_{ci_run_part(ci_run_id)}"
        return f"{DATABASE}.{self.base_name}{suffix}"
{%- endif %}


def _check(env: str, ci_run_id: str) -> None:
    """Refuse an unknown ``env``, and a CI run's tables anywhere but the CI environment: a
    scheduled job given a run id would write tables that nothing reads and nothing drops."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    if ci_run_id and env != CI_ENV:
        raise ValueError(
            f"ci_run_id {ci_run_id!r} is for env {CI_ENV!r} (the CI integration test) only, not {env!r}; "
            "leave it empty, e.g. ci_run_id=''"
        )


PICKUP_FEATURES = FeatureTable(
    base_name="trip_pickup_features",
    module="pickup_features",
    source_timestamp="tpep_pickup_datetime",
    lookup_key="pickup_zip",
    rounding_minutes=15,
    feature_names=("mean_fare_window_1h_pickup_zip", "count_trips_window_1h_pickup_zip"),
)
DROPOFF_FEATURES = FeatureTable(
    base_name="trip_dropoff_features",
    module="dropoff_features",
    source_timestamp="tpep_dropoff_datetime",
    lookup_key="dropoff_zip",
    rounding_minutes=30,
    feature_names=("count_trips_window_30m_dropoff_zip", "dropoff_is_weekend"),
)
FEATURE_TABLES = (PICKUP_FEATURES, DROPOFF_FEATURES)


def table_for_module(module: str) -> FeatureTable:
    """The table that the features/ module ``module`` (e.g. ``pickup_features``) computes."""
    for table in FEATURE_TABLES:
        if table.module == module:
            return table
    known = ", ".join(table.module for table in FEATURE_TABLES)
    raise ValueError(f"no feature table is computed by module {module!r}; known modules: {known}")


@dataclass(frozen=True)
class FeatureLookup:
    """Which features to take from which table, matched on which trip columns.

    The same fields as the Databricks client's ``FeatureLookup``; plain data so that
    a locally logged model can carry its lookups in its MLflow metadata.
    """

    table_name: str
    feature_names: tuple[str, ...]
    lookup_key: str
    timestamp_lookup_key: str
    lookback_seconds: Optional[int] = None  # None: any earlier row counts

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "feature_names": list(self.feature_names)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureLookup":
        return cls(
            table_name=data["table_name"],
            feature_names=tuple(data["feature_names"]),
            lookup_key=data["lookup_key"],
            timestamp_lookup_key=data["timestamp_lookup_key"],
            lookback_seconds=data.get("lookback_seconds"),
        )


def feature_lookups(env: str, ci_run_id: str = "") -> list[FeatureLookup]:
    """The lookups a model trained in ``env`` uses, reading the tables written in ``env`` (by CI
    run ``ci_run_id``, if given: see ``FeatureTable.name``)."""
    return [
        FeatureLookup(
            table_name=table.name(env, ci_run_id),
            feature_names=table.feature_names,
            lookup_key=table.lookup_key,
            timestamp_lookup_key=table.timestamp_lookup_key,
            lookback_seconds=table.lookback_seconds,
        )
        for table in FEATURE_TABLES
    ]
