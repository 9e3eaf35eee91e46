variable "region" {
  description = "AWS region of the platform."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project name, first part of every name."
  type        = string
  default     = "marketpulse"
}

variable "environment" {
  description = "Environment name, second part of every name."
  type        = string
  default     = "dev"
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names (<prefix>-raw, ...). Null: <project>-<environment>-<account id>, which is globally unique."
  type        = string
  default     = null
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "emr_enabled" {
  description = "Whether the EMR cluster exists. Set false to remove the cluster (and its cost) while keeping the lake."
  type        = bool
  default     = true
}

variable "emr_release_label" {
  description = "EMR 7.x release of the cluster."
  type        = string
  default     = "emr-7.10.0"
}

variable "emr_idle_timeout_seconds" {
  description = "Auto-termination of the EMR cluster after this much idleness."
  type        = number
  default     = 3600
}

variable "emr_max_units" {
  description = "Upper bound of EMR managed scaling, in instance fleet units."
  type        = number
  default     = 10
}

variable "thrift_local_port" {
  description = "Local port of the SSM tunnel to the Spark Thrift Server (MARKETPULSE_EMR_THRIFT_PORT)."
  type        = number
  default     = 10001
}

variable "ingestion_trusted_principal_arns" {
  description = "Principals allowed to assume the ingestion role (empty: the account)."
  type        = list(string)
  default     = []
}

variable "manage_account_level_settings" {
  description = "Whether this stack owns the account/region-wide settings (S3 account public access block, Glue catalog encryption, EMR block public access). Only one stack per account may."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
