{%- import "terraform/permissions.jinja" as permissions -%}
# Read access for the read_user_group. The deploying service principal owns every
# resource, so it needs no grant here.

{{ permissions.read_access("training_job_permissions", "job_id", "databricks_job.model_training_job.id", "CAN_VIEW") }}

{{ permissions.read_access("batch_job_permissions", "job_id", "databricks_job.batch_inference_job.id", "CAN_VIEW") }}

{{ permissions.read_access("mlflow_experiment_permissions", "experiment_id", "databricks_mlflow_experiment.experiment.id", "CAN_READ") }}

{{ permissions.read_access("mlflow_model_permissions", "registered_model_id", "databricks_mlflow_model.registered_model.registered_model_id", "CAN_READ") }}
