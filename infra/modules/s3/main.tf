data "aws_caller_identity" "current" {}

locals {
  # Lake buckets are encrypted with the CMK. The logs bucket is separate: S3 server access
  # logging can only deliver to a bucket whose default encryption is SSE-S3.
  lake_buckets = {
    raw       = "${var.bucket_prefix}-raw"
    silver    = "${var.bucket_prefix}-silver"
    gold      = "${var.bucket_prefix}-gold"
    artifacts = "${var.bucket_prefix}-artifacts"
  }
  logs_bucket = "${var.bucket_prefix}-logs"

  account_id = data.aws_caller_identity.current.account_id
}

################################################################################
# Account-level public access block
################################################################################

resource "aws_s3_account_public_access_block" "this" {
  count = var.manage_account_public_access_block ? 1 : 0

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

################################################################################
# Logs bucket (S3 server access logs, VPC flow logs, EMR logs)
################################################################################

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 (AES256) target buckets; SSE-KMS is not supported for this bucket.
  #checkov:skip=CKV_AWS_144:Logs are operational data with a one-year retention; cross-region replication is not worth its cost here.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object-created events of the logs bucket.
  bucket        = local.logs_bucket
  force_destroy = false

  tags = merge(var.tags, { Name = local.logs_bucket, Layer = "logs" })
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket = aws_s3_bucket.logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "AllowS3ServerAccessLogDelivery"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.logs.arn}/s3-access/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = [for b in aws_s3_bucket.lake : b.arn] }
        }
      },
      {
        Sid       = "AllowVpcFlowLogDeliveryWrite"
        Effect    = "Allow"
        Principal = { Service = "delivery.logs.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.logs.arn}/vpc-flow-logs/AWSLogs/${local.account_id}/*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "AllowVpcFlowLogDeliveryCheck"
        Effect    = "Allow"
        Principal = { Service = "delivery.logs.amazonaws.com" }
        Action    = ["s3:GetBucketAcl", "s3:ListBucket"]
        Resource  = aws_s3_bucket.logs.arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

################################################################################
# Lake buckets: raw, silver, gold, artifacts
################################################################################

resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_144:Single-region dev lake; raw is replayable from the feeds and every bucket is versioned. Add replication per environment when an RPO requires it.
  #checkov:skip=CKV2_AWS_62:The pipeline is batch-driven (manifest per batch); no consumer of S3 event notifications exists.
  for_each = local.lake_buckets

  bucket        = each.value
  force_destroy = false

  tags = merge(var.tags, { Name = each.value, Layer = each.key })
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [each.value.arn, "${each.value.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        # Default encryption already applies the CMK when a request names no key; these
        # statements refuse any upload that asks for another algorithm or another key.
        Sid       = "DenyUploadsNotSseKms"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${each.value.arn}/*"
        Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = "aws:kms" } }
      },
      {
        Sid       = "DenyUploadsWithoutTheProjectCmk"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${each.value.arn}/*"
        Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption-aws-kms-key-id" = var.kms_key_arn } }
      },
      {
        Sid       = "DenyUploadsWithCustomerKeys"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "${each.value.arn}/*"
        Condition = { Null = { "s3:x-amz-server-side-encryption-customer-algorithm" = "false" } }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.lake]
}

resource "aws_s3_bucket_logging" "lake" {
  for_each = aws_s3_bucket.lake

  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3-access/${each.value.bucket}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  for_each = aws_s3_bucket.lake

  bucket = each.value.id

  # Raw files are read for backfills only: tier them down. Objects in DEEP_ARCHIVE must be
  # restored before Spark can read them again (see infra/README.md).
  dynamic "rule" {
    for_each = each.key == "raw" ? [1] : []

    content {
      id     = "raw-tiering"
      status = "Enabled"

      filter {
        prefix = "raw/"
      }

      transition {
        days          = var.raw_standard_ia_after_days
        storage_class = "STANDARD_IA"
      }

      transition {
        days          = var.raw_deep_archive_after_days
        storage_class = "DEEP_ARCHIVE"
      }
    }
  }

  rule {
    id     = "noncurrent-versions-and-multipart"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}
