# The identity that applies this config: the CI/CD service principal. Job clusters run
# in single-user mode as this principal.
data "databricks_current_user" "service_principal" {}
