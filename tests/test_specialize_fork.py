"""``make specialize`` on copies of this repository: the specialised template generates, for every
combination it still offers, byte for byte what this template generates, and its own tests pass;
and a fork's prompt without a valid default works with the test helpers.

Covering sets (a few minutes in all, not every combination): the issue's fork (AWS + GitHub
Actions: every remaining variant), GitLab only and no feature store (one variant per remaining
cloud, ML code and Unity Catalog answer). The issue's fork then runs its whole fast suite (what
``make test-fast`` runs there, about 3 CPU-minutes); the other two run the tests that generate,
prune, render and check docs, configs and the README.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.generation import answers_for, generate_variant
from tests.support.template_repo import template_repository
from tests.support.variants import FIXED_ANSWERS, SUPPORTED_VARIANTS, Variant, choices

# A covering set per fork: the answers fixed, and which remaining variants to compare. In a fork
# that fixed some of these prompts already, the forks that fix them again are left out.
ALL_FORKS = {
    "aws-github": ['cloud=aws', 'cicd_platform=GitHub Actions'],
    "gitlab": ['cicd_platform=GitLab'],
    "no-feature-store": ['include_feature_store=no'],
}


def _still_offered(answer: str) -> bool:
    """True when ``prompt=value`` names a prompt this repository still asks, with that choice."""
    prompt, value = answer.split("=", 1)
    return prompt not in FIXED_ANSWERS and value in choices(prompt)


FORKS = {name: answers for name, answers in ALL_FORKS.items() if all(map(_still_offered, answers))}
# The fork whose whole fast suite runs (``tests``: every test not marked large).
FULL_SUITE_FORK = "aws-github"
# The other forks' own fast tests that generate, prune and check docs, configs and the README.
# Rendering tests are left out: the fork's output equals the template's, byte for byte (above),
# and the template's suite renders that output.
FORK_SUITE = [
    "tests/test_specialize.py",
    "tests/test_pruning.py",
    "tests/test_example_configs.py",
    "tests/test_docs.py::test_readme_counts_the_questions_and_lists_every_prompt",
    "tests/test_generation.py::test_bad_answer_is_refused_and_leaves_nothing",
    "tests/test_generation.py::test_refusal_prints_a_command_that_generates_once_the_marked_answer_is_fixed",
]
# .cruft.json records the template's location and commit and the context: compared without them.
_RUN_KEYS = ("_template", "_commit", "_repo_dir", "_output_dir", "_checkout", "_fixed_answers")


def specialised_copy(folder: Path, answers: list[str]) -> Path:
    repo = template_repository(folder)
    result = subprocess.run([sys.executable, "scripts/specialize.py", *answers], cwd=repo, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    return repo


def covering_set(fixed: dict[str, str]) -> list[Variant]:
    """Every variant the fork offers for aws-github; else one per cloud, ML code and Unity Catalog."""
    offered = [v for v in SUPPORTED_VARIANTS if all(v.answers()[k] == value for k, value in fixed.items())]
    if len(offered) <= 6:
        return offered
    chosen: dict[tuple[str, str], Variant] = {}
    for variant in offered:
        for key in (("cloud", variant.cloud), ("code", variant.ml_code), ("uc", variant.include_models_in_unity_catalog),
                    ("cicd", variant.cicd_platform)):
            chosen.setdefault(key, variant)
    return list(dict.fromkeys(chosen.values()))


def files(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}


def normalised_cruft(content: bytes, fixed: dict[str, str]) -> dict:
    state = json.loads(content)
    context = {**state["context"]["cookiecutter"], **fixed}
    return {k: v for k, v in context.items() if k not in _RUN_KEYS}


@pytest.mark.large
@pytest.mark.parametrize("fork", FORKS)
def test_specialised_fork_generates_what_the_template_generates_and_passes_its_tests(
    fork: str, tmp_path: Path
) -> None:
    repo = specialised_copy(tmp_path / "fork", FORKS[fork])
    fixed = json.loads((repo / "cookiecutter.json").read_text())["_fixed_answers"]
    variants = covering_set(fixed)
    assert variants
    for variant in variants:
        original = generate_variant(tmp_path / "original" / variant.id, variant)
        from cookiecutter.main import cookiecutter

        answers = {k: v for k, v in answers_for(variant).items() if k not in fixed}
        specialised = Path(cookiecutter(str(repo), no_input=True, output_dir=str(tmp_path / "fork-out" / variant.id),
                                        extra_context=answers))
        before, after = files(original), files(specialised)
        assert sorted(before) == sorted(after), variant.id
        differing = [name for name in before if name != ".cruft.json" and before[name] != after[name]]
        assert differing == [], variant.id
        assert normalised_cruft(before[".cruft.json"], FIXED_ANSWERS) == normalised_cruft(after[".cruft.json"], fixed)

    # The fork no longer asks the fixed prompts and its own tests pass.
    cookiecutter_json = json.loads((repo / "cookiecutter.json").read_text())
    assert not set(fixed) & set(cookiecutter_json) and not set(fixed) & set(cookiecutter_json["__prompts__"])
    # Nor does its README offer them: prompt table, config-file example (a test generates it).
    readme = (repo / "README.md").read_text()
    example = next(block for block in readme.split("```yaml\n")[1:] if "default_context:" in block).split("```")[0]
    assert not set(fixed) & set(yaml.safe_load(example)["default_context"])
    assert not [name for name in fixed if f"| `{name}` |" in readme]
    # The release table names commits of this repository's history; the copy has one commit.
    tests = (["tests", "--deselect", "tests/test_upgrade_matrix.py::test_the_release_table_names_commits_of_this_history"]
             if fork == FULL_SUITE_FORK else FORK_SUITE)
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-q", "-n", "2", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]


@pytest.mark.choice(cloud="azure")
def test_specialise_refuses_a_value_that_is_not_a_choice_and_changes_nothing(tmp_path: Path) -> None:
    repo = template_repository(tmp_path / "fork")
    result = subprocess.run([sys.executable, "scripts/specialize.py", "cloud=oracle"], cwd=repo, capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert "cloud='oracle' is not one of its choices" in result.stderr and "cloud=azure" in result.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert status == ""


REQUIRED_PROMPT_RULE = '''

def check_cluster_policy_id(policy_id: str) -> Problem:
    """Every job cluster must use the company's cluster policy."""
    if re.fullmatch(r"[0-9A-F]{16}", policy_id):
        return None
    return f"cluster_policy_id '{policy_id}' must be a cluster policy ID, for example 'ABCDEF0123456789'."


RULES = RULES + ((("cluster_policy_id",), check_cluster_policy_id),)
EXAMPLES["cluster_policy_id"] = "ABCDEF0123456789"
'''


@pytest.mark.large
def test_a_prompt_without_a_valid_default_works_with_the_test_helpers_and_make_demo(tmp_path: Path) -> None:
    """Task B of the customization guide: a required prompt (default "", refused) in a copy."""
    repo = template_repository(tmp_path / "fork")
    cookiecutter_json = json.loads((repo / "cookiecutter.json").read_text())
    if "cluster_policy_id" in cookiecutter_json:
        pytest.skip("this fork has its own cluster_policy_id prompt, which its whole suite answers and checks")
    items = list(cookiecutter_json.items())
    at = next(i for i, (k, _) in enumerate(items) if k == "read_user_group") + 1
    items.insert(at, ("cluster_policy_id", ""))
    cookiecutter_json = dict(items)
    cookiecutter_json["__prompts__"]["cluster_policy_id"] = "ID of the cluster policy every job cluster uses"
    (repo / "cookiecutter.json").write_text(json.dumps(cookiecutter_json, indent=2) + "\n")
    with (repo / "hooks" / "validation.py").open("a") as validation:
        validation.write(REQUIRED_PROMPT_RULE)
    readme = (repo / "README.md").read_text()
    row = "| `read_user_group` |"
    line = next(x for x in readme.splitlines() if x.startswith(row))
    readme = readme.replace(line, line + "\n| `cluster_policy_id` | ID of the cluster policy of every job. | none |")
    words = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
    count = re.search(r"Cookiecutter asks (\w+) questions", readme)
    assert count and count.group(1) in words[:-1], "the README no longer says how many questions Cookiecutter asks"
    readme = readme.replace(count.group(0), f"Cookiecutter asks {words[words.index(count.group(1)) + 1]} questions")
    (repo / "README.md").write_text(readme)

    demo_answers = subprocess.run([sys.executable, "scripts/required_answers.py"], cwd=repo, capture_output=True,
                                  text=True, check=True).stdout.strip()
    assert demo_answers == "cluster_policy_id=ABCDEF0123456789"
    refused = subprocess.run([sys.executable, "-m", "cookiecutter", ".", "--no-input", "-o", str(tmp_path / "out")],
                             cwd=repo, capture_output=True, text=True)
    assert refused.returncode != 0 and "cluster_policy_id ''" in refused.stderr
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
         "tests/test_docs.py::test_readme_counts_the_questions_and_lists_every_prompt",
         "tests/test_generation.py", "tests/test_specialize.py", "-k",
         "readme_counts or refus or retry or replay or warning or every_prompt or default"],
        cwd=repo, capture_output=True, text=True,
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]


def stale_guide_references(repo: Path, guides: list[str], removed: list[str]) -> list[str]:
    """What the guides ``guides`` of the specialised checkout ``repo`` still say about what the
    specialisation removed: relative links that do not resolve, paths of files and folders it
    deleted (``git status``; project paths also without ``{{cookiecutter.project_name}}/``), and
    the ``removed`` choices (whole words)."""
    from tests.support.markdown_links import broken_links_in

    status = subprocess.run(["git", "status", "--porcelain", "--no-renames"], cwd=repo, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    deleted = {line[3:].strip('"') for line in status if line[:2].strip() == "D"}
    # Deleted folders as well (tests/gitlab-ci-local/), each path as the guides write it.
    paths = {p for d in deleted for p in [d, *(str(parent) + "/" for parent in Path(d).parents
                                                if str(parent) != "." and not (repo / parent).exists())]}
    paths = {p.removeprefix("{{cookiecutter.project_name}}/") for p in paths} - {"{{cookiecutter.project_name}}/"}
    found = [f"{b.path.name}:{b.line}: link {b.target} ({b.reason})" for b in broken_links_in(
        [repo / g for g in guides], repo)]
    for guide in guides:
        for number, line in enumerate((repo / guide).read_text().splitlines(), 1):
            found += [f"{guide}:{number}: deleted {p}" for p in sorted(paths)
                      if re.search(rf"(?<![\w./-]){re.escape(p)}(?![\w-])", line)]
            found += [f"{guide}:{number}: removed choice {c}" for c in removed if re.search(rf"\b{re.escape(c)}\b", line)]
    return found


@pytest.mark.choice(cloud="azure", cicd_platform="Azure DevOps")
def test_a_specialised_forks_guides_and_tests_keep_nothing_of_the_removed_choices(tmp_path: Path) -> None:
    """The README told an aws + GitHub Actions fork to preview with a deleted Azure DevOps config,
    to install gitlab-ci-local and that CI/CD may be in .azure/ or .gitlab/; the customization guide
    and Pipeline.md still named the other CI/CD platforms and clouds and their deleted files; Azure
    DevOps tests stayed and passed there without checking anything."""
    from scripts.specialize import GUIDES, empty_parameter_set_tests

    repo = specialised_copy(tmp_path / "fork", ALL_FORKS["aws-github"])
    assert stale_guide_references(repo, list(GUIDES), ["Azure DevOps", "GitLab", "gitlab-ci-local", "azure", "gcp"]) == []
    assert "def test_azure_devops_variable_group_is_documented" not in (repo / "tests/test_terraform.py").read_text()
    assert empty_parameter_set_tests(repo) == {}
