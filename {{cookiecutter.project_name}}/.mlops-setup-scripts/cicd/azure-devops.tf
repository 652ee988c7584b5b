{%- import "cicd/credentials.jinja" as credentials with context -%}
{%- set state_connection = cookiecutter.cloud in credentials.state_service_connection_clouds -%}
{%- set state_endpoint = "azuredevops_serviceendpoint_" ~ ("azurerm" if cookiecutter.cloud == "azure" else "aws") ~ ".terraform_state" -%}
{%- set protected_environments = credentials.protected_environments -%}
{#- An HCL test of each.key against the protected environments (hooks/environments.py). -#}
{%- set is_protected = "each.key == " ~ protected_environments[0] | tojson if protected_environments | length == 1 else "contains(" ~ protected_environments | tojson ~ ", each.key)" -%}
# Azure DevOps: the three pipelines, the build-validation policies that run two of them on
# pull requests (Azure DevOps runs no pipeline on a pull request unless a branch policy asks
# for it), and per environment a variable group and a deployment environment with checks. The
# azuredevops provider signs in as you: export AZDO_PERSONAL_ACCESS_TOKEN (docs/mlops-setup.md
# lists its scopes).

data "azuredevops_project" "project" {
  name = var.azure_devops_project_name
}

data "azuredevops_git_repository" "repo" {
  project_id = data.azuredevops_project.project.id
  name       = var.azure_devops_repo_name
}

locals {
  default_branch_ref = "refs/heads/{{ cookiecutter.default_branch }}"
{%- if cookiecutter.release_branch != cookiecutter.default_branch %}
  # The branches that change only through a reviewed, validated pull request, from the first
  # run on: {{ cookiecutter.default_branch }} (staging jobs, every Terraform apply) and {{ cookiecutter.release_branch }} (prod jobs), which
  # azuredevops_git_repository_branch.release creates, as its policies refuse every push.
  release_branch_ref   = "refs/heads/${azuredevops_git_repository_branch.release.name}"
  deployed_branch_refs = toset([local.default_branch_ref, local.release_branch_ref])
{%- else %}
  # The branch that changes only through a reviewed, validated pull request: {{ cookiecutter.default_branch }} (staging
  # and prod jobs, every Terraform apply).
  release_branch_ref   = local.default_branch_ref
  deployed_branch_refs = toset([local.default_branch_ref])
{%- endif %}

  # The pipelines of .azure/devops-pipelines/. An Azure DevOps OIDC token names its pipeline
  # (subject p://<organization>/<project>/<pipeline>), whatever branch and YAML the run has, so
  # the pipeline that deploys to prod runs no pull request: pull requests into {{ cookiecutter.default_branch }} run
  # Terraform CI (their own YAML, which may sign in to staging only), and Terraform CICD runs
  # on pushes to {{ cookiecutter.default_branch }} only, by a push trigger set here that no branch's YAML can widen.
  #   pull_request_files: the changed files that make a pull request run it (build
  #     validation); [] for none.
  #   push_trigger: "yaml" (the file's trigger: section), "deployment"
  #     (local.deployment_push_trigger) or "none".
  #   branch_ref: the branch whose YAML a run reads unless it names another.
  pipelines = {
    tests_ci = {
      name               = "Tests CI"
      yml_path           = ".azure/devops-pipelines/tests-ci.yml"
      pull_request_files = ["*", "!/databricks-config/**"]
      push_trigger       = "yaml"
      branch_ref         = local.default_branch_ref
    }
    terraform_ci = {
      name               = "Terraform CI"
      yml_path           = ".azure/devops-pipelines/terraform-ci.yml"
      pull_request_files = ["/databricks-config/**"]
      push_trigger       = "none"
      branch_ref         = local.default_branch_ref
    }
    terraform_cicd = {
      name               = "Terraform CICD"
      yml_path           = ".azure/devops-pipelines/terraform-cicd.yml"
      pull_request_files = []
      push_trigger       = "deployment"
      branch_ref         = local.default_branch_ref
    }
{%- for env in protected_environments %}
    # Queued with the model URI that {{ env }}'s TriggerModelDeploy task ends with; deploys after the
    # {{ env }} environment's approval.
    {{ credentials.deploy_model_pipeline[env] }} = {
      name               = "Deploy model ({{ env }})"
      yml_path           = ".azure/devops-pipelines/deploy-model-{{ env }}.yml"
      pull_request_files = []
      push_trigger       = "none"
      branch_ref         = {{ "local.release_branch_ref" if credentials.branch[env] == cookiecutter.release_branch else "local.default_branch_ref" }}
    }
{%- endfor %}
  }

  # Terraform CICD's push trigger: {{ cookiecutter.default_branch }}, when databricks-config/ changes other than the
  # outputs the pipeline commits itself.
  deployment_push_trigger = {
    branches      = [local.default_branch_ref]
    paths         = ["/databricks-config"]
    ignored_paths = ["/databricks-config/output"]
  }
}

# One variable group per environment; the names are what the pipelines use. The jobs name
# the federated auth type themselves: the group overrides it only with
# databricks_auth = "client_secret" (see .azure/devops-pipelines/README.md).
locals {
  environments = toset([{% for env in credentials.environments %}"{{ env }}"{{ ", " if not loop.last }}{% endfor %}])
  # The pipelines that sign in to each environment's workspace: the federation policies of its
  # service principal (main-{{ cookiecutter.cloud }}.tf) and its variable group. Prod: the deployments only.
  environment_pipelines = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = {% if credentials.protected[env] %}["terraform_cicd", "{{ credentials.deploy_model_pipeline[env] }}"]{% elif env == credentials.integration_test_environment %}["tests_ci", "terraform_ci", "terraform_cicd"]{% else %}["terraform_ci", "terraform_cicd"]{% endif %}
{%- endfor %}
  }
  # The pipelines that deploy to each Azure DevOps environment (deployment jobs).
  deployment_pipelines = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = {% if credentials.protected[env] %}["terraform_cicd", "{{ credentials.deploy_model_pipeline[env] }}"]{% else %}["terraform_cicd"]{% endif %}
{%- endfor %}
  }
{%- if credentials.connection_token_environments %}
  # The pipelines that use each environment's service connection: its Terraform state, and for
  # prod the token that prod's Databricks principal trusts (the model deployment's only use).
  state_pipelines = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = {% if credentials.protected[env] %}["terraform_cicd", "{{ credentials.deploy_model_pipeline[env] }}"]{% else %}["terraform_ci", "terraform_cicd"]{% endif %}
{%- endfor %}
  }
{%- else %}
  # The pipelines that read and write each environment's Terraform state.
  state_pipelines = {
{%- for env in credentials.environments %}
    {{ env.ljust(credentials.environments | map("length") | max) }} = {% if credentials.protected[env] %}["terraform_cicd"]{% else %}["terraform_ci", "terraform_cicd"]{% endif %}
{%- endfor %}
  }
{%- endif %}
  pipeline_uses = {
    variablegroup = local.environment_pipelines
    environment   = local.deployment_pipelines
    state         = local.state_pipelines
  }
  # The same lists as (environment, pipeline) pairs keyed "<env>-<pipeline>", per use.
  pipeline_pairs = {
    for use, pipelines_by_env in local.pipeline_uses : use => merge([
      for env, pipelines in pipelines_by_env : {
        for pipeline in pipelines : "${env}-${pipeline}" => { env = env, pipeline = pipeline }
      }
    ]...)
  }
}

resource "azuredevops_variable_group" "cicd" {
  for_each = local.environments

  project_id   = data.azuredevops_project.project.id
  name         = "{{ cookiecutter.project_name }} ${each.key}"
  description  = "How the {{ cookiecutter.project_name }} pipelines sign in to ${each.key}; managed by .mlops-setup-scripts/cicd."
  allow_access = false

  variable {
    name  = "databricksClientId"
    value = local.service_principals[each.key].application_id
  }

  # Who hears of a failed job of the environment; the Terraform steps pass it to databricks-config.
  variable {
    name  = "{{ credentials.failure_alerts_setting }}"
    value = jsonencode(var.failure_alert_emails)
  }

  dynamic "variable" {
    for_each = local.federation ? {} : { databricksAuthType = "oauth-m2m" }
    content {
      name  = variable.key
      value = variable.value
    }
  }

  dynamic "variable" {
    for_each = local.federation ? {} : { databricksClientSecret = local.service_principals[each.key].client_secret }
    content {
      name         = variable.key
      secret_value = variable.value
      is_secret    = true
    }
  }
{%- if credentials.connection_token_environments %}

  # The service connection whose OIDC token the environment's Databricks service principal
  # trusts (main-{{ cookiecutter.cloud }}.tf): the prod jobs ask Azure DevOps for its token by this id.
  dynamic "variable" {
    for_each = {{ is_protected }} ? { {{ credentials.connection_id_setting }} = {{ state_endpoint }}[each.key].id } : {}
    content {
      name  = variable.key
      value = variable.value
    }
  }
{%- endif %}
{%- if not state_connection %}

  # The Terraform state login (state-access.tf).
  dynamic "variable" {
    for_each = local.state_login_variables[each.key]
    content {
      name  = variable.key
      value = variable.value
    }
  }
{%- endif %}
}

# Deployment targets. Created here, not on first use, so that their checks guard the very
# first run: an exclusive lock on both, and on prod an approval and branch control.
resource "azuredevops_environment" "cicd" {
  for_each = local.environments

  project_id  = data.azuredevops_project.project.id
  name        = each.key
  description = "{{ cookiecutter.project_name }} ${each.key} workspace; managed by .mlops-setup-scripts/cicd."
}

resource "azuredevops_check_exclusive_lock" "environment" {
  for_each = local.environments

  project_id           = data.azuredevops_project.project.id
  target_resource_id   = azuredevops_environment.cicd[each.key].id
  target_resource_type = "environment"
  timeout              = 43200
}

{%- for env in protected_environments %}

resource "azuredevops_check_approval" "{{ env }}" {
  project_id            = data.azuredevops_project.project.id
  target_resource_id    = azuredevops_environment.cicd["{{ env }}"].id
  target_resource_type  = "environment"
  requester_can_approve = false
  approvers             = var.{{ credentials.approver_variable[env] }}
  timeout               = 43200
}
{%- endfor %}

{%- if state_connection %}

locals {
  # The service connection of each environment's Terraform state, as the pipelines name it.
  state_service_connections = {
{%- for env in credentials.environments %}
    {{ "%-7s" | format(env) }} = "{{ credentials.service_connection[env] }}"
{%- endfor %}
  }
}
{%- endif %}
{%- if cookiecutter.cloud == "azure" %}

# The Terraform state login of each environment: an Azure Resource Manager service connection
# with workload identity federation to the environment's Entra ID application
# (state-access.tf), which may read and write only that environment's state blob. The
# pipelines' AzureCLI@2 step signs in with it and hands its ID token to Terraform.
data "azurerm_subscription" "state" {
  subscription_id = var.azure_subscription_id
}

resource "azuredevops_serviceendpoint_azurerm" "terraform_state" {
  for_each = local.environments

  project_id                             = data.azuredevops_project.project.id
  service_endpoint_name                  = local.state_service_connections[each.key]
  description                            = "Terraform state of {{ cookiecutter.project_name }} ${each.key}; managed by .mlops-setup-scripts/cicd."
  service_endpoint_authentication_scheme = "WorkloadIdentityFederation"
  azurerm_spn_tenantid                   = data.azuread_client_config.current.tenant_id
  azurerm_subscription_id                = var.azure_subscription_id
  azurerm_subscription_name              = data.azurerm_subscription.state.display_name

  credentials {
    serviceprincipalid = azuread_application.terraform_state[each.key].client_id
  }
}
{%- elif cookiecutter.cloud == "aws" %}

# The Terraform state login of each environment: an AWS service connection (AWS Toolkit for
# Azure DevOps) with OIDC, whose token the environment's IAM role trusts (state-access.tf);
# the role may read and write only that environment's state and lock. The pipelines'
# AWSShellScript@1 step exchanges the token for a one-hour session. No key is stored.
resource "azuredevops_serviceendpoint_aws" "terraform_state" {
  for_each = local.environments

  project_id            = data.azuredevops_project.project.id
  service_endpoint_name = local.state_service_connections[each.key]
  description           = "Terraform state of {{ cookiecutter.project_name }} ${each.key}; managed by .mlops-setup-scripts/cicd."
  use_oidc              = true
  role_to_assume        = aws_iam_role.terraform_state[each.key].arn
  role_session_name     = "{{ cookiecutter.project_name | regex_replace('[^A-Za-z0-9+=,.@-]', '-') | truncate(40, True, '') }}-${each.key}"
}
{%- endif %}
{%- if state_connection %}

# Only the Terraform pipelines use the state connections: staging's both, prod's the deployment.
resource "azuredevops_pipeline_authorization" "terraform_state" {
  for_each = local.pipeline_pairs.state

  project_id  = data.azuredevops_project.project.id
  resource_id = {{ state_endpoint }}[each.value.env].id
  type        = "endpoint"
  pipeline_id = azuredevops_build_definition.pipeline[each.value.pipeline].id
}
{%- endif %}

# Prod's group, environment{{ " and state connection" if state_connection }} serve only runs of the reviewed branches
# ({{ cookiecutter.default_branch }}: Terraform; {{ cookiecutter.release_branch }}: the model deployment): neither a pull request's run
# (refs/pull/...) nor a hand-queued run of another branch can use them, whatever its YAML says.
{%- for env in protected_environments %}
resource "azuredevops_check_branch_control" "{{ env }}" {
  for_each = {
    variablegroup = azuredevops_variable_group.cicd["{{ env }}"].id
    environment   = azuredevops_environment.cicd["{{ env }}"].id
{%- if state_connection %}
    endpoint      = {{ state_endpoint }}["{{ env }}"].id
{%- endif %}
  }

  project_id                       = data.azuredevops_project.project.id
  display_name                     = "Only ${join(" and ", local.deployed_branch_refs)} deploy to {{ env }}"
  target_resource_id               = each.value
  target_resource_type             = each.key
  allowed_branches                 = join(",", local.deployed_branch_refs)
  verify_branch_protection         = true
  ignore_unknown_protection_status = false
}
{%- if not loop.last %}
{% endif %}
{%- endfor %}

# Each pipeline may use the variable groups of the environments it signs in to and the
# environments it deploys to.
resource "azuredevops_pipeline_authorization" "cicd" {
  for_each = merge(
    { for key, pair in local.pipeline_pairs.variablegroup : "${key}-variablegroup" => merge(pair, { type = "variablegroup", resource_id = azuredevops_variable_group.cicd[pair.env].id }) },
    { for key, pair in local.pipeline_pairs.environment : "${key}-environment" => merge(pair, { type = "environment", resource_id = azuredevops_environment.cicd[pair.env].id }) },
  )

  project_id  = data.azuredevops_project.project.id
  resource_id = each.value.resource_id
  type        = each.value.type
  pipeline_id = azuredevops_build_definition.pipeline[each.value.pipeline].id
}

resource "azuredevops_build_definition" "pipeline" {
  for_each = local.pipelines

  project_id = data.azuredevops_project.project.id
  name       = "${each.value.name} (${var.azure_devops_repo_name})"

  dynamic "ci_trigger" {
    for_each = each.value.push_trigger == "yaml" ? ["yaml"] : []
    content {
      use_yaml = true
    }
  }

  # The deployment's push trigger is the pipeline's own and overrides its YAML's trigger: a
  # branch that edits the YAML cannot make the deployment run on it.
  dynamic "ci_trigger" {
    for_each = each.value.push_trigger == "deployment" ? [local.deployment_push_trigger] : []
    content {
      override {
        branch_filter {
          include = ci_trigger.value.branches
        }
        path_filter {
          include = ci_trigger.value.paths
          exclude = ci_trigger.value.ignored_paths
        }
      }
    }
  }

  repository {
    repo_type   = "TfsGit"
    repo_id     = data.azuredevops_git_repository.repo.id
    branch_name = each.value.branch_ref
    yml_path    = each.value.yml_path
  }
}

{%- if cookiecutter.release_branch != cookiecutter.default_branch %}

# The release branch, from {{ cookiecutter.default_branch }} as it is when the bootstrap first runs (docs/mlops-setup.md,
# step 1): created here, so that the branch policies below guard it from its first commit on and
# nobody has to push it. Code reaches it through pull requests from {{ cookiecutter.default_branch }}. Created by an
# earlier bootstrap that did not manage it? Import it first:
#   terraform import azuredevops_git_repository_branch.release "<repository id>:{{ cookiecutter.release_branch }}"
resource "azuredevops_git_repository_branch" "release" {
  repository_id = data.azuredevops_git_repository.repo.id
  name          = "{{ cookiecutter.release_branch }}"
  ref_branch    = local.default_branch_ref

  lifecycle {
    # The bootstrap only creates the branch: an imported branch has no ref_branch in the state,
    # and a change of it would delete and recreate the branch.
    ignore_changes = [ref_branch]
  }
}
{%- endif %}

# The pipelines that validate pull requests into the deployed branches: blocking, each for the
# files it covers.
resource "azuredevops_branch_policy_build_validation" "pipeline" {
  for_each = { for key, pipeline in local.pipelines : key => pipeline if length(pipeline.pull_request_files) > 0 }

  project_id = data.azuredevops_project.project.id
  enabled    = true
  blocking   = true

  settings {
    display_name        = "${each.value.name} build validation (${var.azure_devops_repo_name})"
    build_definition_id = azuredevops_build_definition.pipeline[each.key].id
    valid_duration      = 720
    filename_patterns   = each.value.pull_request_files

    dynamic "scope" {
      for_each = local.deployed_branch_refs
      content {
        repository_id  = data.azuredevops_git_repository.repo.id
        repository_ref = scope.value
        match_type     = "Exact"
      }
    }
  }
}

# Every pull request into a deployed branch needs approvals by people other than its author and
# its last pusher; a new push resets them. Nobody gets "Bypass policies when pushing": the
# deployment's output commit opens a pull request of its own when it may not push.
resource "azuredevops_branch_policy_min_reviewers" "deployed_branches" {
  project_id = data.azuredevops_project.project.id
  enabled    = true
  blocking   = true

  settings {
    reviewer_count                         = var.required_reviewer_count
    submitter_can_vote                     = false
    last_pusher_cannot_approve             = true
    allow_completion_with_rejects_or_waits = false
    on_push_reset_approved_votes           = true

    dynamic "scope" {
      for_each = local.deployed_branch_refs
      content {
        repository_id  = data.azuredevops_git_repository.repo.id
        repository_ref = scope.value
        match_type     = "Exact"
      }
    }
  }
}

# An Azure DevOps OIDC token names the pipeline, not its branch or YAML, and prod's service
# principal trusts Terraform CICD's tokens. So no project member may queue it by hand (a run of
# another branch, with that branch's YAML, would get such a token) or edit it (its branch, YAML
# path or trigger): it runs only by its own trigger, on pushes to {{ cookiecutter.default_branch }}. Project and build
# administrators keep the right; keep those groups to the people who may deploy to prod.
data "azuredevops_group" "contributors" {
  project_id = data.azuredevops_project.project.id
  name       = "Contributors"
}

# The model deployment: Contributors may queue it (it waits for the prod approval, and runs only
# the reviewed YAML of {{ cookiecutter.release_branch }}) but not change its branch, YAML path or permissions.
locals {
  contributor_denials = {
{%- set width = (["terraform_cicd"] + credentials.deploy_model_pipeline.values() | list) | map("length") | max %}
    {{ "terraform_cicd".ljust(width) }} = ["QueueBuilds", "EditBuildDefinition", "DeleteBuildDefinition", "AdministerBuildPermissions"]
{%- for env in protected_environments %}
    {{ credentials.deploy_model_pipeline[env].ljust(width) }} = ["EditBuildDefinition", "DeleteBuildDefinition", "AdministerBuildPermissions"]
{%- endfor %}
  }
}

resource "azuredevops_build_definition_permissions" "prod_pipelines" {
  for_each            = local.contributor_denials
  project_id          = data.azuredevops_project.project.id
  principal           = data.azuredevops_group.contributors.id
  build_definition_id = azuredevops_build_definition.pipeline[each.key].id
  permissions         = { for permission in each.value : permission => "Deny" }
}

moved {
  from = azuredevops_build_definition_permissions.deployment
  to   = azuredevops_build_definition_permissions.prod_pipelines["terraform_cicd"]
}
{%- if cookiecutter.cloud == "gcp" %}

# gcp: prod's Databricks principal and Terraform state trust the prod pipelines by name (token
# subject p://<organization>/<project>/<pipeline>): Google Cloud has no Azure DevOps service
# connection whose token could stand in, as it does on azure and aws. A pipeline name is unique
# only within its folder, so no one but Project Administrators may create, edit (rename, move)
# or re-permission a pipeline anywhere in this project: denied on the root folder `\`, which
# every folder and pipeline inherits, to the two groups that have it by default. Merged with the
# groups' other permissions (replace = false), which stay as they were.
data "azuredevops_group" "build_administrators" {
  project_id = data.azuredevops_project.project.id
  name       = "Build Administrators"
}

resource "azuredevops_build_folder_permissions" "pipeline_names" {
  for_each = {
    contributors         = data.azuredevops_group.contributors.id
    build_administrators = data.azuredevops_group.build_administrators.id
  }

  project_id = data.azuredevops_project.project.id
  path       = "\\"
  principal  = each.value
  replace    = false

  permissions = {
    CreateBuildDefinition      = "Deny"
    EditBuildDefinition        = "Deny"
    AdministerBuildPermissions = "Deny"
  }
}
{%- endif %}
