"""Whose namespace a dev run writes to: by default each data scientist's own.

Two data scientists who train in ``dev`` with one set of names overwrite each other's
{% if cookiecutter.include_feature_store == "yes" %}feature tables, {% endif %}models{% if cookiecutter.include_models_in_unity_catalog == "yes" %}, predictions{% endif %} and aliases. So every dev name gets the short name of the
user who runs the notebook (``jane.doe@example.com`` -> ``jane_doe_86e0b9``, see ``short_name``):
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %} the Unity Catalog schema
``<dev catalog>.<schema>_jane_doe_86e0b9`` holds their model, predictions{% if cookiecutter.include_feature_store == "yes" %} and feature tables{% endif %}
(``fare_model.unity_catalog.name_in``; ``enter`` creates it), and the experiment is
``<experiment>-dev-jane_doe_86e0b9``.
{%- else %}
the model ``<model>-dev-jane_doe_86e0b9`` and the experiment ``<experiment>-dev-jane_doe_86e0b9``
(``steps.utils``){% if cookiecutter.include_feature_store == "yes" %}, the feature tables ``<database>.<table>_dev_jane_doe_86e0b9``
(``features.feature_tables``){% endif %}.
{%- endif %}
Test, staging and prod names never change.

The one setting is ``PER_USER_DEV_NAMESPACE``: set it to ``False`` for one dev namespace that
the whole team shares (the names without the user).

The user comes from the runtime: every notebook that can run in ``dev`` calls ``enter(spark,
env)`` before it names anything; on Databricks ``current_user()`` is whoever runs the notebook
or the job (its run-as identity). Runs off Databricks (the local pipeline, unit tests) never
call it and keep the shared names: their stores are on the machine that runs them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Optional

# The one setting: True gives every data scientist a dev namespace of their own; False makes
# every dev run share one (the names without a user part).
PER_USER_DEV_NAMESPACE = True

DEV_ENV = "dev"
CURRENT_USER_QUERY = "SELECT current_user() AS user"
_NOT_NAME_CHARACTERS = re.compile(r"[^a-z0-9]+")

# The user whose namespace this process's dev names belong to; set by ``enter``.
_user: Optional[str] = None


def short_name(user: str) -> str:
    """The part of a user name that dev names carry: ``Jane.Doe@example.com`` -> ``jane_doe_86e0b9``.

    Lower-case letters, digits and '_' only, so that it needs no quoting in a Unity Catalog
    schema, a Hive table or a model name: the part before '@', each run of other characters
    made one '_'. That normalisation maps different users to one name (``jane.doe@a.com``,
    ``jane_doe@b.com``, ``jane-doe@x``), so whenever it changed the lower-cased user name, the
    first 6 hex digits of that name's SHA-256 are appended: two users share a namespace only
    if their names do, up to a 1 in 16 million chance per pair. User names are compared
    lower-cased, as Databricks does. Raises ``ValueError`` when nothing usable is left.
    """
    full = user.lower()
    name = _NOT_NAME_CHARACTERS.sub("_", full.split("@", 1)[0]).strip("_")
    if not name:
        raise ValueError(f"user {user!r} has no letters or digits before '@' to name a dev namespace with")
    if name == full:
        return name
    return f"{name}_{hashlib.sha256(full.encode()).hexdigest()[:6]}"


def current_user(spark: Any) -> str:
    """The user Spark runs as: on Databricks whoever runs the notebook, or the job's run-as identity."""
    return spark.sql(CURRENT_USER_QUERY).first()["user"]


def set_user(user: Optional[str]) -> None:
    """Make ``user``'s namespace the one dev names use in this process (None: the shared one)."""
    global _user
    _user = short_name(user) if user is not None else None


def dev_user(env: str) -> Optional[str]:
    """The short user name that ``env``'s names carry, or None when they carry none.

    None for every environment but dev, when ``PER_USER_DEV_NAMESPACE`` is off, and when no
    notebook has called ``enter`` (local runs).
    """
    if env != DEV_ENV or not PER_USER_DEV_NAMESPACE:
        return None
    return _user


def enter(spark: Any, env: str) -> Optional[str]:
    """Start a notebook's run in ``env``: in dev, take the current user's namespace; return its user part.

    Call it before naming any model, experiment or table. Outside dev, or with
    ``PER_USER_DEV_NAMESPACE`` off, it changes nothing and returns None.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    In dev it creates the user's schema if it is missing (``CREATE SCHEMA IF NOT EXISTS``:
    the dev catalog grants data scientists USE CATALOG and CREATE SCHEMA, docs/mlops-setup.md;
    they own the schema they create, so they may create models and tables in it).
{%- endif %}
    """
    if env != DEV_ENV or not PER_USER_DEV_NAMESPACE:
        return None
    set_user(current_user(spark))
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    from fare_model.unity_catalog import create_schema_statement

    spark.sql(create_schema_statement(env))
{%- endif %}
    return _user
