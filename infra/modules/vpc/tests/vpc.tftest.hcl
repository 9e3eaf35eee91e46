mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_vpc" {
    defaults = { cidr_block = "10.42.0.0/16" }
  }
  mock_resource "aws_route_table" {
    defaults = { route = [] }
  }
}

variables {
  name_prefix              = "mp-test"
  flow_log_destination_arn = "arn:aws:s3:::mp-test-logs/vpc-flow-logs/"
}

run "private_subnets_in_two_azs" {
  command = apply

  assert {
    condition     = length(aws_subnet.private) == 2 && length(toset(aws_subnet.private[*].availability_zone)) == 2
    error_message = "There must be one private subnet in each of two availability zones."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "Subnets must not assign public IPs."
  }
}

run "no_route_out_of_the_vpc" {
  command = apply

  assert {
    condition     = length(aws_route_table.private.route) == 0
    error_message = "The private route table must have no route to a NAT or internet gateway (the S3 gateway endpoint adds its own)."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && contains(aws_vpc_endpoint.s3.route_table_ids, aws_route_table.private.id)
    error_message = "S3 must be reached through a gateway endpoint on the private route table."
  }
}

run "interface_endpoints_for_emr_and_the_pipeline" {
  command = apply

  assert {
    condition = length(setsubtract(
      ["elasticmapreduce", "glue", "sts", "kms", "logs", "ec2", "ssm", "ssmmessages", "ec2messages"],
      keys(aws_vpc_endpoint.interface),
    )) == 0
    error_message = "Interface endpoints are missing for a service EMR or the pipeline needs."
  }

  assert {
    condition = alltrue([
      for e in aws_vpc_endpoint.interface :
      e.private_dns_enabled && e.service_name == "com.amazonaws.eu-west-1.${split(".", e.service_name)[3]}"
    ])
    error_message = "Interface endpoints must use private DNS in the VPC's region."
  }
}

run "flow_logs_on" {
  command = apply

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination == var.flow_log_destination_arn
    error_message = "VPC flow logs must capture ALL traffic to the logs bucket."
  }
}

run "no_open_ingress" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == "10.42.0.0/16"
    error_message = "Endpoint ingress must be limited to the VPC CIDR."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules."
  }
}

run "az_count_below_two_is_rejected" {
  command = plan

  variables {
    az_count = 1
  }

  expect_failures = [var.az_count]
}
