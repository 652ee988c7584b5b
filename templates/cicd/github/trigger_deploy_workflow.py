import requests

# Created by the CI/CD bootstrap in the prod workspace only, readable by prod's CI/CD service
# principal alone: the staging principal, which runs pull requests' integration tests, cannot
# start a prod deployment (.mlops-setup-scripts/cicd/github.tf).
PROD_CD_SCOPE = "prod-{{ cookiecutter.project_name }}-cd-credentials"


def start_prod_deployment(model_uri: str, git_branch: str) -> None:
    """Starts .github/workflows/deploy-model-prod.yml on `git_branch` for `model_uri`.

    The workflow waits for the approvers of the `prod` environment. Raises AssertionError with
    GitHub's answer when GitHub refuses (e.g. an expired token: rotate it, docs/mlops-setup.md).
    """
    github_repo = dbutils.secrets.get(PROD_CD_SCOPE, "github_repo")
    token = dbutils.secrets.get(PROD_CD_SCOPE, "token")
    url = f"https://api.github.com/repos/{github_repo}/actions/workflows/deploy-model-prod.yml/dispatches"
    response = requests.post(
        url,
        # The branch prod's jobs run from, so the deployment uses the same code.
        json={"ref": git_branch, "inputs": {"modelUri": model_uri}},
        headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
        timeout=30,
    )
    assert response.ok, (
        f"Triggering {url} on {git_branch} for model {model_uri} failed with status {response.status_code}: {response.text}"
    )
    print(f"Started the deploy-model-prod workflow on {git_branch} for {model_uri}; approve it in the Actions tab.")
