"""The Unity Catalog option's interface: derived names, their one statement in a project, overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException

from hooks.derived import UC_DEFAULTS, default_include_mlflow_recipes, derived_value
from hooks.environments import names as environment_names
from tests.support.environments import DEPLOY
from tests.support.generation import TEST_ANSWERS, answers_for, generate
from tests.support.variants import COOKIECUTTER_JSON, SUPPORTED_VARIANTS, UNITY_CATALOG_VARIANTS, Variant

UC_ANSWERS = {**TEST_ANSWERS, "cloud": "azure", "include_models_in_unity_catalog": "yes"}


def test_the_prompt_comes_before_the_recipes_prompt_and_defaults_to_no() -> None:
    prompts = list(COOKIECUTTER_JSON)
    assert prompts.index("include_models_in_unity_catalog") < prompts.index("include_mlflow_recipes")
    assert COOKIECUTTER_JSON["include_models_in_unity_catalog"] == ["no", "yes"]
    assert "include_models_in_unity_catalog" in COOKIECUTTER_JSON["__prompts__"]


def test_private_defaults_in_cookiecutter_json_are_the_derived_defaults() -> None:
    assert {key: COOKIECUTTER_JSON[key] for key in UC_DEFAULTS} == UC_DEFAULTS


@pytest.mark.parametrize(
    ("feature_store", "unity_catalog", "recipes"), [("no", "no", "yes"), ("no", "yes", "no"), ("yes", "no", "no")]
)
def test_recipes_default_follows_the_feature_store_and_unity_catalog(
    feature_store: str, unity_catalog: str, recipes: str
) -> None:
    answers = {"include_feature_store": feature_store, "include_models_in_unity_catalog": unity_catalog}
    assert default_include_mlflow_recipes(answers) == recipes


def test_names_are_derived_from_the_project_name() -> None:
    answers = {"project_name": "Team-A_fares"}
    assert derived_value(answers, "uc_schema") == "team_a_fares"
    assert derived_value(answers, "uc_model_name") == "team_a_fares_model"
    assert [derived_value(answers, f"uc_{env}_catalog") for env in environment_names()] == list(environment_names())
    assert derived_value(answers, "uc_read_group") == "account users"
    assert derived_value({**answers, "_uc_schema": "shared_ml"}, "uc_schema") == "shared_ml"


def test_unity_catalog_is_supported_on_both_mlflow3_tracks() -> None:
    assert UNITY_CATALOG_VARIANTS and {v.ml_code for v in UNITY_CATALOG_VARIANTS} == {"mlflow3", "feature_store"}


def test_without_unity_catalog_the_project_has_none_of_its_files(tmp_path: Path) -> None:
    project = generate(tmp_path, {**TEST_ANSWERS, "include_mlflow_recipes": "no"})
    assert not (project / "databricks-config" / "unity-catalog.json").exists()
    assert not (project / "fare_model" / "unity_catalog.py").exists()
    assert not (project / "databricks-config" / "modules" / "ml-resources" / "unity-catalog.tf").exists()


def test_a_config_file_overrides_the_names_stated_once_in_the_project(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    overrides = {"_uc_test_catalog": "ci_catalog", "_uc_schema": "fares_schema", "_uc_read_group": "ml readers"}
    config.write_text(yaml.safe_dump({"default_context": {**UC_ANSWERS, **overrides}}))
    project = generate(tmp_path / "out", config_file=str(config))
    names = json.loads((project / "databricks-config" / "unity-catalog.json").read_text())
    assert names == {
        "catalogs": {"dev": "dev", "test": "ci_catalog", **{env: env for env in DEPLOY}},
        "schema": "fares_schema",
        "model": "my_mlops_project_model",
        "predictions_table": "predictions",
        "read_group": "ml readers",
    }
    # Stated once: no other generated file repeats the overridden names.
    for path in project.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".tf", ".yml", ".yaml"}:
            text = path.read_text()
            assert not [name for name in ("ci_catalog", "fares_schema", "ml readers") if name in text], path


def test_a_bad_private_name_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"default_context": {**UC_ANSWERS, "_uc_prod_catalog": "Prod-Catalog"}}))
    with pytest.raises(FailedHookException) as failure:
        generate(tmp_path / "out", config_file=str(config))
    assert "_uc_prod_catalog 'Prod-Catalog'" in failure.value.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# Names of the workspace Model Registry (and the Hive predictions table) that a Unity Catalog
# project never has: `<model>-dev`, `staging-<model>`, a model page under #mlflow/models/, ...
def workspace_registry_names(answers: dict[str, str]) -> re.Pattern[str]:
    model = re.escape(derived_value(answers, "model_name"))
    table = re.escape(derived_value(answers, "project_name_alphanumeric") + "_predictions")
    return re.compile(rf"{model}-(?:dev|test|local)\b|\b(?:staging|prod)-{model}|#mlflow/models/|\b(?:staging|prod)_{table}\b")


@pytest.mark.parametrize("variant", UNITY_CATALOG_VARIANTS, ids=lambda v: v.id)
def test_unity_catalog_docs_name_the_three_level_names(variant: Variant, generated_project: Path) -> None:
    answers = answers_for(variant)
    wrong = workspace_registry_names(answers)
    found = [
        f"{path.relative_to(generated_project)}: {match.group(0)}"
        for path in sorted(generated_project.rglob("*.md"))
        for match in wrong.finditer(path.read_text())
    ]
    assert not found, "docs name models or tables the project does not have:\n" + "\n".join(found)
    schema, model = derived_value(answers, "uc_schema"), derived_value(answers, "uc_model_name")
    names = json.loads((generated_project / "databricks-config" / "unity-catalog.json").read_text())
    readme = (generated_project / "README.md").read_text()
    assert all(f"`{names['catalogs'][env]}.{schema}.{model}`" in readme for env in ("staging", "prod"))
    guide_name = "ml-developer-guide-fs.md" if variant.feature_store else "ml-developer-guide-mlflow3.md"
    guide = (generated_project / "docs" / guide_name).read_text()
    # Dev: each data scientist's own schema, which their first dev run creates (steps/dev_namespace.py).
    assert f"`{names['catalogs']['dev']}.{schema}_<user>`" in guide and "CREATE SCHEMA IF NOT EXISTS" in guide
    assert f"`{names['catalogs']['dev']}.{schema}_<user>.{model}`" in guide


def test_the_pattern_catches_workspace_registry_names() -> None:
    wrong = workspace_registry_names(TEST_ANSWERS)
    for text in ("`my-mlops-project-model-dev`", "staging-my-mlops-project-model", "x/#mlflow/models/a", "prod_mymlopsproject_predictions"):
        assert wrong.search(text), text
    assert not wrong.search("`staging.my_mlops_project.my_mlops_project_model`, `dev.my_mlops_project.predictions`")



@pytest.mark.parametrize("variant", [v for v in SUPPORTED_VARIANTS if v.ml_code == "mlflow3"], ids=lambda v: v.id)
def test_mlflow3_projects_never_mention_recipes(variant: Variant, generated_project: Path) -> None:
    # .cruft.json records the answers, include_mlflow_recipes among them: the one file about the option.
    # model_spec/ is the plain-Python model package every track shares: its docs name each track.
    found = [
        f"{path.relative_to(generated_project)}:{number}: {line.strip()}"
        for path in sorted(generated_project.rglob("*"))
        if path.is_file() and path.name != ".cruft.json" and path.suffix != ".parquet"
        and "model_spec" not in path.relative_to(generated_project).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "recipe" in line.lower()
    ]
    assert not found, "an MLflow 3 project has no MLflow Recipes:\n" + "\n".join(found)
