"""Custom checkov checks for MarketPulse's Terraform (loaded with --external-checks-dir).

Each module here defines one check that checkov's built-in rules do not cover.
"""
