"""``make specialize`` (scripts/specialize.py, scripts/jinja_specialize.py) and required prompts
(scripts/required_answers.py): unit tests of the pure core. tests/test_specialize_fork.py runs the
command on copies of this repository."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from jinja2 import Environment, StrictUndefined

from hooks.derived import derived_value
from hooks.fixed_answers import check_fixed_answers, with_fixed_answers
from hooks.pruning import OWNERS
from scripts import required_answers, specialize
from scripts.jinja_specialize import Known, SpecializeError, check_environment_settings, specialize_source, \
    tracked_derivation
from tests.support import choice_owned
from tests.support.variants import FIXED_ANSWERS, SUPPORTED_VARIANTS, TEMPLATE_DIR

ENVIRONMENT = Environment(keep_trailing_newline=True, undefined=StrictUndefined)
ENVIRONMENT.filters["derived"] = derived_value
CLOUDS = ["azure", "aws", "gcp"]

# Templates that exercise branches, whitespace control, bindings and folding; each is rendered for
# every context below before and after specialising to cloud=aws.
SOURCES = {
    "if-elif-else with whitespace control": (
        'a\n{%- if cookiecutter.cloud == "azure" %}\nAZ\n{%- elif cookiecutter.cloud == "aws" -%}\n  AWS {{ x }}\n'
        '{%- else %}\nother\n{% endif -%}\n  b\n'),
    "unknown first branch": (
        '{% if x == 1 -%}\n one\n{%- elif cookiecutter.cloud == "aws" %} aws\n{% else %}other{% endif %}\nend\n'),
    "false first branch, unknown second": (
        'top  {%- if cookiecutter.cloud == "gcp" %}G{% elif x == 2 -%}  two  {%- else -%} else {% endif -%}  tail'),
    "set binding": (
        '{%- set cloud = cookiecutter.cloud -%}\n{%- set aws = cloud == "aws" %}\n'
        '{% if aws and x == 1 %}both{% endif %}|{% if not aws or x == 2 %}neither{% endif %}|{{ cloud | upper }}\n'),
    "nested": (
        '{% if x == 1 %}\n  {%- if cookiecutter.cloud != "aws" %} not {% else %} is {% endif -%}\n{% endif %}!\n'),
    "expression folding": (
        '{{- "s" if cookiecutter.cloud == "gcp" }} {{ {"aws": "A", "gcp": "G", "azure": "Z"}[cookiecutter.cloud] }} '
        '{{ cookiecutter.cloud ~ "-" ~ x }} {{ cookiecutter | derived("node_type_id") }}\n'),
    "derived value the fixed answer alone does not decide": (
        '{% if cookiecutter | derived("ml_code") == "mlflow3" %}m3{% endif %}'
        '{% if cookiecutter | derived("account_host") == "https://accounts.cloud.databricks.com" %}acct{% endif %}'),
    "comments and raw blocks stay": (
        '{#- note -#}\n{% raw %}{% if cookiecutter.cloud %}{% endraw %}\n'
        '{%- for env in ["staging", "prod"] %}{% if cookiecutter.cloud == "aws" %}{{ env }}{% endif %}{% endfor %}\n'),
    "filtered and indexed operands keep their parentheses": (
        '{{ (cookiecutter | derived("ml_code"))[-1] | upper }} {{ (cookiecutter.cloud ~ x) | upper }} '
        '{{ (cookiecutter.project_name ~ cookiecutter.cloud | upper).lower() }}\n'),
    "kept tag whose neighbouring text changes": (
        'A \n{% if cookiecutter.cloud == "aws" %}\n{% endif %}\n{%- if x == 1 %}one{% endif %}\n'),
}
CONTEXTS = [
    {"cloud": "aws", "project_name": "p", "include_feature_store": fs, "include_mlflow_recipes": "no"}
    for fs in ("yes", "no")
]


def known_aws() -> Known:
    return Known({"cloud": "aws"}, tracked_derivation(derived_value, {"cloud": "aws"}), ENVIRONMENT)


@pytest.mark.parametrize("name", SOURCES)
def test_specialised_template_renders_byte_identical(name: str) -> None:
    source = SOURCES[name]
    specialised = specialize_source(source, known_aws())
    for context, x in itertools.product(CONTEXTS, (1, 2, 3)):
        original = ENVIRONMENT.from_string(source).render(cookiecutter=context, x=x)
        assert ENVIRONMENT.from_string(specialised).render(cookiecutter=context, x=x) == original, specialised
    assert "cookiecutter.cloud" not in specialised.replace("{% raw %}{% if cookiecutter.cloud %}{% endraw %}", "")


def test_branches_of_the_fixed_answer_go_and_the_rest_stay_as_written() -> None:
    source = ('{%- if cookiecutter.cloud == "aws" and x == 1 %}A{% elif cookiecutter.cloud == "gcp" %}G'
              '{% else %}E{% endif %}')
    assert specialize_source(source, known_aws()) == "{%- if x == 1 %}A{% else %}E{% endif %}"
    untouched = '{% if cookiecutter | derived("ml_code") == "mlflow3" %}m{% endif %}'
    assert specialize_source(untouched, known_aws()) == untouched


def test_unused_bindings_go_unless_an_included_partial_may_read_them() -> None:
    source = '{% set aws = cookiecutter.cloud == "aws" %}{% if aws %}A{% endif %}'
    assert specialize_source(source, known_aws()) == "A"
    shared = '{% set aws = cookiecutter.cloud == "aws" %}{% include "x.jinja" %}'
    assert "set aws = true" in specialize_source(shared, known_aws(), shared_names=frozenset({"aws"}))
    assert specialize_source(shared, known_aws(), exports=True).startswith("{% set aws = true %}")


def test_imports_that_only_removed_branches_used_go() -> None:
    source = '{%- import "gl.jinja" as gl with context -%}\n{% if cookiecutter.cloud == "gcp" %}{{ gl.x() }}{% endif %}'
    assert specialize_source(source, known_aws()) == ""


def test_derived_values_count_as_known_only_when_the_fixed_answers_decide_them() -> None:
    derived = tracked_derivation(derived_value, {"cloud": "gcp", "include_feature_store": "yes"})
    assert derived("node_type_id") == (True, "n2-highmem-4")
    assert derived("ml_code") == (True, "feature_store")
    assert derived("model_name") == (False, None)


def test_unsupported_whitespace_settings_and_broken_tags_are_refused() -> None:
    with pytest.raises(SpecializeError, match="trim_blocks"):
        check_environment_settings({"trim_blocks": True})
    with pytest.raises(SpecializeError, match="no endif"):
        specialize_source("{% if cookiecutter.cloud %}x", known_aws())


@pytest.mark.choice(cloud="azure", cicd_platform="GitHub Actions")
def test_answers_must_be_choices_of_choice_prompts() -> None:
    cookiecutter_json = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    assert specialize.parse_answers(["cloud=aws", "cicd_platform=GitHub Actions"], cookiecutter_json) == {
        "cloud": "aws", "cicd_platform": "GitHub Actions"}
    with pytest.raises(specialize.AnswerError, match=r"cloud='oracle' is not one of its choices.*cloud=azure"):
        specialize.parse_answers(["cloud=oracle"], cookiecutter_json)
    with pytest.raises(specialize.AnswerError, match="project_name is not a choice prompt"):
        specialize.parse_answers(["project_name=x"], cookiecutter_json)
    with pytest.raises(specialize.AnswerError, match="not name=value"):
        specialize.parse_answers(["aws"], cookiecutter_json)


@pytest.mark.choice(cloud="gcp", cicd_platform="GitLab", include_feature_store="yes")
def test_paths_and_rows_of_removed_choices_follow_the_pruning_table() -> None:
    domains = {"cloud": ["aws"], "cicd_platform": ["GitHub Actions", "Azure DevOps", "GitLab"],
               "include_feature_store": ["no"], "include_models_in_unity_catalog": ["no", "yes"]}
    possible = {k: set(v) for k, v in domains.items()}
    possible["ml_code"] = specialize.possible_derived(derived_value, "ml_code", domains)
    assert possible["ml_code"] == {"mlflow_recipes", "mlflow3"}
    owned = specialize.owned_paths(OWNERS, possible)
    assert ("cloud", "gcp") in owned.rows and ("cloud", "aws") in owned.rows
    assert ("cicd_platform", "GitLab") not in owned.rows
    assert ".mlops-setup-scripts/terraform/main-gcp.tf" in owned.paths
    assert ".mlops-setup-scripts/terraform/main-aws.tf" not in owned.paths
    assert "features" in owned.paths and "tests/fare_model" not in owned.paths


def test_paths_deleted_with_another_row_s_folder_leave_the_table() -> None:
    source = ('OWNERS = {\n    ("p", "a"): (\n        ".github/x.yml",\n        "y",\n    ),\n'
              '    ("q", "b"): (\n        ".github/z.yml",\n    ),\n}\n')
    assert specialize.remove_owned_entries(source, "OWNERS", [".github/x.yml", ".github/z.yml"]) == (
        'OWNERS = {\n    ("p", "a"): (\n        "y",\n    ),\n}\n')


def test_owner_rows_and_constants_nothing_reads_are_removed_from_the_source() -> None:
    source = ('_ONLY_B = ("b1",)\n\nOWNERS = {\n    # a\n    ("p", "a"): (\n        "x",\n    ),\n'
              '    ("p", "b"): _ONLY_B,\n}\n')
    assert specialize.remove_owner_rows(source, "OWNERS", [("p", "b")]) == (
        '\nOWNERS = {\n    # a\n    ("p", "a"): (\n        "x",\n    ),\n}\n')


@pytest.mark.choice(cloud="azure")
def test_fixed_prompts_leave_cookiecutter_json_and_the_readme() -> None:
    cookiecutter_json = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    folded = specialize.fold_cookiecutter_json(cookiecutter_json, {"cloud": "aws"}, known_aws())
    assert "cloud" not in folded and "cloud" not in folded["__prompts__"]
    assert folded["_fixed_answers"] == {**FIXED_ANSWERS, "cloud": "aws"} and next(iter(folded)) == "_fixed_answers"
    # The host's cloud lookup folds to the aws literal; the prompt-time check of earlier answers stays.
    assert folded["databricks_staging_workspace_host"] == (
        "{{ cookiecutter | checked_so_far }}https://your-staging-workspace.cloud.databricks.com")
    assert folded["include_mlflow_recipes"] == cookiecutter_json["include_mlflow_recipes"]
    readme = "Cookiecutter asks five questions\n\n| Prompt |\n|---|\n| `cloud` | c |\n| `x` | y |\n"
    assert specialize.remove_readme_prompts(readme, ["cloud"], 4) == (
        "Cookiecutter asks four questions\n\n| Prompt |\n|---|\n| `x` | y |\n")
    config = "default_context:\n  cloud: aws\n  project_name: p\n"
    assert specialize.drop_config_keys(config, ["cloud"]) == "default_context:\n  project_name: p\n"
    # The README's config-file example and lists of prompts lose the fixed ones too.
    readme = ("```yaml\ndefault_context:\n  project_name: p\n  cloud: aws\n```\n```yaml\ncloud: x\n```\n"
              "A choice prompt (`cloud`, `cicd_platform`,\n`x`) is checked; only one (`cloud`, `a`) here.\n")
    assert specialize.remove_readme_prompts(readme, ["cloud", "a"], 4) == (
        "```yaml\ndefault_context:\n  project_name: p\n```\n```yaml\ncloud: x\n```\n"
        "A choice prompt (`cicd_platform`, `x`) is checked; only one here.\n")
    # Another cloud's hosts would be refused: they go with the example's cloud.
    example = "```yaml\ndefault_context:\n  cloud: aws\n  databricks_prod_workspace_host: https://x\n```\n"
    assert specialize.remove_readme_prompts(example, ["cloud"], 4, {"cloud": "gcp"}) == "```yaml\ndefault_context:\n```\n"
    assert "https://x" in specialize.remove_readme_prompts(example, ["cloud"], 4, {"cloud": "aws"})


def test_npm_packages_leave_package_json_and_the_lock_with_what_only_they_needed() -> None:
    package = {"dependencies": {"a": "1", "b": "1"}}
    lock = {"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"a": "1", "b": "1"}},
        "node_modules/a": {"dependencies": {"shared": "1"}},
        "node_modules/b": {"dependencies": {"shared": "1", "only-b": "1"}},
        "node_modules/shared": {}, "node_modules/only-b": {}}}
    package, lock = specialize.remove_npm_packages(package, lock, ["b"])
    assert package["dependencies"] == {"a": "1"}
    assert set(lock["packages"]) == {"", "node_modules/a", "node_modules/shared"}


def test_fixed_answers_are_read_by_the_hooks_and_a_differing_answer_is_refused() -> None:
    context = {"project_name": "p", "_fixed_answers": {"cloud": "aws"}}
    assert with_fixed_answers(context)["cloud"] == "aws"
    assert check_fixed_answers(context) is None
    message = check_fixed_answers({**context, "cloud": "gcp"})
    assert message is not None and message.startswith("cloud 'gcp'") and "cloud=aws" in message


def test_tests_that_need_a_removed_choice_are_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choice_owned, "choices", lambda prompt: {"cloud": ["aws"]}.get(
        prompt, ["GitHub Actions", "Azure DevOps", "GitLab"]))
    assert choice_owned.unavailable({"cloud": "gcp"}, {}) is not None
    assert choice_owned.unavailable({}, {"target": "cloud=gcp"}) is not None
    assert choice_owned.unavailable({}, {"variant": SUPPORTED_VARIANTS[0]}) is None
    assert choice_owned.unavailable({}, {"name": "no"}) is None
    monkeypatch.setattr(choice_owned, "FIXED_ANSWERS", {"include_feature_store": "no"})
    assert choice_owned.unavailable({}, {"switch": "include_feature_store=yes+include_mlflow_recipes=no"}) is not None
    assert choice_owned.unavailable({}, {"switch": "include_feature_store=no"}) is None
    assert choice_owned.unavailable({}, {"switched": {"include_feature_store": "yes"}}) is not None
    # The answers marker: a fixed answer is still offered (the test keeps generating with it).
    monkeypatch.setattr(choice_owned, "FIXED_ANSWERS", {"cloud": "aws"})
    assert choice_owned.unavailable({}, {}, {"cloud": "aws"}) is None
    assert choice_owned.unavailable({"cloud": "aws"}, {}) is not None
    assert choice_owned.unavailable({}, {}, {"cloud": "gcp"}) is not None


def test_every_prompt_without_a_valid_default_gets_its_example() -> None:
    cookiecutter_json = {"project_name": "p", "cluster_policy_id": "", "tag": "{{ cookiecutter.cluster_policy_id }}-x"}

    def refused(context: dict) -> set[str]:
        return {name for name in ("cluster_policy_id", "tag") if context[name] in ("", "-x")}

    def render(default: str, answers: dict) -> str:
        return Environment().from_string(default).render(cookiecutter=answers)

    answers = required_answers.required_answers(cookiecutter_json, {"cluster_policy_id": "ABC"}, refused, render)
    assert answers == {"cluster_policy_id": "ABC"}
    with pytest.raises(required_answers.MissingExample, match="add 'cluster_policy_id' to EXAMPLES"):
        required_answers.required_answers(cookiecutter_json, {}, refused, render)


def test_make_specialize_and_demo_use_the_scripts() -> None:
    makefile = (TEMPLATE_DIR / "Makefile").read_text()
    assert "scripts/specialize.py $(ANSWERS)" in makefile
    assert "$$($(VENV)/bin/python scripts/required_answers.py)" in makefile
    assert Path(specialize.__file__).parent == TEMPLATE_DIR / "scripts"


# --- messages of a specialised fork (hooks/validation.py reads _fixed_answers) ------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_forks_refusals_suggest_only_values_it_still_accepts(cloud: str) -> None:
    """A fork fixed to one cloud: a null host's example is a host of that cloud (which the fork
    accepts), and a host of another cloud is refused without offering that cloud."""
    from hooks import validation

    other = next(c for c in CLOUDS if c != cloud)
    fork = {"_fixed_answers": {"cloud": cloud}, "project_name": "my-mlops-project",
            "databricks_staging_workspace_host": None,
            "databricks_prod_workspace_host": validation.EXAMPLE_HOSTS[other]}
    problems = validation.find_problems(fork, "2.6.0")
    null_host = next(p for p in problems if p.startswith("databricks_staging_workspace_host None"))
    assert validation.EXAMPLE_HOSTS[cloud] in null_host
    assert not [h for c, h in validation.EXAMPLE_HOSTS.items() if c != cloud and h in null_host]
    wrong_cloud = next(p for p in problems if p.startswith("databricks_prod_workspace_host"))
    assert f"cloud is '{cloud}'" in wrong_cloud and f"cloud='{other}'" not in wrong_cloud
    assert validation.check_answer_is_text(
        "databricks_prod_workspace_host", None, validation.examples_for(fork)).count(validation.EXAMPLE_HOSTS[cloud]) == 2
    hint = validation.cruft_retry_hint("update", {"databricks_prod_workspace_host", "cloud"}, fork)
    assert validation.EXAMPLE_HOSTS[cloud] in hint and f'"cloud": "{cloud}"' in hint
    # The unspecialised template still offers the other cloud.
    unspecialised = {**{k: v for k, v in fork.items() if k != "_fixed_answers"}, "cloud": cloud}
    assert any(f"or answer cloud='{other}'" in p for p in validation.find_problems(unspecialised, "2.6.0"))


def test_a_partial_named_only_in_a_jinja_comment_is_unused() -> None:
    """azure.jinja's own usage example ({# Import with: {%- import "cicd/azure.jinja" ... %} #})
    kept it, and the settings only it read, in every fork without Azure DevOps."""
    text = ('{#-\n  Import with context:\n      {%- import "cicd/azure.jinja" as ado with context %}\n-#}\n'
            '{%- import "cicd/credentials.jinja" as credentials with context -%}\n{# {% include "x.md" %} #}\n'
            '{% include "docs/y.md" %}')
    assert specialize.referenced_partials(text) == {"cicd/credentials.jinja", "docs/y.md"}


def test_fork_blocks_of_a_fixed_prompt_become_its_choices_text() -> None:
    choices = {"cicd_platform": ["GitHub Actions", "Azure DevOps", "GitLab"], "cloud": CLOUDS}
    text = ("Intro.\n<!-- specialize cicd_platform\nGitHub Actions: CI/CD is in `.github/`,\n  two lines.\n"
            "Azure DevOps: CI/CD is in `.azure/`.\nGitLab: CI/CD is in `.gitlab/`.\n-->\n"
            "CI/CD is in `.github/`, `.azure/` or `.gitlab/`.\n<!-- /specialize -->\nEnd.\n")
    fixed = specialize.resolve_fork_blocks(text, {"cicd_platform": "GitHub Actions"}, choices)
    assert fixed == "Intro.\nCI/CD is in `.github/`,\n  two lines.\nEnd.\n"
    assert specialize.resolve_fork_blocks(text, {"cicd_platform": "GitLab"}, choices) == \
        "Intro.\nCI/CD is in `.gitlab/`.\nEnd.\n"
    assert specialize.resolve_fork_blocks(text, {"cloud": "aws"}, choices) == text
    with pytest.raises(SpecializeError, match="no text for cicd_platform='Jenkins'"):
        specialize.resolve_fork_blocks(text, {"cicd_platform": "Jenkins"}, {**choices, "cicd_platform": ["Jenkins"]})
    with pytest.raises(SpecializeError, match="not a choice prompt"):
        specialize.resolve_fork_blocks(text.replace("specialize cicd_platform", "specialize cicd"), {}, choices)


def test_fork_blocks_in_a_mermaid_diagram_are_comment_lines_kept_indented() -> None:
    """Pipeline.md's diagrams named every CI/CD platform in a fork; an HTML comment does not parse
    inside a Mermaid diagram, so the block there is written with ``%%`` comment lines."""
    choices = {"cicd_platform": ["GitHub Actions", "Azure DevOps", "GitLab"], "cloud": CLOUDS}
    text = ("```mermaid\nsequenceDiagram\n    %% specialize cicd_platform\n"
            "    %% GitHub Actions: participant CI as CI (GitHub Actions)\n"
            "    %% Azure DevOps: participant CI as CI (Azure DevOps)\n"
            "    %% GitLab: participant CI as CI (GitLab)\n    %% -->\n"
            "    participant CI as CI (GitHub Actions, Azure DevOps or GitLab)\n    %% /specialize\n"
            "    CI->>CI: test\n```\n")
    assert specialize.resolve_fork_blocks(text, {"cicd_platform": "GitLab"}, choices) == (
        "```mermaid\nsequenceDiagram\n    participant CI as CI (GitLab)\n    CI->>CI: test\n```\n")
    assert specialize.resolve_fork_blocks(text, {"cloud": "aws"}, choices) == text
    with pytest.raises(SpecializeError, match="no text for cicd_platform='Jenkins'"):
        specialize.resolve_fork_blocks(text, {"cicd_platform": "Jenkins"}, {**choices, "cicd_platform": ["Jenkins"]})


def test_the_template_readmes_fork_blocks_have_a_text_for_every_choice() -> None:
    """Every fork block of the guides resolves for every choice (a fork of any answer)."""
    choices = {k: v for k, v in json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text()).items()
               if isinstance(v, list) and not k.startswith("_")}
    for guide in specialize.GUIDES:
        text = (TEMPLATE_DIR / guide).read_text()
        for name, values in choices.items():
            for value in values:
                resolved = specialize.resolve_fork_blocks(text, {name: value}, choices)
                assert f"<!-- specialize {name}\n" not in resolved and f"%% specialize {name}\n" not in resolved, guide


def test_deleted_example_configs_are_replaced_by_a_remaining_one() -> None:
    text = "--config-file tests/example-project-configs/azure/azure-devops.yaml\n"
    assert specialize.replace_deleted_paths(
        text, ["tests/example-project-configs/azure/azure-devops.yaml"],
        ["tests/example-project-configs/aws/aws-github.yaml"]) == \
        "--config-file tests/example-project-configs/aws/aws-github.yaml\n"


def test_tests_without_parameters_are_deleted_with_the_helpers_only_they_read() -> None:
    source = ('import pytest\n\n_ADO = ["x"]\n\n\ndef _helper() -> int:\n    return 1\n\n\n'
              'def shared() -> int:\n    return 2\n\n\n# Azure DevOps only.\n@pytest.mark.parametrize("v", _ADO)\n'
              'def test_ado(v: str) -> None:\n    assert _helper() == shared()\n\n\n'
              'def test_kept() -> None:\n    assert shared() == 2\n')
    assert specialize.remove_test_functions(source, {"test_ado"}) == (
        'import pytest\n\n\ndef shared() -> int:\n    return 2\n\n\ndef test_kept() -> None:\n    assert shared() == 2\n')


def test_a_forks_collection_refuses_a_test_parametrised_over_nothing(tmp_path: Path) -> None:
    """12 tests of test_cicd.py passed as 'got empty parameter set' in an aws + GitHub Actions fork:
    a fork's collection refuses them, and reports them to make specialize, which deletes them."""
    import os
    import subprocess
    import sys

    (tmp_path / "test_x.py").write_text('import pytest\n\n\n@pytest.mark.parametrize("v", [])\n'
                                        'def test_nothing(v): pass\n\n\ndef test_something(): pass\n')
    (tmp_path / "conftest.py").write_text("import tests.support.choice_owned as owned\n\n"
                                          "owned.FIXED_ANSWERS = {'cloud': 'aws'}  # a fork\n"
                                          "pytest_plugins = ['tests.support.choice_owned']\n")
    env = {**os.environ, "PYTHONPATH": str(TEMPLATE_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(choice_owned.EMPTY_PARAMETER_SETS_ENV, None)

    def collect(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path)],
                              cwd=tmp_path, capture_output=True, text=True, env={**env, **extra})

    refused = collect()
    assert refused.returncode != 0 and "test_x.py::test_nothing" in refused.stdout + refused.stderr
    report = tmp_path / "empty.txt"
    assert collect(**{choice_owned.EMPTY_PARAMETER_SETS_ENV: str(report)}).returncode == 0
    assert report.read_text() == "test_x.py::test_nothing[NOTSET]\n"


def test_a_constant_set_that_no_template_reads_any_more_goes_on_its_own_line() -> None:
    """A fork's project README kept '{%- set gitlab = false -%}': the first pass keeps every name a
    partial mentions (comments and dead partials included); the second pass knows who reads it."""
    from jinja2 import Environment as Jinja

    source = ('{%- set github = true -%}\n{%- set gitlab = false -%}\n{%- set fs = cookiecutter.fs -%}\n'
              '{% include "x.md" %}{% if github %}G{% endif %}{{ fs }}\n')
    known = Known({}, tracked_derivation(derived_value, {}), Jinja(keep_trailing_newline=True))
    assert specialize_source(source, known, read_elsewhere=frozenset({"github"})) == (
        '{%- set github = true -%}\n{%- set fs = cookiecutter.fs -%}\n{% include "x.md" %}G{{ fs }}\n')
    # The first pass keeps what a partial may read (its text names it).
    assert specialize_source(source, known, shared_names=frozenset({"gitlab"})).startswith("{%- set gitlab = false -%}\n")
    from scripts.jinja_specialize import read_names

    assert read_names('{# {{ gitlab }} #}{%- set a = b ~ "c" -%}{{ credentials.d }}', Jinja()) == {
        "b", "credentials", "d"}


def test_a_partials_setting_that_only_a_deleted_partial_read_goes_with_its_comment() -> None:
    """credentials.jinja kept Azure DevOps' and GitLab's settings once azure.jinja and gitlab.jinja were gone."""
    from jinja2 import Environment as Jinja

    source = ('{%- set kept = "a" -%}\n\n{#- Azure DevOps: the service connection (read by azure.jinja). -#}\n'
              '{%- set connection = cookiecutter.project_name ~ " state" -%}\n{%- set clouds = ["azure", "aws"] -%}\n\n'
              '{#- Says connection, but does not read it. -#}\n{%- set last = kept ~ "b" -%}\n')
    known = Known({}, tracked_derivation(derived_value, {}), Jinja(keep_trailing_newline=True))
    assert specialize_source(source, known, read_elsewhere=frozenset({"kept", "last"})) == (
        '{%- set kept = "a" -%}\n{#- Says connection, but does not read it. -#}\n{%- set last = "ab" -%}\n')
    assert specialize_source(source, known, exports=True) == source.replace('kept ~ "b"', '"ab"')  # first pass
