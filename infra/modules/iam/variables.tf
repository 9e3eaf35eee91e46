variable "name_prefix" {
  description = "Prefix for every name in the project (e.g. \"marketpulse-dev\")."
  type        = string
}

variable "bucket_arns" {
  description = "Bucket ARNs by role, as output by the s3 module (raw, silver, gold, artifacts, logs)."
  type        = map(string)

  validation {
    condition     = length(setsubtract(["raw", "silver", "gold", "artifacts", "logs"], keys(var.bucket_arns))) == 0
    error_message = "bucket_arns must contain raw, silver, gold, artifacts and logs."
  }
}

variable "kms_key_arn" {
  description = "ARN of the project's CMK."
  type        = string
}

variable "glue_database_names" {
  description = "Glue databases the EMR cluster reads and writes."
  type        = list(string)
  default     = ["bronze", "silver", "gold"]
}

variable "raw_prefix" {
  description = "Key prefix of raw deliveries in the raw bucket (raw/<dataset>/source=<src>/ingest_date=<date>/batch_id=<id>/)."
  type        = string
  default     = "raw/"
}

variable "emr_log_prefix" {
  description = "Key prefix of EMR logs in the logs bucket."
  type        = string
  default     = "emr/"
}

variable "ingestion_trusted_principal_arns" {
  description = "IAM principals allowed to assume the ingestion role (empty: the account root, i.e. any principal of the account that is itself allowed sts:AssumeRole on it)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
