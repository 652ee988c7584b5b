{%- import "terraform/permissions.jinja" as permissions -%}
# Read access for the read_user_group. The deploying service principal owns every
# resource, so it needs no grant here.
{%- if cookiecutter.include_models_in_unity_catalog == "yes" %}
# The registered model and the predictions live in Unity Catalog, where the grants on
# the project's schema give access (unity-catalog.tf).
{%- endif %}

{{ permissions.read_access("training_job_permissions", "job_id", "databricks_job.model_training_job.id", "CAN_VIEW") }}

{{ permissions.read_access("batch_job_permissions", "job_id", "databricks_job.batch_inference_job.id", "CAN_VIEW") }}

{{ permissions.read_access("mlflow_experiment_permissions", "experiment_id", "databricks_mlflow_experiment.experiment.id", "CAN_READ") }}
{%- if cookiecutter.include_models_in_unity_catalog != "yes" %}

{{ permissions.read_access("mlflow_model_permissions", "registered_model_id", "databricks_mlflow_model.registered_model.registered_model_id", "CAN_READ") }}
{%- endif %}
