locals {
  descriptions = {
    bronze = "Raw deliveries as delivered: append-only, partitioned by source and ingest date."
    silver = "Conformed, typed, deduplicated rows per business key (published after gate 2)."
    gold   = "Analyst-facing marts (published after gate 3)."
  }
}

resource "aws_glue_catalog_database" "this" {
  for_each = var.database_locations

  name         = each.key
  description  = local.descriptions[each.key]
  location_uri = each.value

  tags = var.tags
}

resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.kms_key_arn
    }

    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.kms_key_arn
    }
  }
}
