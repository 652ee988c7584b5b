{%- import "terraform/versions.jinja" as versions -%}
{%- import "terraform_state_names.jinja" as state with context -%}
# Remote state storage on Google Cloud: one versioned GCS bucket for the ML resources
# (staging and prod prefixes) and one for the CI/CD setup, neither ever public. The gcs
# backend locks state natively. No service account key: you reach both buckets with your
# own login (gcloud auth application-default login), CI/CD reaches its environment's
# prefix only, through workload identity federation (../cicd/state-access.tf).
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
