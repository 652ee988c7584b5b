"""Each validation rule, called directly as the pure function it is."""

from __future__ import annotations

from typing import Optional

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
        # Folders shared with other users.
        (v.check_parent_dir_not_shared_folder, "/Shared"),
        (v.check_parent_dir_not_shared_folder, "/Shared/"),
        (v.check_parent_dir_not_shared_folder, "/Workspace/Shared"),
        (v.check_parent_dir_outside_repos, "/Workspace/Repos/someone/project"),
        (v.check_parent_dir_not_users_root_or_home, "/Workspace/Users/someone@example.com"),
        (v.check_parent_dir_is_not_root, "/Workspace"),
        (v.check_parent_dir_is_not_root, "/Workspace/"),
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


@pytest.mark.parametrize("group", ["", "   ", 'a"b', "a\\b", "${x}", "a\nb", " users", "users\t"])
def test_bad_read_user_groups(group: str) -> None:
    message = v.check_read_user_group(group)
    assert message is not None and "read_user_group" in message and "'users'" in message


def test_unsupported_combination_message_says_what_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UNSUPPORTED, ("gcp", None, "yes"), "gcp with the feature store is not ready. Supported: X.")
    assert unsupported_reason("gcp", "GitHub Actions", "yes") is not None
    assert unsupported_reason("gcp", "GitHub Actions", "no") is None
    message = v.check_supported_combination("gcp", "GitHub Actions", "yes", "no")
    assert message is not None and "cloud='gcp'" in message and "Supported: X." in message


def test_feature_store_with_unity_catalog_is_supported() -> None:
    assert v.check_supported_combination("aws", "GitLab", "yes", "yes") is None
    assert v.check_supported_combination("aws", "GitLab", "no", "yes") is None
    assert unsupported_reason("aws", "GitLab", "yes") is None  # contexts from before the prompt: no UC


# The two rules that keep MLflow Recipes apart from another option, with the message each gives.
RECIPES_EXCLUSIONS = {
    "unity_catalog": (v.check_mlflow_recipes_without_unity_catalog,
                      "the combination include_models_in_unity_catalog='yes', include_mlflow_recipes='yes' is not "
                      "supported: MLflow Recipes cannot register models in Unity Catalog. Supported: "
                      "include_mlflow_recipes='no' (the plain MLflow 3 code) with Unity Catalog, for example "
                      "'include_models_in_unity_catalog=yes include_mlflow_recipes=no'."),
    "feature_store": (v.check_mlflow_recipes_without_feature_store,
                      "the combination include_feature_store='yes', include_mlflow_recipes='yes' is not supported: "
                      "the feature-store code replaces the MLflow Recipes code. Supported: include_mlflow_recipes='no' "
                      "with the feature store, for example 'include_feature_store=yes include_mlflow_recipes=no'."),
}


@pytest.mark.parametrize("rule", RECIPES_EXCLUSIONS)
@pytest.mark.parametrize(("other", "recipes"), [("no", "yes"), ("no", "no"), ("yes", "no")])
def test_mlflow_recipes_combinations_that_exist(rule: str, other: str, recipes: str) -> None:
    check, _ = RECIPES_EXCLUSIONS[rule]
    assert check(other, recipes) is None


@pytest.mark.parametrize("rule", RECIPES_EXCLUSIONS)
def test_mlflow_recipes_with_the_other_option_is_refused_with_a_valid_example(rule: str) -> None:
    check, message = RECIPES_EXCLUSIONS[rule]
    assert check("yes", "yes") == message


@pytest.mark.parametrize("name", ["staging", "prod", "ml_test", "team_1", "27896cf3_bb3e", "a" * 255])
def test_good_unity_catalog_names(name: str) -> None:
    assert v.check_uc_identifier("_uc_staging_catalog", name) is None


@pytest.mark.parametrize("name", ["", "Staging", "my-catalog", "a.b", "a b", "`x`", "a" * 256])
def test_bad_unity_catalog_names(name: str) -> None:
    message = v.check_uc_identifier("_uc_prod_catalog", name)
    assert message is not None and f"_uc_prod_catalog '{name}'" in message and '_uc_prod_catalog: "ml_prod"' in message


def test_staging_and_prod_catalogs_must_differ() -> None:
    assert v.check_uc_catalogs_differ({"_uc_staging_catalog": "staging", "_uc_prod_catalog": "prod"}) is None
    message = v.check_uc_catalogs_differ({"_uc_staging_catalog": "ml", "_uc_prod_catalog": "ml"})
    assert message is not None and "_uc_prod_catalog 'ml'" in message and "'staging' and 'prod'" in message


@pytest.mark.parametrize(("qa", "message_start"), [
    ("qa", None),
    ("staging", "_uc_qa_catalog 'staging' equals _uc_staging_catalog 'staging': staging would overwrite qa's"),
    ("prod", "_uc_prod_catalog 'prod' equals _uc_qa_catalog 'prod': qa would overwrite prod's"),
])
def test_every_pair_of_deploy_catalogs_must_differ(qa: str, message_start: Optional[str]) -> None:
    """A third deploy environment (guide task D) is compared with each of the others."""
    catalogs = {"_uc_staging_catalog": "staging", "_uc_qa_catalog": qa, "_uc_prod_catalog": "prod"}
    message = v.check_uc_catalogs_differ(catalogs)
    assert message is None if message_start is None else message.startswith(message_start)
    test = v.check_uc_test_catalog_differs("qa", {**catalogs, "_uc_qa_catalog": "qa"})
    assert test is not None and test.startswith("_uc_test_catalog 'qa' equals _uc_qa_catalog 'qa'")


def test_the_rules_compare_the_catalog_of_every_environment_of_the_table() -> None:
    """Each catalog key of hooks/environments.py is checked as a name and against every other role's."""
    from hooks.environments import ENVIRONMENTS

    keys = [env.catalog_key for env in ENVIRONMENTS]
    read = [parameters for parameters, _ in v.RULES if all(p.startswith("_uc_") and p.endswith("_catalog") for p in parameters)]
    assert {p[0] for p in read if len(p) == 1} == set(keys)
    assert sorted(max(read, key=len)) == sorted(keys)  # the dev rule reads them all
    deploy = [env.catalog_key for env in ENVIRONMENTS if env.role == "deploy"]
    assert tuple(deploy) in read


@pytest.mark.parametrize(("dev", "shared"), [("dev", []), ("staging", ["_uc_staging_catalog"]),
                                            ("ml", ["_uc_test_catalog", "_uc_staging_catalog", "_uc_prod_catalog"])])
def test_the_dev_catalog_is_its_own(dev: str, shared: list[str]) -> None:
    catalogs = ("ml", "ml", "ml") if dev == "ml" else ("test", "staging", "prod")
    message = v.check_uc_dev_catalog_differs(dev, dict(zip(("_uc_test_catalog", "_uc_staging_catalog", "_uc_prod_catalog"), catalogs)))
    assert (message is None) is (not shared)
    if shared:
        assert f"_uc_dev_catalog '{dev}' equals {' and '.join(shared)}" in message and '_uc_dev_catalog: "dev"' in message


def test_find_problems_checks_the_dev_catalog() -> None:
    catalogs = {"_uc_staging_catalog": "staging", "_uc_prod_catalog": "prod", "_uc_test_catalog": "test"}
    answers = {**GOOD_ANSWERS, **catalogs, "_uc_dev_catalog": "prod"}
    assert [p.split(" '")[0] for p in v.find_problems(answers, "2.7.1")] == ["_uc_dev_catalog"]
    assert [p.split(" '")[0] for p in v.find_problems({**answers, "_uc_dev_catalog": "Dev"}, "2.7.1")] == ["_uc_dev_catalog"]


def test_empty_schema_means_derived_and_others_are_checked() -> None:
    assert v.check_uc_schema("") is None
    assert v.check_uc_schema("team_a") is None
    assert "_uc_schema 'team-a'" in v.check_uc_schema("team-a")


@pytest.mark.parametrize(("group", "ok"), [("account users", True), ("ml-readers", True), ("", False),
                                           (" users", False), ('a"b', False)])
def test_unity_catalog_read_group(group: str, ok: bool) -> None:
    message = v.check_uc_read_group(group)
    assert (message is None) is ok
    if not ok:
        assert f"_uc_read_group '{group}'" in message and "'account users'" in message


def test_find_problems_checks_the_private_unity_catalog_values() -> None:
    answers = {**GOOD_ANSWERS, "_uc_test_catalog": "CI-Tests", "_uc_schema": "", "_uc_read_group": "account users"}
    assert [p.split(" '")[0] for p in v.find_problems(answers, "2.7.1")] == ["_uc_test_catalog"]


GOOD_ANSWERS = {
    "project_name": "my-mlops-project",
    "cloud": "azure",
    "cicd_platform": "GitHub Actions",
    "mlflow_experiment_parent_dir": "/my-mlops-project",
    "databricks_staging_workspace_host": "https://adb-1.2.azuredatabricks.net",
    "databricks_prod_workspace_host": "https://adb-3.4.azuredatabricks.net",
    "default_branch": "main",
    "release_branch": "release",
    "read_user_group": "users",
    "include_feature_store": "no",
    "include_models_in_unity_catalog": "no",
}


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


# --- answers from YAML config files, replays and cruft contexts -----------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    (False, "release_branch is a YAML boolean"), (True, "release_branch is a YAML boolean"),
    (None, "release_branch None is empty (YAML null)"), (2024, "release_branch 2024 is a YAML number"),
])
def test_non_text_answer_says_to_quote_it_with_a_valid_example_of_the_parameter(value: object, shown: str) -> None:
    message = v.check_answer_is_text("release_branch", value)
    assert message is not None
    assert message.startswith(shown) and "quotes" in message and 'release_branch: "release"' in message


def test_a_yaml_boolean_project_name_is_not_echoed_as_false_and_gets_a_valid_name_as_example() -> None:
    message = v.check_answer_is_text("project_name", False)  # `project_name: off` in a config file
    assert message is not None and "False" not in message and "off" in message
    assert 'project_name: "my-mlops-project"' in message and v.check_project_name_characters("my-mlops-project") is None


def test_a_switch_without_an_example_gets_yes_or_no() -> None:
    assert 'include_something: "no"' in (v.check_answer_is_text("include_something", False) or "")


@pytest.mark.parametrize("key", ["_uc_staging_catalog", "_uc_prod_catalog", "_uc_test_catalog", "_uc_schema", "_uc_read_group"])
def test_a_yaml_boolean_in_a_private_unity_catalog_setting_is_refused(key: str) -> None:
    answers = {**GOOD_ANSWERS, "include_models_in_unity_catalog": "yes", "include_mlflow_recipes": "no", key: True}
    problems = v.find_problems(answers, "2.7.1")
    assert len(problems) == 1 and problems[0].startswith(f"{key} is a YAML boolean") and "quotes" in problems[0]


def test_text_answer_passes_the_type_rule() -> None:
    assert v.check_answer_is_text("release_branch", "no") is None


def test_find_problems_reports_yaml_values_instead_of_crashing() -> None:
    problems = v.find_problems({**GOOD_ANSWERS, "release_branch": False, "read_user_group": None}, "2.7.1")
    assert [p.split(" ", 1)[0] for p in problems] == ["release_branch", "read_user_group"]


def test_a_prompt_added_by_a_fork_is_type_checked_without_code_changes() -> None:
    problems = v.find_problems({**GOOD_ANSWERS, "include_something": True}, "2.7.1")
    assert len(problems) == 1 and problems[0].startswith("include_something is a YAML boolean")


@pytest.mark.parametrize("name", ["1project", "-abc", "9-lives"])
def test_project_name_must_start_with_a_letter(name: str) -> None:
    message = v.check_project_name_starts_with_letter(name)
    assert message is not None and f"project_name '{name}'" in message and "Terraform" in message


@pytest.mark.parametrize("name", ["project1", "_private_project", "Ab-c"])
def test_project_names_starting_with_a_letter_or_underscore(name: str) -> None:
    assert v.check_project_name_starts_with_letter(name) is None


def test_the_test_harness_project_name_is_exempt_from_the_leading_letter_rule() -> None:
    from hooks.pruning import TEST_PROJECT_NAME

    assert TEST_PROJECT_NAME[0].isdigit() and v.check_project_name_starts_with_letter(TEST_PROJECT_NAME) is None


@pytest.mark.parametrize("path", ["/Shared/my-mlops-project", "/Workspace/ml-projects/x", "/Sharedfolder"])
def test_project_folders_below_shared_folders_are_fine(path: str) -> None:
    assert v.check_parent_dir_not_shared_folder(path) is None
    assert v.check_parent_dir_is_not_root(path) is None


@pytest.mark.parametrize(
    ("url", "cloud", "host_cloud"),
    [
        ("https://adb-1.2.azuredatabricks.net", "aws", "azure"),
        ("https://dbc-1.cloud.databricks.com/?o=1", "gcp", "aws"),
        ("https://1.2.gcp.databricks.com", "azure", "gcp"),
        ("https://adb-1.2.databricks.azure.us", "aws", "azure"),
        ("https://DBC-1.CLOUD.DATABRICKS.COM", "azure", "aws"),
    ],
)
def test_host_of_another_cloud_is_refused(url: str, cloud: str, host_cloud: str) -> None:
    message = v.check_host_matches_cloud("databricks_prod_workspace_host", url, cloud)
    assert message is not None
    assert f"databricks_prod_workspace_host '{url}'" in message and host_cloud in message
    assert f"for example '{v.EXAMPLE_HOSTS[cloud]}'" in message


@pytest.mark.parametrize(
    ("url", "cloud"),
    [
        ("https://adb-1.2.azuredatabricks.net", "azure"),
        ("https://dbc-1.cloud.databricks.us", "aws"),
        ("https://1.2.gcp.databricks.com", "gcp"),
        ("https://databricks.internal.example.com", "aws"),  # private DNS: a warning, not a refusal
    ],
)
def test_host_of_the_chosen_cloud_or_unknown_domain_passes(url: str, cloud: str) -> None:
    assert v.check_host_matches_cloud("databricks_staging_workspace_host", url, cloud) is None


def test_host_outside_every_known_domain_is_a_warning() -> None:
    message = v.warn_host_outside_known_domains("databricks_staging_workspace_host", "https://dbx.example.com", "gcp")
    assert message is not None and "gcp.databricks.com" in message
    assert v.warn_host_outside_known_domains("databricks_staging_workspace_host", "https://a.gcp.databricks.com",
                                             "gcp") is None


@pytest.mark.choice(cloud="azure")  # reads the three clouds' defaults and azure answers; a fork fixing cloud drops it
def test_every_default_host_of_cookiecutter_json_is_a_known_placeholder() -> None:
    """The defaults are Jinja expressions per cloud; each must be recognised as the example it is."""
    from tests.support.variants import COOKIECUTTER_JSON

    for cloud in COOKIECUTTER_JSON["cloud"]:
        for parameter in ("databricks_staging_workspace_host", "databricks_prod_workspace_host"):
            url = v.render_default(COOKIECUTTER_JSON[parameter], {"cloud": cloud})
            message = v.warn_host_is_placeholder(parameter, url)
            assert message is not None and f"{parameter} '{url}' is the example host" in message
            assert v.check_host_matches_cloud(parameter, url, cloud) is None


def test_a_real_host_is_no_placeholder() -> None:
    assert v.warn_host_is_placeholder("databricks_prod_workspace_host", "https://adb-1.2.azuredatabricks.net") is None


def test_same_default_and_release_branch_is_a_warning() -> None:
    message = v.warn_same_default_and_release_branch("main", "main")
    assert message is not None and "default_branch 'main'" in message and "release_branch 'main'" in message
    assert v.warn_same_default_and_release_branch("main", "release") is None


def test_find_warnings_lists_each_doubtful_answer_once() -> None:
    answers = {**GOOD_ANSWERS, "release_branch": "main", "databricks_prod_workspace_host": "https://adb-xxxx.xx.azuredatabricks.net"}
    warnings = v.find_warnings(answers)
    assert [w.split(" ", 1)[0] for w in warnings] == ["databricks_prod_workspace_host", "default_branch"]
    assert v.find_warnings(GOOD_ANSWERS) == []


# --- the command that repeats the answers after a refusal -----------------------------------------


def test_retry_command_repeats_every_answer_in_prompt_order_and_marks_the_bad_ones() -> None:
    import shlex

    answers = {**GOOD_ANSWERS, "project_name": "1 project", "release_branch": False, "_template": "x"}
    problems = v.find_problems(answers, "2.7.1")
    assert v.problem_parameters(problems, answers) == {"project_name", "release_branch"}
    command = v.retry_command("/path/to my/template", answers, {"project_name", "release_branch"})
    lines = command.splitlines()
    assert lines[0] == "cookiecutter '/path/to my/template' --no-input \\"
    assert [line.split("=", 1)[0].strip(" '") for line in lines[1:]] == list(GOOD_ANSWERS)
    marked = [line for line in lines if "`# <- fix`" in line]
    assert marked == ["  'project_name=1 project' `# <- fix` \\", "  release_branch=no `# <- fix` \\"]
    words = shlex.split(command.replace("`# <- fix`", "").replace("\\\n", " "))
    assert words[3:] == [f"{k}={'no' if k == 'release_branch' else answers[k]}" for k in GOOD_ANSWERS]


def test_combination_refusal_names_and_marks_only_the_answers_its_pattern_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UNSUPPORTED, ("gcp", None, "no"), "not today.")
    answers = {**GOOD_ANSWERS, "cloud": "gcp", "databricks_staging_workspace_host": "https://1.2.gcp.databricks.com",
               "databricks_prod_workspace_host": "https://3.4.gcp.databricks.com"}
    problems = v.find_problems(answers, "2.7.1")
    assert problems == ["the combination cloud='gcp', include_feature_store='no' is not supported: not today."]
    assert v.problem_parameters(problems, answers) == {"cloud", "include_feature_store"}


def _template_defaults() -> dict:
    import json

    from tests.support.variants import TEMPLATE_DIR

    return json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())


@pytest.mark.choice(cloud="azure")  # reads the three clouds' defaults and azure answers; a fork fixing cloud drops it
def test_retry_command_leaves_out_values_derived_from_a_refused_answer() -> None:
    """`project_name=1project` alone: the experiment folder and the ML code follow the fixed name."""
    answers = {**GOOD_ANSWERS, "project_name": "1project", "mlflow_experiment_parent_dir": "/1project",
               "databricks_staging_workspace_host": "https://adb-xxxx.xx.azuredatabricks.net",
               "databricks_prod_workspace_host": "https://adb-xxxx.xx.azuredatabricks.net",
               "read_user_group": "users", "include_mlflow_recipes": "yes", "_uc_staging_catalog": "staging",
               "_uc_schema": "", "_template": "t"}
    command = v.retry_command("t", answers, {"project_name"}, _template_defaults())
    assert command.splitlines() == ["cookiecutter t --no-input \\", "  project_name=1project `# <- fix`"]


@pytest.mark.choice(cloud="azure")  # reads the three clouds' defaults and azure answers; a fork fixing cloud drops it
def test_retry_command_keeps_what_differs_from_the_defaults_and_private_settings() -> None:
    """A config file's `_uc_staging_catalog: prod`: the command repeats it, so it needs no config file."""
    answers = {**GOOD_ANSWERS, "include_models_in_unity_catalog": "yes", "include_mlflow_recipes": "no",
               "_uc_staging_catalog": "prod", "_uc_prod_catalog": "prod", "_uc_test_catalog": "test",
               "_uc_read_group": "account users"}
    problems = v.find_problems(answers, "2.7.1")
    assert v.problem_parameters(problems, answers) == {"_uc_prod_catalog"}
    message = v.format_problems(problems, answers, "t", _template_defaults())
    lines = message.splitlines()
    assert "  _uc_staging_catalog=prod \\" in lines and "  _uc_prod_catalog=prod `# <- fix`" in lines
    assert not any(line.strip().startswith(("include_mlflow_recipes=", "_uc_test_catalog=", "cloud=")) for line in lines)
    assert "  include_models_in_unity_catalog=yes \\" in lines and "  read_user_group=users \\" not in lines


@pytest.mark.choice(cloud="azure")  # reads the three clouds' defaults and azure answers; a fork fixing cloud drops it
def test_render_default_renders_like_cookiecutter() -> None:
    defaults = _template_defaults()
    answers = {**GOOD_ANSWERS, "cloud": "aws"}
    assert v.render_default(defaults["mlflow_experiment_parent_dir"], answers) == "/my-mlops-project"
    assert v.render_default(defaults["databricks_prod_workspace_host"], answers) == "https://your-prod-workspace.cloud.databricks.com"
    assert v.render_default(defaults["cloud"], answers) == "azure"
    assert v.render_default(defaults["include_mlflow_recipes"], answers) == "yes"
    assert v.render_default(defaults["databricks_prod_workspace_host"], {**answers, "cloud": "oracle"}) is None


def test_private_setting_messages_say_where_to_set_it() -> None:
    message = v.check_uc_identifier("_uc_staging_catalog", "Prod")
    assert message is not None and "config file's default_context" in message and "--config-file" not in message
    assert '{"_uc_staging_catalog": "ml_staging"} in cruft update --variables-to-update' in message


@pytest.mark.parametrize(("subcommand", "command"), [
    ("update", "cruft update --variables-to-update '{\"project_name\": \"my-mlops-project\"}'"),
    ("create", "cruft create <template> --no-input --extra-context '{\"project_name\": \"my-mlops-project\"}'"),
    ("check", "cruft update --variables-to-update '{\"project_name\": \"my-mlops-project\"}'"),
])
def test_cruft_retry_hint_is_a_cruft_command(subcommand: str, command: str) -> None:
    assert v.cruft_retry_hint(subcommand, {"project_name"}).splitlines()[-1] == command


def test_format_problems_adds_the_retry_command_when_it_knows_the_template() -> None:
    answers = {**GOOD_ANSWERS, "project_name": "1abc"}
    message = v.format_problems(v.find_problems(answers, "2.7.1"), answers, "gh:org/mlops-stack")
    assert "cookiecutter gh:org/mlops-stack --no-input" in message and "project_name=1abc `# <- fix`" in message
    assert "cookiecutter " not in v.format_problems(["x"])
@pytest.mark.parametrize(("answer", "normalised"), [("yes", "yes"), ("no", "no"), ("Yes", "yes"), ("y", "yes"),
                                                    ("TRUE", "yes"), (" on ", "yes"), ("N", "no"), ("false", "no"), ("Off", "no")])
def test_yes_or_no_accepts_the_usual_spellings_and_normalises_them(answer: str, normalised: str) -> None:
    assert v.check_yes_or_no("include_mlflow_recipes", answer) is None
    assert v.yes_or_no(answer) == normalised


@pytest.mark.parametrize("answer", ["", "yess", "maybe", "2"])
def test_yes_or_no_refuses_anything_else_with_an_example(answer: str) -> None:
    message = v.check_yes_or_no("include_mlflow_recipes", answer)
    assert message is not None
    assert f"include_mlflow_recipes '{answer}'" in message and "'include_mlflow_recipes=no'" in message


# --- Unity Catalog names (fresh-user trial) --------------------------------------------------------


@pytest.mark.parametrize(("test", "other"), [("prod", "_uc_prod_catalog"), ("staging", "_uc_staging_catalog")])
def test_test_catalog_equal_to_staging_or_prod_is_refused(test: str, other: str) -> None:
    deploy = {"_uc_staging_catalog": "staging", "_uc_prod_catalog": "prod"}
    message = v.check_uc_test_catalog_differs(test, deploy)
    assert message is not None and message.startswith(f"_uc_test_catalog '{test}' equals {other}") and "'test'" in message
    assert v.check_uc_test_catalog_differs("test", deploy) is None


def test_a_backtick_in_the_unity_catalog_read_group_is_refused() -> None:
    message = v.check_uc_read_group("account`users")
    assert message is not None and "backticks" in message


@pytest.mark.parametrize("name", ["projé-ü", "ålpha"])
def test_non_ascii_project_name_message_says_ascii(name: str) -> None:
    message = v.check_project_name_characters(name)
    assert message is not None and "ASCII letters" in message


# --- config-file answers that cookiecutter drops ----------------------------------------------------


def test_config_answers_dropped_by_cookiecutter_are_refused_naming_the_first() -> None:
    """`cloud: AWS` makes cookiecutter ignore it and every later default_context key."""
    config = {"project_name": "fraud", "cloud": "AWS", "cicd_platform": "GitLab", "release_branch": "prod"}
    answers = {**GOOD_ANSWERS, "project_name": "fraud"}
    message = v.check_config_answers_applied(config, answers)
    assert message is not None and message.startswith("cloud 'AWS' in your config file's default_context")
    assert "cicd_platform, release_branch" in message and "quote every value" in message
    assert v.check_config_answers_applied({"project_name": "fraud", "cloud": "azure"}, answers) is None


def test_unknown_command_line_names() -> None:
    assert v.unknown_names(["projectname", "cloud"], GOOD_ANSWERS) == ["projectname"]


def test_every_message_shows_the_one_example_host_of_its_cloud() -> None:
    """One example workspace URL per cloud (``EXAMPLE_HOSTS``), whichever rule speaks."""
    for cloud, example in v.EXAMPLE_HOSTS.items():
        assert v._cloud_of_host(v._hostname(example)) == cloud
        assert f"'{example}'" in v.check_host("databricks_staging_workspace_host", "http://x", cloud)
        assert f"'{example}'" in v.warn_host_outside_known_domains("databricks_prod_workspace_host", "https://ws.corp.example", cloud)
    assert v.EXAMPLES["databricks_staging_workspace_host"] == v.EXAMPLES["databricks_prod_workspace_host"] == v.EXAMPLE_HOSTS["azure"]


@pytest.mark.parametrize("url", ["HTTPS://adb-1.2.azuredatabricks.net", "Https://ADB-1.2.azuredatabricks.net/?o=1"])
def test_an_upper_case_scheme_is_accepted_and_normalised_like_the_host(url: str) -> None:
    from hooks.derived import host_of

    assert v.check_host("databricks_staging_workspace_host", url) is None
    assert host_of(url) == "https://adb-1.2.azuredatabricks.net"


def test_a_derived_answer_is_neither_listed_nor_marked_while_the_answer_it_follows_is_refused() -> None:
    """project_name 'my project' also makes the default experiment folder '/my project' invalid; only
    the typed answer is the user's to fix, and the folder follows it."""
    defaults = _template_defaults()
    answers = {**GOOD_ANSWERS, "project_name": "my project", "mlflow_experiment_parent_dir": "/my project"}
    problems = v.find_problems(answers, "2.7.1")
    assert any(p.startswith("mlflow_experiment_parent_dir ") for p in problems)
    message = v.format_problems(problems, answers, "gh:org/mlops-stack", defaults, "build/out")
    assert "mlflow_experiment_parent_dir" not in message
    assert "'project_name=my project' `# <- fix`" in message
    assert "cookiecutter gh:org/mlops-stack --no-input --output-dir build/out" in message
