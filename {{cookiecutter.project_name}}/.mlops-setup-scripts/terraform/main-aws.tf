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

# State travels only over TLS 1.2 or newer: requests without TLS, or with an older
# version, are denied to everyone.
data "aws_iam_policy_document" "tls_only" {
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
}

resource "aws_s3_bucket_policy" "terraform_state" {
  for_each = aws_s3_bucket.terraform_state

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # A bucket policy is public unless the public access block is in place first.
  depends_on = [aws_s3_bucket_public_access_block.terraform_state]
}
