{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on Google Cloud: one versioned GCS bucket for the ML resources
# (staging and prod prefixes) and one for the CI/CD setup, neither ever public, plus a
# service account whose key lets CI/CD read and write both objects (GOOGLE_CREDENTIALS)
# and nothing else. The gcs backend locks state natively.
#
# This module keeps its own state locally, in this folder (git-ignored).
terraform {
  {{ versions.requirements("google") }}
}

locals {
  # The backends in databricks-config/*/provider.tf and cicd/provider.tf use these names.
  state_buckets = {
    ml_resources = "{{ state.gcp_ml_resources_bucket }}"
    cicd_setup   = "{{ state.gcp_cicd_setup_bucket }}"
  }
  ci_service_account_id = "{{ state.gcp_ci_service_account }}"
}

provider "google" {
  project = var.gcp_project_id
}

resource "google_storage_bucket" "terraform_state" {
  # checkov:skip=CKV_GCP_62: the buckets hold only Terraform state; enable Data Access audit logs for Cloud Storage if your project needs an audit trail.
  for_each = local.state_buckets

  name                        = each.value
  location                    = var.gcp_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  # Old state versions are kept 90 days for recovery, then removed.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 90
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_service_account" "terraform_state_ci" {
  account_id   = local.ci_service_account_id
  display_name = "{{ cookiecutter.project_name }} CI/CD Terraform state"
}

resource "google_storage_bucket_iam_member" "terraform_state_ci" {
  for_each = google_storage_bucket.terraform_state

  bucket = each.value.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.terraform_state_ci.email}"
}

resource "google_service_account_key" "terraform_state_ci" {
  service_account_id = google_service_account.terraform_state_ci.name
}

# bootstrap.py writes this to ~/.{{ cookiecutter.project_name }}-cicd-terraform-secrets.json;
# store it as the CI/CD secret of the same name. It is the service account's JSON key,
# which the gcs backend reads from the GOOGLE_CREDENTIALS environment variable.
output "GOOGLE_CREDENTIALS" {
  value     = base64decode(google_service_account_key.terraform_state_ci.private_key)
  sensitive = true
}
