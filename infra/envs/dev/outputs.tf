output "region" {
  description = "AWS region of the platform (AWS_REGION)."
  value       = var.region
}

output "bucket_names" {
  description = "Bucket names by role: raw, silver, gold, artifacts, logs."
  value       = module.s3.bucket_names
}

output "raw_bucket" {
  description = "Raw (bronze) bucket (MARKETPULSE_RAW_BUCKET): s3://<raw>/raw/<dataset>/source=<src>/ingest_date=<date>/batch_id=<id>/."
  value       = module.s3.raw_bucket_name
}

output "kms_key_arn" {
  description = "ARN of the project's CMK (MARKETPULSE_KMS_KEY_ARN): the only key uploads to the lake may use."
  value       = module.kms.key_arn
}

output "kms_alias" {
  description = "Alias of the project's CMK."
  value       = module.kms.alias_name
}

output "glue_databases" {
  description = "Glue databases by layer."
  value       = module.glue.database_names
}

output "ingestion_role_arn" {
  description = "Role the ingestion (boto3 bronze writer) assumes: put to raw only."
  value       = module.iam.ingestion_role_arn
}

output "emr_cluster_id" {
  description = "ID of the EMR cluster (null when emr_enabled = false)."
  value       = one(module.emr[*].cluster_id)
}

output "thrift_endpoint" {
  description = "Spark Thrift Server as seen from a workstation through the SSM tunnel, and on the primary node."
  value = {
    host        = "127.0.0.1"
    port        = var.thrift_local_port
    remote_host = one(module.emr[*].primary_private_dns)
    remote_port = local.thrift_remote_port
  }
}

output "thrift_tunnel_command" {
  description = "Opens the SSM port forwarding session to the Spark Thrift Server (run in its own terminal)."
  value = var.emr_enabled ? join(" ", [
    "aws ssm start-session --region ${var.region}",
    "--target \"$(aws emr list-instances --region ${var.region} --cluster-id ${one(module.emr[*].cluster_id)}",
    "--instance-fleet-type MASTER --instance-states RUNNING --query 'Instances[0].Ec2InstanceId' --output text)\"",
    "--document-name AWS-StartPortForwardingSession",
    "--parameters '{\"portNumber\":[\"${local.thrift_remote_port}\"],\"localPortNumber\":[\"${var.thrift_local_port}\"]}'",
  ]) : null
}

output "project_env" {
  description = "Shell lines that configure the pipeline for this platform: eval \"$(terraform output -raw project_env)\"."
  value       = <<-EOT
    export AWS_REGION=${var.region}
    export MARKETPULSE_RAW_BUCKET=${module.s3.raw_bucket_name}
    export MARKETPULSE_KMS_KEY_ARN=${module.kms.key_arn}
    export MARKETPULSE_EMR_THRIFT_HOST=127.0.0.1
    export MARKETPULSE_EMR_THRIFT_PORT=${var.thrift_local_port}
    export MARKETPULSE_DBT_TARGET=emr
    export MARKETPULSE_SILVER_URI=s3://${module.s3.bucket_names["silver"]}/silver
    export MARKETPULSE_GOLD_URI=s3://${module.s3.bucket_names["gold"]}/gold
  EOT
}
