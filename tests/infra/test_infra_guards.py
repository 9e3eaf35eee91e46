"""The infra checks catch regressions: a module copy with one security property broken fails.

Copies a Terraform module into a temporary directory, breaks one property (removes the S3
TLS-deny statement; adds a NAT gateway to the VPC), and shows that `terraform test` and the
custom checkov checks fail on the mutant while they pass on an unmodified copy.

Needs terraform on PATH and the checkov virtualenv that `infra/check` creates (`make test`
runs infra/check first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
CHECKOV = (
    Path(os.environ.get("MARKETPULSE_CHECKOV_VENV", REPO_ROOT / ".venv-checkov"))
    / "bin"
    / "checkov"
)
PLUGIN_DIR = Path(os.environ.get("MARKETPULSE_TF_PLUGIN_DIR", "/opt/tf-plugins"))
TIMEOUT_S = 300


def _env() -> dict[str, str]:
    env = dict(
        os.environ,
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        BC_SKIP_MAPPING="TRUE",
    )
    cli_config = env.get("TF_CLI_CONFIG_FILE")
    if cli_config and not Path(cli_config).is_file():
        del env["TF_CLI_CONFIG_FILE"]
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _copy_module(name: str, tmp_path: Path) -> Path:
    target = tmp_path / "modules" / name
    shutil.copytree(
        INFRA_DIR / "modules" / name,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
    )
    init = ["terraform", "init", "-backend=false", "-input=false", "-no-color"]
    if (PLUGIN_DIR / "registry.terraform.io").is_dir():
        init.append(f"-plugin-dir={PLUGIN_DIR}")
    result = _run(init, target)
    assert result.returncode == 0, (
        f"terraform init failed in the copy of {name}:\n{result.stdout}\n{result.stderr}"
    )
    return target


def _terraform_test(module_dir: Path) -> subprocess.CompletedProcess[str]:
    return _run(["terraform", "test", "-no-color"], module_dir)


def _checkov_failures(module_dir: Path, check_ids: str) -> list[dict[str, object]]:
    if not CHECKOV.is_file():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}: run infra/check first (make test does)"
        )
    out_dir = module_dir.parent / f"checkov-{module_dir.name}"
    result = _run(
        [
            str(CHECKOV),
            "--directory",
            str(module_dir),
            "--framework",
            "terraform",
            "--external-checks-dir",
            str(INFRA_DIR / "checkov"),
            "--check",
            check_ids,
            "--skip-download",
            "--output",
            "json",
            "--output-file-path",
            str(out_dir),
        ],
        module_dir,
    )
    report_file = out_dir / "results_json.json"
    assert report_file.is_file(), (
        f"checkov wrote no report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    report = json.loads(report_file.read_text())
    reports = report if isinstance(report, list) else [report]
    return [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]


def _mutate(path: Path, pattern: str, replacement: str, count: int) -> None:
    text = path.read_text()
    mutated, n = re.subn(pattern, replacement, text, flags=re.DOTALL)
    assert n == count, (
        f"mutation matched {n} times in {path.name}, expected {count}: the module changed shape"
    )
    path.write_text(mutated)


# The TLS-deny statement as written in both bucket policies of the s3 module.
TLS_DENY = (
    r'\{\s*Sid\s*=\s*"DenyInsecureTransport"'
    r'.*?"aws:SecureTransport"\s*=\s*"false"\s*\}\s*\}\s*\},\s*'
)

NAT_GATEWAY = """
resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.private[0].id
}
"""


def test_s3_copy_passes_unmodified(tmp_path: Path) -> None:
    module = _copy_module("s3", tmp_path)

    result = _terraform_test(module)
    assert result.returncode == 0, (
        f"terraform test failed on an unmodified copy:\n{result.stdout}\n{result.stderr}"
    )
    assert _checkov_failures(module, "CKV_MP_1,CKV_MP_2") == []


def test_s3_without_tls_deny_fails(tmp_path: Path) -> None:
    module = _copy_module("s3", tmp_path)
    _mutate(module / "main.tf", TLS_DENY, "", count=2)

    result = _terraform_test(module)
    assert result.returncode != 0, (
        "terraform test passed although the TLS-deny statements were removed"
    )
    assert "deny requests that do not use TLS" in result.stdout + result.stderr

    failures = _checkov_failures(module, "CKV_MP_1")
    assert {c["resource"] for c in failures if c["check_id"] == "CKV_MP_1"} == {
        "aws_s3_bucket_policy.lake",
        "aws_s3_bucket_policy.logs",
    }


def test_vpc_copy_passes_unmodified(tmp_path: Path) -> None:
    module = _copy_module("vpc", tmp_path)

    result = _terraform_test(module)
    assert result.returncode == 0, (
        f"terraform test failed on an unmodified copy:\n{result.stdout}\n{result.stderr}"
    )
    assert _checkov_failures(module, "CKV_MP_4") == []


def test_vpc_with_nat_gateway_fails(tmp_path: Path) -> None:
    module = _copy_module("vpc", tmp_path)
    main_tf = module / "main.tf"
    # Route the private subnets to a NAT gateway, as one would to reach the internet.
    _mutate(
        main_tf,
        r'(resource "aws_route_table" "private" \{\n  vpc_id = aws_vpc\.this\.id\n)',
        r'\1\n  route {\n    cidr_block     = "0.0.0.0/0"\n'
        r"    nat_gateway_id = aws_nat_gateway.this.id\n  }\n",
        count=1,
    )
    main_tf.write_text(main_tf.read_text() + NAT_GATEWAY)

    result = _terraform_test(module)
    assert result.returncode != 0, "terraform test passed although a NAT gateway route was added"
    assert "no route to a NAT or internet gateway" in result.stdout + result.stderr

    failures = _checkov_failures(module, "CKV_MP_4")
    assert [c["resource"] for c in failures if c["check_id"] == "CKV_MP_4"] == [
        "aws_nat_gateway.this"
    ]
