output "id" {
  value       = databricks_service_principal.cicd.id
  description = "Numeric id of the service principal (the same in the account and the workspace)."
}

output "application_id" {
  value       = databricks_service_principal.cicd.application_id
  description = "OAuth client id of the service principal (DATABRICKS_CLIENT_ID)."
}

output "client_secret" {
  value       = databricks_service_principal_secret.cicd.secret
  description = "Databricks OAuth secret of the service principal (DATABRICKS_CLIENT_SECRET)."
  sensitive   = true
}
