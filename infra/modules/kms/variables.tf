variable "name_prefix" {
  description = "Prefix for every name in the project (e.g. \"marketpulse-dev\")."
  type        = string
}

variable "service_role_arns" {
  description = "ARNs of the IAM roles (EMR service, EMR instance, ingestion) allowed to use the key for data encryption."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
