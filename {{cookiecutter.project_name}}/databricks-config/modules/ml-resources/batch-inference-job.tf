{%- import "terraform/job_blocks.jinja" as job with context -%}
# Scores a table of trips with the model version deployed to this environment.
resource "databricks_job" "batch_inference_job" {
  name = "${local.name_prefix}{{ cookiecutter.project_name }}-batch-inference-job"

  {{ job.compute() }}

  {% call job.notebook_task("BatchInference", "notebooks/BatchInference") %}
        env = var.env
        # A table name (catalog.schema.table) or delta.`<path>`. Point it at your own data;
        # the service principal needs SELECT on it (and USE CATALOG / USE SCHEMA).
        input_table_name = "delta.`dbfs:/databricks-datasets/nyctaxi-with-zipcodes/subsampled`"
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
        # catalog.schema.predictions in Unity Catalog; created by the first run, to which later runs
        # append the trips not yet scored: the service principal needs CREATE TABLE on its schema (unity-catalog.tf).
        output_table_name = local.predictions_table
{%- else %}
        # Created by the first run, to which later runs append the trips not yet scored: the service principal needs
        # CREATE TABLE on its schema (see databricks-config/README.md). Named after the
        # environment, so that staging and prod never share it, even in one workspace.
        output_table_name = "${var.env}_{{ cookiecutter | derived("project_name_alphanumeric") }}_predictions"
{%- endif %}
  {%- endcall %}

  {{ job.source_schedule_and_checks("0 0 11 * * ?", "daily at 11:00, after training", "batch inference job") }}
}
