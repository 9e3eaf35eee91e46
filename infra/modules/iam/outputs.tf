output "emr_service_role_arn" {
  description = "ARN of the EMR service role."
  value       = aws_iam_role.emr_service.arn
}

output "emr_service_role_name" {
  description = "Name of the EMR service role."
  value       = aws_iam_role.emr_service.name
}

output "emr_instance_role_arn" {
  description = "ARN of the EC2 role of the EMR nodes."
  value       = aws_iam_role.emr_instance.arn
}

output "emr_instance_profile_arn" {
  description = "ARN of the EMR instance profile."
  value       = aws_iam_instance_profile.emr_instance.arn
}

output "emr_instance_profile_name" {
  description = "Name of the EMR instance profile."
  value       = aws_iam_instance_profile.emr_instance.name
}

output "ingestion_role_arn" {
  description = "ARN of the role the boto3 bronze writer assumes."
  value       = aws_iam_role.ingestion.arn
}

output "service_role_arns" {
  description = "ARNs of every role that uses the CMK (for the kms module's key policy)."
  value       = [aws_iam_role.emr_service.arn, aws_iam_role.emr_instance.arn, aws_iam_role.ingestion.arn]
}
