{#- The CI/CD bootstrap's main-<cloud>.tf: the same on every cloud but for the account host. -#}
{%- import "cicd/credentials.jinja" as credentials with context -%}
{%- set account_host = cookiecutter | derived("account_host") -%}
{%- import "cicd/credentials.jinja" as credentials with context -%}
# Workload identity federation: each CI/CD service principal trusts the OIDC tokens of the
# {{ {"GitHub Actions": "GitHub environment", "Azure DevOps": "Azure DevOps pipelines", "GitLab": "GitLab pipelines"}[cookiecutter.cicd_platform] }} that deploy{{ "s" if cookiecutter.cicd_platform == "GitHub Actions" }} to its workspace, so CI/CD stores no Databricks secret.
# Federation policies live in the Databricks account ({{ cookiecutter.cloud }}: {{ account_host }}):
# an account admin runs this bootstrap once (docs/mlops-setup.md).
#
# With databricks_auth = "client_secret" no policy is created and CI/CD gets the principals'
# Databricks OAuth secrets instead.

# An account admin's login: databricks auth login --host {{ account_host }} --account-id <id> --profile <account_profile>
provider "databricks" {
  alias   = "account"
  profile = var.account_profile
}

locals {
  federation = var.databricks_auth == "federation"
{%- if cookiecutter.cicd_platform == "GitHub Actions" %}

  # GitHub Actions OIDC tokens of a job in environment <env> have the subject
  # repo:<owner>/<repo>:environment:<env>; the Databricks tools ask for the workspace's token
  # endpoint as the audience.
  oidc_issuer       = "https://token.actions.githubusercontent.com"
  github_repository = trimsuffix(trimprefix(var.github_repo_url, "https://github.com/"), "/")
  workspace_hosts = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = "{{ credentials.host[env] }}"
{%- endfor %}
  }
  federation_policies = {
    for env in {{ credentials.environments | tojson }} : "${env}-github" => {
      env       = env
      subject   = "repo:${local.github_repository}:environment:${env}"
      audiences = ["${local.workspace_hosts[env]}/oidc/v1/token"]
    }
  }
{%- elif cookiecutter.cicd_platform == "GitLab" %}

  # GitLab ID tokens (id_tokens: in .gitlab/ci/) carry the workspace host as the audience and
  # the subject project_path:<group>/<project>:ref_type:branch:ref:<branch>. Staging trusts
  # every pipeline of the project (merge requests test their branch on staging, by the
  # project_path claim); prod only the protected branches that deploy to prod:
  # {{ cookiecutter.default_branch }} (Terraform){% if cookiecutter.release_branch != cookiecutter.default_branch %} and {{ cookiecutter.release_branch }} (model deployment){% endif %}. A policy matches one claim, and GitLab's sub
  # cannot carry the job's environment (a project's ci_id_token_sub_claim_components, GitLab 17.10,
  # admits project_path, ref_type and ref only), so prod cannot demand the `prod` environment here: what
  # guards it is that no one pushes to those branches (gitlab.tf), so only code merged after
  # review runs there.
  oidc_issuer = var.gitlab_url
  workspace_hosts = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = "{{ credentials.host[env] }}"
{%- endfor %}
  }
  federation_policies = {
{%- for env in credentials.environments if not credentials.protected[env] %}
    {{ env }}-gitlab = {
      env           = "{{ env }}"
      subject_claim = "project_path"
      subject       = var.gitlab_project_path
      audiences     = [local.workspace_hosts["{{ env }}"]]
    }
{%- endfor %}
{%- for env in credentials.protected_environments %}
{%- for branch in [cookiecutter.default_branch, cookiecutter.release_branch] | unique %}
    {{ env }}-gitlab-{{ branch | lower | regex_replace('[^a-z0-9]+', '-') }} = {
      env           = "{{ env }}"
      subject_claim = "sub"
      subject       = "project_path:${var.gitlab_project_path}:ref_type:branch:ref:{{ branch }}"
      audiences     = [local.workspace_hosts["{{ env }}"]]
    }
{%- endfor %}
{%- endfor %}
  }
{%- else %}

  # A pipeline's Azure DevOps OIDC token names the pipeline by its name only:
  # p://<organization>/<project>/<pipeline>, with the fixed audience api://AzureADTokenExchange.
  # Staging trusts the pipelines of local.environment_pipelines (azure-devops.tf): integration
  # test, pull requests' staging plan, staging apply.
{%- if credentials.connection_token_environments %}
  # Prod trusts no pipeline name, which anyone who may create a pipeline could reuse in another
  # folder: it trusts the token of prod's service connection (azure-devops.tf), which only the
  # pipeline authorised for it by id (Terraform CICD) may use, on {{ cookiecutter.default_branch }} only (branch control).
{%- else %}
  # Prod only the deployment pipeline, Terraform CICD, which runs no pull request and runs on
  # pushes to {{ cookiecutter.default_branch }} only.
{%- endif %}
  oidc_issuer           = "https://vstoken.dev.azure.com/${var.azure_devops_organization_id}"
  azure_devops_org_name = element(split("/", trimsuffix(var.azure_devops_org_url, "/")), 3)
  pipeline_federation_policies = merge([
    for env, pipelines in local.environment_pipelines : {
      for pipeline in pipelines : "${env}-${replace(pipeline, "_", "-")}" => {
        env       = env
        issuer    = local.oidc_issuer
        subject   = "p://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${azuredevops_build_definition.pipeline[pipeline].name}"
        audiences = ["api://AzureADTokenExchange"]
      }{% if credentials.connection_token_environments | length == 1 %} if env != {{ credentials.connection_token_environments[0] | tojson }}{% elif credentials.connection_token_environments %} if !contains({{ credentials.connection_token_environments | tojson }}, env){% endif %}
    }
  ]...)
{%- if credentials.connection_token_environments %}
  federation_policies = merge(local.pipeline_federation_policies, {
{%- if cookiecutter.cloud == "azure" %}
    # An Azure Resource Manager connection's token: issuer and subject as Azure DevOps reports them.
    # A connection with Entra ID's issuer (login.microsoftonline.com/<tenant>/v2.0, the default for
    # new connections) hands out tokens whose audience is the application id of Entra's token
    # exchange endpoint, fb60f99c-7a34-4190-8149-302f77469936; one with Azure DevOps' own issuer
    # (vstoken) uses its URI form. Either one, for that issuer and subject.
{%- endif %}
{%- for env in credentials.connection_token_environments %}
    {{ env }}-service-connection = {
      env       = "{{ env }}"
{%- if cookiecutter.cloud == "azure" %}
      issuer    = azuredevops_serviceendpoint_azurerm.terraform_state["{{ env }}"].workload_identity_federation_issuer
      subject   = azuredevops_serviceendpoint_azurerm.terraform_state["{{ env }}"].workload_identity_federation_subject
{%- else %}
      issuer    = local.oidc_issuer
      subject   = "sc://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${local.state_service_connections["{{ env }}"]}"
{%- endif %}
{%- if cookiecutter.cloud == "azure" %}
      audiences = ["api://AzureADTokenExchange", "fb60f99c-7a34-4190-8149-302f77469936"]
{%- else %}
      audiences = ["api://AzureADTokenExchange"]
{%- endif %}
    }
{%- endfor %}
  })
{%- else %}
  federation_policies = local.pipeline_federation_policies
{%- endif %}
{%- endif %}
}

resource "databricks_service_principal_federation_policy" "cicd" {
  provider = databricks.account
  for_each = local.federation ? local.federation_policies : {}

  service_principal_id = tonumber(local.service_principals[each.value.env].id)
  policy_id            = each.key
  description          = "{{ cookiecutter.project_name }} CI/CD (${each.value.env}): managed by .mlops-setup-scripts/cicd"
  oidc_policy = {
{%- if cookiecutter.cicd_platform == "GitLab" %}
    issuer        = local.oidc_issuer
    subject_claim = each.value.subject_claim
    subject       = each.value.subject
    audiences     = each.value.audiences
{%- elif cookiecutter.cicd_platform == "Azure DevOps" %}
    issuer    = each.value.issuer
    subject   = each.value.subject
    audiences = each.value.audiences
{%- else %}
    issuer    = local.oidc_issuer
    subject   = each.value.subject
    audiences = each.value.audiences
{%- endif %}
  }
}
