{%- import "terraform/job_blocks.jinja" as job with context -%}
# Scores a table of trips with the model version deployed to this environment.
resource "databricks_job" "batch_inference_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-batch-inference-job"

  {{ job.cluster() }}

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

  {{ job.source_schedule_and_checks("0 0 11 * * ?", "daily at 11:00, after training", "batch inference job") }}
}
