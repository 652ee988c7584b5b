"""Each validation rule, called directly as the pure function it is."""

from __future__ import annotations

import pytest

from hooks import validation as v
from hooks.variants import UNSUPPORTED, unsupported_reason


@pytest.mark.parametrize("version", ["2.6.0", "2.7.1", "2.10.0", "3.0.0", "2.6.0.dev0"])
def test_recent_cookiecutter_is_accepted(version: str) -> None:
    assert v.check_cookiecutter_version(version) is None


@pytest.mark.parametrize("version", ["2.1.1", "2.5.0", "1.7.3", "2.1.1.dev0"])
def test_old_cookiecutter_is_refused_with_upgrade_command(version: str) -> None:
    message = v.check_cookiecutter_version(version)
    assert message is not None
    assert version in message and "pip install 'cookiecutter>=2.6.0'" in message


@pytest.mark.parametrize(
    ("name", "reported"),
    [("my project", "a space"), ("my/project", "'/'"), ("my\\project", "'\\'"), ("my.project", "'.'")],
)
def test_project_name_forbidden_characters(name: str, reported: str) -> None:
    message = v.check_project_name_forbidden_characters(name)
    assert message is not None
    assert f"project_name '{name}'" in message and reported in message and "'my-mlops-project'" in message


@pytest.mark.parametrize("name", ["my-mlops-project", "ml_project_2", "27896cf3-bb3e-476e-8129-96df0406d5c7"])
def test_good_project_names_pass_every_name_rule(name: str) -> None:
    assert v.check_project_name_forbidden_characters(name) is None
    assert v.check_project_name_characters(name) is None
    assert v.check_project_name_alphanumeric_length(name) is None
    assert v.check_project_name_length(name) is None


@pytest.mark.parametrize("name", ["proj$", "proj'x", 'proj"x', "proj#1", "proj:x", "proj{x", "projé"])
def test_project_name_characters_outside_the_safe_set(name: str) -> None:
    message = v.check_project_name_characters(name)
    assert message is not None and f"'{name}'" in message


def test_project_name_characters_leaves_forbidden_ones_to_their_own_rule() -> None:
    assert v.check_project_name_characters("my project") is None


@pytest.mark.parametrize("name", ["a", "a-b", "--", "_a_b_"])
def test_project_name_needs_three_alphanumeric_characters(name: str) -> None:
    message = v.check_project_name_alphanumeric_length(name)
    assert message is not None and f"project_name '{name}'" in message


def test_project_name_length_limit() -> None:
    assert v.check_project_name_length("p" * v.MAX_PROJECT_NAME_LENGTH) is None
    message = v.check_project_name_length("p" * (v.MAX_PROJECT_NAME_LENGTH + 1))
    assert message is not None and "at most 40" in message


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        (v.check_parent_dir_is_absolute, "relative/dir"),
        (v.check_parent_dir_is_not_root, "/"),
        (v.check_parent_dir_is_not_root, "///"),
        (v.check_parent_dir_outside_repos, "/Repos"),
        (v.check_parent_dir_outside_repos, "/Repos/"),
        (v.check_parent_dir_outside_repos, "/Repos/someone/project"),
        (v.check_parent_dir_not_users_root_or_home, "/Users"),
        (v.check_parent_dir_not_users_root_or_home, "/Users/"),
        (v.check_parent_dir_not_users_root_or_home, "/Users/someone@example.com"),
        (v.check_parent_dir_not_users_root_or_home, "/Users/someone@example.com/"),
        (v.check_parent_dir_characters, "/my dir"),
        (v.check_parent_dir_characters, '/my"dir'),
        (v.check_parent_dir_segments, "/a/../Repos"),
        (v.check_parent_dir_segments, "/a//b"),
    ],
)
def test_parent_dir_rule_rejects(rule, path: str) -> None:
    message = rule(path)
    assert message is not None
    assert f"mlflow_experiment_parent_dir '{path}'" in message and "for example '/" in message


@pytest.mark.parametrize(
    "path",
    ["/my-mlops-project", "/Users/someone@example.com/project", "/Repos-fake", "/Users-fake", "/ml-projects/x", "/a/b/"],
)
def test_parent_dir_rules_accept(path: str) -> None:
    rules = [
        v.check_parent_dir_is_absolute,
        v.check_parent_dir_is_not_root,
        v.check_parent_dir_outside_repos,
        v.check_parent_dir_not_users_root_or_home,
        v.check_parent_dir_characters,
        v.check_parent_dir_segments,
    ]
    assert [rule(path) for rule in rules] == [None] * len(rules)


@pytest.mark.parametrize(
    "url",
    [
        "https://adb-1.2.azuredatabricks.net",
        "https://adb-1.2.azuredatabricks.net/?o=123#job/1/run/2",
        "https://dbc-1234.cloud.databricks.com/",
        "https://1234.5.gcp.databricks.com#ml/dashboard",
    ],
)
def test_https_hosts_are_accepted(url: str) -> None:
    assert v.check_host("databricks_staging_workspace_host", url) is None


@pytest.mark.parametrize("url", ["http://adb-1.2.azuredatabricks.net", "adb-1.2.azuredatabricks.net", "ftp://x.y"])
def test_host_must_use_https_and_message_quotes_it(url: str) -> None:
    message = v.check_host("databricks_prod_workspace_host", url)
    assert message is not None
    assert f"databricks_prod_workspace_host '{url}'" in message and "'https://" in message


@pytest.mark.parametrize("url", ["https://", "https:///path", "https://no_dots", "https://a b.com", "https://[::1"])
def test_host_needs_a_real_host_name(url: str) -> None:
    message = v.check_host("databricks_staging_workspace_host", url)
    assert message is not None and "host name" in message


@pytest.mark.parametrize("branch", ["main", "release", "feature/x-1", "v1.2"])
def test_good_branch_names(branch: str) -> None:
    assert v.check_branch_name("default_branch", branch) is None


@pytest.mark.parametrize("branch", ["", "bad..branch", "-x", "a b", "x/", "x.lock", "/x", "a//b", "x:y"])
def test_bad_branch_names(branch: str) -> None:
    message = v.check_branch_name("release_branch", branch)
    assert message is not None and f"release_branch '{branch}'" in message


@pytest.mark.parametrize("group", ["users", "ml team", "data-science@corp"])
def test_good_read_user_groups(group: str) -> None:
    assert v.check_read_user_group(group) is None


@pytest.mark.parametrize("group", ["", "   ", 'a"b', "a\\b", "${x}", "a\nb"])
def test_bad_read_user_groups(group: str) -> None:
    message = v.check_read_user_group(group)
    assert message is not None and "read_user_group" in message and "'users'" in message


def test_unsupported_combination_message_says_what_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UNSUPPORTED, ("gcp", None, "yes"), "gcp with the feature store is not ready. Supported: X.")
    assert unsupported_reason("gcp", "GitHub Actions", "yes") is not None
    assert unsupported_reason("gcp", "GitHub Actions", "no") is None
    message = v.check_supported_combination("gcp", "GitHub Actions", "yes")
    assert message is not None and "cloud='gcp'" in message and "Supported: X." in message


def test_find_problems_reports_every_broken_answer_in_order() -> None:
    answers = {
        "project_name": "a",
        "cloud": "aws",
        "cicd_platform": "GitHub Actions",
        "mlflow_experiment_parent_dir": "/Repos/x",
        "databricks_staging_workspace_host": "http://x.y",
        "databricks_prod_workspace_host": "https://x.y",
        "default_branch": "main",
        "release_branch": "release",
        "read_user_group": "users",
        "include_feature_store": "no",
    }
    problems = v.find_problems(answers, "2.7.1")
    assert [p.split(" '")[0] for p in problems] == [
        "project_name",
        "mlflow_experiment_parent_dir",
        "databricks_staging_workspace_host",
    ]
    assert v.find_problems({**answers, "project_name": "abc", "mlflow_experiment_parent_dir": "/x",
                            "databricks_staging_workspace_host": "https://x.y"}, "2.7.1") == []


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_yes_or_no_accepts_the_two_answers(answer: str) -> None:
    assert v.check_yes_or_no("include_mlflow_recipes", answer) is None


@pytest.mark.parametrize("answer", ["Yes", "true", "", "y"])
def test_yes_or_no_refuses_anything_else_with_an_example(answer: str) -> None:
    message = v.check_yes_or_no("include_mlflow_recipes", answer)
    assert message is not None
    assert f"include_mlflow_recipes '{answer}'" in message and "'include_mlflow_recipes=no'" in message


@pytest.mark.parametrize(("feature_store", "recipes"), [("no", "yes"), ("no", "no"), ("yes", "no")])
def test_mlflow_recipes_and_feature_store_combinations_that_exist(feature_store: str, recipes: str) -> None:
    assert v.check_mlflow_recipes_without_feature_store(feature_store, recipes) is None


def test_mlflow_recipes_with_the_feature_store_is_refused() -> None:
    message = v.check_mlflow_recipes_without_feature_store("yes", "yes")
    assert message is not None
    assert "include_mlflow_recipes='yes'" in message and "include_mlflow_recipes=no" in message
