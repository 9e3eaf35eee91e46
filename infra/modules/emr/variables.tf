variable "name_prefix" {
  description = "Prefix for every name in the project (e.g. \"marketpulse-dev\")."
  type        = string
}

variable "release_label" {
  description = "EMR release. 7.x ships Spark 3.5, matching the local pyspark 3.5."
  type        = string
  default     = "emr-7.10.0"

  validation {
    condition     = can(regex("^emr-7\\.[0-9]+\\.[0-9]+$", var.release_label))
    error_message = "release_label must be an EMR 7.x release (Spark 3.5), e.g. emr-7.10.0."
  }
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC (egress to the interface endpoints)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the instance fleets may launch in (EMR picks one per cluster)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "At least one private subnet is required."
  }
}

variable "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (egress to S3)."
  type        = string
}

variable "service_role_arn" {
  description = "ARN of the EMR service role."
  type        = string
}

variable "instance_profile_arn" {
  description = "ARN of the EMR instance profile."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the project's CMK (EMRFS SSE-KMS, local disk and EBS encryption, log encryption)."
  type        = string
}

variable "log_uri" {
  description = "S3 URI for cluster logs, e.g. s3://<logs>/emr/."
  type        = string

  validation {
    condition     = startswith(var.log_uri, "s3://")
    error_message = "log_uri must be an s3:// URI."
  }
}

variable "tls_certificates_s3_object" {
  description = "s3:// URI of the zip of PEM files for in-transit encryption (privateKey.pem, certificateChain.pem, trustedCertificates.pem); see infra/README.md."
  type        = string

  validation {
    condition     = startswith(var.tls_certificates_s3_object, "s3://") && endswith(var.tls_certificates_s3_object, ".zip")
    error_message = "tls_certificates_s3_object must be an s3:// URI of a .zip file."
  }
}

variable "primary_instance_types" {
  description = "Instance types the on-demand primary fleet may use."
  type        = list(string)
  default     = ["m6i.xlarge", "m5.xlarge", "m7i.xlarge"]
}

variable "core_instance_types" {
  description = "Instance types the on-demand core fleet may use (one unit each)."
  type        = list(string)
  default     = ["r6i.xlarge", "r5.xlarge", "r7i.xlarge"]
}

variable "task_instance_types" {
  description = "Instance types the Spot task fleet may use; several, so that Spot capacity can be found."
  type        = list(string)
  default     = ["m6i.2xlarge", "m5.2xlarge", "r6i.2xlarge", "r5.2xlarge", "m7i.2xlarge", "c6i.2xlarge"]

  validation {
    condition     = length(var.task_instance_types) >= 3
    error_message = "Give the Spot task fleet at least three instance types."
  }
}

variable "core_on_demand_units" {
  description = "On-demand capacity units of the core fleet."
  type        = number
  default     = 2
}

variable "task_spot_units" {
  description = "Initial Spot capacity units of the task fleet (managed scaling adds more)."
  type        = number
  default     = 0
}

variable "managed_scaling_max_units" {
  description = "Upper bound of managed scaling, in instance fleet units (core + task)."
  type        = number
  default     = 10
}

variable "idle_timeout_seconds" {
  description = "Auto-termination: seconds of idleness after which EMR terminates the cluster."
  type        = number
  default     = 3600

  validation {
    condition     = var.idle_timeout_seconds >= 60 && var.idle_timeout_seconds <= 604800
    error_message = "idle_timeout_seconds must be between 60 and 604800."
  }
}

variable "ebs_volume_size_gb" {
  description = "Size of the gp3 data volume of each node."
  type        = number
  default     = 64
}

variable "thrift_port" {
  description = "Port of the Spark Thrift Server on the primary node (EMR's default for Spark is 10001)."
  type        = number
  default     = 10001
}

variable "manage_block_public_access" {
  description = "Whether this module owns the region's EMR block-public-access setting."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
