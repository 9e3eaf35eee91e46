mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  bucket_prefix = "mp-test"
  kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "bucket_names" {
  command = apply

  assert {
    condition = output.bucket_names == {
      raw       = "mp-test-raw"
      silver    = "mp-test-silver"
      gold      = "mp-test-gold"
      artifacts = "mp-test-artifacts"
      logs      = "mp-test-logs"
    }
    error_message = "Buckets must be <prefix>-raw, -silver, -gold, -artifacts and -logs."
  }
}

run "lake_buckets_use_the_cmk_with_bucket_keys" {
  command = apply

  assert {
    condition = alltrue([
      for c in aws_s3_bucket_server_side_encryption_configuration.lake : alltrue([
        for r in c.rule : alltrue([
          for d in r.apply_server_side_encryption_by_default :
          d.sse_algorithm == "aws:kms" && d.kms_master_key_id == var.kms_key_arn
        ]) && r.bucket_key_enabled
      ])
    ])
    error_message = "Every lake bucket must default to SSE-KMS with the project's CMK and bucket keys."
  }

  assert {
    condition     = length(aws_s3_bucket_server_side_encryption_configuration.lake) == 4
    error_message = "raw, silver, gold and artifacts must all have an encryption configuration."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.logs.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "The logs bucket must be encrypted (SSE-S3: the only kind S3 access logging delivers to)."
  }
}

run "versioning_everywhere" {
  command = apply

  assert {
    condition = alltrue(concat(
      [for v in aws_s3_bucket_versioning.lake : one(v.versioning_configuration).status == "Enabled"],
      [one(aws_s3_bucket_versioning.logs.versioning_configuration).status == "Enabled"],
    )) && length(aws_s3_bucket_versioning.lake) == 4
    error_message = "Every bucket must be versioned."
  }
}

run "public_access_blocked_on_buckets_and_account" {
  command = apply

  assert {
    condition = alltrue([
      for b in concat(values(aws_s3_bucket_public_access_block.lake), [aws_s3_bucket_public_access_block.logs]) :
      b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ]) && length(aws_s3_bucket_public_access_block.lake) == 4
    error_message = "All four public-access-block flags must be set on every bucket."
  }

  assert {
    condition = length(aws_s3_account_public_access_block.this) == 1 && alltrue([
      for b in aws_s3_account_public_access_block.this :
      b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ])
    error_message = "The account-level public access block must exist with all four flags."
  }
}

run "policies_deny_non_tls" {
  command = apply

  assert {
    condition = alltrue([
      for p in concat(values(aws_s3_bucket_policy.lake), [aws_s3_bucket_policy.logs]) : anytrue([
        for s in jsondecode(p.policy).Statement :
        s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" &&
        try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
      ])
    ]) && length(aws_s3_bucket_policy.lake) == 4
    error_message = "Every bucket policy must deny requests that do not use TLS (aws:SecureTransport = false)."
  }
}

run "lake_policies_deny_uploads_without_the_cmk" {
  command = apply

  assert {
    condition = alltrue([
      for p in aws_s3_bucket_policy.lake : anytrue([
        for s in jsondecode(p.policy).Statement :
        s.Effect == "Deny" && s.Action == "s3:PutObject" &&
        try(s.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"], "") == var.kms_key_arn
      ])
    ])
    error_message = "Every lake bucket policy must deny uploads that name a key other than the project's CMK."
  }

  assert {
    condition = alltrue([
      for p in aws_s3_bucket_policy.lake : anytrue([
        for s in jsondecode(p.policy).Statement :
        s.Effect == "Deny" && s.Action == "s3:PutObject" &&
        try(s.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption"], "") == "aws:kms"
      ])
    ])
    error_message = "Every lake bucket policy must deny uploads that ask for an encryption other than SSE-KMS."
  }

  assert {
    condition = alltrue([
      for p in concat(values(aws_s3_bucket_policy.lake), [aws_s3_bucket_policy.logs]) : alltrue([
        for s in jsondecode(p.policy).Statement : s.Effect == "Deny" || s.Principal != "*"
      ])
    ])
    error_message = "No bucket policy may allow anything to the wildcard principal."
  }
}

run "access_logging_to_the_logs_bucket" {
  command = apply

  assert {
    condition = length(aws_s3_bucket_logging.lake) == 4 && alltrue([
      for l in aws_s3_bucket_logging.lake : l.target_bucket == aws_s3_bucket.logs.id
    ])
    error_message = "Every lake bucket must log its access to the logs bucket."
  }
}

run "lifecycle_rules" {
  command = apply

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.lake["raw"].rule :
      r.status == "Enabled" &&
      toset([for t in r.transition : "${t.storage_class}@${t.days}"]) == toset(["STANDARD_IA@30", "DEEP_ARCHIVE@180"])
    ])
    error_message = "raw must move to STANDARD_IA at 30 days and to DEEP_ARCHIVE at 180 days."
  }

  assert {
    condition = alltrue([
      for c in concat(values(aws_s3_bucket_lifecycle_configuration.lake), [aws_s3_bucket_lifecycle_configuration.logs]) : anytrue([
        for r in c.rule :
        r.status == "Enabled" && length(r.noncurrent_version_expiration) == 1 && length(r.abort_incomplete_multipart_upload) == 1
      ])
    ])
    error_message = "Every bucket must expire noncurrent versions and abort incomplete multipart uploads."
  }
}

run "account_block_can_be_left_to_another_stack" {
  command = plan

  variables {
    manage_account_public_access_block = false
  }

  assert {
    condition     = length(aws_s3_account_public_access_block.this) == 0
    error_message = "manage_account_public_access_block = false must not create the account-level block."
  }
}
