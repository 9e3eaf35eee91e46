"""CKV_MP_4: the lake's network has no NAT gateway and no internet gateway.

The design reaches every service through VPC endpoints; any such gateway is a regression.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class NoNatOrInternetGateway(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure no NAT gateway or internet gateway is defined"
                " (private subnets + VPC endpoints only)"
            ),
            id="CKV_MP_4",
            categories=[CheckCategories.NETWORKING],
            supported_resources=[
                "aws_nat_gateway",
                "aws_internet_gateway",
                "aws_egress_only_internet_gateway",
            ],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.FAILED


check = NoNatOrInternetGateway()
