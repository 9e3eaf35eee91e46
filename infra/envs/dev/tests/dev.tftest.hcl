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
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
  # Values the provider validates as ARNs even under a mock.
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-bucket" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
}

run "outputs_feed_the_project" {
  command = apply

  assert {
    condition     = output.raw_bucket == "marketpulse-dev-123456789012-raw"
    error_message = "The raw bucket must be <prefix>-raw."
  }

  assert {
    condition = alltrue([
      for line in [
        "export AWS_REGION=eu-west-1",
        "export MARKETPULSE_RAW_BUCKET=marketpulse-dev-123456789012-raw",
        "export MARKETPULSE_KMS_KEY_ARN=arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        "export MARKETPULSE_EMR_THRIFT_HOST=127.0.0.1",
        "export MARKETPULSE_EMR_THRIFT_PORT=10001",
        "export MARKETPULSE_DBT_TARGET=emr",
        "export MARKETPULSE_SILVER_URI=s3://marketpulse-dev-123456789012-silver/silver",
        "export MARKETPULSE_GOLD_URI=s3://marketpulse-dev-123456789012-gold/gold",
      ] : contains(split("\n", output.project_env), line)
    ])
    error_message = "project_env must export the region, raw bucket, KMS key, Thrift tunnel, dbt target and the silver/gold table roots."
  }

  assert {
    condition     = output.glue_databases == { bronze = "bronze", silver = "silver", gold = "gold" }
    error_message = "The Glue databases must be bronze, silver and gold."
  }

  assert {
    condition     = output.emr_cluster_id != null && strcontains(output.thrift_tunnel_command, "AWS-StartPortForwardingSession")
    error_message = "With EMR enabled, the cluster id and the SSM tunnel command must be output."
  }
}

run "lake_without_cluster" {
  command = apply

  variables {
    emr_enabled = false
  }

  assert {
    condition     = output.emr_cluster_id == null && output.thrift_tunnel_command == null
    error_message = "emr_enabled = false must remove the cluster and keep the lake."
  }

  assert {
    condition     = output.raw_bucket == "marketpulse-dev-123456789012-raw"
    error_message = "The lake must stay when the cluster is removed."
  }
}
