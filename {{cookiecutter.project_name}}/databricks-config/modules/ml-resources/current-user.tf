# The identity that applies this config: the CI/CD service principal. The jobs run as this
# principal (job clusters in single-user mode for it).
data "databricks_current_user" "service_principal" {}
