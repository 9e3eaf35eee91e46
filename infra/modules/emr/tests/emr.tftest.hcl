mock_provider "aws" {}

variables {
  name_prefix                = "mp-test"
  vpc_id                     = "vpc-0123456789abcdef0"
  vpc_cidr_block             = "10.42.0.0/16"
  subnet_ids                 = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  s3_prefix_list_id          = "pl-6da54004"
  service_role_arn           = "arn:aws:iam::123456789012:role/mp-test-emr-service"
  instance_profile_arn       = "arn:aws:iam::123456789012:instance-profile/mp-test-emr-instance"
  kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  log_uri                    = "s3://mp-test-logs/emr/"
  tls_certificates_s3_object = "s3://mp-test-artifacts/emr/tls/certs.zip"
}

run "emr_7_with_spark_and_glue_metastore" {
  command = apply

  assert {
    condition     = startswith(aws_emr_cluster.this.release_label, "emr-7.") && contains(aws_emr_cluster.this.applications, "Spark")
    error_message = "The cluster must run an EMR 7.x release (Spark 3.5) with Spark installed."
  }

  assert {
    condition = anytrue([
      for c in jsondecode(aws_emr_cluster.this.configurations_json) :
      c.Classification == "spark-hive-site" &&
      try(c.Properties["hive.metastore.client.factory.class"], "") == "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
    ])
    error_message = "Spark must use the Glue Data Catalog as its Hive metastore."
  }

  assert {
    condition = anytrue([
      for s in aws_emr_cluster.this.step :
      anytrue([for j in s.hadoop_jar_step : strcontains(join(" ", j.args), "start-thriftserver.sh")])
    ])
    error_message = "The Spark Thrift Server must be started when the cluster starts."
  }
}

run "security_configuration_encrypts_and_requires_imdsv2" {
  command = apply

  assert {
    condition     = jsondecode(aws_emr_security_configuration.this.configuration).InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion == 2
    error_message = "The security configuration must require IMDSv2."
  }

  assert {
    condition = (
      jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.EnableAtRestEncryption &&
      jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.EnableInTransitEncryption
    )
    error_message = "At-rest and in-transit encryption must both be enabled."
  }

  assert {
    condition = (
      jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.AtRestEncryptionConfiguration.S3EncryptionConfiguration.AwsKmsKey == var.kms_key_arn &&
      jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration.EnableEbsEncryption
    )
    error_message = "EMRFS and local disks (including EBS) must be encrypted with the CMK."
  }

  assert {
    condition     = aws_emr_cluster.this.security_configuration == aws_emr_security_configuration.this.name
    error_message = "The cluster must use the security configuration."
  }

  assert {
    condition     = alltrue([for b in aws_emr_block_public_access_configuration.this : b.block_public_security_group_rules]) && length(aws_emr_block_public_access_configuration.this) == 1
    error_message = "EMR block public access must be on."
  }
}

run "fleets_scaling_and_idle_termination" {
  command = apply

  assert {
    condition     = one(aws_emr_cluster.this.master_instance_fleet).target_on_demand_capacity == 1 && coalesce(one(aws_emr_cluster.this.master_instance_fleet).target_spot_capacity, 0) == 0
    error_message = "The primary fleet must be a single on-demand node."
  }

  assert {
    condition     = one(aws_emr_cluster.this.core_instance_fleet).target_on_demand_capacity >= 1 && coalesce(one(aws_emr_cluster.this.core_instance_fleet).target_spot_capacity, 0) == 0
    error_message = "The core fleet must be on-demand (it holds HDFS and shuffle data)."
  }

  assert {
    condition     = length(aws_emr_instance_fleet.task.instance_type_configs) >= 3 && length(one(aws_emr_instance_fleet.task.launch_specifications).spot_specification) == 1
    error_message = "The task fleet must be Spot across several instance types."
  }

  assert {
    condition     = one(aws_emr_managed_scaling_policy.this.compute_limits).unit_type == "InstanceFleetUnits" && one(aws_emr_managed_scaling_policy.this.compute_limits).maximum_capacity_units > one(aws_emr_managed_scaling_policy.this.compute_limits).minimum_capacity_units
    error_message = "Managed scaling must be on, in instance fleet units."
  }

  assert {
    condition     = one(aws_emr_cluster.this.auto_termination_policy).idle_timeout > 0
    error_message = "The cluster must terminate itself when idle."
  }

  assert {
    condition     = startswith(aws_emr_cluster.this.log_uri, "s3://")
    error_message = "Cluster logs must go to S3."
  }
}

run "private_subnets_and_no_open_ingress" {
  command = apply

  assert {
    condition     = toset(one(aws_emr_cluster.this.ec2_attributes).subnet_ids) == toset(var.subnet_ids) && one(aws_emr_cluster.this.ec2_attributes).key_name == null
    error_message = "The cluster must launch in the given private subnets, without an SSH key pair."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.service_access_from_primary.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.service_access_from_primary.referenced_security_group_id == aws_security_group.primary.id
    error_message = "The only ingress rule is service access from the primary security group."
  }

  assert {
    condition = alltrue(flatten([
      for sg in [aws_security_group.primary, aws_security_group.core, aws_security_group.service_access] : [
        for r in sg.ingress : !contains(coalesce(r.cidr_blocks, []), "0.0.0.0/0")
      ]
    ]))
    error_message = "No EMR security group may allow ingress from 0.0.0.0/0."
  }
}

run "emr_6_rejected" {
  command = plan

  variables {
    release_label = "emr-6.15.0"
  }

  expect_failures = [var.release_label]
}
