"""CKV_MP_3: the EMR security configuration requires IMDSv2 and encrypts at rest and in transit.

checkov's EMR rules look at encryption only; none reads InstanceMetadataServiceConfiguration.
"""

from __future__ import annotations

import re
from typing import Any

from mp_common import as_document, first, text_of

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class EmrSecurityConfigurationImdsV2(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure the EMR security configuration requires IMDSv2 and enables"
                " at-rest and in-transit encryption"
            ),
            id="CKV_MP_3",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_emr_security_configuration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        document = as_document(conf.get("configuration"))
        if document is None:
            # An unevaluated jsonencode(...): read its text.
            text = text_of(conf.get("configuration"))
            required = (
                r"MinimumInstanceMetadataServiceVersion\W+2\b",
                r"EnableAtRestEncryption\W+true",
                r"EnableInTransitEncryption\W+true",
            )
            if all(re.search(p, text, flags=re.IGNORECASE) for p in required):
                return CheckResult.PASSED
            return CheckResult.FAILED
        imds = document.get("InstanceMetadataServiceConfiguration") or {}
        if str(first(imds.get("MinimumInstanceMetadataServiceVersion"))) != "2":
            return CheckResult.FAILED
        encryption = document.get("EncryptionConfiguration") or {}
        for flag in ("EnableAtRestEncryption", "EnableInTransitEncryption"):
            if str(first(encryption.get(flag))).lower() != "true":
                return CheckResult.FAILED
        return CheckResult.PASSED


check = EmrSecurityConfigurationImdsV2()
