mock_provider "aws" {}

variables {
  database_locations = {
    bronze = "s3://mp-test-raw/raw/"
    silver = "s3://mp-test-silver/silver/"
    gold   = "s3://mp-test-gold/gold/"
  }
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "databases_bronze_silver_gold_in_the_buckets" {
  command = apply

  assert {
    condition     = toset([for d in aws_glue_catalog_database.this : d.name]) == toset(["bronze", "silver", "gold"])
    error_message = "The Glue databases must be bronze, silver and gold."
  }

  assert {
    condition     = aws_glue_catalog_database.this["bronze"].location_uri == "s3://mp-test-raw/raw/"
    error_message = "bronze must live in the raw bucket."
  }
}

run "catalog_encrypted_with_the_cmk" {
  command = apply

  assert {
    condition = alltrue([
      for s in aws_glue_data_catalog_encryption_settings.this : alltrue([
        for d in s.data_catalog_encryption_settings :
        one(d.encryption_at_rest).catalog_encryption_mode == "SSE-KMS" &&
        one(d.encryption_at_rest).sse_aws_kms_key_id == var.kms_key_arn &&
        one(d.connection_password_encryption).return_connection_password_encrypted
      ])
    ]) && length(aws_glue_data_catalog_encryption_settings.this) == 1
    error_message = "The Data Catalog and connection passwords must be encrypted with the CMK."
  }
}

run "unknown_layer_rejected" {
  command = plan

  variables {
    database_locations = { bronze = "s3://a/", silver = "s3://b/", platinum = "s3://c/" }
  }

  expect_failures = [var.database_locations]
}
