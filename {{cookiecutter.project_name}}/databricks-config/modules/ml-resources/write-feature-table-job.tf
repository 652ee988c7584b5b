# Computes the pickup and dropoff features and writes them to this environment's feature
# tables (their names are derived from env by features/feature_tables.py). Runs before
# the training job, which reads the tables.
#
# Everything that refers to this job lives in this file, so that projects without the
# feature store can drop it.
resource "databricks_job" "write_feature_table_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-write-feature-table-job"

  job_cluster {
    job_cluster_key = local.job_cluster_key
    new_cluster {
      spark_version      = local.job_cluster.spark_version
      node_type_id       = local.job_cluster.node_type_id
      num_workers        = local.job_cluster.num_workers
      data_security_mode = local.job_cluster.data_security_mode
      single_user_name   = data.databricks_current_user.service_principal.user_name
      custom_tags        = local.job_cluster.custom_tags
    }
  }

  dynamic "task" {
    for_each = local.feature_tasks
    content {
      task_key        = task.key
      job_cluster_key = local.job_cluster_key
      notebook_task {
        notebook_path = "notebooks/GenerateAndWriteFeatures"
        base_parameters = {
          env              = var.env
          input_table_path = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
          # Empty dates mean no bound: the whole input table.
          input_start_date = ""
          input_end_date   = ""
          # The module's table definition (features/feature_tables.py) names its timestamp
          # column and key.
          features_transform_module = task.value.features_transform_module
        }
      }
    }
  }

  git_source {
    url      = var.git_repo_url
    provider = local.git_provider
    branch   = var.git_branch
  }

  schedule {
    quartz_cron_expression = "0 0 7 * * ?" # daily at 07:00, before training
    timezone_id            = "UTC"
  }

  # To be told about failures, uncomment and list the addresses:
  # email_notifications {
  #   on_failure = ["ml-team@example.com"]
  # }

  lifecycle {
    postcondition {
      condition     = alltrue([for task in self.task : fileexists("${local.project_root}/${task.notebook_task[0].notebook_path}.py")])
      error_message = "A notebook of the feature table job does not exist: notebook_path must be relative to the project root, without the .py extension."
    }
  }
}

locals {
  # One task per feature module, independent of each other.
  feature_tasks = {
    PickupFeatures = {
      features_transform_module = "pickup_features"
    }
    DropoffFeatures = {
      features_transform_module = "dropoff_features"
    }
  }
}

resource "databricks_permissions" "feature_job_permissions" {
  job_id = databricks_job.write_feature_table_job.id

  access_control {
    group_name       = var.read_user_group
    permission_level = "CAN_VIEW"
  }
}

output "write_feature_table_job_id" {
  value = databricks_job.write_feature_table_job.id
}
