"""CKV_MP_1: every S3 bucket policy denies requests that do not use TLS.

No built-in checkov rule looks for the aws:SecureTransport deny statement.
"""

from __future__ import annotations

from typing import Any

from mp_common import as_document, as_list, first, statement_matches, text_of

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _is_tls_deny(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
        return False
    actions = as_list(statement.get("Action"))
    if not any(a in ("s3:*", "*") for a in actions):
        return False
    condition = statement.get("Condition") or {}
    for operator in ("Bool", "BoolIfExists"):
        value = (condition.get(operator) or {}).get("aws:SecureTransport")
        if str(first(value)).lower() == "false":
            return True
    return False


class S3BucketPolicyDeniesInsecureTransport(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure every S3 bucket policy denies non-TLS requests"
                " (aws:SecureTransport = false)"
            ),
            id="CKV_MP_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        raw = first(conf.get("policy"))
        document = as_document(raw)
        if document is None:
            # An unevaluated expression: fall back to reading its text.
            text = text_of(raw)
            if statement_matches(text, r"Effect\W+Deny", r"aws:SecureTransport\W+false"):
                return CheckResult.PASSED
            return CheckResult.FAILED
        statements = as_list(document.get("Statement"))
        if any(isinstance(s, dict) and _is_tls_deny(s) for s in statements):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = S3BucketPolicyDeniesInsecureTransport()
