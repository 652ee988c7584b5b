import requests

# Created by the CI/CD bootstrap in the prod workspace only, readable by prod's CI/CD service
# principal alone: the staging principal, which runs merge requests' integration tests, cannot
# start a prod deployment (.mlops-setup-scripts/cicd/gitlab.tf).
PROD_CD_SCOPE = "prod-{{ cookiecutter.project_name }}-cd-credentials"


def start_prod_deployment(model_uri: str) -> None:
    """Starts a pipeline on prod's branch whose job deploy-model-prod deploys `model_uri`.

    The job waits for the approvers of the protected `prod` environment. Raises AssertionError
    with GitLab's answer when GitLab refuses (e.g. a revoked trigger: re-run the CI/CD bootstrap).
    """
    api_url, project_id, ref = (
        dbutils.secrets.get(PROD_CD_SCOPE, key) for key in ("gitlab_api_url", "gitlab_project_id", "ref")
    )
    url = f"{api_url}/projects/{project_id}/trigger/pipeline"
    response = requests.post(
        url,
        data={"token": dbutils.secrets.get(PROD_CD_SCOPE, "token"), "ref": ref, "variables[MODEL_URI]": model_uri},
        timeout=30,
    )
    assert response.ok, (
        f"Triggering a pipeline on {ref} for model {model_uri} failed with status {response.status_code}: {response.text}"
    )
    print(f"Started pipeline {response.json()['web_url']} on {ref} to deploy {model_uri}; approve it there.")
