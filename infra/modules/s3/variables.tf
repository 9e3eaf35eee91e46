variable "bucket_prefix" {
  description = "Prefix of every bucket name: buckets are <prefix>-raw, -silver, -gold, -logs, -artifacts. Must be globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.bucket_prefix))
    error_message = "bucket_prefix must be 3-42 characters of lowercase letters, digits and hyphens."
  }
}

variable "kms_key_arn" {
  description = "ARN of the project's CMK: default encryption of the lake buckets, and the only key uploads may name."
  type        = string
}

variable "raw_standard_ia_after_days" {
  description = "Days after which raw objects move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "raw_deep_archive_after_days" {
  description = "Days after which raw objects move to DEEP_ARCHIVE (restore before re-reading them)."
  type        = number
  default     = 180
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions expire in every bucket."
  type        = number
  default     = 90
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted in every bucket."
  type        = number
  default     = 7
}

variable "log_expiration_days" {
  description = "Days after which objects in the logs bucket expire."
  type        = number
  default     = 365
}

variable "manage_account_public_access_block" {
  description = "Whether this module owns the account-level S3 public access block (one per account: disable it if another stack manages it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
