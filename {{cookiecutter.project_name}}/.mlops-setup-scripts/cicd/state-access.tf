{%- import "terraform_state_names.jinja" as state with context -%}
{%- import "cicd/credentials.jinja" as credentials with context -%}
{%- set github = cookiecutter.cicd_platform == "GitHub Actions" -%}
{%- set gitlab = cookiecutter.cicd_platform == "GitLab" -%}
{#- GitHub Actions and GitLab sign in to the cloud with their jobs' OIDC tokens; Azure DevOps
    with its service connections' OIDC tokens on azure and aws, with its pipeline runs' OIDC
    tokens on gcp (AWS cannot condition on their branch claim; Google Cloud can). -#}
{%- set oidc = github or gitlab -%}
{%- set aws_oidc = oidc or cookiecutter.cloud == "aws" -%}
{%- set ci = (cookiecutter | derived("cicd_platform_key") | lower) if oidc else "azure_devops" -%}
# Least privilege for the Terraform state of databricks-config/: one cloud identity per
# environment that can read and write only that environment's state (and its lock), so no
# CI/CD identity can read another environment's state or this bootstrap's.
{%- if github %}
# Only the GitHub environment of the same name can sign in as it, with GitHub's OIDC tokens:
# no key is stored in GitHub.
{%- elif gitlab %}
# GitLab jobs sign in as it with their ID tokens (id_tokens: in .gitlab/ci/), issued by
# var.gitlab_url (local.oidc_issuer, main-{{ cookiecutter.cloud }}.tf): no key is stored in GitLab. The subject
# claim is project_path:<group>/<project>:ref_type:branch:ref:<branch>. Staging's state is
# planned by the merge requests of any branch of the project; prod's only by pipelines of
# the protected {{ cookiecutter.default_branch }} branch (Terraform apply, and the prod plans it runs).
{%- elif cookiecutter.cloud == "azure" %}
# Azure DevOps signs in as it through an Azure Resource Manager service connection of the
# same environment with workload identity federation (azure-devops.tf): no key is stored in
# Azure DevOps, and only the pipelines authorised for that connection can use it.
{%- elif cookiecutter.cloud == "aws" %}
# Azure DevOps signs in as it through an AWS service connection of the same environment with
# OIDC (azure-devops.tf; AWS Toolkit for Azure DevOps): the connection's token, issued by the
# organization (local.oidc_issuer, main-aws.tf) with the subject
# sc://<organization>/<project>/<connection>, is exchanged for a one-hour role session. No key
# is stored in Azure DevOps; only the pipelines authorised for the connection can use it, and
# prod's only on {{ cookiecutter.default_branch }} (a branch-control check).
{%- else %}
# The Terraform pipelines' runs sign in as it with their OIDC tokens (issued by the
# organization, local.oidc_issuer in main-gcp.tf; subject p://<organization>/<project>/<pipeline>;
# claim rpo_ref: the run's branch): no key is stored in Azure DevOps. Staging's identity accepts
# every run of Terraform CI (pull requests plan staging) and of Terraform CICD (the deployment);
# prod's only runs of Terraform CICD on the protected {{ cookiecutter.default_branch }} branch, whose reviewed YAML
# signs in to prod only in the approved prod deployment. Azure DevOps issues per-connection
# tokens only to tasks that use the connection, and no task signs in to Google Cloud with one:
# hence the pipeline's own token, and its branch claim.
{%- endif %}

locals {
  state_objects = {
{%- set width = credentials.environments | map("length") | max %}
{%- for env in credentials.environments %}
    {{ env.ljust(width) }} = "{{ state.state_object(env) }}"
{%- endfor %}
  }
{%- if github %}
  # The OIDC subject of the jobs of each GitHub environment.
  state_login_subjects = {
    for env in keys(local.state_objects) : env => "repo:${local.github_repository}:environment:${env}"
  }
{%- elif gitlab %}
{%- if cookiecutter.cloud != "gcp" %}
  # The OIDC subjects each environment's identity accepts ("*": any branch). (On gcp the workload
  # identity provider maps the claims instead: google.subject cannot hold GitLab's long subjects.)
  state_login_subjects = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = "project_path:${var.gitlab_project_path}:ref_type:branch:ref:{{ cookiecutter.default_branch if credentials.protected[env] else "*" }}"
{%- endfor %}
  }
{%- endif %}
{%- elif cookiecutter.cloud == "gcp" %}
  # The OIDC subjects of the pipelines that use each environment's state (local.state_pipelines,
  # azure-devops.tf): staging's, Terraform CI and CICD; prod's, Terraform CICD only.
  state_login_subjects = {
    for env, pipelines in local.state_pipelines : env => [
      for pipeline in pipelines : "p://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${azuredevops_build_definition.pipeline[pipeline].name}"
    ]
  }
{%- elif cookiecutter.cloud == "aws" %}
  # The OIDC subject of each environment's service connection (azure-devops.tf).
  state_login_subjects = {
    for env, connection in local.state_service_connections : env => "sc://${local.azure_devops_org_name}/${var.azure_devops_project_name}/${connection}"
  }
{%- endif %}
}
{%- if cookiecutter.cloud == "aws" %}

provider "aws" {
  region = "{{ state.aws_region }}"
}

locals {
  state_bucket_arn = "arn:aws:s3:::{{ state.aws_ml_resources_bucket }}"
}
{%- if aws_oidc %}
{%- set aws_audience = "sts.amazonaws.com" if oidc else credentials.azure_devops_audience %}

# {{ "GitHub" if github else ("GitLab" if gitlab else "The Azure DevOps organization") }}'s OIDC provider exists once per AWS account: pass its ARN when it already exists.
resource "aws_iam_openid_connect_provider" "{{ ci }}" {
  count = var.aws_{{ ci }}_oidc_provider_arn == "" ? 1 : 0

  url            = local.oidc_issuer
  client_id_list = ["{{ aws_audience }}"]
}

locals {
  {{ ci }}_oidc_provider_arn = var.aws_{{ ci }}_oidc_provider_arn != "" ? var.aws_{{ ci }}_oidc_provider_arn : aws_iam_openid_connect_provider.{{ ci }}[0].arn
{%- if gitlab %}
  # AWS names the token's claims after the issuer's host.
  gitlab_host = trimprefix(var.gitlab_url, "https://")
{%- elif not oidc %}
  # AWS names the token's claims after the issuer without its scheme: vstoken.dev.azure.com/<organization GUID>.
  azure_devops_issuer_host = trimprefix(local.oidc_issuer, "https://")
{%- endif %}
}

data "aws_iam_policy_document" "assume_from_{{ ci }}" {
  for_each = local.state_objects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.{{ ci }}_oidc_provider_arn]
    }
{%- set claim_prefix = "token.actions.githubusercontent.com" if github else ("${local.gitlab_host}" if gitlab else "${local.azure_devops_issuer_host}") %}
    condition {
      test     = "StringEquals"
      variable = "{{ claim_prefix }}:aud"
      values   = ["{{ aws_audience }}"]
    }
    condition {
      test     = "{{ "StringLike" if gitlab else "StringEquals" }}"
      variable = "{{ claim_prefix }}:sub"
      values   = [local.state_login_subjects[each.key]]
    }
  }
}
{%- endif %}

data "aws_iam_policy_document" "terraform_state" {
  for_each = local.state_objects

  statement {
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${each.value}*"]
    }
  }

  statement {
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.state_bucket_arn}/${each.value}"]
  }

  # The S3 lock file (use_lockfile) next to the state.
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_bucket_arn}/${each.value}.tflock"]
  }
}
{%- if aws_oidc %}

resource "aws_iam_role" "terraform_state" {
  for_each = local.state_objects

  name                 = "{{ state.aws_state_role_prefix }}${each.key}"
  description          = "Terraform state of {{ cookiecutter.project_name }} ${each.key}, for its {{ "GitHub environment" if github else ("GitLab jobs" if gitlab else "Azure DevOps service connection") }}"
  assume_role_policy   = data.aws_iam_policy_document.assume_from_{{ ci }}[each.key].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "terraform_state" {
  for_each = local.state_objects

  name   = "terraform-state-${each.key}"
  role   = aws_iam_role.terraform_state[each.key].id
  policy = data.aws_iam_policy_document.terraform_state[each.key].json
}
{%- if oidc %}

locals {
  # {{ "GitHub environment variables the workflows" if github else "GitLab variables of each environment the jobs" }} sign in to AWS with.
  state_login_variables = {
    for env in keys(local.state_objects) : env => { AWS_ROLE_ARN = aws_iam_role.terraform_state[env].arn }
  }
}
{%- endif %}
{%- endif %}
{%- elif cookiecutter.cloud == "gcp" %}

provider "google" {
  project = var.gcp_project_id
}

locals {
  # Google's ids: workload identity pools 4-32 characters, service accounts 6-30, both
  # [a-z]([-a-z0-9]*[a-z0-9]). A name too long is cut, loses the "-" the cut may leave at its end
  # and gets six hex digits of the full name's SHA-256: two long project names with the same
  # beginning keep different ids.
  state_pool_name     = "{{ ("gh-" if github else ("gl-" if gitlab else "ado-")) ~ state.short_slug }}"
  state_pool_id       = length(local.state_pool_name) <= 32 ? local.state_pool_name : "${replace(substr(local.state_pool_name, 0, 25), "/-+$/", "")}-${substr(sha256(local.state_pool_name), 0, 6)}"
  state_account_names = { for env in keys(local.state_objects) : env => "tfstate-${env}-{{ state.short_slug }}" }
  state_account_ids = {
    for env, name in local.state_account_names :
    env => length(name) <= 30 ? name : "${replace(substr(name, 0, 23), "/-+$/", "")}-${substr(sha256(name), 0, 6)}"
  }
}

# {{ "GitHub" if github else ("GitLab" if gitlab else "Azure DevOps") }}'s OIDC tokens, accepted for this {{ "repository" if github else ("project" if gitlab else "project's Terraform pipelines") }} only.
resource "google_iam_workload_identity_pool" "{{ ci }}" {
  workload_identity_pool_id = local.state_pool_id
  display_name              = "{{ cookiecutter.cicd_platform }}"
  description               = "{{ cookiecutter.cicd_platform }} of {{ cookiecutter.project_name }}"
}

resource "google_iam_workload_identity_pool_provider" "{{ ci }}" {
{%- if github %}
  # checkov:skip=CKV_GCP_125: the attribute_condition admits this repository only (assertion.repository); checkov cannot resolve the local it is built from.
{%- endif %}
  workload_identity_pool_id          = google_iam_workload_identity_pool.{{ ci }}.workload_identity_pool_id
  workload_identity_pool_provider_id = "{{ ci | replace("_", "-") }}"
  display_name                       = "{{ cookiecutter.cicd_platform }} OIDC"
  attribute_mapping = {
{%- if github %}
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
{%- elif gitlab %}
    # google.subject holds at most 127 bytes, which GitLab's sub (project_path:<group>/<project>:ref_type:branch:ref:<branch>)
    # exceeds for long paths: name the job by its numeric ids instead (at most 19 digits each).
    "google.subject"         = "\"project_id:\" + assertion.project_id + \":job_id:\" + assertion.job_id"
    "attribute.project_path" = "assertion.project_path"
    "attribute.ref_type"     = "assertion.ref_type"
    # "{{ cookiecutter.default_branch }}" for jobs of the protected `prod` environment on the protected {{ cookiecutter.default_branch }} branch
    # (terraform-plan-prod, terraform-apply-prod), "none" for all others: only prod's identity
    # trusts it, so a job on {{ cookiecutter.default_branch }} outside `prod` (and its approval rules) gets no prod state.
    # (GitLab sets the environment claims only for jobs with an environment, hence the `in` test.)
{%- if credentials.protected_environments | length == 1 %}
    "attribute.prod_ref" = "assertion.ref_type == \"branch\" && assertion.ref == \"{{ cookiecutter.default_branch }}\" && assertion.ref_protected == \"true\" && \"environment\" in assertion && assertion.environment == \"{{ credentials.protected_environments[0] }}\" && assertion.environment_protected == \"true\" ? \"{{ cookiecutter.default_branch }}\" : \"none\""
{%- else %}
    # With more than one protected environment: the job's protected environment ({{ credentials.protected_environments | join(", ") }}), so
    # each one's identity trusts its own jobs alone.
    "attribute.protected_env" = "assertion.ref_type == \"branch\" && assertion.ref == \"{{ cookiecutter.default_branch }}\" && assertion.ref_protected == \"true\" && \"environment\" in assertion && assertion.environment in {{ credentials.protected_environments | tojson | replace('"', '\\"') }} && assertion.environment_protected == \"true\" ? assertion.environment : \"none\""
{%- endif %}
{%- else %}
    "google.subject" = "assertion.sub"
    # The branch of a run of a pipeline that prod's state trusts; "none" for the other pipelines.
    "attribute.prod_pipeline_ref" = "assertion.sub in ${jsonencode(local.state_login_subjects["prod"])} ? assertion.rpo_ref : \"none\""
{%- endif %}
  }
{%- if github %}
  attribute_condition = "assertion.repository == \"${local.github_repository}\""
{%- elif gitlab %}
  attribute_condition = "assertion.project_path == \"${var.gitlab_project_path}\""
{%- else %}
  attribute_condition = "assertion.sub in ${jsonencode(distinct(flatten(values(local.state_login_subjects))))}"
{%- endif %}

  oidc {
    issuer_uri = local.oidc_issuer
{%- if gitlab %}
    # The aud of the jobs' id_tokens (.gitlab/ci/terraform.gitlab-ci.yml).
    allowed_audiences = ["{{ credentials.gitlab_state_login.audience }}"]
{%- elif not github %}
    # The aud of every Azure DevOps token.
    allowed_audiences = ["{{ credentials.azure_devops_audience }}"]
{%- endif %}
  }
}

resource "google_service_account" "terraform_state" {
  for_each = local.state_objects

  account_id   = local.state_account_ids[each.key]
  display_name = "{{ cookiecutter.project_name }} ${each.key} Terraform state"
}
{%- if github %}

# Only jobs of the GitHub environment of the same name may act as the service account.
resource "google_service_account_iam_member" "github_environment" {
  for_each = local.state_objects

  service_account_id = google_service_account.terraform_state[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/subject/${local.state_login_subjects[each.key]}"
}
{%- else %}
{#- Per environment the principals of the pool that may act as its service account: an unprotected
    environment admits every branch, a protected one only the protected default branch. -#}
{%- set pool = "${google_iam_workload_identity_pool." ~ ("gitlab" if gitlab else "azure_devops") ~ ".name}" %}
{%- set any_branch = "/attribute.ref_type/branch" if gitlab else "/*" %}
{%- set default_branch_only = ("/attribute.prod_ref/" if gitlab else "/attribute.prod_pipeline_ref/refs/heads/") ~ cookiecutter.default_branch %}
{%- if gitlab %}

# Staging: jobs on any branch of the project; prod: only jobs on the protected {{ cookiecutter.default_branch }} branch (attribute.{{ "prod_ref" if credentials.protected_environments | length == 1 else "protected_env" }}).
{%- else %}

# Staging: every run of the Terraform pipelines (the provider's attribute_condition); prod: only
# runs of Terraform CICD on {{ cookiecutter.default_branch }} (claims sub and rpo_ref).
{%- endif %}
resource "google_service_account_iam_member" "{{ "gitlab_jobs" if gitlab else "azure_devops_pipeline" }}" {
  for_each = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = "principalSet://iam.googleapis.com/{{ pool }}{{ (default_branch_only if not gitlab or credentials.protected_environments | length == 1 else "/attribute.protected_env/" ~ env) if credentials.protected[env] else any_branch }}"
{%- endfor %}
  }

  service_account_id = google_service_account.terraform_state[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = each.value
}
{%- endif %}

# Listing names no content; the gcs backend lists the prefixes of its workspaces.
resource "google_project_iam_custom_role" "list_state" {
  role_id     = "{{ state.short_slug | regex_replace('[^a-z0-9]', '_') }}_tfstate_list"
  title       = "List Terraform state objects of {{ cookiecutter.project_name }}"
  permissions = ["storage.objects.list"]
}

resource "google_storage_bucket_iam_member" "list_state" {
  for_each = local.state_objects

  bucket = "{{ state.gcp_ml_resources_bucket }}"
  role   = google_project_iam_custom_role.list_state.id
  member = "serviceAccount:${google_service_account.terraform_state[each.key].email}"
}

# Read and write only the objects under the environment's prefix (state and lock).
resource "google_storage_bucket_iam_member" "terraform_state" {
  for_each = local.state_objects

  bucket = "{{ state.gcp_ml_resources_bucket }}"
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.terraform_state[each.key].email}"

  condition {
    title      = "${each.key}-state-only"
    expression = "resource.name.startsWith(\"projects/_/buckets/{{ state.gcp_ml_resources_bucket }}/objects/${each.value}\")"
  }
}
{%- if oidc %}

locals {
  # {{ "GitHub environment variables the workflows" if github else "GitLab variables of each environment the jobs" }} sign in to Google Cloud with.
  state_login_variables = {
    for env in keys(local.state_objects) : env => {
      GCP_WORKLOAD_IDENTITY_PROVIDER = google_iam_workload_identity_pool_provider.{{ ci }}.name
      GCP_SERVICE_ACCOUNT            = google_service_account.terraform_state[env].email
    }
  }
}
{%- else %}

locals {
  # Variables of each environment's variable group (azure-devops.tf) that the pipelines sign in
  # to Google Cloud with (.azure/devops-pipelines/scripts/sign-in-to-gcp-state.sh). Not secret.
  state_login_variables = {
    for env in keys(local.state_objects) : env => {
      {{ credentials.state_backend["GCP_WORKLOAD_IDENTITY_PROVIDER"] }} = google_iam_workload_identity_pool_provider.azure_devops.name
      {{ credentials.state_backend["GCP_SERVICE_ACCOUNT"] }}           = google_service_account.terraform_state[env].email
    }
  }
}
{%- endif %}
{%- else %}

provider "azurerm" {
  features {}
  subscription_id = var.azure_subscription_id
}

provider "azuread" {}

data "azuread_client_config" "current" {}

data "azurerm_storage_account" "tfstate" {
  name                = "{{ state.azure_storage_account }}"
  resource_group_name = "{{ state.azure_resource_group }}"
}

resource "azuread_application" "terraform_state" {
  for_each = local.state_objects

  display_name = "{{ cookiecutter.project_name }}-tfstate-${each.key}"
  owners       = [data.azuread_client_config.current.object_id]
}

resource "azuread_service_principal" "terraform_state" {
  for_each = local.state_objects

  client_id = azuread_application.terraform_state[each.key].client_id
  owners    = [data.azuread_client_config.current.object_id]
}

{%- if github %}
# Only jobs of the GitHub environment of the same name may sign in as the application.
resource "azuread_application_federated_identity_credential" "github_environment" {
  # checkov:skip=CKV_AZURE_249: the subject names one repository and environment (repo:<owner>/<repo>:environment:<env>); checkov cannot resolve the local it is built from.
  for_each = local.state_objects

  application_id = azuread_application.terraform_state[each.key].id
  display_name   = "github-${each.key}"
  issuer         = local.oidc_issuer
  subject        = local.state_login_subjects[each.key]
  audiences      = ["api://AzureADTokenExchange"]
}
{%- elif gitlab %}
{%- for env in credentials.protected_environments %}
# {{ env | capitalize }}: only jobs on {{ cookiecutter.default_branch }}, by the exact subject.
resource "azuread_application_federated_identity_credential" "gitlab_{{ env }}" {
  # checkov:skip=CKV_AZURE_249: a GitHub Actions check; the issuer here is the GitLab instance and the subject names one project and its protected {{ cookiecutter.default_branch }} branch, built from a local checkov cannot resolve.
  application_id = azuread_application.terraform_state["{{ env }}"].id
  display_name   = "gitlab-{{ env }}"
  issuer         = local.oidc_issuer
  subject        = local.state_login_subjects["{{ env }}"]
  audiences      = ["{{ credentials.gitlab_state_login.audience }}"]
}
{% endfor %}
# Staging: jobs on any branch of the project (merge requests plan staging). A subject with a
# wildcard needs a flexible federated identity credential (a claims matching expression).
resource "azuread_application_flexible_federated_identity_credential" "gitlab_staging" {
  application_id             = azuread_application.terraform_state["staging"].id
  display_name               = "gitlab-staging"
  issuer                     = local.oidc_issuer
  claims_matching_expression = "claims['sub'] matches '${local.state_login_subjects["staging"]}'"
  audience                   = "{{ credentials.gitlab_state_login.audience }}"
}
{%- else %}
# Only the environment's service connection (azure-devops.tf) may sign in as the application:
# its issuer is the organisation, its subject sc://<organisation>/<project>/<connection>.
resource "azuread_application_federated_identity_credential" "azure_devops_service_connection" {
  # checkov:skip=CKV_AZURE_249: a GitHub Actions check; the issuer and subject here are the Azure DevOps service connection's own, read from it.
  for_each = local.state_objects

  application_id = azuread_application.terraform_state[each.key].id
  display_name   = "azure-devops-${each.key}"
  issuer         = azuredevops_serviceendpoint_azurerm.terraform_state[each.key].workload_identity_federation_issuer
  subject        = azuredevops_serviceendpoint_azurerm.terraform_state[each.key].workload_identity_federation_subject
  audiences      = ["api://AzureADTokenExchange"]
}
{%- endif %}

# Blob data access to the state container, limited by an ABAC condition to the environment's
# state key: every data action of the role on a blob needs a path starting with the key (the
# state blob, its lease lock, and "<key>env:<workspace>" blobs), and listing (which carries no
# path, only a prefix; `terraform init` lists the workspaces with the prefix "<key>env:") needs a
# prefix starting with the key. A path-only condition would deny the listing, hence two parts.
resource "azurerm_role_assignment" "terraform_state" {
  for_each = local.state_objects

  scope                = "${data.azurerm_storage_account.tfstate.id}/blobServices/default/containers/{{ state.azure_ml_resources_container }}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azuread_service_principal.terraform_state[each.key].object_id
  condition_version    = "2.0"
  condition            = <<-CONDITION
    (
      (
        !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})
        AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})
        AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})
        AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
        AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'})
      )
      OR
      (
        @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${each.value}'
      )
    )
    AND
    (
      (
        !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND SubOperationMatches{'Blob.List'})
      )
      OR
      (
        @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith '${each.value}'
      )
    )
  CONDITION
}
{%- if oidc %}

locals {
  # {{ "GitHub environment variables the workflows" if github else "GitLab variables of each environment the jobs" }} sign in to Azure with.
  state_login_variables = {
    for env in keys(local.state_objects) : env => {
      ARM_CLIENT_ID       = azuread_application.terraform_state[env].client_id
      ARM_TENANT_ID       = data.azuread_client_config.current.tenant_id
      ARM_SUBSCRIPTION_ID = var.azure_subscription_id
    }
  }
}
{%- endif %}
{%- endif %}

{%- if oidc %}

locals {
  # The same, one entry per environment and variable, for the for_each of {{ "github.tf" if github else "gitlab.tf" }}.
  state_login_entries = merge([
    for env, variables in local.state_login_variables : {
      for name, value in variables : "${env}/${name}" => { env = env, name = name, value = value }
    }
  ]...)
}
{%- endif %}
