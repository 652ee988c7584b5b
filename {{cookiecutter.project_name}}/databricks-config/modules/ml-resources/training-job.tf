# Trains a model, validates it, then deploys it to this environment's stage.
resource "databricks_job" "model_training_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-model-training-job"

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
    task_key        = "Train"
    job_cluster_key = local.job_cluster_key
    notebook_task {
{%- if cookiecutter.include_feature_store == "yes" %}
      notebook_path = "notebooks/TrainWithFeatureStore"
      base_parameters = {
        env                = var.env
        training_data_path = "/databricks-datasets/nyctaxi-with-zipcodes/subsampled"
        experiment_name    = databricks_mlflow_experiment.experiment.name
        model_name         = local.model_name
      }
{%- else %}
      notebook_path = "notebooks/Train"
      base_parameters = {
        env = var.env
      }
{%- endif %}
    }
  }

  task {
    task_key        = "ModelValidation"
    job_cluster_key = local.job_cluster_key
    depends_on {
      task_key = "Train"
    }
    notebook_task {
      notebook_path = "notebooks/ModelValidation"
      base_parameters = {
        env = var.env
        # run_mode decides what a failed validation rule does:
        #   "disabled": skip validation (deployment then accepts the version);
        #   "dry_run":  validate and tag the version, without failing this task
        #               (deployment still refuses a version that failed);
        #   "enabled":  also fail this task when a rule fails.
        # Switch to "enabled" once the rules in steps/validation.py suit your model.
        run_mode = "dry_run"
      }
    }
  }

  task {
    task_key        = "TriggerModelDeploy"
    job_cluster_key = local.job_cluster_key
    depends_on {
      task_key = "ModelValidation"
    }
    notebook_task {
      notebook_path = "notebooks/TriggerModelDeploy"
      base_parameters = {
        env = var.env
      }
    }
  }

  git_source {
    url      = var.git_repo_url
    provider = local.git_provider
    branch   = var.git_branch
  }

  schedule {
    quartz_cron_expression = "0 0 9 * * ?" # daily at 09:00
    timezone_id            = "UTC"
  }

  # To be told about failures, uncomment and list the addresses:
  # email_notifications {
  #   on_failure = ["ml-team@example.com"]
  # }

  lifecycle {
    postcondition {
      condition     = alltrue([for task in self.task : fileexists("${local.project_root}/${task.notebook_task[0].notebook_path}.py")])
      error_message = "A notebook of the training job does not exist: notebook_path must be relative to the project root, without the .py extension."
    }
  }
}
