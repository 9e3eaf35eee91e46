"""CKV_MP_2: the account-level S3 public access block sets all four flags.

Presence is enforced by infra/check, which fails when no resource passes this check.
"""

from __future__ import annotations

from typing import Any

from mp_common import first

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

FLAGS = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)


class S3AccountPublicAccessBlock(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the account-level S3 public access block sets all four flags",
            id="CKV_MP_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_account_public_access_block"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        for flag in FLAGS:
            if first(conf.get(flag)) is not True:
                return CheckResult.FAILED
        return CheckResult.PASSED


check = S3AccountPublicAccessBlock()
