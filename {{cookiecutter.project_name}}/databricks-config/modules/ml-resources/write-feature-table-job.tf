{%- import "terraform/job_blocks.jinja" as job with context -%}
{%- import "terraform/permissions.jinja" as permissions -%}
# Computes the pickup and dropoff features and writes them to this environment's feature
# tables (their names are derived from env by features/feature_tables.py). Runs before
# the training job, which reads the tables.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# The tables are Unity Catalog tables in this environment's schema (unity-catalog.tf): the
# job's principal creates and merges into them through its schema grants (CREATE_TABLE, MODIFY).
{%- endif %}
#
# Everything that refers to this job lives in this file, so that projects without the
# feature store can drop it.
resource "databricks_job" "write_feature_table_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-write-feature-table-job"

  {{ job.compute() }}

  dynamic "task" {
    for_each = local.feature_tasks
    content {
      task_key        = task.key
{{ job.task_compute(6) }}
      notebook_task {
        notebook_path = "notebooks/GenerateAndWriteFeatures"
        base_parameters = {
          env              = var.env
          input_table_path = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
          # An empty start date: incremental, the windows of the last days (notebook widget
          # lookback_days) merged into the table; an empty end date: up to the newest trip.
          input_start_date = ""
          input_end_date   = ""
          # The module's table definition (features/feature_tables.py) names its timestamp
          # column and key.
          features_transform_module = task.value.features_transform_module
        }
      }
    }
  }

  {{ job.source_schedule_and_checks("0 0 7 * * ?", "daily at 07:00, before training", "feature table job") }}
}

locals {
  # One task per table of features/feature_tables.py (key: its job_task_key), independent of
  # each other. Terraform cannot read that list: the project's tests/features/test_feature_tables.py
  # fails until this map names the same tables.
  feature_tasks = {
    PickupFeatures = {
      features_transform_module = "pickup_features"
    }
    DropoffFeatures = {
      features_transform_module = "dropoff_features"
    }
  }
}

{{ permissions.read_access("feature_job_permissions", "job_id", "databricks_job.write_feature_table_job.id", "CAN_VIEW") }}

output "write_feature_table_job_id" {
  value = databricks_job.write_feature_table_job.id
}
