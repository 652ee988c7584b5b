"""Each data scientist writes to a dev namespace of their own; the names of test and of the deploy
environments (staging, prod) never move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

{% if cookiecutter.include_feature_store == "yes" -%}
from features.feature_tables import FEATURE_TABLES
{% endif -%}
from steps import dev_namespace, utils

USERS = ("alice.smith@example.com", "bob@example.com")
SHARED_ENVS = tuple(env for env in utils.FIXED_NAME_ENVS if env != "dev") + utils.TERRAFORM_ENVS


@pytest.fixture
def terraform_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deploy environments' names, as CI/CD commits them."""
    monkeypatch.setattr(utils, "TERRAFORM_OUTPUT_DIR", tmp_path)
    for env in utils.TERRAFORM_ENVS:
        outputs = {
            "{{ cookiecutter.project_name }}_experiment_name": {"value": f"/experiments/{env}"},
            "{{ cookiecutter.project_name }}_model_name": {"value": f"{env}-model"},
        }
        (tmp_path / f"{env}.json").write_text(json.dumps(outputs))


def names(env: str) -> list[str]:
    """Every model, experiment and table name a run in ``env`` writes to."""
    written = [utils.get_model_name(env), utils.get_experiment_name(env)]
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    written.append(utils.get_predictions_table(env))
{%- endif %}
{%- if cookiecutter.include_feature_store == "yes" %}
    written += [table.name(env) for table in FEATURE_TABLES]
{%- endif %}
    return written


def names_as(user: str, env: str) -> list[str]:
    dev_namespace.set_user(user)
    try:
        return names(env)
    finally:
        dev_namespace.set_user(None)


def test_two_data_scientists_in_dev_write_to_different_models_experiments_and_tables() -> None:
    alice, bob = (names_as(user, "dev") for user in USERS)
    assert not set(alice) & set(bob)
    assert all("alice_smith" in name for name in alice) and all("bob" in name for name in bob)
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    # Unity Catalog: one schema per user in the dev catalog, the project's schema plus the user.
    from fare_model.unity_catalog import schema_in, settings

    dev_namespace.set_user(USERS[0])
    assert schema_in("dev") == f"{settings()['catalogs']['dev']}.{settings()['schema']}_alice_smith_7dcd3a"
    assert {name.rsplit(".", 1)[0] for name in alice if name.count(".") == 2} == {schema_in("dev")}
{%- endif %}


@pytest.mark.usefixtures("terraform_outputs")
def test_test_staging_and_prod_names_do_not_depend_on_the_user() -> None:
    for env in SHARED_ENVS:
        assert names_as(USERS[0], env) == names_as(USERS[1], env) == names(env), env


def test_one_setting_gives_the_team_one_shared_dev_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = names("dev")  # what a run off Databricks (no user) names
    monkeypatch.setattr(dev_namespace, "PER_USER_DEV_NAMESPACE", False)
    assert names_as(USERS[0], "dev") == names_as(USERS[1], "dev") == shared


@pytest.mark.parametrize(
    ("user", "short"),
    [
        ("Alice.Smith@example.com", "alice_smith_7dcd3a"),
        ("bob-jones+ml@example.com", "bob_jones_ml_0bc35e"),
        ("6f1c2d3e-0000-4a4a-9b9b-123456789abc", "6f1c2d3e_0000_4a4a_9b9b_123456789abc_6cdf9e"),
        ("jane_doe", "jane_doe"),  # already a name: kept as it is
    ],
)
def test_short_name_is_the_user_in_characters_every_name_accepts(user: str, short: str) -> None:
    assert dev_namespace.short_name(user) == short


def test_users_whose_names_normalise_alike_get_namespaces_of_their_own() -> None:
    users = ("jane.doe@a.com", "jane_doe@b.com", "jane-doe@x", "Jane.Doe@b.com", "jane_doe")
    short = [dev_namespace.short_name(user) for user in users]
    assert len(set(short)) == len(users), short
    assert dev_namespace.short_name("JANE.DOE@A.COM") == short[0]  # one user, however spelt


def test_a_user_name_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(ValueError, match=r"user '\.\.@example\.com' has no letters or digits"):
        dev_namespace.short_name("..@example.com")


class _Spark:
    """What ``enter`` asks of the runtime's ``spark``: who runs the notebook, and SQL to run."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.statements: list[str] = []

    def sql(self, query: str):
        self.statements.append(query)
        row = {"user": self.user}
        return type("Result", (), {"first": staticmethod(lambda: row)})()


def test_enter_takes_the_notebook_user_only_in_dev() -> None:
    spark = _Spark(USERS[1])
    assert dev_namespace.enter(spark, "staging") is None and spark.statements == []
    assert dev_namespace.enter(spark, "dev") == "bob_5ff860"
    assert dev_namespace.dev_user("dev") == "bob_5ff860" and dev_namespace.dev_user("test") is None
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
    # The user's schema is created if missing (data scientists hold CREATE SCHEMA on the dev catalog).
    from fare_model.unity_catalog import schema_in

    assert spark.statements == [dev_namespace.CURRENT_USER_QUERY, f"CREATE SCHEMA IF NOT EXISTS {schema_in('dev')}"]
{%- else %}
    assert spark.statements == [dev_namespace.CURRENT_USER_QUERY]
{%- endif %}
