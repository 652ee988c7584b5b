# Unity Catalog: the project's schema in this environment's catalog, the grants on catalogs and
# schemas, and the names of the registered model and the predictions table. The schema in the CI
# integration test's catalog is the test's own: its first run creates it (submit_integration_test.py),
# so the ML code's first pull request passes before anything here is applied. The catalogs
# themselves, the metastore assignment and the service principal's USE CATALOG and CREATE SCHEMA
# on them are an admin's, before the first apply (docs/mlops-setup.md).
{%- set deploy_environments = cookiecutter | environments("deploy") %}
{%- set first = deploy_environments[0].name %}
{%- set protected = deploy_environments | selectattr("protected") | map(attribute="name") | list %}
{%- set unprotected = deploy_environments | rejectattr("protected") | map(attribute="name") | list %}
locals {
  # Catalog per environment, schema, model, predictions table and read group: stated once, in
  # databricks-config/unity-catalog.json, which the ML code (steps/utils.py) reads too.
  unity_catalog = jsondecode(file("${path.module}/../../unity-catalog.json"))
  catalog       = local.unity_catalog.catalogs[var.env]
  # {{ first | capitalize }} runs the CI integration test, which trains into the test catalog: the read group may
  # use that catalog too.
  catalogs = toset(var.env == "{{ first }}" ? [local.catalog, local.unity_catalog.catalogs.test] : [local.catalog])

  # catalog.schema.model of the registered model, the name the ML code registers and deploys.
  model_name = join(".", [
    databricks_registered_model.registered_model.catalog_name,
    databricks_registered_model.registered_model.schema_name,
    databricks_registered_model.registered_model.name,
  ])

  # catalog.schema.table to which the batch inference job appends each run's new predictions.
  predictions_table = "${local.catalog}.${databricks_schema.project[local.catalog].name}.${local.unity_catalog.predictions_table}"

  # What each principal may do in the project's schemas. The deploying service principal owns
  # them; its grant keeps the jobs (which run as it) working if an admin takes ownership over.
  schema_privileges = {
    (data.databricks_current_user.service_principal.user_name) = ["USE_SCHEMA", "CREATE_MODEL", "CREATE_TABLE", "EXECUTE", "SELECT", "MODIFY"]
    (local.unity_catalog.read_group)                           = ["USE_SCHEMA", "EXECUTE", "SELECT"]
  }
}

resource "databricks_schema" "project" {
  for_each = toset([local.catalog])

  catalog_name = each.value
  name         = local.unity_catalog.schema
  comment      = "Models and tables of the {{ cookiecutter.project_name }} project (managed by its databricks-config Terraform)."
  # Deleting the schema deletes the tables the jobs created in it (predictions{% if cookiecutter.include_feature_store == "yes" %},
  # feature tables{% endif %}), which Terraform does not manage. {{ unprotected | join(" and ") | capitalize }} allow{{ "s" if unprotected | length == 1 }} it, so that
  # terraform destroy works; {{ protected | join(" and ") }} only when allow_schema_destroy is set for a deliberate destroy
  # (databricks-config/README.md, "Protect prod data"): otherwise deleting or replacing a non-empty
  # {{ protected | join(" or ") }} schema fails, and CI/CD refuses such a plan before (scripts/check_prod_plan.py).
  force_destroy = {% if protected | length == 1 %}var.env != "{{ protected[0] }}"{% else %}!contains({{ protected | tojson }}, var.env){% endif %} || var.allow_schema_destroy
}

# Authoritative on the project's own schemas: grants made by hand are removed at the next apply.
resource "databricks_grants" "schema" {
  for_each = databricks_schema.project

  schema = each.value.id

  dynamic "grant" {
    for_each = local.schema_privileges
    content {
      principal  = grant.key
      privileges = grant.value
    }
  }
}

# The catalogs are shared with other projects: the read group's USE CATALOG is added, never
# made authoritative (databricks_grant, singular, leaves every other grant alone).
resource "databricks_grant" "read_group_catalog" {
  for_each = local.catalogs

  catalog    = each.value
  principal  = local.unity_catalog.read_group
  privileges = ["USE_CATALOG"]
}
