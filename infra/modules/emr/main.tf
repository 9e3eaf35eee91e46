locals {
  # EMR's v2 managed service policy only acts on resources carrying this tag.
  emr_tags = merge(var.tags, { "for-use-with-amazon-emr-managed-policies" = "true" })

  configurations = jsonencode([
    {
      # The Glue Data Catalog is Spark's Hive metastore.
      Classification = "spark-hive-site"
      Properties = {
        "hive.metastore.client.factory.class" = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
      }
    },
    {
      Classification = "spark-defaults"
      Properties = {
        # Static overwrite would delete partitions missing from the new data.
        "spark.sql.sources.partitionOverwriteMode" = "dynamic"
        "spark.dynamicAllocation.enabled"          = "true"
      }
    },
  ])

  # Started once the cluster is up; the Thrift server is a long-running YARN application.
  start_thrift_server = "sudo -u spark /usr/lib/spark/sbin/start-thriftserver.sh --hiveconf hive.server2.thrift.port=${var.thrift_port}"
}

################################################################################
# Security groups (EMR-managed: EMR adds the intra-cluster rules it needs)
################################################################################

resource "aws_security_group" "primary" {
  name                   = "${var.name_prefix}-emr-primary"
  description            = "EMR primary node; no ingress from outside the VPC (Thrift is reached via SSM)"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true

  tags = merge(local.emr_tags, { Name = "${var.name_prefix}-emr-primary" })
}

resource "aws_security_group" "core" {
  name                   = "${var.name_prefix}-emr-core"
  description            = "EMR core and task nodes"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true

  tags = merge(local.emr_tags, { Name = "${var.name_prefix}-emr-core" })
}

resource "aws_security_group" "service_access" {
  name                   = "${var.name_prefix}-emr-service-access"
  description            = "EMR service access for clusters in private subnets"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true

  tags = merge(local.emr_tags, { Name = "${var.name_prefix}-emr-service-access" })
}

resource "aws_vpc_security_group_ingress_rule" "service_access_from_primary" {
  security_group_id            = aws_security_group.service_access.id
  description                  = "EMR service access from the primary node"
  ip_protocol                  = "tcp"
  from_port                    = 9443
  to_port                      = 9443
  referenced_security_group_id = aws_security_group.primary.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  for_each = {
    primary = aws_security_group.primary.id
    core    = aws_security_group.core.id
  }

  security_group_id = each.value
  description       = "HTTPS to the interface endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr_block

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "to_s3" {
  for_each = {
    primary = aws_security_group.primary.id
    core    = aws_security_group.core.id
  }

  security_group_id = each.value
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.s3_prefix_list_id

  tags = var.tags
}

################################################################################
# Security configuration, block public access
################################################################################

resource "aws_emr_security_configuration" "this" {
  name = "${var.name_prefix}-emr"

  # Inline (not a local) so that checkov's custom check CKV_MP_3 can read the document.
  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableInTransitEncryption = true
      EnableAtRestEncryption    = true
      InTransitEncryptionConfiguration = {
        TLSCertificateConfiguration = {
          CertificateProviderType = "PEM"
          S3Object                = var.tls_certificates_s3_object
        }
      }
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = var.kms_key_arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = var.kms_key_arn
          EnableEbsEncryption       = true
        }
      }
    }
    InstanceMetadataServiceConfiguration = {
      MinimumInstanceMetadataServiceVersion = 2
      HttpPutResponseHopLimit               = 2
    }
  })
}

resource "aws_emr_block_public_access_configuration" "this" {
  count = var.manage_block_public_access ? 1 : 0

  block_public_security_group_rules = true
}

################################################################################
# Cluster
################################################################################

resource "aws_emr_cluster" "this" {
  name          = "${var.name_prefix}-emr"
  release_label = var.release_label
  applications  = ["Hadoop", "Spark"]

  service_role               = var.service_role_arn
  security_configuration     = aws_emr_security_configuration.this.name
  log_uri                    = var.log_uri
  log_encryption_kms_key_id  = var.kms_key_arn
  configurations_json        = local.configurations
  ebs_root_volume_size       = 32
  unhealthy_node_replacement = true
  scale_down_behavior        = "TERMINATE_AT_TASK_COMPLETION"
  visible_to_all_users       = true

  keep_job_flow_alive_when_no_steps = true
  termination_protection            = false

  ec2_attributes {
    subnet_ids                        = var.subnet_ids
    instance_profile                  = var.instance_profile_arn
    emr_managed_master_security_group = aws_security_group.primary.id
    emr_managed_slave_security_group  = aws_security_group.core.id
    service_access_security_group     = aws_security_group.service_access.id
  }

  master_instance_fleet {
    name                      = "primary"
    target_on_demand_capacity = 1

    dynamic "instance_type_configs" {
      for_each = var.primary_instance_types

      content {
        instance_type = instance_type_configs.value
      }
    }

    launch_specifications {
      on_demand_specification {
        allocation_strategy = "lowest-price"
      }
    }
  }

  core_instance_fleet {
    name                      = "core"
    target_on_demand_capacity = var.core_on_demand_units

    dynamic "instance_type_configs" {
      for_each = var.core_instance_types

      content {
        instance_type     = instance_type_configs.value
        weighted_capacity = 1

        ebs_config {
          size                 = var.ebs_volume_size_gb
          type                 = "gp3"
          volumes_per_instance = 1
        }
      }
    }

    launch_specifications {
      on_demand_specification {
        allocation_strategy = "lowest-price"
      }
    }
  }

  auto_termination_policy {
    idle_timeout = var.idle_timeout_seconds
  }

  step {
    name              = "start-spark-thrift-server"
    action_on_failure = "CONTINUE"

    hadoop_jar_step {
      jar  = "command-runner.jar"
      args = ["bash", "-c", local.start_thrift_server]
    }
  }

  lifecycle {
    # EMR appends to the step list as steps run; only the start-up step is managed here.
    ignore_changes = [step]
  }

  tags = merge(local.emr_tags, { Name = "${var.name_prefix}-emr" })

  depends_on = [aws_emr_block_public_access_configuration.this]
}

resource "aws_emr_instance_fleet" "task" {
  cluster_id           = aws_emr_cluster.this.id
  name                 = "task-spot"
  target_spot_capacity = var.task_spot_units

  dynamic "instance_type_configs" {
    for_each = var.task_instance_types

    content {
      instance_type                              = instance_type_configs.value
      weighted_capacity                          = 2
      bid_price_as_percentage_of_on_demand_price = 100

      ebs_config {
        size                 = var.ebs_volume_size_gb
        type                 = "gp3"
        volumes_per_instance = 1
      }
    }
  }

  launch_specifications {
    spot_specification {
      allocation_strategy      = "price-capacity-optimized"
      timeout_action           = "SWITCH_TO_ON_DEMAND"
      timeout_duration_minutes = 10
    }
  }
}

resource "aws_emr_managed_scaling_policy" "this" {
  cluster_id = aws_emr_cluster.this.id

  compute_limits {
    unit_type                       = "InstanceFleetUnits"
    minimum_capacity_units          = var.core_on_demand_units
    maximum_capacity_units          = var.managed_scaling_max_units
    maximum_core_capacity_units     = var.core_on_demand_units
    maximum_ondemand_capacity_units = var.core_on_demand_units
  }
}
