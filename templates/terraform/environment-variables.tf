{#- Rendered once per environment, with `tf_env` ("staging" or "prod") set by the including file. -#}
variable "git_repo_url" {
  type        = string
  description = "HTTPS URL of this project's Git repository; CI/CD passes it with -var git_repo_url=..."
}
