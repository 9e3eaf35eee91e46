variable "name_prefix" {
  description = "Prefix for every name in the project (e.g. \"marketpulse-dev\")."
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "az_count" {
  description = "Number of availability zones with a private subnet."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2
    error_message = "At least two availability zones are required."
  }
}

variable "interface_endpoint_services" {
  description = "Services reached through interface endpoints (the VPC has no NAT gateway and no internet gateway)."
  type        = list(string)
  default = [
    "elasticmapreduce", # EMR control plane
    "glue",             # Glue Data Catalog as Spark's Hive metastore
    "sts",              # role credentials (boto3, EMRFS)
    "kms",              # SSE-KMS, EBS and catalog encryption
    "logs",             # CloudWatch Logs (SSM agent, applications)
    "ec2",              # EMR instance fleets and managed scaling
    "ssm",              # Session Manager port forwarding to the Thrift server
    "ssmmessages",
    "ec2messages",
  ]
}

variable "flow_log_destination_arn" {
  description = "ARN of the S3 bucket (optionally with a prefix, e.g. arn:aws:s3:::<logs>/vpc-flow-logs/) receiving VPC flow logs."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
