# Lets jobs owned by the service principal check code out from the repository (git_source);
# the token is read-only.
resource "databricks_git_credential" "service_principal" {
  git_username          = var.git_username
  git_provider          = var.git_provider
  personal_access_token = var.git_token
}
