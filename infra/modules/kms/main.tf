data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_root_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"

  root_statement = {
    Sid       = "EnableAccountRootAdministration"
    Effect    = "Allow"
    Principal = { AWS = local.account_root_arn }
    Action    = "kms:*"
    # In a key policy "*" means "this key": the policy is attached to one key only.
    Resource = "*"
  }

  service_statements = [for s in [
    {
      Sid       = "AllowServiceRolesToUseTheKey"
      Effect    = "Allow"
      Principal = { AWS = var.service_role_arns }
      Action = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
      ]
      Resource = "*"
    },
    {
      Sid       = "AllowServiceRolesToGrantForAwsResources"
      Effect    = "Allow"
      Principal = { AWS = var.service_role_arns }
      Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    },
  ] : s if length(var.service_role_arns) > 0]

  key_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([local.root_statement], local.service_statements)
  })
}

# The key is created with AWS's default policy (account root only) and the full policy is
# attached by aws_kms_key_policy below: the service roles reference the key ARN in their own
# policies, so putting their ARNs into the key's create call would be a dependency cycle.
resource "aws_kms_key" "this" {
  description             = "${var.name_prefix} lake CMK (S3, Glue Data Catalog, EMR at-rest encryption)"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  key_usage               = "ENCRYPT_DECRYPT"
  multi_region            = false

  tags = merge(var.tags, { Name = "${var.name_prefix}-lake" })
}

resource "aws_kms_key_policy" "this" {
  key_id = aws_kms_key.this.id
  policy = local.key_policy

  bypass_policy_lockout_safety_check = false
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-lake"
  target_key_id = aws_kms_key.this.key_id
}
