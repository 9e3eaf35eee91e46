output "key_arn" {
  description = "ARN of the lake CMK."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Key ID of the lake CMK."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Alias of the lake CMK."
  value       = aws_kms_alias.this.name
}

output "key_policy" {
  description = "Rendered key policy (JSON)."
  value       = local.key_policy
}
