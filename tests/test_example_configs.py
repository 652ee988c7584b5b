"""The example configs under tests/example-project-configs/ generate what they say.

The original's example configs misspelt ``cicd_platform``, so cookiecutter silently
ignored the CI/CD choice. Unknown keys are now an error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.generation import generate
from tests.support.variants import COOKIECUTTER_JSON, FIXED_ANSWERS, TEMPLATE_DIR, choices

CONFIG_DIR = TEMPLATE_DIR / "tests" / "example-project-configs"
CONFIGS = sorted(CONFIG_DIR.rglob("*.yaml"))
PROMPTS = [key for key in COOKIECUTTER_JSON if not key.startswith("_")]


def unknown_keys(default_context: dict[str, str]) -> list[str]:
    """Keys that are not prompts of the template (cookiecutter would ignore them)."""
    return sorted(set(default_context) - set(PROMPTS))


def load(config: Path) -> dict[str, str]:
    return yaml.safe_load(config.read_text())["default_context"]


def test_unknown_key_detection_catches_a_misspelling() -> None:
    assert unknown_keys({"project_name": "x", "cicd_plaform": "Azure DevOps"}) == ["cicd_plaform"]


def test_there_is_an_example_per_cloud_and_platform() -> None:
    """One config per cloud and one per CI/CD platform (of those the template offers: a
    specialised fork keeps the configs of its choices, without the fixed keys)."""
    contexts = [{**FIXED_ANSWERS, **load(config)} for config in CONFIGS]
    for prompt in ("cloud", "cicd_platform"):
        named = {c[prompt] for c in contexts}
        # A fork keeps the configs of the answers it fixed, which need not span the others.
        assert named == set(choices(prompt)) if not FIXED_ANSWERS else named and named <= set(choices(prompt))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.stem)
def test_example_config_has_every_prompt_and_no_unknown_key(config: Path) -> None:
    context = load(config)
    assert unknown_keys(context) == []
    assert sorted(context) == sorted(PROMPTS)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.stem)
def test_example_config_generates_its_choices(tmp_path: Path, config: Path) -> None:
    context = {**FIXED_ANSWERS, **load(config)}
    project = generate(tmp_path, config_file=str(config))
    assert project.name == context["project_name"]
    assert (project / ".github").exists() == (context["cicd_platform"] == "GitHub Actions")
    assert (project / ".azure").exists() == (context["cicd_platform"] == "Azure DevOps")
    assert (project / ".gitlab-ci.yml").exists() == (context["cicd_platform"] == "GitLab")
    terraform_bootstrap = project / ".mlops-setup-scripts" / "terraform" / f"main-{context['cloud']}.tf"
    assert terraform_bootstrap.exists()
