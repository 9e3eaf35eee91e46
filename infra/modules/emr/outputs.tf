output "cluster_id" {
  description = "ID of the EMR cluster (j-...)."
  value       = aws_emr_cluster.this.id
}

output "cluster_name" {
  description = "Name of the EMR cluster."
  value       = aws_emr_cluster.this.name
}

output "primary_private_dns" {
  description = "Private DNS name of the primary node (resolvable inside the VPC only)."
  value       = aws_emr_cluster.this.master_public_dns
}

output "thrift_port" {
  description = "Port of the Spark Thrift Server on the primary node."
  value       = var.thrift_port
}

output "security_configuration_name" {
  description = "Name of the EMR security configuration."
  value       = aws_emr_security_configuration.this.name
}

output "security_group_ids" {
  description = "EMR-managed security groups by role."
  value = {
    primary        = aws_security_group.primary.id
    core           = aws_security_group.core.id
    service_access = aws_security_group.service_access.id
  }
}
