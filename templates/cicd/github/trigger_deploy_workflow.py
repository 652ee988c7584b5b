import requests
{%- set protected_environments = cookiecutter | environments("deploy") | selectattr("protected") | map(attribute="name") | list %}
{%- for env in protected_environments %}

# Created by the CI/CD bootstrap in the {{ env }} workspace only, readable by {{ env }}'s CI/CD service
# principal alone: the staging principal, which runs pull requests' integration tests, cannot
# start a {{ env }} deployment (.mlops-setup-scripts/cicd/github.tf).
{{ env | upper }}_CD_SCOPE = "{{ env }}-{{ cookiecutter.project_name }}-cd-credentials"


def start_{{ env }}_deployment(model_uri: str, git_branch: str) -> None:
    """Starts .github/workflows/deploy-model-{{ env }}.yml on `git_branch` for `model_uri`.

    The workflow waits for the approvers of the `{{ env }}` environment. Raises AssertionError with
    GitHub's answer when GitHub refuses (e.g. an expired token: rotate it, docs/mlops-setup.md).
    """
    github_repo = dbutils.secrets.get({{ env | upper }}_CD_SCOPE, "github_repo")
    token = dbutils.secrets.get({{ env | upper }}_CD_SCOPE, "token")
    url = f"https://api.github.com/repos/{github_repo}/actions/workflows/deploy-model-{{ env }}.yml/dispatches"
    response = requests.post(
        url,
        # The branch {{ env }}'s jobs run from, so the deployment uses the same code.
        json={"ref": git_branch, "inputs": {"modelUri": model_uri}},
        headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
        timeout=30,
    )
    assert response.ok, (
        f"Triggering {url} on {git_branch} for model {model_uri} failed with status {response.status_code}: {response.text}"
    )
    print(f"Started the deploy-model-{{ env }} workflow on {git_branch} for {model_uri}; approve it in the Actions tab.")
{%- if not loop.last %}

{% endif %}
{%- endfor %}
