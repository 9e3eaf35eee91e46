mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name_prefix = "mp-test"
  service_role_arns = [
    "arn:aws:iam::123456789012:role/mp-test-emr-service",
    "arn:aws:iam::123456789012:role/mp-test-emr-instance",
  ]
}

run "key_is_rotated_and_aliased" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "The CMK must have automatic rotation enabled."
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/mp-test-lake"
    error_message = "The CMK alias must be alias/<prefix>-lake."
  }
}

run "key_policy_has_root_and_service_roles" {
  command = apply

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key_policy.this.policy).Statement :
      s.Effect == "Allow" && s.Principal.AWS == "arn:aws:iam::123456789012:root"
    ])
    error_message = "The key policy must keep the account root as administrator (no lock-out)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key_policy.this.policy).Statement :
      s.Effect == "Allow" && try(toset(s.Principal.AWS), toset([])) == toset(var.service_role_arns)
    ])
    error_message = "The key policy must grant use of the key to the service roles."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key_policy.this.policy).Statement :
      s.Principal != "*" && try(s.Principal.AWS, "") != "*"
    ])
    error_message = "The key policy must not grant anything to a wildcard principal."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key_policy.this.policy).Statement :
      s.Action == "kms:*" ? s.Principal.AWS == "arn:aws:iam::123456789012:root" : true
    ])
    error_message = "Only the account root may hold kms:*."
  }
}
