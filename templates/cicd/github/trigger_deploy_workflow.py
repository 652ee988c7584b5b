import requests

scope = f"{env}-{{ cookiecutter.project_name }}-cd-credentials"
github_repo = dbutils.secrets.get(scope, "github_repo")
token = dbutils.secrets.get(scope, "token")
url = f"https://api.github.com/repos/{github_repo}/actions/workflows/deploy-model-{env}.yml/dispatches"
response = requests.post(
    url,
    # The branch this environment's jobs run from, so the deployment uses the same code.
    json={"ref": git_branch, "inputs": {"modelUri": model_uri}},
    headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
    timeout=30,
)
assert response.ok, (
    f"Triggering {url} on {git_branch} for model {model_uri} failed with status {response.status_code}: {response.text}"
)
print(
    f"Started the deploy-model-{env} workflow on {git_branch} for {model_uri}; follow it in the repository's Actions tab."
)