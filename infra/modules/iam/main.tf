data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  glue_prefix = "arn:${local.partition}:glue:${local.region}:${local.account_id}"
  # Spark's Hive client looks up `default` at start-up (and creates it if it is missing).
  glue_databases = distinct(concat(var.glue_database_names, ["default"]))

  ingestion_principals = length(var.ingestion_trusted_principal_arns) > 0 ? var.ingestion_trusted_principal_arns : [
    "arn:${local.partition}:iam::${local.account_id}:root"
  ]

  kms_use_actions = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
}

################################################################################
# EMR service role
################################################################################

resource "aws_iam_role" "emr_service" {
  name = "${var.name_prefix}-emr-service"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "elasticmapreduce.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:*" }
      }
    }]
  })

  tags = var.tags
}

# AWS's v2 EMR service policy only acts on resources tagged
# for-use-with-amazon-emr-managed-policies=true (the vpc and emr modules tag theirs).
resource "aws_iam_role_policy_attachment" "emr_service" {
  role       = aws_iam_role.emr_service.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

resource "aws_iam_role_policy" "emr_service" {
  name = "pass-instance-role-and-kms-grants"
  role = aws_iam_role.emr_service.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "PassTheInstanceRoleToEc2"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = aws_iam_role.emr_instance.arn
        Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
      },
      {
        Sid       = "EbsEncryptionGrantsOnTheCmk"
        Effect    = "Allow"
        Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:DescribeKey"]
        Resource  = var.kms_key_arn
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      },
    ]
  })
}

################################################################################
# EMR instance profile (EC2 role of the cluster nodes)
################################################################################

resource "aws_iam_role" "emr_instance" {
  name = "${var.name_prefix}-emr-instance"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_iam_instance_profile" "emr_instance" {
  name = "${var.name_prefix}-emr-instance"
  role = aws_iam_role.emr_instance.name

  tags = var.tags
}

# Session Manager (port forwarding to the Thrift server) needs the SSM agent's permissions.
resource "aws_iam_role_policy_attachment" "emr_instance_ssm" {
  role       = aws_iam_role.emr_instance.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "emr_instance" {
  name = "lake-access"
  role = aws_iam_role.emr_instance.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ListLakeBuckets"
        Effect = "Allow"
        Action = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = [
          var.bucket_arns["raw"], var.bucket_arns["silver"], var.bucket_arns["gold"], var.bucket_arns["artifacts"],
        ]
      },
      {
        # Bronze is read, never written, by the cluster: raw files are immutable.
        Sid      = "ReadRaw"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = "${var.bucket_arns["raw"]}/${var.raw_prefix}*"
      },
      {
        Sid    = "ReadWriteSilverAndGold"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ]
        Resource = ["${var.bucket_arns["silver"]}/*", "${var.bucket_arns["gold"]}/*"]
      },
      {
        Sid      = "ReadArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.bucket_arns["artifacts"]}/*"
      },
      {
        Sid      = "WriteEmrLogs"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = "${var.bucket_arns["logs"]}/${var.emr_log_prefix}*"
      },
      {
        Sid    = "GlueCatalogAsHiveMetastore"
        Effect = "Allow"
        Action = [
          "glue:GetDatabase",
          "glue:GetDatabases",
          "glue:GetTable",
          "glue:GetTables",
          "glue:GetTableVersions",
          "glue:CreateTable",
          "glue:UpdateTable",
          "glue:DeleteTable",
          "glue:GetPartition",
          "glue:GetPartitions",
          "glue:BatchGetPartition",
          "glue:CreatePartition",
          "glue:BatchCreatePartition",
          "glue:UpdatePartition",
          "glue:BatchUpdatePartition",
          "glue:DeletePartition",
          "glue:BatchDeletePartition",
          "glue:GetUserDefinedFunction",
          "glue:GetUserDefinedFunctions",
        ]
        Resource = concat(
          ["${local.glue_prefix}:catalog"],
          [for d in local.glue_databases : "${local.glue_prefix}:database/${d}"],
          [for d in local.glue_databases : "${local.glue_prefix}:table/${d}/*"],
          [for d in local.glue_databases : "${local.glue_prefix}:userDefinedFunction/${d}/*"],
        )
      },
      {
        Sid      = "CreateOnlyTheDefaultDatabase"
        Effect   = "Allow"
        Action   = ["glue:CreateDatabase"]
        Resource = ["${local.glue_prefix}:catalog", "${local.glue_prefix}:database/default"]
      },
      {
        Sid      = "UseTheCmk"
        Effect   = "Allow"
        Action   = local.kms_use_actions
        Resource = var.kms_key_arn
      },
    ]
  })
}

################################################################################
# Ingestion role (boto3 bronze writer): put to raw only
################################################################################

resource "aws_iam_role" "ingestion" {
  name = "${var.name_prefix}-ingestion"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = local.ingestion_principals }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "ingestion" {
  name = "write-raw"
  role = aws_iam_role.ingestion.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PutRawDeliveries"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:AbortMultipartUpload"]
        Resource = "${var.bucket_arns["raw"]}/${var.raw_prefix}*"
      },
      {
        # Re-delivering a batch is a no-op: the writer looks for the batch's manifest first.
        Sid      = "ReadRawManifests"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.bucket_arns["raw"]}/${var.raw_prefix}*"
      },
      {
        Sid       = "ListRawPrefix"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = var.bucket_arns["raw"]
        Condition = { StringLike = { "s3:prefix" = ["${var.raw_prefix}*"] } }
      },
      {
        Sid      = "EncryptWithTheCmk"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]
        Resource = var.kms_key_arn
      },
    ]
  })
}
