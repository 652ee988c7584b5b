# Scores a table of trips with the model version deployed to this environment.
resource "databricks_job" "batch_inference_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-batch-inference-job"

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

  task {
    task_key        = "BatchInference"
    job_cluster_key = local.job_cluster_key
    notebook_task {
      notebook_path = "notebooks/BatchInference"
      base_parameters = {
        env = var.env
        # A table name (catalog.schema.table) or delta.`<path>`. Point it at your own data;
        # the service principal needs SELECT on it (and USE CATALOG / USE SCHEMA).
        input_table_name = "delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`"
        # Created or overwritten by the job; the service principal needs MODIFY on it.
        output_table_name = "{{ cookiecutter | derived("project_name_alphanumeric") }}_predictions"
      }
    }
  }

  git_source {
    url      = var.git_repo_url
    provider = local.git_provider
    branch   = var.git_branch
  }

  schedule {
    quartz_cron_expression = "0 0 11 * * ?" # daily at 11:00, after training
    timezone_id            = "UTC"
  }

  # To be told about failures, uncomment and list the addresses:
  # email_notifications {
  #   on_failure = ["ml-team@example.com"]
  # }

  lifecycle {
    postcondition {
      condition     = alltrue([for task in self.task : fileexists("${local.project_root}/${task.notebook_task[0].notebook_path}.py")])
      error_message = "A notebook of the batch inference job does not exist: notebook_path must be relative to the project root, without the .py extension."
    }
  }
}
