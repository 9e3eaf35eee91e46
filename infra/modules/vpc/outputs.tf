output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone."
  value       = aws_subnet.private[*].id
}

output "private_route_table_id" {
  description = "ID of the route table of the private subnets."
  value       = aws_route_table.private.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (for security group egress rules)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "interface_endpoint_services" {
  description = "Services with an interface endpoint."
  value       = sort(keys(aws_vpc_endpoint.interface))
}
