variable "database_locations" {
  description = "S3 location of each Glue database, keyed by database name (bronze, silver, gold)."
  type        = map(string)

  validation {
    condition     = toset(keys(var.database_locations)) == toset(["bronze", "silver", "gold"])
    error_message = "database_locations must have exactly the keys bronze, silver and gold."
  }

  validation {
    condition     = alltrue([for l in values(var.database_locations) : startswith(l, "s3://")])
    error_message = "Every database location must be an s3:// URI."
  }
}

variable "kms_key_arn" {
  description = "ARN of the project's CMK, used to encrypt the Data Catalog and connection passwords."
  type        = string
}

variable "manage_catalog_encryption" {
  description = "Whether this module owns the account/region-wide Data Catalog encryption settings."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
