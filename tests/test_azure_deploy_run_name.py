"""Issue 22 (minor): on Azure DevOps the prod approval did not show which model version the run
deploys: ``deploy-model-prod.yml`` had no run name (GitHub puts the version in ``run-name``).

Its ``name:`` now holds a template expression over the ``modelUri`` parameter. Azure DevOps cannot
run here, so the test evaluates that expression's ``replace`` calls as Azure Pipelines defines them
(``replace(string, search, replacement)``: every occurrence, ordinal) on real model URIs and checks
the result against the run number rules (Azure Pipelines, "Run and build numbers": none of
``" / : < > \\ | ? @ *``, at most 255 characters, no trailing dot). The ``$( )`` tokens are
Azure's run number tokens and stay as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.support.variants import SUPPORTED_VARIANTS, Variant

PIPELINE = ".azure/devops-pipelines/deploy-model-prod.yml"
FORBIDDEN = set('"/:<>\\|?@*')
URIS = {
    "models:/prod-my-mlops-project-model/12": ("prod-my-mlops-project-model", "12"),
    "models:/ml_prod.my_mlops_project.my_mlops_project_model/3": ("ml_prod.my_mlops_project.my_mlops_project_model", "3"),
}
AZURE_VARIANTS = [v for v in SUPPORTED_VARIANTS if v.cicd_platform == "Azure DevOps"][:2]
CALL = re.compile(r"^replace\((.*), '([^']*)', '([^']*)'\)$")


def evaluate(expression: str, model_uri: str) -> str:
    """Value of a template expression made of nested ``replace`` calls around ``parameters.modelUri``."""
    expression = expression.strip()
    if expression == "parameters.modelUri":
        return model_uri
    match = CALL.match(expression)
    assert match, f"not a replace() chain over parameters.modelUri: {expression}"
    inner, search, replacement = match.groups()
    return evaluate(inner, model_uri).replace(search, replacement)


def run_name(template: str, model_uri: str) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: evaluate(m.group(1), model_uri), template)


@pytest.mark.parametrize("variant", AZURE_VARIANTS, ids=lambda v: v.id)
def test_prod_deployment_run_is_named_after_the_model_version(variant: Variant, generated_project: Path) -> None:
    pipeline = yaml.safe_load((generated_project / PIPELINE).read_text())
    assert "name" in pipeline, "deploy-model-prod.yml has no run name: the approval does not show the model version"
    template = pipeline["name"]
    assert "parameters.modelUri" in template
    for uri, (model, version) in URIS.items():
        name = run_name(template, uri)
        without_tokens = re.sub(r"\$\([^)]*\)", "", name)
        assert not FORBIDDEN & set(without_tokens), (uri, name)
        assert f"{model} version {version}" in name and "prod" in name, name
        assert len(name) <= 255 and not name.endswith("."), name
