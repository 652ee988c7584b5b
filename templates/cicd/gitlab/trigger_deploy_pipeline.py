import requests
{%- set protected_environments = cookiecutter | environments("deploy") | selectattr("protected") | map(attribute="name") | list %}
{%- for env in protected_environments %}
{%- if not loop.first %}
{% endif %}

# Created by the CI/CD bootstrap in the {{ env }} workspace only, readable by {{ env }}'s CI/CD service
# principal alone: the staging principal, which runs merge requests' integration tests, cannot
# start a {{ env }} deployment (.mlops-setup-scripts/cicd/gitlab.tf).
{{ env | upper }}_CD_SCOPE = "{{ env }}-{{ cookiecutter.project_name }}-cd-credentials"


def start_{{ env }}_deployment(model_uri: str) -> None:
    """Starts a pipeline on {{ env }}'s branch whose job deploy-model-{{ env }} deploys `model_uri`.

    The job waits for the approvers of the protected `{{ env }}` environment. Raises AssertionError
    with GitLab's answer when GitLab refuses (e.g. a revoked trigger: re-run the CI/CD bootstrap).
    """
    api_url, project_id, ref = (
        dbutils.secrets.get({{ env | upper }}_CD_SCOPE, key) for key in ("gitlab_api_url", "gitlab_project_id", "ref")
    )
    url = f"{api_url}/projects/{project_id}/trigger/pipeline"
    response = requests.post(
        url,
        data={"token": dbutils.secrets.get({{ env | upper }}_CD_SCOPE, "token"), "ref": ref, "variables[MODEL_URI]": model_uri},
        timeout=30,
    )
    assert response.ok, (
        f"Triggering a pipeline on {ref} for model {model_uri} failed with status {response.status_code}: {response.text}"
    )
    print(f"Started pipeline {response.json()['web_url']} on {ref} to deploy {model_uri}; approve it there.")
{%- endfor %}
