variable "git_username" {
  type        = string
  description = "User name recorded with the Git credentials."
}

variable "git_provider" {
  type        = string
  description = "Git provider of the repository: gitHub or azureDevOpsServices."
}

variable "git_token" {
  type        = string
  sensitive   = true
  description = "Read-only token the service principal checks the repository out with."
}
