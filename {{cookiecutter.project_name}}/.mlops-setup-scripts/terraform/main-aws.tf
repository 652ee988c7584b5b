{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on AWS: one S3 bucket for the ML resources (staging and prod
# keys) and one for the CI/CD setup, plus an IAM user whose access key lets CI/CD read
# and write both. Locking uses S3 lock files (use_lockfile), so no DynamoDB table.
#
# This module keeps its own state locally, in this folder (git-ignored).
terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

locals {
  # The backends in databricks-config/*/provider.tf and cicd/provider.tf use these names.
  region = "{{ state.aws_region }}"
  state_buckets = {
    ml_resources = "{{ state.aws_ml_resources_bucket }}"
    cicd_setup   = "{{ state.aws_cicd_setup_bucket }}"
  }
  ci_user_name = "{{ state.aws_ci_user }}"
}

provider "aws" {
  region = local.region
}

resource "aws_s3_bucket" "terraform_state" {
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
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
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

# Least privilege for CI/CD: list the state buckets, read and write state and lock files.
data "aws_iam_policy_document" "manage_terraform_state" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [for bucket in aws_s3_bucket.terraform_state : bucket.arn]
  }

  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for bucket in aws_s3_bucket.terraform_state : "${bucket.arn}/*"]
  }
}

resource "aws_iam_user" "terraform_state_ci" {
  name = local.ci_user_name
}

resource "aws_iam_user_policy" "manage_terraform_state" {
  name   = "manage-terraform-state"
  user   = aws_iam_user.terraform_state_ci.name
  policy = data.aws_iam_policy_document.manage_terraform_state.json
}

resource "aws_iam_access_key" "terraform_state_ci" {
  user = aws_iam_user.terraform_state_ci.name
}

# bootstrap.py writes these to ~/.{{ cookiecutter.project_name }}-cicd-terraform-secrets.json;
# store them as the CI/CD secrets of the same names.
output "AWS_ACCESS_KEY_ID" {
  value = aws_iam_access_key.terraform_state_ci.id
}

output "AWS_SECRET_ACCESS_KEY" {
  value     = aws_iam_access_key.terraform_state_ci.secret
  sensitive = true
}
