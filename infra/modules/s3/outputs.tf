output "bucket_names" {
  description = "Bucket names by role: raw, silver, gold, artifacts, logs."
  value       = merge({ for k, b in aws_s3_bucket.lake : k => b.bucket }, { logs = aws_s3_bucket.logs.bucket })
}

output "bucket_arns" {
  description = "Bucket ARNs by role: raw, silver, gold, artifacts, logs."
  value       = merge({ for k, b in aws_s3_bucket.lake : k => b.arn }, { logs = aws_s3_bucket.logs.arn })
}

output "raw_bucket_name" {
  description = "Name of the raw (bronze) bucket: s3://<raw>/raw/<dataset>/source=<src>/ingest_date=<date>/batch_id=<id>/."
  value       = aws_s3_bucket.lake["raw"].bucket
}

output "logs_bucket_name" {
  description = "Name of the logs bucket (S3 access logs, VPC flow logs, EMR logs)."
  value       = aws_s3_bucket.logs.bucket
}

output "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  value       = aws_s3_bucket.logs.arn
}
