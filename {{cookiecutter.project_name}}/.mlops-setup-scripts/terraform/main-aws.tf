{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on AWS: one S3 bucket for the ML resources (staging and prod
# keys) and one for the CI/CD setup, versioned, KMS-encrypted, never public and reached
# over TLS 1.2+ only. Locking uses S3 lock files (use_lockfile), so no DynamoDB table.
# No access key: you reach both buckets with your own AWS login, CI/CD reaches its
# environment's state only, through an IAM role it assumes with its OIDC token
# (../cicd/state-access.tf).
#
# This module keeps its own state locally, in this folder (git-ignored).
terraform {
  {{ versions.requirements("aws") }}
}

locals {
  # The backends in databricks-config/*/provider.tf and cicd/provider.tf use these names.
  region = "{{ state.aws_region }}"
  state_buckets = {
    ml_resources = "{{ state.aws_ml_resources_bucket }}"
    cicd_setup   = "{{ state.aws_cicd_setup_bucket }}"
  }
}

provider "aws" {
  region = local.region
}

resource "aws_s3_bucket" "terraform_state" {
  # checkov:skip=CKV_AWS_21: versioning is enabled by aws_s3_bucket_versioning.terraform_state below, for each bucket.
  # checkov:skip=CKV2_AWS_6: public access is blocked by aws_s3_bucket_public_access_block.terraform_state below, for each bucket.
  # checkov:skip=CKV_AWS_145: KMS encryption is set by aws_s3_bucket_server_side_encryption_configuration.terraform_state below, for each bucket.
  # checkov:skip=CKV2_AWS_61: the lifecycle rules are set by aws_s3_bucket_lifecycle_configuration.terraform_state below, for each bucket.
  # checkov:skip=CKV_AWS_18: the buckets hold only Terraform state; record access with CloudTrail S3 data events if your account needs an audit trail.
  # checkov:skip=CKV_AWS_144: versioned state of one project does not warrant a replica in a second region; add replication if your recovery plan needs one.
  # checkov:skip=CKV2_AWS_62: nothing reacts to state changes, so there is no event consumer to notify.
  for_each = local.state_buckets

  bucket = each.value

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket = each.value.id
  rule {
    # The account's AWS managed key (aws/s3); set kms_master_key_id to use your own key.
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Old state versions are kept 90 days for recovery, then removed.
resource "aws_s3_bucket_lifecycle_configuration" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket = each.value.id
  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_public_access_block" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Who may read and write the state. IAM policies alone would let any principal of the account
# whose policies allow s3:GetObject on "*" (ReadOnlyAccess, for one) read the CI/CD bootstrap's
# state and its secrets; so the bucket policy denies every object request (read, write,
# delete, restore) of any principal outside a list: you, the principal that applies this
# module, and var.state_admin_principal_arns on both buckets; on the ML resources' bucket also
# each environment's CI/CD role (../cicd/state-access.tf), on its own environment's state and
# lock file only. Principals are matched by aws:PrincipalArn, which for a role's session is the
# role's ARN with its path, so a list of roles covers all of their sessions.
# Escape hatch: only object requests are denied, so whoever may change bucket policies (your
# account's administrators; the account's root user always, even if a policy denies it) can
# rewrite this list, best by re-applying this module with state_admin_principal_arns.
variable "state_admin_principal_arns" {
  type        = list(string)
  description = "IAM roles or users (ARNs of the role or user, not of a session) that may read and write all Terraform state besides the principal applying this module, e.g. a second operator's or a break-glass role: [\"arn:aws:iam::123456789012:role/admin\"]."
  default     = []

  validation {
    condition     = alltrue([for arn in var.state_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "state_admin_principal_arns takes IAM role or user ARNs, e.g. [\"arn:aws:iam::123456789012:role/admin\"], not ${jsonencode([for arn in var.state_admin_principal_arns : arn if !can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])}: for a session (arn:aws:sts::<account>:assumed-role/<role>/<session>), name its role."
  }
}

data "aws_caller_identity" "current" {}

# The role or user behind your login, as aws:PrincipalArn names it. A role session's ARN
# (arn:aws:sts::<account>:assumed-role/<role>/<session>) lacks the role's path, which this data
# source reads (iam:GetRole): IAM Identity Center's roles live under /aws-reserved/sso.amazonaws.com/.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  state_admins = distinct(concat([data.aws_iam_session_context.current.issuer_arn], var.state_admin_principal_arns))
  # The ML resources' state of each environment (databricks-config/<env>/provider.tf) and the
  # role its CI/CD signs in as (../cicd/state-access.tf creates it, after this module).
  environment_states = {
{%- set width = state.state_keys | reject("equalto", "cicd_setup") | map("length") | max %}
{%- for env, key in state.state_keys.items() if env != "cicd_setup" %}
    {{ env.ljust(width) }} = { key = "{{ key }}", role = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/{{ state.aws_state_role_prefix }}{{ env }}" }
{%- endfor %}
  }
  # Per bucket, per statement: an object prefix ("" for all objects) and the only principals
  # allowed its objects.
  object_access = {
    ml_resources = merge(
      { AllStates = { prefix = "", principals = concat(local.state_admins, [for env in values(local.environment_states) : env.role]) } },
      { for name, env in local.environment_states : "${title(name)}State" => { prefix = env.key, principals = concat(local.state_admins, [env.role]) } },
    )
    cicd_setup = { AllStates = { prefix = "", principals = local.state_admins } }
  }
}

# State travels only over TLS 1.2 or newer: requests without TLS, or with an older
# version, are denied to everyone. Objects are denied to everyone outside local.object_access.
data "aws_iam_policy_document" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  dynamic "statement" {
    for_each = {
      DenyInsecureTransport = { test = "Bool", variable = "aws:SecureTransport", value = "false" }
      DenyTlsBelow12        = { test = "NumericLessThan", variable = "s3:TlsVersion", value = "1.2" }
    }
    content {
      sid       = statement.key
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [each.value.arn, "${each.value.arn}/*"]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = [statement.value.value]
      }
    }
  }

  dynamic "statement" {
    for_each = local.object_access[each.key]
    content {
      sid       = "Deny${statement.key}ToOthers"
      effect    = "Deny"
      actions   = ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"]
      resources = ["${each.value.arn}/${statement.value.prefix}*"]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = statement.value.principals
      }
    }
  }
}

resource "aws_s3_bucket_policy" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket = each.value.id
  policy = data.aws_iam_policy_document.terraform_state[each.key].json

  # A bucket policy is public unless the public access block is in place first.
  depends_on = [aws_s3_bucket_public_access_block.terraform_state]
}
