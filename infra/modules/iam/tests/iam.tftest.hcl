mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  name_prefix = "mp-test"
  bucket_arns = {
    raw       = "arn:aws:s3:::mp-test-raw"
    silver    = "arn:aws:s3:::mp-test-silver"
    gold      = "arn:aws:s3:::mp-test-gold"
    artifacts = "arn:aws:s3:::mp-test-artifacts"
    logs      = "arn:aws:s3:::mp-test-logs"
  }
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "no_wildcard_actions_or_resources" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.emr_service, aws_iam_role_policy.emr_instance, aws_iam_role_policy.ingestion] : [
        for s in jsondecode(p.policy).Statement : [
          for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")
        ]
      ]
    ]))
    error_message = "No inline policy may use a wildcard action (\"*\" or \"<service>:*\")."
  }

  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.emr_service, aws_iam_role_policy.emr_instance, aws_iam_role_policy.ingestion] : [
        for s in jsondecode(p.policy).Statement : [for r in flatten([s.Resource]) : r != "*"]
      ]
    ]))
    error_message = "No inline policy may use Resource \"*\"."
  }

  assert {
    condition = alltrue(flatten([
      for p in [aws_iam_role_policy.emr_service, aws_iam_role_policy.emr_instance, aws_iam_role_policy.ingestion] : [
        for s in jsondecode(p.policy).Statement : s.Effect == "Allow"
      ]
    ]))
    error_message = "Statements are expected to be Allow-only grants."
  }
}

run "ingestion_puts_to_raw_only" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement : [
        for a in flatten([s.Action]) : startswith(a, "s3:") ? alltrue([
          for r in flatten([s.Resource]) : startswith(r, "arn:aws:s3:::mp-test-raw")
        ]) : true
      ]
    ]))
    error_message = "The ingestion role may touch the raw bucket only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement :
      contains(flatten([s.Action]), "s3:PutObject") ? s.Resource == "arn:aws:s3:::mp-test-raw/raw/*" : true
    ])
    error_message = "The ingestion role may put objects under raw/ of the raw bucket only."
  }

  assert {
    condition = !anytrue(flatten([
      for s in jsondecode(aws_iam_role_policy.ingestion.policy).Statement : [
        for a in flatten([s.Action]) : contains(["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketPolicy"], a)
      ]
    ]))
    error_message = "The ingestion role must not delete objects or change bucket policies."
  }
}

run "emr_instance_role_scoped_to_the_lake" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.emr_instance.policy).Statement : [
        for r in flatten([s.Resource]) :
        startswith(r, "arn:aws:s3:::mp-test-") || startswith(r, "arn:aws:glue:eu-west-1:123456789012:") || r == var.kms_key_arn
      ]
    ]))
    error_message = "The EMR instance role may reach only the lake buckets, the project's Glue databases and the CMK."
  }

  assert {
    condition = !anytrue(flatten([
      for s in jsondecode(aws_iam_role_policy.emr_instance.policy).Statement : [
        for a in flatten([s.Action]) : contains(["s3:PutObject", "s3:DeleteObject"], a) && anytrue([
          for r in flatten([s.Resource]) : startswith(r, "arn:aws:s3:::mp-test-raw")
        ])
      ]
    ]))
    error_message = "The EMR cluster must not write or delete raw files."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.emr_instance.policy).Statement :
      contains(flatten([s.Action]), "glue:CreateDatabase") ? !anytrue([for r in flatten([s.Resource]) : endswith(r, "database/*")]) : true
    ])
    error_message = "The cluster may create only the default database."
  }
}

run "trust_policies_name_the_services" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.emr_service.assume_role_policy).Statement[0].Principal.Service == "elasticmapreduce.amazonaws.com"
    error_message = "The EMR service role must be assumable by EMR only."
  }

  assert {
    condition     = jsondecode(aws_iam_role.emr_service.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "The EMR service role's trust must be pinned to this account (confused deputy)."
  }

  assert {
    condition     = jsondecode(aws_iam_role.emr_instance.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "The EMR instance role must be assumable by EC2 only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.emr_service.policy).Statement :
      s.Action == "iam:PassRole" ? s.Resource == aws_iam_role.emr_instance.arn : true
    ])
    error_message = "The EMR service role may pass the cluster's instance role only."
  }
}
