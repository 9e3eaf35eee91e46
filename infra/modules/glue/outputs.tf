output "database_names" {
  description = "Glue database names by layer."
  value       = { for k, d in aws_glue_catalog_database.this : k => d.name }
}

output "database_arns" {
  description = "Glue database ARNs by layer."
  value       = { for k, d in aws_glue_catalog_database.this : k => d.arn }
}
