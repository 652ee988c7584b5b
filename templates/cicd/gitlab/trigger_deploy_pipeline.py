import requests

scope = f"{env}-{{ cookiecutter.project_name }}-cd-credentials"
api_url, project_id, ref = (dbutils.secrets.get(scope, key) for key in ("gitlab_api_url", "gitlab_project_id", "ref"))
url = f"{api_url}/projects/{project_id}/trigger/pipeline"
response = requests.post(
    url,
    data={"token": dbutils.secrets.get(scope, "token"), "ref": ref, "variables[MODEL_URI]": model_uri},
    timeout=30,
)
assert response.ok, (
    f"Triggering a pipeline on {ref} for model {model_uri} failed with status {response.status_code}: {response.text}"
)
print(f"Started pipeline {response.json()['web_url']} on {ref} to deploy {model_uri}.")