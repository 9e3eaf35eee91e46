provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

locals {
  name_prefix   = "${var.project}-${var.environment}"
  bucket_prefix = coalesce(var.bucket_prefix, "${local.name_prefix}-${data.aws_caller_identity.current.account_id}")

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  thrift_remote_port = 10001
}

module "kms" {
  source = "../../modules/kms"

  name_prefix       = local.name_prefix
  service_role_arns = module.iam.service_role_arns
}

module "s3" {
  source = "../../modules/s3"

  bucket_prefix                      = local.bucket_prefix
  kms_key_arn                        = module.kms.key_arn
  manage_account_public_access_block = var.manage_account_level_settings
}

module "vpc" {
  source = "../../modules/vpc"

  name_prefix              = local.name_prefix
  cidr_block               = var.vpc_cidr_block
  flow_log_destination_arn = "${module.s3.logs_bucket_arn}/vpc-flow-logs/"
}

module "glue" {
  source = "../../modules/glue"

  database_locations = {
    bronze = "s3://${module.s3.bucket_names["raw"]}/raw/"
    silver = "s3://${module.s3.bucket_names["silver"]}/silver/"
    gold   = "s3://${module.s3.bucket_names["gold"]}/gold/"
  }
  kms_key_arn               = module.kms.key_arn
  manage_catalog_encryption = var.manage_account_level_settings
}

module "iam" {
  source = "../../modules/iam"

  name_prefix                      = local.name_prefix
  bucket_arns                      = module.s3.bucket_arns
  kms_key_arn                      = module.kms.key_arn
  glue_database_names              = values(module.glue.database_names)
  ingestion_trusted_principal_arns = var.ingestion_trusted_principal_arns
}

module "emr" {
  source = "../../modules/emr"
  count  = var.emr_enabled ? 1 : 0

  name_prefix                = local.name_prefix
  release_label              = var.emr_release_label
  vpc_id                     = module.vpc.vpc_id
  vpc_cidr_block             = module.vpc.vpc_cidr_block
  subnet_ids                 = module.vpc.private_subnet_ids
  s3_prefix_list_id          = module.vpc.s3_prefix_list_id
  service_role_arn           = module.iam.emr_service_role_arn
  instance_profile_arn       = module.iam.emr_instance_profile_arn
  kms_key_arn                = module.kms.key_arn
  log_uri                    = "s3://${module.s3.logs_bucket_name}/emr/"
  tls_certificates_s3_object = "s3://${module.s3.bucket_names["artifacts"]}/emr/tls/certs.zip"
  idle_timeout_seconds       = var.emr_idle_timeout_seconds
  managed_scaling_max_units  = var.emr_max_units
  thrift_port                = local.thrift_remote_port
  manage_block_public_access = var.manage_account_level_settings
}
